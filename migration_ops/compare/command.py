"""Data comparison of source and target: row counts and checksums over primary-key chunks, per table.

    python -m migration_ops.compare (--env ENV | --config PATH) [--suffix S]
        [--dsn-env VAR] [--from-secret [--region R] [--endpoint-url URL]] --target-dsn-env VAR
        [--tables SCHEMA.TABLE ...] [--chunk-rows N] [--time-budget-seconds S] [--statement-timeout S]
        [--max-rows-without-key N] [--allow-incomplete] [--json]

The source is reached like preflight reaches it (migration_ops/cli.py); the
target's libpq URI comes from the variable named by --target-dsn-env (never
from the command line). Tables: the ordinary tables of `dms.include` minus
`dms.exclude` (migration_ops/scope.py); a partitioned table is compared as its
leaf partitions, each under its own name on the target. --tables narrows that.

Per table, in one REPEATABLE READ, read-only transaction on each side: the row
counts, then the rows in chunks of --chunk-rows keys in primary-key order.
Chunk boundaries are every N-th key of the SOURCE (keyset pagination); the
first chunk is open below and the last open above, so every target row falls
into exactly one chunk. Each side digests a chunk as its row count and the
exact sums of the two 64-bit halves of md5(ROW(columns)::text) over its rows,
the columns being those both sides have, in the source's column order: equal
digests mean equal rows, whatever order each side puts them in (a text key the
two sides' collations sort differently can only make a row near a boundary
look missing in one chunk and extra in the next, never hide a difference).
Session settings that change how values print (TimeZone, DateStyle,
IntervalStyle, bytea_output, extra_float_digits, lc_monetary) are pinned on
both sides. A differing chunk is named by its key range (the WHERE clause to
look at it); for small chunks the differing keys are listed too. A table without a primary key is compared as a
whole when it has at most --max-rows-without-key rows, else by row count only.

Results: PASS equal; FAIL a difference (rows, a chunk, columns, table missing);
WARN not completely compared (the time budget ran out, a statement timed out,
a table without a key too large to digest, a query error); SKIP a partitioned
parent (compared as its partitions). Exit 0: everything compared and equal.
Exit 1: a difference, or anything not completely compared (unless
--allow-incomplete: an incomplete comparison proves nothing about the rest).
Exit 2: the command could not run (configuration, connection).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from config import EnvironmentConfig
from config.model import DmsConfig
from migration_ops import catalog, cli
from migration_ops.postgres import SourceConnectionError, connect, describe_dsn, dsn_from_env
from migration_ops.results import CheckResult, Status

DEFAULT_CHUNK_ROWS = 10_000
DEFAULT_TIME_BUDGET_SECONDS = 3600.0
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 300.0
DEFAULT_MAX_ROWS_WITHOUT_KEY = 1_000_000
NARROW_MAX_ROWS = 100_000
"""A differing chunk is narrowed to its keys only when neither side holds more rows than this."""
NARROW_MAX_CHUNKS = 3
"""Differing chunks narrowed per table (the first ones found)."""
KEYS_SHOWN = 5
CHUNKS_SHOWN = 3

SESSION_SETTINGS = (
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("bytea_output", "hex"),
    ("extra_float_digits", "1"),
    ("lc_monetary", "C"),
)
"""Settings that change the text form of values: the same on both sides, so equal rows print equally."""

FIX_DIFFERENCE = (
    "look at the named rows on both sides (SELECT ... WHERE <the chunk's range>); with writes frozen and CDC latency "
    "near 0 the difference is real: reload the table in the DMS task, then compare again"
)
FIX_DIFFERENCE_WITHOUT_KEY = (
    "without a primary key the differing rows cannot be named: with writes frozen and CDC latency near 0, "
    "reload the table in the DMS task, then compare again"
)
FIX_COLUMNS = "create the target table with the source's columns and types (runbook step 5), then reload the table"

_SHAPE_SQL = """
SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %s AND c.relname = %s
"""
_COLUMNS_SQL = """
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum
"""
_KEY_SQL = """
SELECT a.attname FROM pg_index i
 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
 WHERE i.indrelid = %s AND i.indisprimary
 ORDER BY k.position
"""
_LEAVES_SQL = """
SELECT n.nspname, c.relname FROM pg_partition_tree(%s::oid::regclass) t
  JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE t.isleaf AND c.relkind = 'r'
 ORDER BY n.nspname, c.relname
"""


class TargetConnectionError(SourceConnectionError):
    """The target could not be reached: exit 2 with this message."""


# --- scope ------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Table:
    schema: str
    name: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


@dataclass(frozen=True, kw_only=True)
class Scope:
    tables: list[Table]
    """Ordinary tables and leaf partitions to compare, in name order."""
    parents: dict[Table, list[Table]]
    """Partitioned tables in scope and their leaf partitions."""


def parse_table(text: str) -> Table:
    schema, dot, name = text.partition(".")
    if not dot or not schema or not name:
        raise cli.UsageError(f"--tables {text}: expected schema.table")
    return Table(schema, name)


def read_scope(conn: psycopg.Connection[Any], dms: DmsConfig, requested: Sequence[Table] = ()) -> Scope:
    """The task's tables on the source (`dms.include` minus `dms.exclude`), partitioned ones as their leaves."""
    relations = [relation for relation in catalog.scoped_relations(conn, dms) if relation.is_table]
    parents: dict[Table, list[Table]] = {}
    tables: set[Table] = set()
    for relation in relations:
        table = Table(relation.schema, relation.name)
        if relation.kind == "p":
            parents[table] = [Table(row[0], row[1]) for row in conn.execute(_LEAVES_SQL, (relation.oid,)).fetchall()]
        else:
            tables.add(table)
    if requested:
        known = tables | set(parents) | {leaf for leaves in parents.values() for leaf in leaves}
        unknown = [table.qualified for table in requested if table not in known]
        if unknown:
            raise cli.UsageError(
                f"--tables {', '.join(unknown)}: not a table in the task's scope (dms.include minus dms.exclude)"
            )
        parents = {parent: leaves for parent, leaves in parents.items() if parent in requested}
        tables = {table for table in known - set(parents) if table in requested}
    for leaves in parents.values():
        tables.update(leaves)
    return Scope(tables=sorted(tables), parents=dict(sorted(parents.items())))


# --- time budget ------------------------------------------------------------------------------


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
    """Raised inside a table's comparison when the time budget runs out."""


# --- one table --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Shape:
    kind: str
    columns: list[tuple[str, str]]
    """(name, type) in column order."""
    key: list[str]
    """Primary-key columns in key order; empty without a primary key."""


def read_shape(conn: psycopg.Connection[Any], table: Table) -> Shape | None:
    found = conn.execute(_SHAPE_SQL, (table.schema, table.name)).fetchone()
    if found is None:
        return None
    oid, kind = int(found[0]), str(found[1])
    columns = [(str(row[0]), str(row[1])) for row in conn.execute(_COLUMNS_SQL, (oid,)).fetchall()]
    key = [str(row[0]) for row in conn.execute(_KEY_SQL, (oid,)).fetchall()]
    return Shape(kind=kind, columns=columns, key=key)


@dataclass(frozen=True, kw_only=True)
class Chunk:
    """Keys in (lower, upper], as the text forms of the key columns; None: open on that side."""

    number: int
    key: tuple[str, ...]
    lower: tuple[str, ...] | None
    upper: tuple[str, ...] | None

    def predicate(self) -> sql.Composable:
        if not self.key:
            return sql.SQL("true")
        columns = sql.SQL("({})").format(sql.SQL(", ").join(map(sql.Identifier, self.key)))
        parts: list[sql.Composable] = []
        if self.lower is not None:
            parts.append(sql.SQL("{} > ({})").format(columns, sql.SQL(", ").join(map(sql.Literal, self.lower))))
        if self.upper is not None:
            parts.append(sql.SQL("{} <= ({})").format(columns, sql.SQL(", ").join(map(sql.Literal, self.upper))))
        return sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")

    def where(self) -> str:
        """The WHERE clause that selects this chunk's rows, for an operator to run."""
        if not self.key:
            return "whole table"
        return self.predicate().as_string(None) if self.lower is not None or self.upper is not None else "all rows"


@dataclass(frozen=True, kw_only=True)
class Digest:
    rows: int
    first: int
    second: int


@dataclass(kw_only=True)
class ChunkDifference:
    chunk: Chunk
    source_rows: int
    target_rows: int
    changed: list[tuple[str, ...]] | None = None
    missing: list[tuple[str, ...]] | None = None
    """On the source, not on the target."""
    extra: list[tuple[str, ...]] | None = None
    """On the target, not on the source."""

    def describe(self) -> str:
        text = f"chunk {self.chunk.number} {self.chunk.where()}: "
        text += f"{self.source_rows} rows on the source, {self.target_rows} on the target"
        if self.changed is None:
            return text + ", digests differ"
        details = [
            f"{label} {_keys(self.chunk.key, keys)}"
            for label, keys in (
                ("changed", self.changed),
                ("missing on the target", self.missing),
                ("extra on the target", self.extra),
            )
            if keys
        ]
        return text + ("; " + "; ".join(details) if details else ", digests differ")

    def as_dict(self) -> dict[str, Any]:
        return {
            "chunk": self.chunk.number,
            "lower": _key_dict(self.chunk.key, self.chunk.lower),
            "upper": _key_dict(self.chunk.key, self.chunk.upper),
            "where": self.chunk.where(),
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "changed": _key_list(self.chunk.key, self.changed),
            "missing_on_target": _key_list(self.chunk.key, self.missing),
            "extra_on_target": _key_list(self.chunk.key, self.extra),
        }


def _keys(key: Sequence[str], values: Sequence[tuple[str, ...]]) -> str:
    """`(id)=(4), (9)`: the first as PostgreSQL names a key, at most KEYS_SHOWN of them."""
    shown = f"({', '.join(key)})=" + ", ".join(f"({', '.join(value)})" for value in values[:KEYS_SHOWN])
    return shown + (f" and {len(values) - KEYS_SHOWN} more" if len(values) > KEYS_SHOWN else "")


def _key_dict(key: Sequence[str], value: tuple[str, ...] | None) -> dict[str, str] | None:
    return None if value is None else dict(zip(key, value, strict=True))


def _key_list(key: Sequence[str], values: Sequence[tuple[str, ...]] | None) -> list[dict[str, str]] | None:
    return None if values is None else [dict(zip(key, value, strict=True)) for value in values]


@dataclass(kw_only=True)
class TableReport:
    table: Table
    key: list[str] = field(default_factory=list)
    source_rows: int | None = None
    target_rows: int | None = None
    chunks_compared: int = 0
    reached: tuple[str, ...] | None = None
    """The last key of the last chunk compared."""
    differences: list[ChunkDifference] = field(default_factory=list)
    column_problems: list[str] = field(default_factory=list)
    missing_on_target: bool = False
    incomplete: str | None = None
    """Why the table was not completely compared; None when it was."""
    note: str | None = None
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        rows_differ = None not in (self.source_rows, self.target_rows) and self.source_rows != self.target_rows
        if self.missing_on_target or self.column_problems or self.differences or rows_differ:
            return Status.FAIL
        return Status.WARN if self.incomplete else Status.PASS

    def evidence(self) -> str:
        parts: list[str] = []
        if self.missing_on_target:
            return "no such table on the target"
        if self.column_problems:
            parts.append("columns differ: " + "; ".join(self.column_problems))
        if self.source_rows is not None and self.target_rows is not None:
            rows = (
                f"{self.source_rows} rows"
                if self.source_rows == self.target_rows
                else (f"rows differ: {self.source_rows} on the source, {self.target_rows} on the target")
            )
            parts.append(rows)
        if self.note:
            parts.append(self.note)
        if self.differences and self.key:
            shown = [difference.describe() for difference in self.differences[:CHUNKS_SHOWN]]
            more = len(self.differences) - CHUNKS_SHOWN
            parts.append(
                f"{len(self.differences)} of {self.chunks_compared} chunks differ: "
                + "; ".join(shown)
                + (f"; and {more} more" if more > 0 else "")
            )
        elif self.key and self.chunks_compared:
            parts.append(f"{self.chunks_compared} chunks equal")
        if self.incomplete:
            parts.append(f"not completely compared: {self.incomplete}")
        return ", ".join(parts) if parts else "nothing compared"

    def fix(self) -> str:
        if self.missing_on_target:
            return "create the table on the target (runbook step 5) and reload it in the DMS task"
        if self.column_problems:
            return FIX_COLUMNS
        if self.status is Status.FAIL:
            return FIX_DIFFERENCE if self.key else FIX_DIFFERENCE_WITHOUT_KEY
        if self.incomplete:
            return "compare this table again (--tables) with a larger --time-budget-seconds or --statement-timeout"
        return ""

    def result(self) -> CheckResult:
        return CheckResult(name=self.table.qualified, status=self.status, evidence=self.evidence(), fix=self.fix())

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table.qualified,
            "status": self.status.value,
            "key": self.key,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "chunks_compared": self.chunks_compared,
            "differences": [difference.as_dict() for difference in self.differences],
            "column_problems": self.column_problems,
            "missing_on_target": self.missing_on_target,
            "incomplete": self.incomplete,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, kw_only=True)
class Options:
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    statement_timeout_seconds: float = DEFAULT_STATEMENT_TIMEOUT_SECONDS
    max_rows_without_key: int = DEFAULT_MAX_ROWS_WITHOUT_KEY


class _Side:
    """One connection of the comparison, with the table's common columns and key."""

    def __init__(self, conn: psycopg.Connection[Any], table: Table, columns: Sequence[str], key: Sequence[str]) -> None:
        self.conn = conn
        self.table = table
        self.row = sql.SQL("md5(ROW({})::text)").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
        self.key_text = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(name)) for name in key)

    def order(self, key: Sequence[str]) -> sql.Composable:
        """ORDER BY the key columns, qualified: a bare name would sort by the `::text` output column of that name."""
        return sql.SQL(", ").join(sql.Identifier(self.table.schema, self.table.name, name) for name in key)

    def count(self) -> int:
        row = self.conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self.table.identifier)).fetchone()
        return int(row[0]) if row else 0

    def digest(self, chunk: Chunk) -> Digest:
        query = sql.SQL(
            "SELECT count(*), coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint), 0),"
            " coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint), 0)"
            " FROM (SELECT {row} AS h FROM {table} WHERE {where}) AS hashed"
        ).format(row=self.row, table=self.table.identifier, where=chunk.predicate())
        row = self.conn.execute(query).fetchone()
        assert row is not None
        return Digest(rows=int(row[0]), first=int(row[1]), second=int(row[2]))

    def row_hashes(self, chunk: Chunk) -> dict[tuple[str, ...], str]:
        """{key text: row md5} of the chunk's rows, in key order."""
        query = sql.SQL("SELECT {row}, {key} FROM {table} WHERE {where} ORDER BY {order}").format(
            row=self.row,
            key=self.key_text,
            table=self.table.identifier,
            where=chunk.predicate(),
            order=self.order(chunk.key),
        )
        return {tuple(str(value) for value in row[1:]): str(row[0]) for row in self.conn.execute(query).fetchall()}

    def next_boundary(self, key: Sequence[str], lower: tuple[str, ...] | None, rows: int) -> tuple[str, ...] | None:
        """The text form of the `rows`-th key after `lower` (from the start when None), None when there are fewer."""
        after = Chunk(number=0, key=tuple(key), lower=lower, upper=None)
        query = sql.SQL("SELECT {key} FROM {table} WHERE {where} ORDER BY {order} OFFSET {skip} LIMIT 1").format(
            key=self.key_text,
            table=self.table.identifier,
            where=after.predicate(),
            order=self.order(key),
            skip=sql.Literal(rows - 1),
        )
        row = self.conn.execute(query).fetchone()
        return None if row is None else tuple(str(value) for value in row)

    def limit(self, seconds: float) -> None:
        """statement_timeout for the rest of this transaction."""
        self.conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(max(1, int(seconds * 1000))),))


@contextmanager
def _snapshot(*connections: psycopg.Connection[Any]) -> Iterator[None]:
    """One REPEATABLE READ, read-only transaction on each connection: counts and chunks see the same rows."""
    with connections[0].transaction(), connections[1].transaction():
        for conn in connections:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _column_problems(source: Shape, target: Shape) -> list[str]:
    target_types = dict(target.columns)
    source_types = dict(source.columns)
    problems = []
    only_source = [name for name, _ in source.columns if name not in target_types]
    only_target = [name for name, _ in target.columns if name not in source_types]
    if only_source:
        problems.append("only on the source: " + ", ".join(only_source))
    if only_target:
        problems.append("only on the target: " + ", ".join(only_target))
    retyped = [
        f"{name} {kind} on the source, {target_types[name]} on the target"
        for name, kind in source.columns
        if name in target_types and target_types[name] != kind
    ]
    if retyped:
        problems.append("types differ: " + ", ".join(retyped))
    return problems


def compare_table(
    source: psycopg.Connection[Any], target: psycopg.Connection[Any], table: Table, options: Options, budget: Budget
) -> TableReport:
    """Row counts, then chunk digests in key order (or one whole-table digest without a key)."""
    started = time.monotonic()
    report = TableReport(table=table)
    try:
        _compare(source=source, target=target, table=table, options=options, budget=budget, report=report)
    except BudgetExhaustedError:
        report.incomplete = f"the time budget of {budget.seconds:g} s ran out" + (
            f" after {report.chunks_compared} chunks, keys up to {_keys(report.key, [report.reached])}"
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
                    f"{role}: connection lost while comparing {table.qualified}: {_first_line(error)}"
                ) from None
        report.incomplete = f"query error: {_first_line(error)}"
    report.seconds = time.monotonic() - started
    return report


def _compare(
    *,
    source: psycopg.Connection[Any],
    target: psycopg.Connection[Any],
    table: Table,
    options: Options,
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
    report.column_problems = _column_problems(source_shape, target_shape)
    target_names = {name for name, _ in target_shape.columns}
    columns = [name for name, _ in source_shape.columns if name in target_names]
    key = [name for name in source_shape.key if name in target_names]
    if not columns:
        return
    report.key = key if key == source_shape.key else []
    src = _Side(source, table, columns, report.key)
    tgt = _Side(target, table, columns, report.key)
    with _snapshot(source, target):
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


def _compare_without_key(src: _Side, tgt: _Side, options: Options, report: TableReport, check_budget: Callable[[], None]) -> None:
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


def _narrow(src: _Side, tgt: _Side, difference: ChunkDifference) -> None:
    on_source, on_target = src.row_hashes(difference.chunk), tgt.row_hashes(difference.chunk)
    difference.changed = [key for key, digest in on_source.items() if key in on_target and on_target[key] != digest]
    difference.missing = [key for key in on_source if key not in on_target]
    difference.extra = [key for key in on_target if key not in on_source]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --- all tables -------------------------------------------------------------------------------


def parent_result(parent: Table, leaves: Sequence[Table]) -> CheckResult:
    evidence = (
        f"partitioned table: compared as its {len(leaves)} leaf partitions ({', '.join(leaf.qualified for leaf in leaves)})"
        if leaves
        else "partitioned table without partitions: holds no rows"
    )
    return CheckResult(name=parent.qualified, status=Status.SKIP, evidence=evidence)


def compare_all(
    *,
    source: psycopg.Connection[Any],
    target: psycopg.Connection[Any],
    scope: Scope,
    options: Options,
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


def prepare_session(conn: psycopg.Connection[Any]) -> None:
    for name, value in SESSION_SETTINGS:
        conn.execute("SELECT set_config(%s, %s, false)", (name, value))


def open_connection(role: str, dsn: str, statement_timeout_seconds: float) -> psycopg.Connection[Any]:
    """A read-only session with the pinned settings; a connection error names the side."""
    error_type = TargetConnectionError if role == "target" else SourceConnectionError
    try:
        conn = connect(dsn, read_only=True, statement_timeout_seconds=statement_timeout_seconds)
    except SourceConnectionError as error:
        raise error_type(f"{role}: {error}") from None
    prepare_session(conn)
    return conn


# --- command line -----------------------------------------------------------------------------


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0: {text}")
        return value

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m migration_ops.compare", description=__doc__.split("\n\n")[0])
    cli.add_environment_arguments(parser)
    cli.add_source_arguments(parser)
    cli.add_aws_arguments(parser, endpoint_help="Secrets Manager endpoint (an emulator)")
    parser.add_argument("--target-dsn-env", metavar="VAR", required=True, help="variable holding the TARGET libpq URI")
    parser.add_argument("--tables", nargs="+", metavar="SCHEMA.TABLE", help="compare only these tables of the scope")
    parser.add_argument(
        "--chunk-rows",
        type=_positive(int),
        default=DEFAULT_CHUNK_ROWS,
        metavar="N",
        help=f"keys per chunk (default {DEFAULT_CHUNK_ROWS})",
    )
    parser.add_argument(
        "--time-budget-seconds",
        type=_positive(float),
        default=DEFAULT_TIME_BUDGET_SECONDS,
        metavar="S",
        help=f"stop comparing after this long; the rest is reported as not compared (default {DEFAULT_TIME_BUDGET_SECONDS:g})",
    )
    parser.add_argument(
        "--statement-timeout",
        type=_positive(float),
        default=DEFAULT_STATEMENT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"limit of each query (default {DEFAULT_STATEMENT_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument(
        "--max-rows-without-key",
        type=_positive(int),
        default=DEFAULT_MAX_ROWS_WITHOUT_KEY,
        metavar="N",
        help=f"digest a table without a primary key whole up to this many rows (default {DEFAULT_MAX_ROWS_WITHOUT_KEY})",
    )
    parser.add_argument(
        "--allow-incomplete", action="store_true", help="exit 0 when nothing differs even if not everything was compared"
    )
    cli.add_json_argument(parser)
    return parser.parse_args(argv)


def render_reports(reports: Sequence[TableReport], parents: Sequence[CheckResult]) -> str:
    """One line per table: status, name, rows on each side, chunks compared, evidence; `fix:` under a non-pass."""
    rows = [(result.status.label, result.name, "-", "-", "-", result.evidence, "") for result in parents]
    for report in reports:
        result = report.result()
        counted = (str(report.source_rows), str(report.target_rows)) if report.source_rows is not None else ("-", "-")
        rows.append((result.status.label, result.name, *counted, str(report.chunks_compared), result.evidence, result.fix))
    header = ("STATUS", "TABLE", "SOURCE ROWS", "TARGET ROWS", "CHUNKS")
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]

    def cells(values: Sequence[str]) -> str:
        """Names left-aligned, numbers right-aligned."""
        return "  ".join(
            value.ljust(width) if i < 2 else value.rjust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        )

    lines = [cells(header) + "  EVIDENCE"]
    for *values, evidence, fix in rows:
        lines.append(f"{cells(values)}  {evidence}")
        if fix:
            lines.append(" " * (sum(widths) + 2 * len(widths)) + f"fix: {fix}")
    return "\n".join(lines)


def compare(args: argparse.Namespace, *, budget: Budget | None = None) -> int:
    budget = budget or Budget(args.time_budget_seconds)
    config: EnvironmentConfig = cli.load_config(args)
    requested = [parse_table(text) for text in args.tables or ()]
    source_dsn = cli.source_dsn(args, config)
    try:
        target_dsn = dsn_from_env(args.target_dsn_env)
    except SourceConnectionError as error:
        raise TargetConnectionError(f"target: {error}") from None
    options = Options(
        chunk_rows=args.chunk_rows,
        statement_timeout_seconds=args.statement_timeout,
        max_rows_without_key=args.max_rows_without_key,
    )
    started = time.monotonic()
    with (
        open_connection("source", source_dsn, args.statement_timeout) as source,
        open_connection("target", target_dsn, args.statement_timeout) as target,
    ):
        scope = read_scope(source, config.dms, requested)
        progress = None if args.json else _progress
        reports = compare_all(source=source, target=target, scope=scope, options=options, budget=budget, progress=progress)
    parents = [parent_result(parent, leaves) for parent, leaves in scope.parents.items()]
    results = parents + [report.result() for report in reports]
    complete = all(report.incomplete is None for report in reports)
    code = cli.exit_code(results, strict=not args.allow_incomplete)
    if args.json:
        print(
            cli.render_json(
                results,
                environment=config.environment_suffix,
                stack=config.stack_name,
                source=describe_dsn(source_dsn),
                target=describe_dsn(target_dsn),
                chunk_rows=options.chunk_rows,
                time_budget_seconds=budget.seconds,
                seconds=round(time.monotonic() - started, 3),
                complete=complete,
                tables=[report.as_dict() for report in reports],
            )
        )
    else:
        print(
            f"compare {config.stack_name}: source {describe_dsn(source_dsn)}, target {describe_dsn(target_dsn)}, "
            f"chunks of {options.chunk_rows} keys, time budget {budget.seconds:g} s"
        )
        print(render_reports(reports, parents))
        print(cli.render_summary(results) + ("" if complete else "; INCOMPLETE: not every table was compared completely"))
    return code


def _progress(report: TableReport) -> None:
    print(f"{report.status.label} {report.table.qualified} ({report.seconds:.1f} s)", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return cli.run(lambda: compare(args), SourceConnectionError)


if __name__ == "__main__":
    sys.exit(main())
