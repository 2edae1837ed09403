"""What the comparison benchmark times: the two floors, the project's compare and reladiff, each bounded in time.

Floors run one connection (or one psql) per side, both sides at once, as a comparison must to reach them:
  read floor           `COPY (SELECT * FROM t) TO STDOUT` of both tables, bytes discarded; by psql, a C client
                       (what the servers can deliver), and by psycopg in two threads (what a Python client takes in)
  hash floor           `SELECT sum(hashtextextended(t::text, 0)) FROM t` on both sides: every row hashed, server side
compare and reladiff run as their own processes, with the peak memory of their process tree (bench/procmon.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bench.compare_data import QUALIFIED, connect
from bench.pg import find_binary
from bench.procmon import Outcome, run
from plumbing.tool import ToolError, run_tool

REPO_ROOT = Path(__file__).resolve().parent.parent
READ_SQL = f"COPY (SELECT * FROM {QUALIFIED}) TO STDOUT"
HASH_SQL = f"SELECT sum(hashtextextended(t::text, 0)) FROM {QUALIFIED} t"
SOURCE_VAR, TARGET_VAR = "BENCH_COMPARE_SOURCE_DSN", "BENCH_COMPARE_TARGET_DSN"
RELADIFF_REQUIREMENT = "reladiff[postgresql]==0.6.*"  # the postgresql extra brings its driver, psycopg2-binary
INSTALL_TIMEOUT_S = 600.0
T = TypeVar("T")


class BenchError(RuntimeError):
    """The benchmark could not measure something (one line)."""


def both(action: Callable[[str], T], dsns: Sequence[str]) -> tuple[float, list[T]]:
    """`action` on each DSN at the same time, in threads; the wall time until both finished, and their results.

    On an error (or SIGTERM) the caller does not wait for the other side: it goes on to stop the servers, which
    ends the other side's session.
    """
    pool = ThreadPoolExecutor(max_workers=len(dsns))
    try:
        started = time.perf_counter()
        futures = [pool.submit(action, dsn) for dsn in dsns]
        results = [future.result() for future in futures]
        return time.perf_counter() - started, results
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def read_floor_psql(dsns: Sequence[str], timeout_s: float) -> float:
    psql = find_binary("psql")

    def read(dsn: str) -> None:
        command = [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", READ_SQL]
        try:
            completed = subprocess.run(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout_s, check=False, text=True
            )
        except subprocess.TimeoutExpired:
            raise BenchError(f"psql COPY timed out after {timeout_s:g} s") from None
        if completed.returncode != 0:
            raise BenchError(f"psql COPY exited {completed.returncode}: {completed.stderr.strip()[-300:]}")

    seconds, _ = both(read, dsns)
    return seconds


def read_floor_psycopg(dsns: Sequence[str], timeout_s: float) -> tuple[float, list[int]]:
    """Wall time, and the bytes of COPY text each side sent."""

    def read(dsn: str) -> int:
        received = 0
        with connect(dsn, timeout_s=timeout_s) as conn, conn.cursor().copy(READ_SQL) as copy:
            for data in copy:
                received += len(data)
        return received

    return both(read, dsns)


def hash_floor(dsns: Sequence[str], timeout_s: float) -> tuple[float, list[int]]:
    """Wall time, and each side's sum of row hashes (equal sums: identical tables, to a 64-bit hash)."""

    def digest(dsn: str) -> int:
        with connect(dsn, timeout_s=timeout_s) as conn:
            row = conn.execute(HASH_SQL).fetchone()
        return 0 if row is None or row[0] is None else int(row[0])

    return both(digest, dsns)


@dataclass(frozen=True, kw_only=True)
class ToolResult:
    """One run of compare or reladiff."""

    outcome: Outcome
    stdout: str


def _run_measured(command: Sequence[str], *, env: Mapping[str, str], timeout_s: float, scratch: Path) -> ToolResult:
    stdout_file = scratch / "stdout"
    try:
        outcome = run(command, env=env, cwd=REPO_ROOT, timeout_s=timeout_s, stdout_file=stdout_file)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{Path(command[0]).name} {' '.join(command[1:3])} timed out after {timeout_s:g} s") from None
    try:
        return ToolResult(outcome=outcome, stdout=stdout_file.read_text(errors="replace"))
    finally:
        stdout_file.unlink(missing_ok=True)


def _env(source: str, target: str) -> dict[str, str]:
    return {**os.environ, SOURCE_VAR: source, TARGET_VAR: target, "PYTHONUNBUFFERED": "1"}


def compare_command(config: Path) -> list[str]:
    """The project's compare, as an operator runs it: only its documented command line, so either engine works."""
    return [
        sys.executable,
        "-m",
        "migration_ops.compare",
        "--config",
        str(config),
        "--dsn-env",
        SOURCE_VAR,
        "--target-dsn-env",
        TARGET_VAR,
        "--json",
    ]


def run_compare(config: Path, *, source: str, target: str, timeout_s: float, scratch: Path) -> tuple[ToolResult, Any]:
    """One compare run and its parsed --json document (None when stdout was not JSON)."""
    result = _run_measured(compare_command(config), env=_env(source, target), timeout_s=timeout_s, scratch=scratch)
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError:
        document = None
    return result, document


def reladiff_command(venv: Path, *, source: str, target: str) -> list[str]:
    """reladiff's cross-database diff on the key, every column compared (`-c %`: a column pattern)."""
    return [str(venv / "bin" / "reladiff"), source, QUALIFIED, target, QUALIFIED, "-k", "id", "-c", "%"]


def run_reladiff(venv: Path, *, source: str, target: str, timeout_s: float, scratch: Path) -> ToolResult:
    command = reladiff_command(venv, source=source, target=target)
    return _run_measured(command, env=_env(source, target), timeout_s=timeout_s, scratch=scratch)


def reladiff_differences(stdout: str) -> int:
    """Rows reladiff printed as differing (`+ ...`/`- ...` lines); 0 on identical data."""
    return sum(1 for line in stdout.splitlines() if line[:2] in ("+ ", "- "))


def install_reladiff(venv: Path) -> str:
    """A venv of its own with reladiff 0.6 from PyPI (never a project dependency); reused when already there.

    Returns the installed version.
    """
    reladiff = venv / "bin" / "reladiff"
    if not reladiff.is_file():
        steps: list[list[str | Path]] = [
            [sys.executable, "-m", "venv", venv],
            [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", RELADIFF_REQUIREMENT],
        ]
        for step in steps:
            try:
                completed = run_tool(step, timeout_seconds=INSTALL_TIMEOUT_S)
            except ToolError as error:
                raise BenchError(f"installing reladiff: {error}") from None
            if not completed.ok:
                raise BenchError(f"installing reladiff: {completed.failure(400)}")
    try:
        shown = run_tool([reladiff, "--version"], timeout_seconds=60)
    except ToolError as error:
        raise BenchError(f"reladiff: {error}") from None
    if not shown.ok:
        raise BenchError(f"reladiff --version: {shown.failure(400)}")
    return (shown.stdout or shown.stderr).strip().splitlines()[-1] if (shown.stdout or shown.stderr).strip() else "?"
