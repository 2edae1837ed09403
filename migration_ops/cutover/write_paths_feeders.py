"""Relations outside the scope whose writes land in an in-scope table: views, rules, parents, cascading foreign keys.

`feeders` follows the edges of `write_paths_sql.FEEDER_EDGES` backwards from the in-scope tables until nothing new is
reached, and keeps for each relation the privileges whose use reaches an in-scope table: through a view or a parent
the same privilege on the next relation; through a rule its event, whatever its action does; through a cascading
foreign key DELETE (a cascade deletes, SET NULL/DEFAULT updates the child) or UPDATE. An edge counts only when it
carries the write (an updatable, non-invoker view or a rule whose owner can write the next relation; a parent; a
referenced table). Both the checks (`write_paths`) and the freeze (`freeze_sql`) use the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from migration_ops.cutover import write_paths_sql
from migration_ops.write_freeze import Table

VIEW_KIND = "v"
ROW_WRITES = ("INSERT", "UPDATE", "DELETE")
TABLE_WRITES = (*ROW_WRITES, "TRUNCATE")
_RULE_EVENTS = {"2": "UPDATE", "3": "INSERT", "4": "DELETE"}
_CASCADES = {"c": "DELETE", "n": "UPDATE", "d": "UPDATE"}
"""confdeltype -> what the referential action does to the child; on UPDATE every one of them updates it"""


@dataclass(frozen=True, kw_only=True)
class Feeder:
    """A relation whose `privileges` reach `target` (an in-scope table or another feeder) through `kind`."""

    oid: int
    name: str
    relkind: str
    kind: str
    """view, rule, parent or foreign key"""
    label: str
    """the rule's or the foreign key's name"""
    target: str
    privileges: frozenset[str]

    @property
    def how(self) -> str:
        if self.kind == "view":
            return f"view on {self.target}"
        if self.kind == "rule":
            return f"rule {self.label} writes {self.target}"
        if self.kind == "parent":
            return f"parent of {self.target}"
        return f"foreign key {self.label} of {self.target} cascades from it"

    @property
    def privilege_list(self) -> str:
        return ", ".join(privilege for privilege in ROW_WRITES if privilege in self.privileges)

    @property
    def column_privilege_list(self) -> str:
        return ", ".join(privilege for privilege in ("INSERT", "UPDATE") if privilege in self.privileges)


@dataclass(frozen=True, kw_only=True)
class _Edge:
    source: int
    target: int
    kind: str
    label: str
    actions: str
    relkind: str
    source_name: str
    target_name: str
    carries: bool

    def carried(self, needed: set[str]) -> set[str]:
        """The privileges on `source` that reach the target, which is reached by `needed`."""
        if not self.carries or not needed:
            return set()
        if self.kind in ("view", "parent"):
            return needed & set(ROW_WRITES)
        if self.kind == "rule":
            return {_RULE_EVENTS[self.actions]} if self.actions in _RULE_EVENTS else set()
        on_delete, on_update = self.actions[:1], self.actions[1:2]
        carried = {"DELETE"} if _CASCADES.get(on_delete) in needed else set()
        return carried | ({"UPDATE"} if on_update in _CASCADES and "UPDATE" in needed else set())


def feeders(conn: psycopg.Connection[Any], tables: Sequence[Table]) -> dict[int, Feeder]:
    """Every relation outside `tables` whose writes reach one of them, by oid (psycopg.Error when unreadable)."""
    rows = conn.execute(write_paths_sql.FEEDER_EDGES, {"tables": [table.oid for table in tables]}).fetchall()
    edges = [
        _Edge(source=source, target=target, kind=kind, label=label, actions=actions, relkind=relkind,
              source_name=sname, target_name=tname, carries=bool(carries))
        for source, target, kind, label, actions, relkind, sname, tname, carries in rows
    ]  # fmt: skip
    in_scope = {table.oid for table in tables}
    needed: dict[int, set[str]] = {oid: set(ROW_WRITES) for oid in in_scope}
    first: dict[int, _Edge] = {}
    grew = True
    while grew:  # the privilege sets only grow, so this ends
        grew = False
        for edge in edges:
            carried = edge.carried(needed.get(edge.target, set()))
            if edge.source in in_scope or not carried - needed.get(edge.source, set()):
                continue
            needed.setdefault(edge.source, set()).update(carried)
            first.setdefault(edge.source, edge)
            grew = True
    return {
        oid: Feeder(oid=oid, name=edge.source_name, relkind=edge.relkind, kind=edge.kind, label=edge.label,
                    target=edge.target_name, privileges=frozenset(needed[oid]))
        for oid, edge in first.items()
    }  # fmt: skip
