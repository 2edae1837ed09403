"""`python -m config stack-name ENV`: the stack name of an environment (the Makefile's deploy/diff/destroy use it).

ENV is a file stem in config/ or an environment_suffix. Exit 2 with the reason when it names no valid environment.
"""

from __future__ import annotations

import sys

from config.loader import ConfigError, find_environment

USAGE = "usage: python -m config stack-name ENV"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "stack-name":
        print(USAGE, file=sys.stderr)
        return 2
    try:
        print(find_environment(argv[1]).stack_name)
    except ConfigError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
