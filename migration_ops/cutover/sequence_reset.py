"""Sequence values at cutover: DMS copies rows, not sequence positions.

Read every sequence the migrated tables use on the source (last_value, is_called, increment_by) and move the same
sequence on the target past it by a margin, with `setval(..., true)`; a target already ahead is left alone.

Which sequences (`used_sequence_oids`), in whatever schema each lives:
- owned by an in-scope table's column: `serial`/`OWNED BY` (pg_depend deptype 'a' from the sequence to the table)
  and identity columns (deptype 'i');
- named by an in-scope table's column default, `nextval('...')` (the default's pg_attrdef row depends on the
  sequence with deptype 'n'), also when the sequence is owned by nothing or by another table;
- the partitioned tables above an in-scope partition count as in scope (a serial column declared on the parent
  draws from the parent's sequence);
- and every sequence `catalog.scoped` puts in scope by its own name (an unowned sequence the mappings select).

A sequence that cannot be read (no SELECT on it) or a target that cannot be written (a read-only session, or the
reader endpoint: `pg_is_in_recovery()`) is a `SequenceResetError`: one line, exit 2, nothing changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from config.model import DmsConfig
from migration_ops import catalog
from migration_ops.errors import OpsError
from plumbing.text import first_line

DEFAULT_MARGIN = 1000

_USED_SEQUENCES_SQL = """
SELECT d.objid FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
   AND d.refobjid = ANY(%(tables)s::oid[]) AND d.deptype IN ('a', 'i')
UNION
SELECT d.refobjid FROM pg_depend d
  JOIN pg_attrdef ad ON ad.oid = d.objid
  JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
 WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
   AND ad.adrelid = ANY(%(tables)s::oid[]) AND d.deptype = 'n'
"""


class SequenceResetError(OpsError):
    """A sequence cannot be reset (missing on the target, or the margin overflows it): exit 2, nothing changed."""


@dataclass(frozen=True, kw_only=True)
class SequenceState:
    schema: str
    name: str
    last_value: int
    is_called: bool
    increment_by: int
    min_value: int
    max_value: int

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def last_issued(self) -> int:
        """The last value handed out (for a never-called sequence: one step before its start)."""
        return self.last_value if self.is_called else self.last_value - self.increment_by

    def target_value(self, margin: int) -> int:
        """Source position moved `margin` further in the sequence's direction."""
        value = self.last_issued + margin if self.increment_by > 0 else self.last_issued - margin
        if not self.min_value <= value <= self.max_value:
            raise SequenceResetError(
                f"{self.qualified}: {value} is outside [{self.min_value}, {self.max_value}]; use a smaller --margin"
            )
        return value

    def as_dict(self) -> dict[str, Any]:
        return {
            "sequence": self.qualified,
            "last_value": self.last_value,
            "is_called": self.is_called,
            "increment_by": self.increment_by,
        }


@dataclass(frozen=True, kw_only=True)
class AppliedSequence:
    sequence: str
    source_last_issued: int
    target_before: int
    target_after: int
    changed: bool


def _identifier(schema: str, name: str) -> sql.Identifier:
    return sql.Identifier(schema, name)


def _setval(conn: psycopg.Connection[Any], state: SequenceState, value: int) -> None:
    name = _identifier(state.schema, state.name).as_string(conn)
    try:
        conn.execute(sql.SQL("SELECT setval({}::regclass, {}, true)").format(sql.Literal(name), sql.Literal(value)))
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction) as error:
        raise SequenceResetError(
            f"{state.qualified}: cannot set the sequence on the target ({first_line(error)}); nothing was changed "
            "(connect as the sequence's owner, or GRANT UPDATE ON SEQUENCE to this user)"
        ) from None


def read_state(conn: psycopg.Connection[Any], schema: str, name: str) -> SequenceState:
    """The sequence's position and shape. Raises SequenceResetError when it cannot be read (no SELECT on it);
    psycopg's UndefinedTable passes through (the caller knows which side is missing it)."""
    try:
        position = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(_identifier(schema, name))).fetchone()
    except psycopg.errors.InsufficientPrivilege as error:
        raise SequenceResetError(
            f"{schema}.{name}: cannot read the sequence ({first_line(error)}): GRANT SELECT ON SEQUENCE to this user"
        ) from None
    shape = conn.execute(
        "SELECT s.seqincrement, s.seqmin, s.seqmax FROM pg_sequence s"
        " JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s",
        (schema, name),
    ).fetchone()
    if position is None or shape is None:
        raise SequenceResetError(f"{schema}.{name}: sequence not found")
    return SequenceState(
        schema=schema,
        name=name,
        last_value=int(position[0]),
        is_called=bool(position[1]),
        increment_by=int(shape[0]),
        min_value=int(shape[1]),
        max_value=int(shape[2]),
    )


def used_sequence_oids(conn: psycopg.Connection[Any], table_oids: Sequence[int]) -> set[int]:
    """Sequences the tables `table_oids` own (deptype 'a', 'i') or name in a column default (deptype 'n')."""
    if not table_oids:
        return set()
    rows = conn.execute(_USED_SEQUENCES_SQL, {"tables": list(table_oids)}).fetchall()
    return {int(row[0]) for row in rows}


def sequences_in_scope(conn: psycopg.Connection[Any], dms: DmsConfig) -> list[catalog.Relation]:
    """Every sequence the in-scope tables use, and the ones in scope by name, in name order."""
    everything = catalog.relations(conn)
    by_oid = {relation.oid: relation for relation in everything}
    scoped = catalog.scoped(everything, dms)
    tables = {relation.oid for relation in scoped if relation.is_table}
    for oid in list(tables):  # the partitioned tables above an in-scope partition
        parent = by_oid[oid].partition_of
        while parent is not None and parent in by_oid:
            tables.add(parent)
            parent = by_oid[parent].partition_of
    wanted = {relation.oid for relation in scoped if relation.kind == catalog.SEQUENCE}
    wanted |= used_sequence_oids(conn, sorted(tables))
    found = [by_oid[oid] for oid in wanted if oid in by_oid]
    return sorted(found, key=lambda relation: (relation.schema, relation.name))


def read_sequences(conn: psycopg.Connection[Any], dms: DmsConfig) -> list[SequenceState]:
    """Every sequence the migrated tables use on the source, in name order. Raises SequenceResetError."""
    return [read_state(conn, relation.schema, relation.name) for relation in sequences_in_scope(conn, dms)]


def writable_problem(conn: psycopg.Connection[Any]) -> str | None:
    """Why setval cannot run on this target session, or None."""
    row = conn.execute("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')").fetchone()
    if row is not None and row[0]:
        return "the target is a read-only replica (the reader endpoint?): connect to the cluster (writer) endpoint"
    if row is not None and row[1] == "on":
        return (
            "the target session is read-only (default_transaction_read_only is on for this user, database or URI): "
            "connect without it"
        )
    return None


def apply_sequences(
    conn: psycopg.Connection[Any], states: Sequence[SequenceState], *, margin: int = DEFAULT_MARGIN
) -> list[AppliedSequence]:
    """setval each target sequence to the source's position plus `margin`, in one transaction."""
    problem = writable_problem(conn)
    if problem is not None:
        raise SequenceResetError(f"{problem}; nothing was changed")
    applied = []
    with conn.transaction():
        for state in states:
            try:
                before = read_state(conn, state.schema, state.name)
            except psycopg.errors.UndefinedTable:
                raise SequenceResetError(f"{state.qualified}: no such sequence on the target (create the schema first)") from None
            value = state.target_value(margin)
            ahead = before.last_issued >= value if state.increment_by > 0 else before.last_issued <= value
            if not ahead:
                _setval(conn, state, value)
            applied.append(
                AppliedSequence(
                    sequence=state.qualified,
                    source_last_issued=state.last_issued,
                    target_before=before.last_issued,
                    target_after=before.last_issued if ahead else value,
                    changed=not ahead,
                )
            )
    return applied
