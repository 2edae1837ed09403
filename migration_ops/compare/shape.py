"""A table's shape on one side: its kind, columns (name, type) and primary key; how the two sides' columns differ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from migration_ops.compare.tables import Table

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
