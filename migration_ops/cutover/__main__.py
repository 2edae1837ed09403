"""`python -m migration_ops.cutover`: the command line is migration_ops/cutover/command.py."""

import sys

from migration_ops.cutover.command import main

if __name__ == "__main__":
    sys.exit(main())
