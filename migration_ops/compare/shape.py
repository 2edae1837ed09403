"""A table's shape on one side: its kind, columns (name, type, collation), primary key and size; how two sides differ.

A column's collation is named by what it sorts by: `libc C`, `ICU und`, ... (a column of the database's default
collation by the database's own locale), read through to_jsonb so the PostgreSQL 15-16 (`daticulocale`,
`colliculocale`) and 17+ (`datlocale`, `colllocale`) catalogs both work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from migration_ops.compare.tables import Table

_SHAPE_SQL = """
SELECT c.oid, c.relkind, greatest(c.reltuples, pg_relation_size(c.oid) / 100.0)::bigint
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %s AND c.relname = %s
"""
_COLUMNS_SQL = """
WITH db AS (SELECT to_jsonb(d) AS j FROM pg_database d WHERE d.datname = current_database())
SELECT a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attcollation = 0 THEN NULL
            WHEN co.collprovider = 'd' THEN
                 CASE WHEN db.j ->> 'datlocprovider' = 'i'
                      THEN 'ICU ' || coalesce(db.j ->> 'datlocale', db.j ->> 'daticulocale')
                      ELSE 'libc ' || (db.j ->> 'datcollate') END
            WHEN co.collprovider = 'i'
            THEN 'ICU ' || coalesce(to_jsonb(co) ->> 'colllocale', to_jsonb(co) ->> 'colliculocale')
            ELSE 'libc ' || co.collcollate END
  FROM pg_attribute a CROSS JOIN db LEFT JOIN pg_collation co ON co.oid = a.attcollation
 WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""
_KEY_SQL = """
SELECT a.attname FROM pg_index i
 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
 WHERE i.indrelid = %s AND i.indisprimary
 ORDER BY k.position
"""
_ENCODING_SQL = """
SELECT current_setting('server_encoding'),
       pg_encoding_max_length(pg_char_to_encoding(current_setting('server_encoding')))
"""


@dataclass(frozen=True, kw_only=True)
class Shape:
    kind: str
    columns: list[tuple[str, str]]
    """(name, type) in column order."""
    key: list[str]
    """Primary-key columns in key order; empty without a primary key."""
    collations: dict[str, str | None]
    """Column name: what it sorts by (None for a type without collation)."""
    estimated_rows: int
    """The planner's row estimate, or more when the table's size suggests more (never analyzed)."""


@dataclass(frozen=True, kw_only=True)
class Encoding:
    name: str
    max_length: int
    """Bytes per character at most: 1 for LATIN1, SQL_ASCII and the other single-byte encodings."""


def read_shape(conn: psycopg.Connection[Any], table: Table) -> Shape | None:
    found = conn.execute(_SHAPE_SQL, (table.schema, table.name)).fetchone()
    if found is None:
        return None
    oid, kind, estimated = int(found[0]), str(found[1]), int(found[2])
    rows = conn.execute(_COLUMNS_SQL, (oid,)).fetchall()
    key = [str(row[0]) for row in conn.execute(_KEY_SQL, (oid,)).fetchall()]
    return Shape(
        kind=kind,
        columns=[(str(row[0]), str(row[1])) for row in rows],
        key=key,
        collations={str(row[0]): None if row[2] is None else str(row[2]) for row in rows},
        estimated_rows=max(0, estimated),
    )


def read_encoding(conn: psycopg.Connection[Any]) -> Encoding:
    row = conn.execute(_ENCODING_SQL).fetchone()
    assert row is not None
    return Encoding(name=str(row[0]), max_length=int(row[1]))


def column_problems(source: Shape, target: Shape) -> list[str]:
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


def collation_warnings(source: Shape, target: Shape) -> list[str]:
    """Columns both sides have whose collations differ: not a data difference (rows are compared as bytes), but
    the target sorts, compares and indexes that text differently from the source."""
    differing = [
        f"{name} {source.collations[name]} on the source, {target.collations[name]} on the target"
        for name, _ in source.columns
        if name in target.collations
        and None not in (source.collations[name], target.collations[name])
        and source.collations[name] != target.collations[name]
    ]
    if not differing:
        return []
    return [
        "collations differ (the data is compared byte for byte, so this is no data difference; the target "
        "sorts and compares this text differently): " + ", ".join(differing)
    ]
