"""`python -m migration_ops.preflight`: the command line is migration_ops/preflight/command.py."""

import sys

from migration_ops.preflight.command import main

if __name__ == "__main__":
    sys.exit(main())
