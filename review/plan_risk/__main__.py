"""`python -m review.plan_risk PLAN [PLAN ...]`: the plan risk report on the command line (see the package's docstring)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from plumbing.exit_codes import ExitCode
from review.exception_files import ACKNOWLEDGEMENTS_FILE, ExceptionFileError
from review.plan_risk.acknowledgements import COMMAND_LINE_FORM, command_line_acknowledgements, load_acknowledgements
from review.plan_risk.assess import assess_all, exit_code, stale_acknowledgements
from review.plan_risk.reading import plan_source
from review.plan_risk.render import render_markdown
from review.plan_risk.render_json import render_json

DESCRIPTION = "What a Terraform plan creates, updates, replaces and destroys; fails on unacknowledged loss of state."


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m review.plan_risk", description=DESCRIPTION)
    parser.add_argument(
        "plans",
        nargs="+",
        metavar="[NAME=]PLAN",
        help="`terraform show -json` output or a saved plan (NAME: the stack it must be for)",
    )
    parser.add_argument(
        "--stack-dir", type=Path, default=None, help="initialized stack folder for saved plans (default: the plan's)"
    )
    parser.add_argument(
        "--acknowledgements",
        type=Path,
        default=ACKNOWLEDGEMENTS_FILE,
        help="acknowledged dangerous changes (default: %(default)s; a missing file acknowledges nothing)",
    )
    parser.add_argument(
        "--acknowledge",
        action="append",
        default=[],
        metavar="ADDRESS@STACK:KIND",
        help=f"acknowledge one change: {COMMAND_LINE_FORM}",
    )
    parser.add_argument("--json", action="store_true", help="JSON instead of Markdown")
    parser.add_argument("--output", type=Path, default=None, help="write the report to this file instead of stdout")
    parser.add_argument("--terraform", default="terraform", help="terraform binary for saved plans (default: %(default)s)")
    return parser.parse_args(argv)


def _write(path: Path, text: str) -> str | None:
    """Write the report; the reason it cannot be written, or None."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        return f"cannot write the report to {path}: {error.strerror or error}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.output is not None and args.output.is_dir():
        print(
            f"plan_risk: --output {args.output} is a directory: name the report file (e.g. {args.output}/plan-risk.md)",
            file=sys.stderr,
        )
        return ExitCode.ERROR
    try:
        acknowledgements = [*load_acknowledgements(args.acknowledgements), *command_line_acknowledgements(args.acknowledge)]
    except ExceptionFileError as error:
        for problem in error.problems:
            print(f"plan_risk: {problem}", file=sys.stderr)
        return ExitCode.ERROR
    reports = assess_all([plan_source(plan, args.stack_dir) for plan in args.plans], acknowledgements, terraform=args.terraform)
    stale = stale_acknowledgements(reports, acknowledgements)
    text = render_json(reports, stale=stale) if args.json else render_markdown(reports, stale=stale)
    if args.output is None:
        sys.stdout.write(text)
    else:
        failure = _write(args.output, text)
        if failure:
            print(f"plan_risk: {failure}", file=sys.stderr)
            return ExitCode.ERROR
    for report in reports:
        if report.error:
            print(f"plan_risk: {report.error}", file=sys.stderr)
    for acknowledgement in stale:
        print(
            f"plan_risk: stale acknowledgement {acknowledgement.describe()} ({acknowledgement.source}): "
            "matches nothing in these plans",
            file=sys.stderr,
        )
    return exit_code(reports, stale)


if __name__ == "__main__":
    sys.exit(main())
