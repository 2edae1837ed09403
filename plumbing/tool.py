"""Run an external tool once: a timeout, captured output, and a bounded tail of what it printed on failure."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TAIL_CHARS = 2000


class ToolError(Exception):
    """The tool could not be run at all: not found, not executable, or over its time limit."""


def tail(text: str, limit: int = DEFAULT_TAIL_CHARS) -> str:
    """The last `limit` characters of `text`, stripped, with a marker when something was cut."""
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


@dataclass(frozen=True, kw_only=True)
class ToolRun:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def failure(self, limit: int = DEFAULT_TAIL_CHARS) -> str:
        """`<tool> exited N: <tail of stderr, or of stdout when stderr is empty>`."""
        return f"{Path(self.argv[0]).name} exited {self.returncode}: {tail(self.stderr or self.stdout, limit)}"


def run_tool(
    argv: Sequence[str | Path],
    *,
    timeout_seconds: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> ToolRun:
    """Run `argv` to completion and return what it printed; a non-zero exit is the caller's to judge.

    Raises ToolError (one line) when the program is missing or runs past `timeout_seconds`.
    """
    command = [str(part) for part in argv]
    program = command[0]
    if shutil.which(program) is None and not Path(program).is_file():
        raise ToolError(f"{program}: not found on PATH")
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"{Path(program).name} timed out after {timeout_seconds:g} s: {' '.join(command[1:3])}") from None
    except OSError as error:
        raise ToolError(f"{Path(program).name} could not start: {error.strerror or error}") from None
    return ToolRun(argv=tuple(command), returncode=completed.returncode, stdout=completed.stdout, stderr=completed.stderr)
