"""Every way a write can still reach the in-scope tables on the source: the checks `cutover stop` makes before it stops.

A write that lands on the source after the task stops never reaches Aurora. The checks look for each path an
adversary would use, as seen from the catalog (no user table is read). "Login role" below means a role that can log
in, is no superuser (freeze.superusers) and is neither a DMS user nor the role running the check; a role it
"reaches" is any role it can SET ROLE to through a chain of memberships (INHERIT or not, ADMIN OPTION or not).
A check that cannot read what it needs FAILs with the reason; a path that cannot be judged exactly FAILs too.

  freeze.write-privileges     a login role reaches an owner or a holder of INSERT/UPDATE/DELETE/TRUNCATE of an
                              in-scope table, directly, through PUBLIC or pg_write_all_data
  freeze.column-privileges    the same with column grants (GRANT UPDATE (col)): has_table_privilege misses them
  freeze.createrole           a login role reaches a CREATEROLE role: on PostgreSQL <= 15 it can grant itself
                              pg_write_all_data or an owner's role, and give an owner LOGIN and a password
  freeze.definer-functions    a SECURITY DEFINER function runs with its owner's rights; when the owner can write a
                              table in scope (or is a superuser or CREATEROLE), a login role with EXECUTE (by default
                              PUBLIC has it) can write through it, whatever the body does: the body cannot be judged
  freeze.triggers             a trigger on a relation outside the scope with such a function: a login role that
                              writes the relation fires it (EXECUTE is not checked when a trigger fires); enabled
                              event triggers with such a function fire on anybody's DDL
  freeze.rules                a rule on a table outside the scope whose action touches an in-scope table (pg_rewrite
                              and pg_depend): it runs with the table owner's rights for whoever writes the table
  freeze.views                an updatable view resolving to an in-scope table (checked as its owner unless
                              security_invoker), a rule on a view (always its owner's rights), an INSTEAD OF trigger
                              with a definer function: a login role that can write the view writes the table
  freeze.parent-tables        an inheritance or partition parent outside the scope: writes to it are checked on it
                              alone and land in the in-scope child
  freeze.foreign-keys         a table outside the scope referenced with ON DELETE/UPDATE CASCADE, SET NULL or SET
                              DEFAULT from an in-scope table: the referential action writes the child as its owner
  freeze.subscriptions        an enabled logical-replication subscription in this database: its apply worker writes
                              without any client session
  freeze.sessions             a client backend or walsender on this database other than the DMS users' and this one
  freeze.backends             any other backend on this database or on none: known harmless types are listed in
                              HARMLESS_BACKENDS with the reason, a parallel worker is as good as its leader, a
                              logical replication worker writes, an unknown type cannot be judged
  freeze.prepared-transactions  a prepared transaction in this database: COMMIT PREPARED after the stop writes rows
                              DMS never sends
  freeze.superusers           a superuser that can log in, other than the role running the check, can write anything:
                              FAIL, WARN when the operator forces the stop; never PASS

The check names and texts are in `write_paths_report`, the queries in `write_paths_sql`.
The relations of freeze.rules/views/parent-tables/foreign-keys are found by `write_paths_feeders.feeders`, followed
transitively (a view on a view on a table, a rule writing a view). Not seen: an FDW or dblink user mapping that stores
another role's password, and triggers fired as a table owner by a cascading foreign key (docs/write-freeze-paths.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from migration_ops.cutover import write_paths_sql as q
from migration_ops.cutover.write_paths_feeders import TABLE_WRITES, VIEW_KIND, Feeder, feeders
from migration_ops.cutover.write_paths_report import (
    BACKENDS,
    CHECK_NAMES,
    COLUMN_PRIVILEGES,
    CREATEROLE,
    DEFINER_FUNCTIONS,
    FOREIGN_KEYS,
    PARENT_TABLES,
    PREPARED,
    RULES,
    SESSIONS,
    SUBSCRIPTIONS,
    SUPERUSERS,
    TRIGGERS,
    UNREADABLE_FIX,
    VIEWS,
    WRITE_PRIVILEGES,
    result,
)
from migration_ops.results import CheckResult, failed
from migration_ops.write_freeze import Table
from plumbing.text import first_line, listed

HARMLESS_BACKENDS = {
    "autovacuum launcher": "only starts autovacuum workers",
    "autovacuum worker": "VACUUM and ANALYZE change no row, so nothing DMS would have to send",
    "checkpointer": "writes out pages of changes already made",
    "background writer": "writes out pages of changes already made",
    "walwriter": "flushes WAL of changes already made",
    "archiver": "copies finished WAL segments",
    "startup": "replays WAL in recovery or on a standby, where nothing else can write",
    "walreceiver": "receives WAL on a standby, which takes no writes",
    "logical replication launcher": "only starts apply workers, which this check and freeze.subscriptions see",
}
PARALLEL_WORKER = "parallel worker"
RDS_ADMIN = "rdsadmin"
_RDS_ADMIN_NOTE = f"{RDS_ADMIN} (on RDS and Aurora AWS's own administration role: it cannot be frozen; stop with --force)"
WRITE_ALL_DATA = "pg_write_all_data"

_FEEDER_CHECKS = {"view": VIEWS, "rule": RULES, "parent": PARENT_TABLES, "foreign key": FOREIGN_KEYS}


@dataclass(frozen=True, kw_only=True)
class _Context:
    conn: psycopg.Connection[Any]
    tables: Sequence[Table]
    dms_users: Sequence[str]
    me: str
    database: str
    notes: dict[str, str]
    """extra PASS evidence per check (the disabled subscriptions)"""

    def params(self, relations: Sequence[int] = ()) -> dict[str, Any]:
        return {"exempt": list(self.dms_users), "tables": [t.oid for t in self.tables], "relations": list(relations)}

    def rows(self, query: str, relations: Sequence[int] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(query, self.params(relations)).fetchall()

    @property
    def exempt(self) -> str:
        dms = f"the DMS users {listed(list(self.dms_users))}" if self.dms_users else "no DMS user"
        return f"{dms} and {self.me} (running this check)"


Findings = dict[str, list[str]]


def _grouped(rows: Sequence[tuple[str, str]]) -> list[str]:
    """`key a, b` per key, in first-seen order."""
    groups: dict[str, list[str]] = {}
    for key, item in rows:
        groups.setdefault(key, []).append(item)
    return [f"{key} {listed(items)}" for key, items in groups.items()]


def _as(login: str, via: str) -> str:
    return login if via == login else f"{login} as {via}"


def _privileges(ctx: _Context, fed: dict[int, Feeder], found: Findings) -> None:
    # (name, privileges that write through it, the column privileges among them) per relation
    relations = {t.oid: (f"{t.schema}.{t.name}", ", ".join(TABLE_WRITES), "INSERT, UPDATE") for t in ctx.tables}
    relations |= {oid: (f.name, f.privilege_list, f.column_privilege_list) for oid, f in fed.items()}
    names = {oid: name for oid, (name, _, _) in relations.items()}
    params = {
        **ctx.params(list(relations)),
        "privileges": [privileges for _, privileges, _ in relations.values()],
        "column_privileges": [columns for _, _, columns in relations.values()],
    }
    # One line per login and relation: owning it first, then its own grant, then the first role it reaches.
    rows = ctx.conn.execute(q.WRITERS, params).fetchall()
    rows.sort(key=lambda row: (row[0], row[2], not row[3], row[1] != row[0], row[1]))
    seen: set[tuple[str, int]] = set()
    tables: list[tuple[str, str]] = []
    columns: list[tuple[str, str]] = []
    fed_writers: dict[int, list[str]] = {}
    all_data = {row[0] for row in rows if row[1] == WRITE_ALL_DATA}
    for login, via, oid, owns, table_level, cols in rows:
        if (login, oid) in seen:
            continue
        seen.add((login, oid))
        key = f"{login} (member of {WRITE_ALL_DATA})" if login in all_data else login
        suffix = "" if via == login else f" as {via}"
        if oid in fed:
            fed_writers.setdefault(oid, []).append(_as(login, via))
        elif owns or table_level:
            tables.append((key, f"{'owns' if owns else 'can write'} {names[oid]}{suffix}"))
        else:
            columns.append((key, f"can write columns {', '.join(cols)} of {names[oid]}{suffix}"))
    found[WRITE_PRIVILEGES] += _grouped(tables)
    found[COLUMN_PRIVILEGES] += _grouped(columns)
    for oid, writers in fed_writers.items():
        feeder = fed[oid]
        name = VIEWS if feeder.relkind == VIEW_KIND else _FEEDER_CHECKS[feeder.kind]
        found[name].append(f"{feeder.name} ({feeder.how}) is writable by {listed(writers)}")


def _createrole(ctx: _Context, fed: dict[int, Feeder], found: Findings) -> None:
    found[CREATEROLE] += [f"{_as(login, via)} has CREATEROLE" for login, via in ctx.rows(q.CREATEROLE)]


def _relations(ctx: _Context, fed: dict[int, Feeder]) -> list[int]:
    return [t.oid for t in ctx.tables] + list(fed)


def _definer_functions(ctx: _Context, fed: dict[int, Feeder], found: Findings) -> None:
    for function, owner, reason, logins, public in ctx.rows(q.DEFINER_FUNCTIONS, _relations(ctx, fed)):
        through = " (EXECUTE granted to PUBLIC)" if public else ""
        found[DEFINER_FUNCTIONS].append(f"{function} runs as {owner}, who {reason}; executable by {listed(logins)}{through}")


def _triggers(ctx: _Context, fed: dict[int, Feeder], found: Findings) -> None:
    for trigger, relation, relkind, function, owner, reason, logins in ctx.rows(q.DEFINER_TRIGGERS, _relations(ctx, fed)):
        name = VIEWS if relkind == VIEW_KIND else TRIGGERS
        found[name].append(f"trigger {trigger} on {relation} runs {function} as {owner}, who {reason}; fired by {listed(logins)}")
    for trigger, event, function, owner, reason in ctx.rows(q.EVENT_TRIGGERS, _relations(ctx, fed)):
        found[TRIGGERS].append(
            f"event trigger {trigger} ({event}) runs {function} as {owner}, who {reason}; fired by any role's DDL"
        )


def _subscriptions(ctx: _Context, fed: dict[int, Feeder], found: Findings) -> None:
    disabled = []
    for name, owner, enabled, publications in ctx.rows(q.SUBSCRIPTIONS):
        if enabled:
            found[SUBSCRIPTIONS].append(f"{name} (owner {owner}, publications {publications}) is enabled")
        else:
            disabled.append(name)
    ctx.notes[SUBSCRIPTIONS] = f"; disabled: {listed(disabled)}" if disabled else ""


def _sessions(ctx: _Context, fed: dict[int, Feeder], found: Findings) -> None:
    for pid, user, app, addr, state, kind in ctx.rows(q.SESSIONS):
        what = "" if kind == "client backend" else f" {kind}"
        found[SESSIONS].append(f"pid {pid}{what} {user or '?'}@{addr} ({app or 'no application_name'}, {state or '?'})")


def backend_findings(rows: Sequence[Sequence[Any]]) -> list[str]:
    """The backends (pid, type, user, database, leader pid, leader allowed) that may write, with the reason."""
    found = []
    for pid, kind, user, database, leader, leader_allowed in rows:
        if kind in HARMLESS_BACKENDS or (kind == PARALLEL_WORKER and leader_allowed):
            continue
        if kind == PARALLEL_WORKER:
            why = f"parallel worker of pid {leader}, which is neither a DMS user's session nor this one"
        elif kind == "logical replication worker":
            why = "logical replication worker: applies a subscription's changes"
        elif not kind:
            why = "backend type hidden from this role (it needs pg_read_all_stats): cannot tell whether it writes"
        else:
            why = f"{kind}: unknown backend type, cannot tell whether it writes"
        found.append(f"pid {pid} ({user or 'no user'}, {database or 'no database'}) {why}")
    return found


def _backends(ctx: _Context, fed: dict[int, Feeder], found: Findings) -> None:
    found[BACKENDS] += backend_findings(ctx.rows(q.BACKENDS))


def _prepared(ctx: _Context, fed: dict[int, Feeder], found: Findings) -> None:
    for gid, owner, prepared in ctx.rows(q.PREPARED):
        found[PREPARED].append(f"{gid!r} (owner {owner}, prepared {prepared:%Y-%m-%d %H:%M:%S %z})")


def _superusers(ctx: _Context, fed: dict[int, Feeder], found: Findings) -> None:
    found[SUPERUSERS] += [_RDS_ADMIN_NOTE if row[0] == RDS_ADMIN else row[0] for row in ctx.rows(q.SUPERUSERS)]


_Probe = Callable[[_Context, dict[int, Feeder], Findings], None]
# (the checks a probe feeds, whether it needs the feeders, the probe)
_PROBES: tuple[tuple[tuple[str, ...], bool, _Probe], ...] = (
    ((WRITE_PRIVILEGES, COLUMN_PRIVILEGES, VIEWS, RULES, PARENT_TABLES, FOREIGN_KEYS), True, _privileges),
    ((CREATEROLE,), False, _createrole),
    ((DEFINER_FUNCTIONS,), True, _definer_functions),
    ((TRIGGERS, VIEWS), True, _triggers),
    ((SUBSCRIPTIONS,), False, _subscriptions),
    ((SESSIONS,), False, _sessions),
    ((BACKENDS,), False, _backends),
    ((PREPARED,), False, _prepared),
    ((SUPERUSERS,), False, _superusers),
)


def write_path_checks(
    conn: psycopg.Connection[Any], tables: Sequence[Table], *, dms_users: Sequence[str], force_superusers: bool = False
) -> list[CheckResult]:
    """The write-path checks of the module docstring, in CHECK_NAMES order, on the source connection `conn`."""
    found: Findings = {name: [] for name in CHECK_NAMES}
    unreadable: dict[str, str] = {}
    try:
        me, database = conn.execute("SELECT session_user::text, current_database()::text").fetchone() or ("?", "?")
    except psycopg.Error as error:
        return [failed(name, f"cannot tell: {first_line(error)}", fix=UNREADABLE_FIX) for name in CHECK_NAMES]
    ctx = _Context(conn=conn, tables=tables, dms_users=dms_users, me=me, database=database, notes={})
    fed: dict[int, Feeder] = {}
    try:
        with conn.transaction():
            fed.update(feeders(conn, tables))
        feeders_error = None
    except psycopg.Error as error:
        feeders_error = f"cannot follow views, rules and parents: {first_line(error)}"
    for names, needs_feeders, probe in _PROBES:
        try:
            if needs_feeders and feeders_error is not None:
                raise _UnreadableError(feeders_error)
            with conn.transaction():
                probe(ctx, fed, found)
        except (psycopg.Error, _UnreadableError) as error:
            for name in names:
                unreadable.setdefault(name, first_line(error))
    values: dict[str, object] = {
        "exempt": ctx.exempt, "tables": len(tables), "database": database, "me": me,
        "exempt_sessions": f"the DMS users {listed(list(dms_users))}" if dms_users else "nobody",
    }  # fmt: skip
    return [
        result(name, found[name], values={**values, "note": ctx.notes.get(name, "")}, unreadable=unreadable.get(name),
               force=force_superusers)
        for name in CHECK_NAMES
    ]  # fmt: skip


class _UnreadableError(Exception):
    """A probe cannot run because what it builds on could not be read."""
