"""Plan review artifact: what the synthesized stacks contain and how they differ from the committed snapshots.

    python -m review.plan_report [--snapshots DIR] [--synth DIR] [--output FILE] [--plan [NAME=]PLAN ...]

Reads `<synth>/stacks/<stack>/cdk.tf.json` (default `cdktf.out`, written by `make synth`) and
`<snapshots>/<stack>.json` (the committed snapshots; `make review` passes `--snapshots tests/review/snapshots`,
without the option every stack is reported as new), and renders Markdown for a pull request: per environment,
resource counts by type and the resources added, removed or changed (with the changed attribute paths) since the
snapshot. No AWS access: it compares Terraform JSON, not live state, so it is a review aid next to
`terraform plan`, not a replacement.

When Terraform plans are available (`--plan`, or found: `plans/<stack>.json` or `plans/<stack>.tfplan` as
`make plan` writes them, else saved plans at `<synth>/stacks/<stack>/*.tfplan` / `*.tfplan.json`), the report
starts with the plan risk report of `review.plan_risk` on them (what the plan creates, updates, replaces and
destroys, what changed outside Terraform; dangerous changes not acknowledged in
`review/exceptions/acknowledged-risks.toml`); without one it says so. Exit codes: 0 report written (no
unacknowledged dangerous change), 1 report written and a plan has an unacknowledged dangerous change or an
acknowledgement matches nothing, 2 nothing to read, or a plan or the acknowledgement file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from contract.layout import STACKS_DIR
from plumbing.exit_codes import ExitCode
from review.exception_files import ACKNOWLEDGEMENTS_FILE, ExceptionFileError
from review.plan_risk.acknowledgements import load_acknowledgements
from review.plan_risk.assess import assess_all, exit_code, stale_acknowledgements
from review.plan_risk.reading import PlanSource, plan_source
from review.plan_risk.render import render_markdown
from review.stackdiff import (
    REPO_ROOT,
    SYNTH_DIR,
    StackDiff,
    data_source_count,
    diff_stacks,
    load_snapshots,
    load_synth,
    resource_counts,
)

PLAN_PATTERNS = ("*.tfplan", "*.tfplan.json")
PLANS_DIR = REPO_ROOT / "plans"
"""Where `make plan` writes `<stack>.tfplan` and its `terraform show -json` as `<stack>.json` (PLAN_DIR)."""
DESCRIPTION = "Markdown review of the synthesized stacks against the committed snapshots (no AWS access)."
MAX_PATHS_PER_RESOURCE = 12


def _code(text: str) -> str:
    return f"`{text}`"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _paths(paths: Sequence[str]) -> str:
    shown = ", ".join(_code(path) for path in paths[:MAX_PATHS_PER_RESOURCE])
    hidden = len(paths) - MAX_PATHS_PER_RESOURCE
    return f"{shown}, and {hidden} more" if hidden > 0 else shown


def _counts_table(current: Mapping[str, Any], snapshot: Mapping[str, Any] | None) -> list[str]:
    now = resource_counts(current)
    before = resource_counts(snapshot) if snapshot is not None else None
    lines = ["| Resource type | Count | Change |", "|---|---:|---:|"]
    for resource_type in sorted(set(now) | set(before or {})):
        count = now.get(resource_type, 0)
        change = "new stack" if before is None else _signed(count - before.get(resource_type, 0))
        lines.append(f"| {_code(resource_type)} | {count} | {change} |")
    total_before = None if before is None else sum(before.values())
    total_change = "" if total_before is None else _signed(sum(now.values()) - total_before)
    lines.append(f"| **total** | **{sum(now.values())}** | {total_change} |")
    return lines


def _signed(number: int) -> str:
    return f"+{number}" if number > 0 else ("-" if number == 0 else str(number))


def _changes(diff: StackDiff) -> list[str]:
    if diff.empty:
        return ["No changes since the snapshot."]
    lines: list[str] = []
    sections = (
        ("Added", [f"- {_code(address)}" for address in diff.added]),
        ("Removed", [f"- {_code(address)}" for address in diff.removed]),
        ("Changed", [f"- {_code(address)}: {_paths(paths)}" for address, paths in diff.changed.items()]),
        (
            "Outputs, provider and backend",
            [f"- added {_code(name)}" for name in diff.other_added]
            + [f"- removed {_code(name)}" for name in diff.other_removed]
            + [f"- changed {_code(name)}: {_paths(paths)}" for name, paths in diff.other_changed.items()],
        ),
    )
    for title, items in sections:
        if items:
            lines += [f"**{title}** ({len(items)})", "", *items, ""]
    if diff.renames:
        lines += [
            "**Possible renames** (same type and physical name under a new logical id: Terraform destroys and "
            "recreates unless a `moved` block or `terraform state mv` carries the state over)",
            "",
            *[f"- {_code(rename.removed)} → {_code(rename.added)}" for rename in diff.renames],
            "",
        ]
    return lines[:-1] if lines and lines[-1] == "" else lines


def render(
    current: Mapping[str, Mapping[str, Any]],
    snapshots: Mapping[str, Mapping[str, Any]],
    *,
    sources: str,
    plan_risk_lines: Sequence[str] = (),
) -> str:
    """Markdown for every stack in `current` (and every snapshot whose stack is gone), after the plan risk section."""
    diffs = {stack: diff_stacks(snapshots.get(stack, {}), document) for stack, document in current.items()}
    lines = ["# Plan review: synthesized stacks against the committed snapshots", "", sources, ""]
    if plan_risk_lines:
        lines += [*plan_risk_lines, "", "## Synthesized stacks against the committed snapshots", ""]
    lines += [
        "| Stack | Resources | Data sources | Added | Removed | Changed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for stack, document in current.items():
        diff = diffs[stack]
        if stack in snapshots:
            added, removed, changed = str(len(diff.added)), str(len(diff.removed)), str(len(diff.changed))
        else:
            added, removed, changed = "all (no snapshot)", "-", "-"
        total = sum(resource_counts(document).values())
        lines.append(f"| {stack} | {total} | {data_source_count(document)} | {added} | {removed} | {changed} |")
    for stack in sorted(set(snapshots) - set(current)):
        removed_count = sum(resource_counts(snapshots[stack]).values())
        lines.append(f"| {stack} | 0 | 0 | - | all {removed_count} (stack no longer synthesized) | - |")

    for stack, document in current.items():
        snapshot = snapshots.get(stack)
        lines += ["", f"## {stack}", "", "### Resources by type", "", *_counts_table(document, snapshot), ""]
        lines += ["### Changes since the snapshot", ""]
        if snapshot is None:
            lines.append("No committed snapshot: every resource below is new to review.")
        else:
            lines += _changes(diffs[stack])
    for stack in sorted(set(snapshots) - set(current)):
        lines += ["", f"## {stack}", "", "The stack has a snapshot but is no longer synthesized (environment removed?)."]
    return "\n".join(lines) + "\n"


def find_plans(synth: Path, plans_dir: Path = PLANS_DIR) -> list[PlanSource]:
    """The plans of each synthesized stack: `<plans_dir>/<stack>.json` (or, without it, `<stack>.tfplan`, shown in the
    stack folder) as `make plan` writes them, else the saved plans in the stack folder (`*.tfplan`, `*.tfplan.json`)."""
    found = []
    for stack_dir in sorted(path for path in (synth / STACKS_DIR).glob("*") if path.is_dir()):
        stack = stack_dir.name
        made = [path for path in (plans_dir / f"{stack}.json", plans_dir / f"{stack}.tfplan") if path.is_file()]
        if made:
            found.append(PlanSource(expected_stack=stack, path=made[0], stack_dir=stack_dir))
            continue
        for pattern in PLAN_PATTERNS:
            found += [plan_source(str(path)) for path in sorted(stack_dir.glob(pattern))]
    return found


def risk_section(
    sources: Sequence[PlanSource], stacks: Sequence[str], acknowledgements: Path, synth: Path, plans_dir: Path
) -> tuple[list[str], ExitCode]:
    """The plan risk report on `sources` (or why there is none) as Markdown lines, and its exit code."""
    if not sources:
        pattern = f"{_display(plans_dir)}/<stack>.json` or `{_display(synth)}/{STACKS_DIR}/<stack>/*.tfplan"
        return [
            "## Plan risk: no plan available",
            "",
            f"No Terraform plan was given (`--plan`, `make review PLAN=...`) or found (`{pattern}`), so this report "
            "cannot say what would be replaced or destroyed in the account: it compares Terraform JSON only. Run "
            "`make plan ENV=<env>` (needs the environment's AWS credentials), then `make review` again.",
        ], ExitCode.OK
    try:
        acknowledged = load_acknowledgements(acknowledgements)
    except ExceptionFileError as error:
        return ["## Plan risk: the acknowledgement file cannot be read", "", f"```\n{error}\n```"], ExitCode.ERROR
    reports = assess_all(sources, acknowledged)
    stale = stale_acknowledgements(reports, acknowledged)
    text = render_markdown(reports, stale=stale, heading="##", marker=False)
    lines = text.rstrip("\n").splitlines()
    without = sorted(set(stacks) - {report.stack or report.source.expected_stack for report in reports})
    if without:
        lines[1:1] = ["", f"No plan for {', '.join(without)}: their changes are known from the Terraform JSON only."]
    return lines, exit_code(reports, stale)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m review.plan_report", description=DESCRIPTION)
    parser.add_argument(
        "--snapshots",
        type=Path,
        default=None,
        help="the committed snapshots (`make review`: tests/review/snapshots; default: none)",
    )
    parser.add_argument("--synth", type=Path, default=SYNTH_DIR, help="cdktf output directory (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=None, help="write the Markdown here instead of stdout")
    parser.add_argument(
        "--plan",
        action="append",
        default=[],
        metavar="[NAME=]PLAN",
        help="`terraform show -json` output or saved plan to assess with review.plan_risk (default: the saved plans "
        "found: <plans-dir>/<stack>.json or .tfplan, else <synth>/stacks/<stack>/*.tfplan and *.tfplan.json)",
    )
    parser.add_argument("--plans-dir", type=Path, default=PLANS_DIR, help="where `make plan` writes plans (default: %(default)s)")
    parser.add_argument(
        "--acknowledgements",
        type=Path,
        default=ACKNOWLEDGEMENTS_FILE,
        help="acknowledged dangerous changes (default: %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    current = load_synth(args.synth)
    if not current:
        print(f"plan_report: no {args.synth}/stacks/*/cdk.tf.json: run `make synth` first or pass --synth DIR", file=sys.stderr)
        return ExitCode.ERROR
    snapshots = load_snapshots(args.snapshots) if args.snapshots is not None and args.snapshots.is_dir() else {}
    snapshot_source = f"`{_display(args.snapshots)}`" if args.snapshots is not None else "none given"
    sources = (
        f"Synthesized: `{_display(args.synth)}` · snapshots: {snapshot_source} · "
        "compares Terraform JSON only (no AWS access): run `terraform plan` for what changes in the account."
    )
    plans = [plan_source(plan) for plan in args.plan] if args.plan else find_plans(args.synth, args.plans_dir)
    risk_lines, code = risk_section(plans, list(current), args.acknowledgements, args.synth, args.plans_dir)
    report = render(current, snapshots, sources=sources, plan_risk_lines=risk_lines)
    if not plans:
        print("plan_report: no Terraform plan available: the report compares Terraform JSON only", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(report)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report, encoding="utf-8")
        print(f"plan_report: wrote {args.output}", file=sys.stderr)
    if code == ExitCode.FAILED:
        print(
            "plan_report: a plan makes a dangerous change without acknowledgement, or an acknowledgement matches nothing",
            file=sys.stderr,
        )
    elif code == ExitCode.ERROR:
        print("plan_report: a plan or the acknowledgement file cannot be read", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
