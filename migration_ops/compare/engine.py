"""The per-table comparison: row counts, then chunk digests in key order, within a time budget.

Boundaries are every N-th key of the SOURCE (keyset pagination); the first chunk is open below and the last open
above, so every target row falls into exactly one chunk. A differing chunk is narrowed to its keys when small
enough; a table without a primary key is digested whole up to a row limit, else counted only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from migration_ops.compare.chunks import Chunk, Side, prepare_session, snapshot
from migration_ops.compare.report import ChunkDifference, TableReport, key_values
from migration_ops.compare.shape import column_problems, read_shape
from migration_ops.compare.tables import Scope, Table
from migration_ops.postgres import (
    DatabaseConnectionError,
    SourceConnectionError,
    TargetConnectionError,
    connect,
)
from plumbing.text import first_line

DEFAULT_CHUNK_ROWS = 10_000
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 300.0
DEFAULT_MAX_ROWS_WITHOUT_KEY = 1_000_000
NARROW_MAX_ROWS = 100_000
"""A differing chunk is narrowed to its keys only when neither side holds more rows than this."""
NARROW_MAX_CHUNKS = 3
"""Differing chunks narrowed per table (the first ones found)."""


class Budget:
    """A deadline `seconds` from now on `clock`."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._deadline = clock() + seconds

    def remaining(self) -> float:
        return self._deadline - self._clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


class BudgetExhaustedError(Exception):
    """Raised inside a table's comparison when the time budget runs out; `compare_table` turns it into an
    incomplete report, so it never reaches the command (not an OpsError: running out of time is a result)."""


@dataclass(frozen=True, kw_only=True)
class EngineOptions:
    """How each table is compared (--chunk-rows, --statement-timeout, --max-rows-without-key)."""

    chunk_rows: int = DEFAULT_CHUNK_ROWS
    statement_timeout_seconds: float = DEFAULT_STATEMENT_TIMEOUT_SECONDS
    max_rows_without_key: int = DEFAULT_MAX_ROWS_WITHOUT_KEY


def compare_table(
    source: psycopg.Connection[Any], target: psycopg.Connection[Any], table: Table, options: EngineOptions, budget: Budget
) -> TableReport:
    """Row counts, then chunk digests in key order (or one whole-table digest without a key)."""
    started = time.monotonic()
    report = TableReport(table=table)
    try:
        _compare(source=source, target=target, table=table, options=options, budget=budget, report=report)
    except BudgetExhaustedError:
        report.incomplete = f"the time budget of {budget.seconds:g} s ran out" + (
            f" after {report.chunks_compared} chunks, keys up to {key_values(report.key, [report.reached])}"
            if report.reached is not None
            else ""
        )
    except psycopg.errors.QueryCanceled:
        if budget.expired:
            report.incomplete = f"the time budget of {budget.seconds:g} s ran out during a query"
        else:
            report.incomplete = (
                f"a query ran longer than --statement-timeout {options.statement_timeout_seconds:g} s "
                f"(after {report.chunks_compared} chunks); lower --chunk-rows or raise the timeout"
            )
    except psycopg.Error as error:
        for role, conn in (("source", source), ("target", target)):
            if conn.broken or conn.closed:
                raise (TargetConnectionError if role == "target" else SourceConnectionError)(
                    f"{role}: connection lost while comparing {table.qualified}: {first_line(error)}"
                ) from None
        report.incomplete = f"query error: {first_line(error)}"
    report.seconds = time.monotonic() - started
    return report


def _compare(
    *,
    source: psycopg.Connection[Any],
    target: psycopg.Connection[Any],
    table: Table,
    options: EngineOptions,
    budget: Budget,
    report: TableReport,
) -> None:
    def check_budget() -> None:
        remaining = budget.remaining()
        if remaining <= 0:
            raise BudgetExhaustedError
        for side in (src, tgt):
            side.limit(min(options.statement_timeout_seconds, remaining))

    if budget.expired:
        raise BudgetExhaustedError
    source_shape = read_shape(source, table)
    target_shape = read_shape(target, table)
    if source_shape is None:
        report.incomplete = "the table disappeared from the source"
        return
    if target_shape is None:
        report.missing_on_target = True
        return
    report.column_problems = column_problems(source_shape, target_shape)
    target_names = {name for name, _ in target_shape.columns}
    columns = [name for name, _ in source_shape.columns if name in target_names]
    key = [name for name in source_shape.key if name in target_names]
    if not columns:
        return
    report.key = key if key == source_shape.key else []
    src = Side(source, table, columns, report.key)
    tgt = Side(target, table, columns, report.key)
    with snapshot(source, target):
        check_budget()
        report.source_rows, report.target_rows = src.count(), tgt.count()
        if not report.key:
            _compare_without_key(src, tgt, options, report, check_budget)
            return
        lower: tuple[str, ...] | None = None
        number = 0
        while True:
            check_budget()
            upper = src.next_boundary(report.key, lower, options.chunk_rows)
            number += 1
            chunk = Chunk(number=number, key=tuple(report.key), lower=lower, upper=upper)
            on_source, on_target = src.digest(chunk), tgt.digest(chunk)
            report.chunks_compared += 1
            if on_source != on_target:
                difference = ChunkDifference(chunk=chunk, source_rows=on_source.rows, target_rows=on_target.rows)
                narrow = len(report.differences) < NARROW_MAX_CHUNKS
                if narrow and max(on_source.rows, on_target.rows) <= NARROW_MAX_ROWS:
                    _narrow(src, tgt, difference)
                report.differences.append(difference)
            if upper is None:
                return
            lower = report.reached = upper


def _compare_without_key(
    src: Side, tgt: Side, options: EngineOptions, report: TableReport, check_budget: Callable[[], None]
) -> None:
    assert report.source_rows is not None
    if report.source_rows > options.max_rows_without_key:
        report.note = "no primary key"
        report.incomplete = (
            f"no primary key to chunk by and {report.source_rows} rows (more than --max-rows-without-key "
            f"{options.max_rows_without_key}): row counts only"
        )
        return
    check_budget()
    whole = Chunk(number=1, key=(), lower=None, upper=None)
    on_source, on_target = src.digest(whole), tgt.digest(whole)
    report.chunks_compared = 1
    if on_source == on_target:
        report.note = "no primary key, whole-table digest equal"
    else:
        report.note = "no primary key, whole-table digest differs"
        report.differences.append(ChunkDifference(chunk=whole, source_rows=on_source.rows, target_rows=on_target.rows))


def _narrow(src: Side, tgt: Side, difference: ChunkDifference) -> None:
    on_source, on_target = src.row_hashes(difference.chunk), tgt.row_hashes(difference.chunk)
    difference.changed = [key for key, digest in on_source.items() if key in on_target and on_target[key] != digest]
    difference.missing = [key for key in on_source if key not in on_target]
    difference.extra = [key for key in on_target if key not in on_source]


def compare_all(
    *,
    source: psycopg.Connection[Any],
    target: psycopg.Connection[Any],
    scope: Scope,
    options: EngineOptions,
    budget: Budget,
    progress: Callable[[TableReport], None] | None = None,
) -> list[TableReport]:
    reports = []
    for table in scope.tables:
        report = compare_table(source, target, table, options, budget)
        reports.append(report)
        if progress is not None:
            progress(report)
    return reports


def open_connection(role: str, dsn: str, statement_timeout_seconds: float) -> psycopg.Connection[Any]:
    """A read-only session with the pinned settings; a connection error names the side."""
    error_type = TargetConnectionError if role == "target" else SourceConnectionError
    try:
        conn = connect(dsn, read_only=True, statement_timeout_seconds=statement_timeout_seconds)
    except DatabaseConnectionError as error:
        raise error_type(f"{role}: {error}") from None
    prepare_session(conn)
    return conn
