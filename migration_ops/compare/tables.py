"""What compare compares: the ordinary tables of the task's scope, a partitioned table as its leaf partitions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from config.model import DmsConfig
from migration_ops import catalog
from migration_ops.catalog import Table
from migration_ops.errors import UsageError

__all__ = ["Scope", "Table", "describe_rules", "parse_table", "read_scope"]

_LEAVES_SQL = """
SELECT n.nspname, c.relname FROM pg_partition_tree(%s::oid::regclass) t
  JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE t.isleaf AND c.relkind = 'r'
 ORDER BY n.nspname, c.relname
"""


@dataclass(frozen=True, kw_only=True)
class Scope:
    tables: list[Table]
    """Ordinary tables and leaf partitions to compare, in name order."""
    parents: dict[Table, list[Table]]
    """Partitioned tables in scope and their leaf partitions."""
    refused: dict[Table, str] = field(default_factory=dict)
    """Tables named by --tables that are not compared, and why (reported as failures)."""

    @property
    def empty(self) -> bool:
        return not (self.tables or self.parents or self.refused)


def parse_table(text: str) -> Table:
    schema, dot, name = text.partition(".")
    if not dot or not schema or not name:
        raise UsageError(f"--tables {text}: expected schema.table")
    return Table(schema, name)


def read_scope(conn: psycopg.Connection[Any], dms: DmsConfig, requested: Sequence[Table] = ()) -> Scope:
    """The task's tables on the source (`dms.include` minus `dms.exclude`), partitioned ones as their leaves.

    With `requested` (--tables), only those; one that is not in the scope, or not on the source, is `refused`.
    """
    everything = catalog.relations(conn)
    relations = [relation for relation in catalog.scoped(everything, dms) if relation.is_table]
    parents: dict[Table, list[Table]] = {}
    tables: set[Table] = set()
    for relation in relations:
        table = Table(relation.schema, relation.name)
        if relation.kind == "p":
            parents[table] = [Table(row[0], row[1]) for row in conn.execute(_LEAVES_SQL, (relation.oid,)).fetchall()]
        else:
            tables.add(table)
    refused: dict[Table, str] = {}
    if requested:
        known = tables | set(parents) | {leaf for leaves in parents.values() for leaf in leaves}
        existing = {Table(relation.schema, relation.name): relation for relation in everything}
        for table in requested:
            if table in known:
                continue
            found = existing.get(table)
            if found is None:
                refused[table] = "named by --tables: no such table on the source"
            elif not found.is_table:
                refused[table] = "named by --tables: not a table on the source"
            else:
                refused[table] = "named by --tables: not in the task's scope (dms.include minus dms.exclude), not compared"
        parents = {parent: leaves for parent, leaves in parents.items() if parent in requested}
        tables = {table for table in known - set(parents) if table in requested}
    for leaves in parents.values():
        tables.update(leaves)
    return Scope(tables=sorted(tables), parents=dict(sorted(parents.items())), refused=dict(sorted(refused.items())))


def describe_rules(dms: DmsConfig) -> str:
    """`include cmp.%; exclude cmp.skip%`: the selection rules as the config writes them."""
    include = ", ".join(f"{rule.schema_name}.{rule.table_name}" for rule in dms.include) or "nothing"
    exclude = ", ".join(f"{rule.schema_name}.{rule.table_name}" for rule in dms.exclude)
    return f"include {include}" + (f"; exclude {exclude}" if exclude else "")
