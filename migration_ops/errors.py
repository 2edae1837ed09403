"""The one error root of the operations commands.

An `OpsError` means "the command could not run": the CLI core (`cli.run`) prints `error: <message>` and exits 2.
Every error a command raises on purpose derives from it (usage, outputs, connections, AWS calls, the target's
TRUNCATE, a sequence that cannot be reset), so a new one cannot slip past the core as a traceback with exit 1.
The config loader's `ConfigError` comes from a lower layer and stays its own; the core maps it to exit 2 as well.
"""

from __future__ import annotations


class OpsError(Exception):
    """The command could not run: exit 2 with this message."""


class UsageError(OpsError):
    """Bad arguments, config or outputs."""
