"""Sequence values at cutover: DMS copies rows, not sequence positions.

Read every sequence in scope on the source (last_value, is_called,
increment_by) and move the same sequence on the target past it by a margin,
with `setval(..., true)`; a target already ahead is left alone.
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

DEFAULT_MARGIN = 1000


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


def read_state(conn: psycopg.Connection[Any], schema: str, name: str) -> SequenceState:
    position = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(_identifier(schema, name))).fetchone()
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


def read_sequences(conn: psycopg.Connection[Any], dms: DmsConfig) -> list[SequenceState]:
    """Every sequence in scope on the source, in name order."""
    relations = [r for r in catalog.scoped_relations(conn, dms) if r.kind == catalog.SEQUENCE]
    return [read_state(conn, relation.schema, relation.name) for relation in relations]


def apply_sequences(
    conn: psycopg.Connection[Any], states: Sequence[SequenceState], *, margin: int = DEFAULT_MARGIN
) -> list[AppliedSequence]:
    """setval each target sequence to the source's position plus `margin`, in one transaction."""
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
                name = _identifier(state.schema, state.name).as_string(conn)
                conn.execute(sql.SQL("SELECT setval({}::regclass, {}, true)").format(sql.Literal(name), sql.Literal(value)))
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
