"""`python -m release [--dist DIR]` (`make package`): the archives for platform teams (see the package's docstring)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from plumbing.exit_codes import ExitCode
from release.archive import DIST_DIR, build_packages, sha256_file
from release.dist import DistError, check_dist
from release.source import REPO_ROOT, PackageError
from review.terraform_validate import locate

DESCRIPTION = "Synth artifacts for platform teams: one reproducible archive per stack (`make package`)."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m release", description=DESCRIPTION)
    parser.add_argument(
        "--dist",
        type=Path,
        default=REPO_ROOT / DIST_DIR,
        help="output directory: new, empty, or holding only a previous build (replaced as a whole)",
    )
    args = parser.parse_args(argv)
    try:
        check_dist(args.dist)
    except DistError as error:
        print(f"package refused: {error}", file=sys.stderr)
        return ExitCode.ERROR
    toolchain = locate()
    if isinstance(toolchain, str):
        print(f"package needs terraform and the provider mirror for the lock file: {toolchain}", file=sys.stderr)
        return ExitCode.ERROR
    try:
        archives = build_packages(args.dist, toolchain)
    except DistError as error:
        print(f"package refused: {error}", file=sys.stderr)
        return ExitCode.ERROR
    except (PackageError, OSError) as error:
        print(f"package failed: {error}", file=sys.stderr)
        return ExitCode.FAILED
    for archive in archives:
        print(f"{sha256_file(archive)}  {archive}")
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
