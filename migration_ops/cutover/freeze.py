"""The write freeze on the source at cutover: the checks `cutover stop` makes (the SQL: freeze_statements.py).

A session setting (`default_transaction_read_only`) is not a freeze: any session can `SET` it back off.
The freeze takes the right to write away from the application roles instead, which no session of theirs
can give back:

    ALTER ROLE <app> NOLOGIN;                                                   -- no new sessions
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE <in-scope tables> FROM <app>;
    SELECT pg_terminate_backend(pid) FROM pg_stat_activity                     -- end what is connected,
     WHERE datname = current_database() AND pid <> pg_backend_pid()           -- except DMS and yourself
       AND backend_type = 'client backend' AND usename <> ALL (<DMS users>);

The DMS user keeps what it has (SELECT on the tables, its heartbeat table in the control schema, the
replication connection). `freeze_statements.freeze_statements` writes this SQL for given roles and the exact
rollback (LOGIN back, and every INSERT/UPDATE/DELETE/TRUNCATE grant the roles held before, read from the ACLs).

`freeze_checks` detects the result, whoever applied it (`FREEZE_CHECKS`, in report order: a new check is a
function of a `FreezeContext` and one line there):
  freeze.write-privileges  no role that can log in (other than superusers and the DMS users) can write
                           to an in-scope table: directly, through PUBLIC or a role it can SET ROLE to,
                           or by owning it (an owner can grant itself the right back)
  freeze.sessions          no session on the database other than the DMS users' and this one
  freeze.write-counters    n_tup_ins + n_tup_upd + n_tup_del of the in-scope tables (pg_stat_user_tables)
                           do not move over a sampling interval
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from config.model import DmsConfig
from migration_ops import catalog
from migration_ops.catalog import Relation
from migration_ops.results import CheckResult, failed, passed
from plumbing.text import listed

DEFAULT_SAMPLE_SECONDS = 5.0

_SESSIONS_SQL = """
SELECT pid, usename, coalesce(application_name, ''), coalesce(client_addr::text, 'local'), coalesce(state, '')
  FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
   AND backend_type IN ('client backend', 'walsender')
   AND (usename IS NULL OR usename <> ALL(%(exempt)s))
 ORDER BY pid
"""

_WRITERS_SQL = """
WITH logins AS (
    SELECT oid, rolname FROM pg_roles WHERE rolcanlogin AND NOT rolsuper AND rolname <> ALL(%(exempt)s)
), reach AS (
    SELECT l.rolname AS login, r.oid AS via_oid, r.rolname AS via
      FROM logins l JOIN pg_roles r ON pg_has_role(l.oid, r.oid, 'MEMBER')
)
SELECT reach.login, reach.via, format('%%I.%%I', n.nspname, c.relname), c.relowner = reach.via_oid
  FROM reach JOIN pg_class c ON c.oid = ANY(%(tables)s) JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relowner = reach.via_oid OR has_table_privilege(reach.via_oid, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
 ORDER BY 1, 3, 2
"""

_SUPERUSERS_SQL = "SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolsuper ORDER BY 1"

_COUNTERS_SQL = """
SELECT format('%%I.%%I', schemaname, relname), n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relid = ANY(%s)
"""


@dataclass(frozen=True, kw_only=True)
class FreezeContext:
    """What every freeze check reads: the source connection, the tables in scope, who DMS connects as."""

    conn: psycopg.Connection[Any]
    tables: tuple[Relation, ...]
    dms_users: tuple[str, ...]
    sample_seconds: float = DEFAULT_SAMPLE_SECONDS

    @property
    def table_oids(self) -> list[int]:
        return [table.oid for table in self.tables]


FreezeCheck = Callable[[FreezeContext], CheckResult]


def privileges_check(ctx: FreezeContext) -> CheckResult:
    name = "freeze.write-privileges"
    conn, dms_users = ctx.conn, ctx.dms_users
    rows = conn.execute(_WRITERS_SQL, {"exempt": list(dms_users), "tables": ctx.table_oids}).fetchall()
    superusers = [row[0] for row in conn.execute(_SUPERUSERS_SQL).fetchall()]
    note = f"; superusers ({', '.join(superusers)}) can always write: freeze.sessions counts their sessions" if superusers else ""
    if not rows:
        return passed(
            name,
            f"no login role other than {_users(dms_users)} can write to the {len(ctx.tables)} tables in scope{note}",
        )
    by_login: dict[str, list[str]] = {}
    for login, via, table, owns in rows:
        how = "owns" if owns else "can write"
        by_login.setdefault(login, []).append(f"{how} {table}" + ("" if via == login else f" as {via}"))
    described = [f"{login} {listed(items)}" for login, items in by_login.items()]
    return failed(
        name,
        f"{len(by_login)} login roles can still write to tables in scope: " + "; ".join(described) + note,
        fix="ALTER ROLE <role> NOLOGIN and REVOKE INSERT, UPDATE, DELETE, TRUNCATE from it (runbook step 10; "
        "`cutover freeze-sql --app-role <role>` prints both and the rollback)",
    )


def sessions_check(ctx: FreezeContext) -> CheckResult:
    conn, dms_users = ctx.conn, ctx.dms_users
    rows = conn.execute(_SESSIONS_SQL, {"exempt": list(dms_users)}).fetchall()
    name = "freeze.sessions"
    if not rows:
        return passed(name, f"no session on {_database(conn)} other than {_users(dms_users)} and this one")
    described = [
        f"pid {pid} {user or '?'}@{addr} ({app or 'no application_name'}, {state or '?'})" for pid, user, app, addr, state in rows
    ]
    return failed(
        name,
        f"{len(rows)} other sessions on {_database(conn)}: {listed(described)}",
        fix="freeze writes as in runbook step 10 (ALTER ROLE ... NOLOGIN, REVOKE, then pg_terminate_backend the rest)",
    )


def _counters(conn: psycopg.Connection[Any], oids: list[int]) -> dict[str, int]:
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return {str(table): int(count) for table, count in conn.execute(_COUNTERS_SQL, (oids,)).fetchall()}


def counters_check(ctx: FreezeContext) -> CheckResult:
    name = "freeze.write-counters"
    sample_seconds = ctx.sample_seconds
    before = _counters(ctx.conn, ctx.table_oids)
    time.sleep(sample_seconds)
    after = _counters(ctx.conn, ctx.table_oids)
    moved = [f"{table} +{after[table] - count}" for table, count in sorted(before.items()) if after.get(table, count) != count]
    if not moved:
        return passed(name, f"inserts+updates+deletes of {len(before)} tables in scope unchanged over {sample_seconds:g} s")
    return failed(
        name,
        f"rows written during {sample_seconds:g} s: {listed(moved)}",
        fix="something still writes: find it in pg_stat_activity; counters of a session that just ended "
        "can arrive a few seconds late, so run the check again before anything else",
    )


FREEZE_CHECKS: tuple[FreezeCheck, ...] = (privileges_check, sessions_check, counters_check)


def run_freeze_checks(ctx: FreezeContext) -> list[CheckResult]:
    return [check(ctx) for check in FREEZE_CHECKS]


def freeze_checks(
    conn: psycopg.Connection[Any], dms: DmsConfig, *, dms_users: Sequence[str], sample_seconds: float = DEFAULT_SAMPLE_SECONDS
) -> list[CheckResult]:
    """The write-freeze checks (module docstring) on the source connection `conn`, for the tables in scope."""
    tables = tuple(catalog.scoped_tables(conn, dms))
    return run_freeze_checks(FreezeContext(conn=conn, tables=tables, dms_users=tuple(dms_users), sample_seconds=sample_seconds))


def _database(conn: psycopg.Connection[Any]) -> str:
    return str(conn.info.dbname)


def _users(users: Sequence[str]) -> str:
    return "the DMS user " + ", ".join(users) if users else "nobody"
