"""`python -m migration_ops.compare`: the command line is migration_ops/compare/command.py."""

import sys

from migration_ops.compare.command import main

if __name__ == "__main__":
    sys.exit(main())
