"""Comparison benchmark (issue 24, box 11): the project's compare against the read and hash floors and reladiff.

    python -m bench.compare [--rows N] [--repeat 3] [--keep-venv DIR] [--no-reladiff]     (make bench-compare)

Starts two throw-away PostgreSQL 15 servers on loopback (bench/pg.py), loads N rows (default 10 million, about
2 GiB per side) of mixed types into identical tables (bench/compare_data.py), then times, in one run and
interleaved round by round, median of --repeat: the read floor (both tables read with COPY TO STDOUT at the same
time, by psql and by psycopg), the hash floor (every row hashed on both servers at once), the project's compare
(`python -m migration_ops.compare --config ... --json`: only its command line, so any engine behind it is measured
the same way) and reladiff 0.6 (installed from PyPI into a venv of its own, never a project dependency). Then, on
the same data: a single-row UPDATE, DELETE and INSERT planted on the target, each of which compare must find,
exit 1 and name by key; each is reverted before the next.

Server settings (SERVER_SETTINGS) are sized for the project's 2-core, 24 GiB machines: shared_buffers 1GB per
server, wal_level minimal (the load writes no WAL), autovacuum off (the benchmark vacuums itself, so nothing wakes
up mid-timing), max_parallel_workers_per_gather 1 (--parallel-workers). Measured here (2 million rows, 0 and 1
interleaved in one run, two rounds, load average about 10 from other work): 1 worker took the hash floor from
16.5-19.0 s to 10.3-11.5 s and reladiff from 30.7-32.9 s to 20.9-21.2 s. COPY never runs in parallel, and compare's
per-chunk queries are too small to. On a loaded machine part of the gain is only a larger share of the CPUs (more
processes), but 1 gives the floors and the peer their best, so compare is measured against the harder figures.

Prints a table and writes bench/results/compare-<UTC time>.json (--results-dir): the machine, N, bytes per side,
every timing with its runs, the ratios, peak memory, the planted cases, the targets and a Markdown snippet for the
README. Exit 0: compare passed identical data and found each planted case; 1: it did not; 2: the benchmark could
not run (one line on stderr). The targets (throughput, reladiff, memory) are reported, not enforced.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg

from bench import compare_data as data
from bench import compare_report as report
from bench.compare_tools import (
    BenchError,
    ToolResult,
    both,
    hash_floor,
    install_reladiff,
    read_floor_psql,
    read_floor_psycopg,
    reladiff_command,
    reladiff_differences,
    run_compare,
    run_reladiff,
)
from bench.configs import single_table_dir
from bench.pg import PgError, PgServer, servers
from plumbing.exit_codes import ExitCode
from plumbing.text import first_line
from plumbing.tool import ToolError

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "config"
RESULTS_DIR = REPO_ROOT / "bench" / "results"
DEFAULT_ROWS = 10_000_000
SERVER_SETTINGS = {
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "autovacuum": "off",
}
DEFAULT_PARALLEL_WORKERS = 1


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Time limits, scaled with the rows: generous (several times the slowest engine seen), never unbounded."""

    rows: int

    @property
    def load_s(self) -> float:
        return 300 + self.rows * 100e-6

    @property
    def floor_s(self) -> float:
        return 120 + self.rows * 30e-6

    @property
    def tool_s(self) -> float:
        """compare's and reladiff's: the old engine took about 2 minutes for 10 million rows."""
        return 120 + self.rows * 90e-6


@dataclass(frozen=True, kw_only=True)
class Options:
    rows: int = DEFAULT_ROWS
    repeat: int = 3
    keep_venv: Path | None = None
    reladiff: bool = True
    parallel_workers: int = DEFAULT_PARALLEL_WORKERS
    results_dir: Path = RESULTS_DIR


@dataclass(kw_only=True)
class Runs:
    read_floor: list[float] = field(default_factory=list)
    read_floor_psycopg: list[float] = field(default_factory=list)
    hash_floor: list[float] = field(default_factory=list)
    compare: list[ToolResult] = field(default_factory=list)
    compare_seconds_reported: list[float | None] = field(default_factory=list)
    reladiff: list[ToolResult] = field(default_factory=list)
    copy_bytes: list[int] = field(default_factory=list)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _machine() -> dict[str, Any]:
    memory_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "load_average_start": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "commit": commit,
    }


def _rerun_command(options: Options) -> str:
    parts = ["python -m bench.compare", f"--rows {options.rows}", f"--repeat {options.repeat}"]
    if not options.reladiff:
        parts.append("--no-reladiff")
    if options.parallel_workers != DEFAULT_PARALLEL_WORKERS:
        parts.append(f"--parallel-workers {options.parallel_workers}")
    return " ".join(parts)


@contextlib.contextmanager
def _reladiff_venv(options: Options) -> Iterator[tuple[Path, str] | None]:
    if not options.reladiff:
        yield None
        return
    with contextlib.ExitStack() as stack:
        venv = options.keep_venv or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-reladiff-"))) / "venv"
        _log(f"reladiff: venv {venv}")
        yield venv, install_reladiff(venv)


def _round(number: int, *, options: Options, dsns: list[str], config: Path, venv: Path | None, runs: Runs, work: Path) -> None:
    limits = Limits(rows=options.rows)
    _log(f"round {number}/{options.repeat}")
    runs.read_floor.append(read_floor_psql(dsns, limits.floor_s))
    seconds, received = read_floor_psycopg(dsns, limits.floor_s)
    runs.read_floor_psycopg.append(seconds)
    runs.copy_bytes = received
    hashed_s, sums = hash_floor(dsns, limits.floor_s)
    runs.hash_floor.append(hashed_s)
    if sums[0] != sums[1]:
        raise BenchError(f"the two tables differ before any change (row hash sums {sums[0]} and {sums[1]})")
    _log(f"  read floor {runs.read_floor[-1]:.1f} s (psql), {seconds:.1f} s (psycopg); hash floor {hashed_s:.1f} s")
    result, document = run_compare(config, source=dsns[0], target=dsns[1], timeout_s=limits.tool_s, scratch=work)
    runs.compare.append(result)
    reported = document.get("seconds") if isinstance(document, dict) else None
    runs.compare_seconds_reported.append(reported if isinstance(reported, int | float) else None)
    sample = result.outcome.sample
    _log(f"  compare {sample.wall_s:.1f} s, {sample.peak_rss_mb:.0f} MB, exit {result.outcome.returncode}")
    if result.outcome.returncode != 0:
        said = document.get("summary") if isinstance(document, dict) else result.outcome.output_tail.strip()[-300:]
        _log(f"  compare did not pass identical data: {said}")
    if venv is not None:
        relad = run_reladiff(venv, source=dsns[0], target=dsns[1], timeout_s=limits.tool_s, scratch=work)
        runs.reladiff.append(relad)
        sample = relad.outcome.sample
        _log(f"  reladiff {sample.wall_s:.1f} s, {sample.peak_rss_mb:.0f} MB, exit {relad.outcome.returncode}")


def _cases(*, options: Options, dsns: list[str], config: Path, work: Path) -> list[report.CaseResult]:
    limits = Limits(rows=options.rows)
    source, target = dsns
    results: list[report.CaseResult] = []
    for case in data.planted_cases(options.rows):
        before = data.row_text(target, case.key)
        if data.execute(target, case.plant) != 1:
            raise BenchError(f"planting the {case.name} of id {case.key} did not touch exactly one row")
        try:
            started = time.perf_counter()
            outcome, document = run_compare(config, source=source, target=target, timeout_s=limits.tool_s, scratch=work)
            seconds = time.perf_counter() - started
        finally:
            data.execute(target, case.revert, case.revert_params or None)
        reverted = data.row_text(target, case.key) == before == data.row_text(source, case.key)
        if not reverted:
            raise BenchError(f"the {case.name} of id {case.key} was not reverted on the target")
        judged = report.judge_case(
            case, exit_code=outcome.outcome.returncode, document=document, reverted=reverted, seconds=seconds
        )
        results.append(judged)
        state = "found and named" if judged.found else "NOT found"
        _log(f"case {case.name} of id {case.key}: exit {judged.exit_code}, {state} ({', '.join(judged.named_at[:3])})")
    return results


def _tool_summary(results: Sequence[ToolResult]) -> dict[str, Any]:
    return {
        "exit_codes": [result.outcome.returncode for result in results],
        "peak_rss_mb": [round(result.outcome.sample.peak_rss_mb, 1) for result in results],
        "peak_single_process_mb": [round(result.outcome.sample.peak_single_mb, 1) for result in results],
    }


def _result(
    *,
    options: Options,
    started: datetime,
    machine: dict[str, Any],
    sizes: data.TableSize,
    load_s: float,
    runs: Runs,
    cases: list[report.CaseResult],
    reladiff_version: str | None,
) -> dict[str, Any]:
    timings = {
        "read_floor_s": report.timing(runs.read_floor),
        "read_floor_psycopg_s": report.timing(runs.read_floor_psycopg),
        "hash_floor_s": report.timing(runs.hash_floor),
        "compare_s": report.timing([result.outcome.sample.wall_s for result in runs.compare]),
        "compare_reported_s": report.timing([value for value in runs.compare_seconds_reported if value is not None]),
        "reladiff_s": report.timing([result.outcome.sample.wall_s for result in runs.reladiff]),
    }
    compare_s, reladiff_s = timings["compare_s"]["median"], timings["reladiff_s"]["median"]
    compare_memory = [result.outcome.sample.peak_rss_mb for result in runs.compare]
    reladiff_memory = [result.outcome.sample.peak_rss_mb for result in runs.reladiff]
    result: dict[str, Any] = {
        "schema": 1,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "rerun": _rerun_command(options),
        "machine": {**machine, "load_average_end": [round(value, 2) for value in os.getloadavg()]},
        "server_settings": {**SERVER_SETTINGS, "max_parallel_workers_per_gather": str(options.parallel_workers)},
        "rows": options.rows,
        "repeat": options.repeat,
        "load_s": round(load_s, 1),
        "bytes_per_side": {
            "table_bytes": sizes.table_bytes,
            "total_bytes": sizes.total_bytes,
            "copy_text_bytes": runs.copy_bytes[0] if runs.copy_bytes else None,
        },
        "timings": timings,
        "ratios": {
            "throughput_ratio_to_read_floor": report.ratio(timings["read_floor_s"]["median"], compare_s),
            "throughput_ratio_to_read_floor_psycopg": report.ratio(timings["read_floor_psycopg_s"]["median"], compare_s),
            "throughput_ratio_to_hash_floor": report.ratio(timings["hash_floor_s"]["median"], compare_s),
            "compare_to_reladiff": report.ratio(compare_s, reladiff_s),
        },
        "memory": {
            "compare_peak_rss_mb": max(compare_memory, default=None),
            "reladiff_peak_rss_mb": max(reladiff_memory, default=None),
        },
        "compare": {
            **_tool_summary(runs.compare),
            "passed_identical": bool(runs.compare) and all(result.outcome.returncode == 0 for result in runs.compare),
            "command": "python -m migration_ops.compare --config <bench config: scope bench.mixed> "
            "--dsn-env BENCH_COMPARE_SOURCE_DSN --target-dsn-env BENCH_COMPARE_TARGET_DSN --json",
            "output_tail": next((r.outcome.output_tail for r in runs.compare if r.outcome.returncode != 0), ""),
        },
        "reladiff": {
            **_tool_summary(runs.reladiff),
            "skipped": not options.reladiff,
            "version": reladiff_version,
            "command": " ".join(reladiff_command(Path("<venv>"), source="<source uri>", target="<target uri>")[1:]),
            "differences_reported": [reladiff_differences(result.stdout) for result in runs.reladiff],
        },
        "cases": [case.as_dict() for case in cases],
    }
    result["targets"] = report.targets(result)
    result["markdown"] = report.render_markdown(result)
    return result


def _benchmark(options: Options, machine: dict[str, Any], started: datetime) -> dict[str, Any]:
    limits = Limits(rows=options.rows)
    settings = {**SERVER_SETTINGS, "max_parallel_workers_per_gather": str(options.parallel_workers)}
    with (
        _reladiff_venv(options) as reladiff,
        tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp,
        servers(2, settings) as started_servers,
    ):
        work = Path(tmp)
        config = single_table_dir(CONFIG_DIR, work / "config", schema=data.SCHEMA, table=data.TABLE) / "e01.toml"
        dsns = _databases(started_servers)
        machine["postgres"] = data.server_version(dsns[0])
        _log(f"loading {options.rows:,} rows on both servers")
        load_started = time.perf_counter()
        both(lambda dsn: data.load(dsn, options.rows, timeout_s=limits.load_s), dsns)
        load_s = time.perf_counter() - load_started
        sizes = [data.size(dsn, timeout_s=limits.floor_s) for dsn in dsns]
        if any(size.rows != options.rows for size in sizes):
            raise BenchError(f"expected {options.rows} rows per side, found {[size.rows for size in sizes]}")
        _log(f"  loaded in {load_s:.1f} s, {sizes[0].table_bytes / 2**30:.2f} GiB per side; warming up")
        read_floor_psql(dsns, limits.floor_s)  # untimed: every timed run starts with the tables in the page cache
        runs = Runs()
        venv = reladiff[0] if reladiff else None
        for number in range(1, options.repeat + 1):
            _round(number, options=options, dsns=dsns, config=config, venv=venv, runs=runs, work=work)
        cases = _cases(options=options, dsns=dsns, config=config, work=work)
        return _result(
            options=options,
            started=started,
            machine=machine,
            sizes=sizes[0],
            load_s=load_s,
            runs=runs,
            cases=cases,
            reladiff_version=reladiff[1] if reladiff else None,
        )


def _databases(started: Sequence[PgServer]) -> list[str]:
    for server in started:
        data.create_database(server.dsn())
    return [server.dsn(data.DATABASE) for server in started]


def _parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help=f"rows per side (default {DEFAULT_ROWS:,})")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds; medians are reported (default 3)")
    parser.add_argument("--keep-venv", type=Path, metavar="DIR", help="install reladiff into DIR (reused when there) and keep it")
    parser.add_argument("--no-reladiff", action="store_true", help="do not install or time reladiff (downloads nothing)")
    parser.add_argument(
        "--parallel-workers",
        type=int,
        default=DEFAULT_PARALLEL_WORKERS,
        metavar="N",
        help=f"the servers' max_parallel_workers_per_gather (default {DEFAULT_PARALLEL_WORKERS})",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, metavar="DIR", help="where the JSON goes")
    args = parser.parse_args(argv)
    if args.rows < 100:
        parser.error("--rows must be at least 100")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.parallel_workers < 0:
        parser.error("--parallel-workers must be 0 or more")
    return Options(
        rows=args.rows,
        repeat=args.repeat,
        keep_venv=args.keep_venv.resolve() if args.keep_venv else None,
        reladiff=not args.no_reladiff,
        parallel_workers=args.parallel_workers,
        results_dir=args.results_dir,
    )


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM unwinds like an interrupt, so the servers are stopped and their directories removed."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    options = _parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    started = datetime.now(UTC)
    machine = _machine()
    try:
        result = _benchmark(options, machine, started)
    except (BenchError, PgError, ToolError, psycopg.Error, OSError) as error:
        print(f"error: {first_line(error)}", file=sys.stderr)
        return ExitCode.ERROR
    except KeyboardInterrupt:
        print("error: interrupted; the servers were stopped and their data removed", file=sys.stderr)
        return ExitCode.ERROR
    print(report.render_text(result))
    print("\n" + result["markdown"])
    options.results_dir.mkdir(parents=True, exist_ok=True)
    path = options.results_dir / f"compare-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    print(f"\nwritten: {path}")
    passed = result["compare"]["passed_identical"] and all(case["found"] for case in result["cases"])
    return ExitCode.OK if passed else ExitCode.FAILED


if __name__ == "__main__":
    sys.exit(main())
