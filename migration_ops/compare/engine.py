"""The per-table comparison within a time budget: shapes, one digest scan per side, a recheck of what differed.

Per table, both sides at the same time (migration_ops/compare/sessions.py): each side's shape; one scan per side
that digests every bucket of rows (migration_ops/compare/digest.py); when buckets differ, a pause of
--recheck-delay-seconds and a recheck of only those buckets' rows, narrowed to exact keys
(migration_ops/compare/recheck.py); then the table's write counters on the source, to tell whether the source
changed during the run (migration_ops/compare/activity.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from migration_ops.compare.activity import SourceActivity, read_signatures
from migration_ops.compare.digest import Hashing, TableQueries, bucket_count, fetch_digests, hashings
from migration_ops.compare.recheck import NARROW_MAX_ROWS, recheck
from migration_ops.compare.report import ChunkDifference, TableReport
from migration_ops.compare.sessions import (
    Budget,
    BudgetExhaustedError,
    Pair,
    SideError,
    UnansweredError,
    open_connection,
    run_bounded,
)
from migration_ops.compare.shape import collation_warnings, column_problems, read_encoding, read_shape
from migration_ops.compare.tables import Scope, Table
from migration_ops.postgres import SourceConnectionError, TargetConnectionError
from plumbing.text import first_line

__all__ = [
    "NARROW_MAX_ROWS",
    "Budget",
    "BudgetExhaustedError",
    "EngineOptions",
    "Reports",
    "compare_all",
    "compare_table",
    "open_connection",
]

DEFAULT_CHUNK_ROWS = 2_000
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 300.0
DEFAULT_RECHECK_DELAY_SECONDS = 5.0
AFTER_READ_SECONDS = 5.0
"""Limit of the write-counter read after a table, allowed even when the budget has run out."""


@dataclass(frozen=True, kw_only=True)
class EngineOptions:
    """How each table is compared (--chunk-rows, --statement-timeout, --recheck-delay-seconds)."""

    chunk_rows: int = DEFAULT_CHUNK_ROWS
    """Rows per bucket (chunk), about: the number of buckets is a power of two near rows / chunk_rows."""
    statement_timeout_seconds: float = DEFAULT_STATEMENT_TIMEOUT_SECONDS
    recheck_delay_seconds: float = DEFAULT_RECHECK_DELAY_SECONDS


class Reports(list[TableReport]):
    """The reports in scope order, and what the run as a whole found."""

    hashing: str = "not determined"
    """How rows were hashed (plain text, or UTF-8 bytes when the encodings differ)."""
    encoding_warning: str | None = None

    @property
    def source_changed(self) -> bool | None:
        """True: some compared table was written during the run; False: none; None: cannot tell for some."""
        seen = [report.source_changed for report in self]
        return True if any(seen) else (None if None in seen else False)


@dataclass(frozen=True, kw_only=True)
class _Run:
    pair: Pair
    hashing: tuple[Hashing, Hashing]
    description: str
    encoding_warning: str | None
    activity: SourceActivity
    options: EngineOptions


def compare_all(
    *,
    source: psycopg.Connection[Any],
    target: psycopg.Connection[Any],
    scope: Scope,
    options: EngineOptions,
    budget: Budget,
    progress: Callable[[TableReport], None] | None = None,
) -> Reports:
    pair = Pair(source, target, statement_timeout_seconds=options.statement_timeout_seconds, budget=budget)
    reports = Reports()
    try:
        run = _start(pair, scope.tables, options)
    except (BudgetExhaustedError, UnansweredError, SideError) as error:
        why = f"the time budget of {budget.seconds:g} s ran out" if isinstance(error, BudgetExhaustedError) else str(error)
        reports.extend(TableReport(table=table, incomplete=why) for table in scope.tables)
        return reports
    reports.hashing = run.description
    reports.encoding_warning = run.encoding_warning
    for table in scope.tables:
        report = _compare_table(run, table)
        reports.append(report)
        if progress is not None:
            progress(report)
    return reports


def compare_table(
    source: psycopg.Connection[Any], target: psycopg.Connection[Any], table: Table, options: EngineOptions, budget: Budget
) -> TableReport:
    """One table, as compare_all compares each."""
    return compare_all(source=source, target=target, scope=Scope(tables=[table], parents={}), options=options, budget=budget)[0]


def _start(pair: Pair, tables: Sequence[Table], options: EngineOptions) -> _Run:
    encodings = pair.both(read_encoding, read_encoding)
    on_source, on_target, how = hashings(*encodings)
    warning = None
    if encodings[0].name != encodings[1].name:
        warning = (
            f"server encodings differ ({encodings[0].name} on the source, {encodings[1].name} on the target): "
            f"rows compared over their UTF-8 bytes ({how}), no data difference"
        )
    before = pair.on_source(read_signatures(tables))
    return _Run(
        pair=pair,
        hashing=(on_source, on_target),
        description=how,
        encoding_warning=warning,
        activity=SourceActivity(before),
        options=options,
    )


def _compare_table(run: _Run, table: Table) -> TableReport:
    started = time.monotonic()
    report = TableReport(table=table)
    budget = run.pair.budget
    if run.pair.abandoned:
        report.incomplete = f"not compared: {run.pair.abandoned} earlier in the run"
        return report
    try:
        _compare(run, table, report)
    except BudgetExhaustedError:
        stage = (
            f" before the recheck of {report.first_differences} differing chunks"
            if report.first_differences and report.recheck_delay is None
            else ""
        )
        report.incomplete = f"the time budget of {budget.seconds:g} s ran out{stage}"
    except UnansweredError as error:
        report.incomplete = str(error)
    except SideError as error:
        _side_error(run, report, error)
    _note_changes(run, table, report)
    report.seconds = time.monotonic() - started
    return report


def _compare(run: _Run, table: Table, report: TableReport) -> None:
    pair = run.pair
    source_shape, target_shape = pair.both(lambda conn: read_shape(conn, table), lambda conn: read_shape(conn, table))
    if source_shape is None:
        report.incomplete = "the table disappeared from the source"
        return
    if target_shape is None:
        report.missing_on_target = True
        return
    report.column_problems = column_problems(source_shape, target_shape)
    report.column_warnings = collation_warnings(source_shape, target_shape)
    if run.encoding_warning:
        report.column_warnings.append(run.encoding_warning)
    target_names = {name for name, _ in target_shape.columns}
    columns = [name for name, _ in source_shape.columns if name in target_names]
    key = [name for name in source_shape.key if name in target_names]
    if not columns:
        return
    report.key = key if key == source_shape.key else []
    if not report.key:
        report.note = "no primary key: compared as a multiset of rows"
    buckets = bucket_count(max(source_shape.estimated_rows, target_shape.estimated_rows), run.options.chunk_rows)
    queries = (
        TableQueries(table, columns, report.key, run.hashing[0], buckets),
        TableQueries(table, columns, report.key, run.hashing[1], buckets),
    )
    first = pair.both(fetch_digests(queries[0].digest()), fetch_digests(queries[1].digest()))
    seen = sorted(set(first[0]) | set(first[1]))
    report.chunks_compared = len(seen)
    report.source_rows = sum(digest[0] for digest in first[0].values())
    report.target_rows = sum(digest[0] for digest in first[1].values())
    differing = [bucket for bucket in seen if first[0].get(bucket) != first[1].get(bucket)]
    report.first_differences = len(differing)
    if not differing:
        return
    empty = (0, 0, 0)
    report.differences = [
        ChunkDifference(
            chunk=bucket,
            where=queries[0].where(bucket),
            source_rows=first[0].get(bucket, empty)[0],
            target_rows=first[1].get(bucket, empty)[0],
            key=report.key,
        )
        for bucket in differing
    ]
    pair.pause(run.options.recheck_delay_seconds)
    found = recheck(pair, queries, first, differing)
    report.differences = found.differences
    report.recheck_delay = run.options.recheck_delay_seconds
    report.source_rows += sum(found.counts[bucket][0] - first[0].get(bucket, empty)[0] for bucket in differing)
    report.target_rows += sum(found.counts[bucket][1] - first[1].get(bucket, empty)[0] for bucket in differing)


def _side_error(run: _Run, report: TableReport, error: SideError) -> None:
    cause, role = error.cause, error.role
    conn = run.pair.source.conn if role == "source" else run.pair.target.conn
    if conn.broken or conn.closed:
        raise (TargetConnectionError if role == "target" else SourceConnectionError)(
            f"{role}: connection lost while comparing {report.table.qualified}: {first_line(cause)}"
        ) from None
    if isinstance(cause, psycopg.errors.InsufficientPrivilege):
        what = "row-level security hides rows of it from" if "row-level security" in str(cause) else "it cannot be read by"
        report.unreadable = f"{what} the comparing user on the {role} ({first_line(cause)})"
    elif isinstance(cause, psycopg.errors.QueryCanceled) and run.pair.budget.expired:
        report.incomplete = f"the time budget of {run.pair.budget.seconds:g} s ran out during a query"
    elif isinstance(cause, psycopg.errors.QueryCanceled):
        report.incomplete = (
            f"a query on the {role} ran longer than --statement-timeout {run.options.statement_timeout_seconds:g} s"
        )
    else:
        report.incomplete = f"query error on the {role}: {first_line(cause)}"


def _note_changes(run: _Run, table: Table, report: TableReport) -> None:
    """Whether the table was written on the source since the run started (read even when the budget ran out)."""
    if run.activity.unknown:
        report.source_change_unknown = run.activity.unknown
        return
    if run.pair.source.abandoned:
        report.source_change_unknown = "the source stopped answering"
        return
    try:
        (after,) = run_bounded([(run.pair.source, read_signatures([table]))], AFTER_READ_SECONDS)
    except (UnansweredError, SideError) as error:
        report.source_change_unknown = f"the write counters could not be read: {first_line(error)}"
        return
    report.source_changed = run.activity.changed(table, after)
    if report.source_changed is None:
        report.source_change_unknown = "the table has no write counters on the source"
