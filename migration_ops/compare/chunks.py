"""Chunks of keys and their digests: what each side computes, in one snapshot, with the same session settings.

A chunk is the keys in (lower, upper] in primary-key order; its digest is the row count and the exact sums of
the two 64-bit halves of md5(ROW(columns)::text) over its rows, so equal digests mean equal rows whatever order
each side keeps them in. The settings that change how values print are pinned on both sides.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from migration_ops.compare.tables import Table

SESSION_SETTINGS = (
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("bytea_output", "hex"),
    ("extra_float_digits", "1"),
    ("lc_monetary", "C"),
)
"""Settings that change the text form of values: the same on both sides, so equal rows print equally."""


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


class Side:
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
def snapshot(*connections: psycopg.Connection[Any]) -> Iterator[None]:
    """One REPEATABLE READ, read-only transaction on each connection: counts and chunks see the same rows."""
    with connections[0].transaction(), connections[1].transaction():
        for conn in connections:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def prepare_session(conn: psycopg.Connection[Any]) -> None:
    for name, value in SESSION_SETTINGS:
        conn.execute("SELECT set_config(%s, %s, false)", (name, value))
