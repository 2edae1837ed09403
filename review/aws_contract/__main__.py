"""`python -m review.aws_contract PATH...`: exit 0 when every rule holds, 1 with one line per violation, 2 on bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from plumbing.exit_codes import ExitCode
from review.aws_contract import api_model, documented, documents, iam_lint
from review.aws_contract.core import Stack, UnreadableInputError, Violation, load_stacks

GATES = (api_model.check, documented.check, documents.check, iam_lint.check)


def violations(stack: Stack) -> Iterator[Violation]:
    for gate in GATES:
        yield from gate(stack)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m review.aws_contract",
        description="Check synthesized stacks against AWS's API models (botocore) and documented rules. "
        "Exit codes: 0 every rule holds, 1 violations (one line each), 2 an input cannot be read.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="a stack folder (with cdk.tf.json) or a folder of them")
    args = parser.parse_args(argv)
    try:
        stacks = load_stacks(args.paths)
    except UnreadableInputError as error:
        print(f"aws-contract: {error}", file=sys.stderr)
        return ExitCode.ERROR
    found = [violation for stack in stacks for violation in violations(stack)]
    for violation in found:
        print(violation.line())
    print(f"aws-contract: {len(stacks)} stack(s), {len(found)} violation(s)", file=sys.stderr)
    return ExitCode.FAILED if found else ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
