"""Plan review artifact: what the synthesized stacks contain and how they differ from the committed snapshots.

    python -m review.plan_report [--snapshots DIR] [--synth DIR] [--output FILE]

Reads `<synth>/stacks/<stack>/cdk.tf.json` (default `cdktf.out`, written by
`make synth`) and `<snapshots>/<stack>.json` (default `tests/gates/snapshots`),
and renders Markdown for a pull request: per environment, resource counts by
type and the resources added, removed or changed (with the changed attribute
paths) since the snapshot. No AWS access: it compares Terraform JSON, not live
state, so it is a review aid next to `terraform plan`, not a replacement.
Exit codes: 0 report written, 2 nothing to read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from review.stackdiff import (
    REPO_ROOT,
    SNAPSHOT_DIR,
    SYNTH_DIR,
    StackDiff,
    data_source_count,
    diff_stacks,
    load_snapshots,
    load_synth,
    resource_counts,
)

EXIT_NO_INPUT = 2
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


def render(current: Mapping[str, Mapping[str, Any]], snapshots: Mapping[str, Mapping[str, Any]], *, sources: str) -> str:
    """Markdown for every stack in `current` (and every snapshot whose stack is gone)."""
    diffs = {stack: diff_stacks(snapshots.get(stack, {}), document) for stack, document in current.items()}
    lines = ["# Plan review: synthesized stacks against the committed snapshots", "", sources, ""]
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


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m review.plan_report", description=DESCRIPTION)
    parser.add_argument("--snapshots", type=Path, default=SNAPSHOT_DIR, help="committed snapshots (default: %(default)s)")
    parser.add_argument("--synth", type=Path, default=SYNTH_DIR, help="cdktf output directory (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=None, help="write the Markdown here instead of stdout")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    current = load_synth(args.synth)
    if not current:
        print(f"plan_report: no {args.synth}/stacks/*/cdk.tf.json: run `make synth` first or pass --synth DIR", file=sys.stderr)
        return EXIT_NO_INPUT
    snapshots = load_snapshots(args.snapshots) if args.snapshots.is_dir() else {}
    sources = (
        f"Synthesized: `{_display(args.synth)}` · snapshots: `{_display(args.snapshots)}` · "
        "compares Terraform JSON only (no AWS access): run `terraform plan` for what changes in the account."
    )
    report = render(current, snapshots, sources=sources)
    if args.output is None:
        sys.stdout.write(report)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report, encoding="utf-8")
        print(f"plan_report: wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
