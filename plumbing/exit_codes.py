"""The exit codes of every command in the project, defined once."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """0 good; 1 a check failed or the command refused; 2 the command could not run (usage, config, I/O, a tool)."""

    OK = 0
    FAILED = 1
    ERROR = 2
