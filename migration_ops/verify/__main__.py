"""`python -m migration_ops.verify`: the command line is migration_ops/verify/command.py."""

import sys

from migration_ops.verify.command import main

if __name__ == "__main__":
    sys.exit(main())
