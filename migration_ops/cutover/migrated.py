"""The tables the DMS task writes rows into: read on the SOURCE with the task's own mappings, found on the TARGET.

`cutover reload` truncates exactly these and `cutover analyze` vacuums them, so both must agree with DMS, not with
whatever the target happens to hold:

- The scope is `catalog.scoped` on the source (dms.include minus dms.exclude, the mappings the stack gives the
  task), never read on the target: a table that exists only on Aurora is not DMS's and is never touched.
- A partitioned table in scope stands for its leaf partitions: DMS reads a parent's rows through its partitions and
  they land in the target's partitions (runbook, "Partitioned tables"); its leaves are loaded whether or not the
  mappings name them. The partitioned tables themselves hold no rows; they are listed apart (`partitioned`, with
  every partitioned ancestor of a loaded leaf) for `ANALYZE`, because autovacuum never analyzes a partitioned table.
- A child of an old-style inheritance parent is its own table, in scope or not by its own name: DMS's selection
  rules match table by table and each selected table is loaded as itself. So every table is named on its own, each
  with ONLY (`TRUNCATE ONLY a, ONLY b`: ONLY binds to one name): without ONLY, truncating an inheritance parent
  empties its children as well (PostgreSQL, TRUNCATE: "If ONLY is not specified, the table and all its descendant
  tables (if any) are truncated"), also the ones outside the scope. (ONLY on a partitioned table is an error, hence
  the leaves.)
- Tables in `dms.control_schema` are DMS's own control tables, never data.
- The result is intersected with the ordinary tables that exist on the target; the rest is `missing_on_target`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from config.model import DmsConfig
from migration_ops import catalog

TableName = tuple[str, str]
ORDINARY_TABLE = "r"

_ON_TARGET_SQL = """
SELECT n.nspname, c.relname, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN unnest(%s::text[], %s::text[]) AS wanted (schema_name, table_name)
    ON wanted.schema_name = n.nspname AND wanted.table_name = c.relname
"""


def qualified(name: TableName) -> str:
    return f"{name[0]}.{name[1]}"


@dataclass(frozen=True, kw_only=True)
class SourceScope:
    loaded: tuple[TableName, ...]
    """Ordinary tables and leaf partitions DMS writes rows into, in name order."""
    partitioned: tuple[TableName, ...]
    """Partitioned tables in scope or above a loaded leaf, in name order."""


@dataclass(frozen=True, kw_only=True)
class MigratedTables:
    loaded: tuple[TableName, ...]
    """What DMS loads that exists on the target as an ordinary table: what reload truncates, analyze vacuums."""
    partitioned: tuple[TableName, ...]
    """Partitioned tables on the target above them: analyze runs ANALYZE on these."""
    missing_on_target: tuple[TableName, ...]
    """What DMS loads that the target has no ordinary table for (not touched)."""


def _name(relation: catalog.Relation) -> TableName:
    return (relation.schema, relation.name)


def source_scope(conn: psycopg.Connection[Any], dms: DmsConfig) -> SourceScope:
    """The tables DMS loads and the partitioned tables above them, read on the source."""
    everything = catalog.relations(conn)
    by_oid = {relation.oid: relation for relation in everything}
    loaded: dict[int, catalog.Relation] = {}
    partitioned: set[TableName] = set()
    for relation in catalog.scoped(everything, dms):
        if not relation.is_table or relation.schema == dms.control_schema:
            continue
        if relation.is_partitioned:
            partitioned.add(_name(relation))
            loaded.update((leaf.oid, leaf) for leaf in catalog.leaf_partitions(everything, relation.oid))
        else:
            loaded[relation.oid] = relation
    for relation in loaded.values():
        parent = relation.partition_of
        while parent is not None and parent in by_oid:
            partitioned.add(_name(by_oid[parent]))
            parent = by_oid[parent].partition_of
    return SourceScope(loaded=tuple(sorted(_name(r) for r in loaded.values())), partitioned=tuple(sorted(partitioned)))


def target_kinds(conn: psycopg.Connection[Any], names: Iterable[TableName]) -> dict[TableName, str]:
    """pg_class.relkind on the target of each of `names` that exists there."""
    wanted = list(names)
    if not wanted:
        return {}
    rows = conn.execute(_ON_TARGET_SQL, ([schema for schema, _ in wanted], [name for _, name in wanted])).fetchall()
    return {(str(row[0]), str(row[1])): str(row[2]) for row in rows}


def on_target(conn: psycopg.Connection[Any], scope: SourceScope) -> MigratedTables:
    """`scope` intersected with the target: loaded tables that are ordinary tables there, partitioned ones that are
    partitioned there."""
    kinds = target_kinds(conn, [*scope.loaded, *scope.partitioned])

    def present(names: Sequence[TableName], kind: str) -> tuple[TableName, ...]:
        return tuple(name for name in names if kinds.get(name) == kind)

    loaded = present(scope.loaded, ORDINARY_TABLE)
    return MigratedTables(
        loaded=loaded,
        partitioned=present(scope.partitioned, catalog.PARTITIONED_TABLE),
        missing_on_target=tuple(name for name in scope.loaded if name not in set(loaded)),
    )
