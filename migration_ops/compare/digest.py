"""What each side computes: its rows bucketed by a hash of their key, and each bucket's digest, in one scan.

A row's digest input is the text of ROW(columns) over the columns both sides have, in the source's column order,
with the session settings that change how values print pinned on both sides. Every row falls into bucket
hash(ROW(key)::text) & (buckets - 1) (a table without a primary key: its row hash's low bits), the same buckets on
both sides; a bucket's digest is its row count and the exact sums of two 64-bit hashes of its rows
(hashtextextended with seeds 0 and 1), so equal digests mean equal rows whatever order, collation or physical
layout each side has. The row text is computed once per row below an `OFFSET 0` fence; each query is one
sequential scan of `ONLY` the table (inheritance children are tables of their own) and one HashAggregate.

Hashes are taken over the same bytes on both sides: when the two server encodings differ, over the UTF-8 form of
the text (a single-byte server such as LATIN1 re-reads the UTF-8 bytes as its own characters, which hashes those
bytes exactly; a multi-byte one other than UTF8 forces md5 of convert_to(..., 'UTF8') on both sides, slower).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg import sql

from migration_ops.compare.shape import Encoding
from migration_ops.compare.tables import Table

MAX_BUCKETS = 1 << 16
KEY_SEED = 2
SAMPLE_CHARS = 200
"""How much of a differing row's text a table without a key shows."""

Digests = dict[int, tuple[int, int, int]]
"""Bucket: (rows, first hash sum, second hash sum)."""


@dataclass(frozen=True, kw_only=True)
class Hashing:
    """How one side turns text into what it hashes."""

    mode: Literal["text", "md5"]
    reread_as: str | None = None
    """A single-byte server encoding: the UTF-8 bytes of the text are re-read as this encoding before hashing."""

    def prepared(self, text: sql.Composable) -> sql.Composable:
        """The expression hashed for `text`: itself, its UTF-8 bytes as text, or md5 of its UTF-8 bytes."""
        if self.mode == "md5":
            return sql.SQL("md5(convert_to({}, 'UTF8'))").format(text)
        if self.reread_as is not None:
            return sql.SQL("convert_from(convert_to({}, 'UTF8'), {})").format(text, sql.Literal(self.reread_as))
        return text

    def hash64(self, prepared: sql.Composable, seed: int) -> sql.Composable:
        """A 64-bit hash of a `prepared` value; seeds 0 and 1 are independent (md5: its two halves)."""
        if self.mode == "md5":
            start = 1 if seed % 2 == 0 else 17
            return sql.SQL("('x' || substr({}, {}, 16))::bit(64)::bigint").format(prepared, sql.Literal(start))
        return sql.SQL("hashtextextended({}, {})").format(prepared, sql.Literal(seed))


def hashings(source: Encoding, target: Encoding) -> tuple[Hashing, Hashing, str]:
    """Each side's hashing and how the report describes it."""
    if source.name == target.name:
        plain = Hashing(mode="text")
        return plain, plain, "hashtextextended of each row's text"
    sides = []
    for encoding in (source, target):
        if encoding.name == "UTF8":
            sides.append(Hashing(mode="text"))
        elif encoding.max_length == 1:
            sides.append(Hashing(mode="text", reread_as=encoding.name))
        else:
            md5 = Hashing(mode="md5")
            return md5, md5, f"md5 of each row's UTF-8 bytes ({source.name} source, {target.name} target)"
    return sides[0], sides[1], f"hashtextextended of each row's UTF-8 bytes ({source.name} source, {target.name} target)"


def bucket_count(estimated_rows: int, rows_per_bucket: int) -> int:
    """A power of two, about `estimated_rows / rows_per_bucket`, at most MAX_BUCKETS."""
    wanted = max(1, -(-estimated_rows // max(1, rows_per_bucket)))
    return min(MAX_BUCKETS, 1 << (wanted - 1).bit_length())


class TableQueries:
    """The queries of one side for one table."""

    def __init__(self, table: Table, columns: Sequence[str], key: Sequence[str], hashing: Hashing, buckets: int) -> None:
        self.table = table
        self.key = list(key)
        self.hashing = hashing
        self.buckets = buckets
        self.mask = sql.Literal(buckets - 1)
        self.row_text = sql.SQL("ROW({})::text").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
        self.key_text = sql.SQL("ROW({})::text").format(sql.SQL(", ").join(map(sql.Identifier, key)))

    def _h(self, prepared: sql.Composable, seed: int) -> sql.Composable:
        return self.hashing.hash64(prepared, seed)

    def key_bucket(self) -> sql.Composable:
        """The bucket of a row by its key, over the table's own columns."""
        return sql.SQL("({} & {})").format(self._h(self.hashing.prepared(self.key_text), KEY_SEED), self.mask)

    def _in_buckets(self, expression: sql.Composable, only: Sequence[int] | None) -> sql.Composable:
        if only is None:
            return sql.SQL("")
        values = sql.Literal(list(only))
        return sql.SQL(" WHERE {} = ANY({}::bigint[])").format(expression, values)

    def digest(self, only: Sequence[int] | None = None) -> sql.Composed:
        """(bucket, rows, sum of the first hash, sum of the second) of every bucket (or of `only` those)."""
        d = sql.Identifier("d")
        if self.key:
            return sql.SQL(
                "SELECT b, count(*), sum({h0}), sum({h1}) FROM"
                " (SELECT {bucket} AS b, {prepared} AS d FROM ONLY {table}{where} OFFSET 0) AS r GROUP BY b"
            ).format(
                h0=self._h(d, 0),
                h1=self._h(d, 1),
                bucket=self.key_bucket(),
                prepared=self.hashing.prepared(self.row_text),
                table=self.table.identifier,
                where=self._in_buckets(self.key_bucket(), only),
            )
        return sql.SQL(
            "SELECT h0 & {mask}, count(*), sum(h0), sum(h1) FROM (SELECT {h0} AS h0, {h1} AS h1 FROM"
            " (SELECT {prepared} AS d FROM ONLY {table} OFFSET 0) AS r OFFSET 0) AS h{where} GROUP BY 1"
        ).format(
            mask=self.mask,
            h0=self._h(d, 0),
            h1=self._h(d, 1),
            prepared=self.hashing.prepared(self.row_text),
            table=self.table.identifier,
            where=self._in_buckets(sql.SQL("(h0 & {})").format(self.mask), only),
        )

    def keyed_rows(self, only: Sequence[int]) -> sql.Composed:
        """(bucket, key column texts..., first hash, second hash) of the rows in the buckets `only`."""
        names = [sql.Identifier(f"k{index}") for index in range(len(self.key))]
        d = sql.Identifier("d")
        return sql.SQL(
            "SELECT b, {keys}, {h0}, {h1} FROM (SELECT {bucket} AS b, {key_columns}, {prepared} AS d"
            " FROM ONLY {table}{where} OFFSET 0) AS r"
        ).format(
            keys=sql.SQL(", ").join(names),
            h0=self._h(d, 0),
            h1=self._h(d, 1),
            bucket=self.key_bucket(),
            key_columns=sql.SQL(", ").join(
                sql.SQL("{}::text AS {}").format(sql.Identifier(name), alias) for name, alias in zip(self.key, names, strict=True)
            ),
            prepared=self.hashing.prepared(self.row_text),
            table=self.table.identifier,
            where=self._in_buckets(self.key_bucket(), only),
        )

    def row_groups(self, only: Sequence[int]) -> sql.Composed:
        """(first hash, second hash, copies, the start of one row's text) of the distinct rows in the buckets `only`."""
        t, d = sql.Identifier("t"), sql.Identifier("d")
        return sql.SQL(
            'SELECT h0, h1, count(*), min(left(t, {sample}) COLLATE "C") FROM'
            " (SELECT t, {h0} AS h0, {h1} AS h1 FROM (SELECT t, {prepared} AS d FROM"
            " (SELECT {row} AS t FROM ONLY {table} OFFSET 0) AS a OFFSET 0) AS b OFFSET 0) AS h"
            "{where} GROUP BY h0, h1"
        ).format(
            sample=sql.Literal(SAMPLE_CHARS),
            h0=self._h(d, 0),
            h1=self._h(d, 1),
            prepared=self.hashing.prepared(t),
            row=self.row_text,
            table=self.table.identifier,
            where=self._in_buckets(sql.SQL("(h0 & {})").format(self.mask), only),
        )

    def where(self, bucket: int) -> str:
        """The predicate that selects one bucket's rows on this side (with the pinned session settings)."""
        expression = (
            self.key_bucket()
            if self.key
            else sql.SQL("({} & {})").format(self._h(self.hashing.prepared(self.row_text), 0), self.mask)
        )
        return sql.SQL("{} = {}").format(expression, sql.Literal(bucket)).as_string(None)


def fetch_digests(query: sql.Composed) -> Any:
    """A job for one side: the digests `query` computes."""

    def job(conn: psycopg.Connection[Any]) -> Digests:
        return {int(row[0]): (int(row[1]), int(row[2]), int(row[3])) for row in conn.execute(query)}

    return job


def fetch_rows(query: sql.Composed) -> Any:
    """A job for one side: every row of `query`, as tuples."""

    def job(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in conn.execute(query)]

    return job
