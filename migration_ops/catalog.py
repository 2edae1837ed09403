"""What the source database holds, read once from pg_catalog and filtered to the task's scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg import sql

from config.model import DmsConfig
from migration_ops.scope import in_scope

TABLE_KINDS = frozenset({"r", "p"})
PARTITIONED_TABLE = "p"
MATERIALIZED_VIEW = "m"
SEQUENCE = "S"
ALWAYS_IDENTITY = "a"
STORED_GENERATED = "s"

_RELATIONS_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'),
       c.relreplident,
       (SELECT d.refobjid FROM pg_depend d
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
         LIMIT 1),
       has_table_privilege(c.oid, 'SELECT'),
       pg_total_relation_size(c.oid),
       CASE WHEN c.relispartition THEN (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid LIMIT 1) END,
       EXISTS (SELECT 1 FROM pg_index x
                WHERE x.indrelid = c.oid AND x.indisunique AND x.indisvalid
                  AND x.indpred IS NULL AND x.indexprs IS NULL),
       c.relrowsecurity, c.relforcerowsecurity, pg_has_role(c.relowner, 'USAGE'),
       CASE WHEN c.relispartition THEN '{}'::oid[]
            ELSE ARRAY(SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) END
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'm', 'S')
   AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
 ORDER BY n.nspname, c.relname
"""

_COLUMNS_SQL = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), t.typname, t.typtype, t.typcategory,
       a.atttypmod, et.typname, et.typtype, a.attidentity, a.attgenerated
  FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
 WHERE a.attrelid = ANY(%s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum
"""


class TableRef(Protocol):
    """What checks over a set of tables need of each: its oid and its name (a Relation is one)."""

    @property
    def oid(self) -> int: ...
    @property
    def schema(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True, kw_only=True)
class TableOid:
    """A table by oid and name, when nothing else of the catalog is needed."""

    oid: int
    schema: str
    name: str


@dataclass(frozen=True, order=True)
class Table:
    """A table by name alone (compare's scope, target-user's grants): sorts by schema, then name."""

    schema: str
    name: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


@dataclass(frozen=True, kw_only=True)
class Relation:
    """A table, partitioned table, materialized view or sequence."""

    oid: int
    schema: str
    name: str
    kind: str
    persistence: str
    has_primary_key: bool
    replica_identity: str
    owner_oid: int | None
    can_select: bool
    total_bytes: int
    partition_of: int | None = None
    """oid of the partitioned table this relation is a partition of (declarative partitioning), else None."""
    has_unique_key: bool = False
    """A valid, non-partial unique index on plain columns (the primary key's index counts)."""
    row_security: bool = False
    """Row-level security is enabled (relrowsecurity): policies filter what a non-exempt user reads."""
    force_row_security: bool = False
    """FORCE ROW LEVEL SECURITY (relforcerowsecurity): the policies apply to the table's owner as well."""
    user_owns: bool = False
    """The session's user has the privileges of the table's owner (is it, or a member inheriting from it)."""
    inherits_from: tuple[int, ...] = ()
    """oids of the tables this one INHERITS from (old-style inheritance; declarative partitions: `partition_of`)."""

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def is_table(self) -> bool:
        return self.kind in TABLE_KINDS

    @property
    def is_partitioned(self) -> bool:
        """A partitioned table: it holds no rows itself, its leaf partitions do."""
        return self.kind == PARTITIONED_TABLE


@dataclass(frozen=True, kw_only=True)
class Column:
    relation: Relation
    name: str
    type_display: str
    type_name: str
    type_type: str
    type_category: str
    typmod: int
    element_type_name: str | None
    element_type_type: str | None
    identity: str = ""
    """pg_attribute.attidentity: 'a' GENERATED ALWAYS AS IDENTITY, 'd' BY DEFAULT, '' not an identity column."""
    generated: str = ""
    """pg_attribute.attgenerated: 's' GENERATED ALWAYS AS (...) STORED, '' not a generated column."""

    @property
    def qualified(self) -> str:
        return f"{self.relation.qualified}.{self.name}"

    @property
    def refuses_explicit_values(self) -> bool:
        """PostgreSQL rejects an explicit value for this column in INSERT and UPDATE (without OVERRIDING)."""
        return self.identity == ALWAYS_IDENTITY or self.generated == STORED_GENERATED


def relations(conn: psycopg.Connection[Any]) -> list[Relation]:
    """Every table, materialized view and sequence outside the system schemas (`user_owns` for the session's user)."""
    rows = conn.execute(_RELATIONS_SQL).fetchall()
    return [
        Relation(
            oid=int(row[0]),
            schema=row[1],
            name=row[2],
            kind=row[3],
            persistence=row[4],
            has_primary_key=bool(row[5]),
            replica_identity=row[6],
            owner_oid=None if row[7] is None else int(row[7]),
            can_select=bool(row[8]),
            total_bytes=int(row[9]),
            partition_of=None if row[10] is None else int(row[10]),
            has_unique_key=bool(row[11]),
            row_security=bool(row[12]),
            force_row_security=bool(row[13]),
            user_owns=bool(row[14]),
            inherits_from=tuple(int(oid) for oid in row[15]),
        )
        for row in rows
    ]


def leaf_partitions(all_relations: Sequence[Relation], oid: int) -> list[Relation]:
    """The leaf partitions under the partitioned table `oid`, through every level of sub-partitioning."""
    children: dict[int, list[Relation]] = {}
    for relation in all_relations:
        if relation.partition_of is not None:
            children.setdefault(relation.partition_of, []).append(relation)
    leaves, pending = [], list(children.get(oid, ()))
    while pending:
        relation = pending.pop()
        if relation.is_partitioned:
            pending.extend(children.get(relation.oid, ()))
        else:
            leaves.append(relation)
    return sorted(leaves, key=lambda relation: (relation.schema, relation.name))


def scoped(all_relations: Sequence[Relation], dms: DmsConfig) -> list[Relation]:
    """Tables and materialized views in scope, plus sequences owned by them (or, unowned, matching by name).

    A sequence owned by a partitioned table (a serial column declared on the parent) is in scope when any of
    its leaf partitions is: the recommended mappings exclude the parent and select the partitions, and the
    partitions draw their defaults from the parent's sequence.
    """

    def selected(relation: Relation) -> bool:
        return in_scope(relation.schema, relation.name, include=dms.include, exclude=dms.exclude)

    chosen = {relation.oid for relation in all_relations if relation.kind != SEQUENCE and selected(relation)}
    by_oid = {relation.oid: relation for relation in all_relations}
    owners_with_data: set[int] = set()
    for relation in all_relations:  # mark every partitioned ancestor of a chosen partition as owning chosen data
        parent = relation.partition_of if relation.oid in chosen else None
        while parent is not None and parent in by_oid:
            owners_with_data.add(parent)
            parent = by_oid[parent].partition_of

    def owner_chosen(owner_oid: int) -> bool:
        return owner_oid in chosen or owner_oid in owners_with_data

    result = []
    for relation in all_relations:
        if relation.kind != SEQUENCE:
            keep = relation.oid in chosen
        elif relation.owner_oid is not None:
            keep = owner_chosen(relation.owner_oid)
        else:
            keep = selected(relation)
        if keep:
            result.append(relation)
    return result


def scoped_relations(conn: psycopg.Connection[Any], dms: DmsConfig) -> list[Relation]:
    return scoped(relations(conn), dms)


def scoped_tables(conn: psycopg.Connection[Any], dms: DmsConfig) -> list[Relation]:
    """The tables (and partitioned tables) in the task's scope: dms.include minus dms.exclude."""
    return [relation for relation in scoped_relations(conn, dms) if relation.is_table]


def columns(conn: psycopg.Connection[Any], tables: Sequence[Relation]) -> list[Column]:
    """The live columns of `tables`, in table then column order."""
    by_oid = {table.oid: table for table in tables}
    if not by_oid:
        return []
    rows = conn.execute(_COLUMNS_SQL, (list(by_oid),)).fetchall()
    return [
        Column(
            relation=by_oid[int(row[0])],
            name=row[1],
            type_display=row[2],
            type_name=row[3],
            type_type=row[4],
            type_category=row[5],
            typmod=int(row[6]),
            element_type_name=row[7],
            element_type_type=row[8],
            identity=str(row[9] or ""),
            generated=str(row[10] or ""),
        )
        for row in rows
    ]
