"""The write freeze on the source at cutover: the SQL the runbook prescribes, and the checks `cutover stop` makes.

A session setting (`default_transaction_read_only`) is not a freeze: any session can `SET` it back off.
The freeze takes the right to write away from the application roles instead, which no session of theirs
can give back:

    ALTER ROLE <app> NOLOGIN;                                                   -- no new sessions
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE <in-scope tables> FROM <app>;
    SELECT pg_terminate_backend(pid) FROM pg_stat_activity                     -- end what is connected,
     WHERE datname = current_database() AND pid <> pg_backend_pid()           -- except DMS and yourself
       AND backend_type = 'client backend' AND usename <> ALL (<DMS users>);

The DMS user keeps what it has (SELECT on the tables, its heartbeat table in the control schema, the
replication connection). `freeze_statements` writes this SQL for given roles and the exact rollback
(LOGIN back, and every INSERT/UPDATE/DELETE/TRUNCATE grant the roles held before, read from the ACLs).

`freeze_checks` detects the result, whoever applied it:
  freeze.write-privileges  no role that can log in (other than superusers and the DMS users) can write
                           to an in-scope table: directly, through PUBLIC or a role it can SET ROLE to,
                           or by owning it (an owner can grant itself the right back)
  freeze.sessions          no session on the database other than the DMS users' and this one
  freeze.write-counters    n_tup_ins + n_tup_upd + n_tup_del of the in-scope tables (pg_stat_user_tables)
                           do not move over a sampling interval
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from config.model import DmsConfig
from migration_ops import catalog
from migration_ops.results import CheckResult, failed, passed

WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
DEFAULT_SAMPLE_SECONDS = 5.0
_LISTED = 10

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

_GRANTS_SQL = """
SELECT n.nspname, c.relname, r.rolname, a.privilege_type
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
  JOIN pg_roles r ON r.oid = a.grantee
 WHERE c.oid = ANY(%(tables)s) AND r.rolname = ANY(%(roles)s) AND a.privilege_type = ANY(%(privileges)s)
 ORDER BY 3, 1, 2, 4
"""


@dataclass(frozen=True, kw_only=True)
class Table:
    oid: int
    schema: str
    name: str

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


def scoped_tables(conn: psycopg.Connection[Any], dms: DmsConfig) -> list[Table]:
    """The tables (and partitioned tables) in the task's scope: dms.include minus dms.exclude."""
    return [
        Table(oid=relation.oid, schema=relation.schema, name=relation.name)
        for relation in catalog.scoped_relations(conn, dms)
        if relation.is_table
    ]


def _listed(items: Sequence[str]) -> str:
    more = f" and {len(items) - _LISTED} more" if len(items) > _LISTED else ""
    return ", ".join(items[:_LISTED]) + more


def sessions_check(conn: psycopg.Connection[Any], *, dms_users: Sequence[str]) -> CheckResult:
    rows = conn.execute(_SESSIONS_SQL, {"exempt": list(dms_users)}).fetchall()
    name = "freeze.sessions"
    if not rows:
        return passed(name, f"no session on {_database(conn)} other than {_users(dms_users)} and this one")
    described = [
        f"pid {pid} {user or '?'}@{addr} ({app or 'no application_name'}, {state or '?'})" for pid, user, app, addr, state in rows
    ]
    return failed(
        name,
        f"{len(rows)} other sessions on {_database(conn)}: {_listed(described)}",
        fix="freeze writes as in runbook step 10 (ALTER ROLE ... NOLOGIN, REVOKE, then pg_terminate_backend the rest)",
    )


def privileges_check(conn: psycopg.Connection[Any], tables: Sequence[Table], *, dms_users: Sequence[str]) -> CheckResult:
    name = "freeze.write-privileges"
    rows = conn.execute(_WRITERS_SQL, {"exempt": list(dms_users), "tables": [table.oid for table in tables]}).fetchall()
    superusers = [row[0] for row in conn.execute(_SUPERUSERS_SQL).fetchall()]
    note = f"; superusers ({', '.join(superusers)}) can always write: freeze.sessions counts their sessions" if superusers else ""
    if not rows:
        return passed(
            name,
            f"no login role other than {_users(dms_users)} can write to the {len(tables)} tables in scope{note}",
        )
    by_login: dict[str, list[str]] = {}
    for login, via, table, owns in rows:
        how = "owns" if owns else "can write"
        by_login.setdefault(login, []).append(f"{how} {table}" + ("" if via == login else f" as {via}"))
    described = [f"{login} {_listed(items)}" for login, items in by_login.items()]
    return failed(
        name,
        f"{len(by_login)} login roles can still write to tables in scope: " + "; ".join(described) + note,
        fix="ALTER ROLE <role> NOLOGIN and REVOKE INSERT, UPDATE, DELETE, TRUNCATE from it (runbook step 10; "
        "`cutover freeze-sql --app-role <role>` prints both and the rollback)",
    )


def _counters(conn: psycopg.Connection[Any], oids: list[int]) -> dict[str, int]:
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return {str(table): int(count) for table, count in conn.execute(_COUNTERS_SQL, (oids,)).fetchall()}


def counters_check(conn: psycopg.Connection[Any], tables: Sequence[Table], *, sample_seconds: float) -> CheckResult:
    name = "freeze.write-counters"
    oids = [table.oid for table in tables]
    before = _counters(conn, oids)
    time.sleep(sample_seconds)
    after = _counters(conn, oids)
    moved = [f"{table} +{after[table] - count}" for table, count in sorted(before.items()) if after.get(table, count) != count]
    if not moved:
        return passed(name, f"inserts+updates+deletes of {len(before)} tables in scope unchanged over {sample_seconds:g} s")
    return failed(
        name,
        f"rows written during {sample_seconds:g} s: {_listed(moved)}",
        fix="something still writes: find it in pg_stat_activity; counters of a session that just ended "
        "can arrive a few seconds late, so run the check again before anything else",
    )


def freeze_checks(
    conn: psycopg.Connection[Any], dms: DmsConfig, *, dms_users: Sequence[str], sample_seconds: float = DEFAULT_SAMPLE_SECONDS
) -> list[CheckResult]:
    """The three write-freeze checks (module docstring) on the source connection `conn`."""
    tables = scoped_tables(conn, dms)
    return [
        privileges_check(conn, tables, dms_users=dms_users),
        sessions_check(conn, dms_users=dms_users),
        counters_check(conn, tables, sample_seconds=sample_seconds),
    ]


@dataclass(frozen=True, kw_only=True)
class FreezeSql:
    freeze: list[str]
    rollback: list[str]


def freeze_statements(
    conn: psycopg.Connection[Any], dms: DmsConfig, *, app_roles: Sequence[str], dms_users: Sequence[str]
) -> FreezeSql:
    """The freeze for `app_roles` on the in-scope tables, and the rollback that restores exactly what they had."""
    tables = scoped_tables(conn, dms)
    known = {row[0]: bool(row[1]) for row in conn.execute("SELECT rolname, rolcanlogin FROM pg_roles").fetchall()}
    missing = [role for role in app_roles if role not in known]
    if missing:
        raise ValueError(f"no such role on the source: {', '.join(missing)}")
    grants = conn.execute(
        _GRANTS_SQL,
        {"tables": [table.oid for table in tables], "roles": list(app_roles), "privileges": list(WRITE_PRIVILEGES)},
    ).fetchall()

    def text(statement: sql.Composable) -> str:
        return statement.as_string(conn)

    table_list = sql.SQL(", ").join(table.identifier for table in tables)
    freeze = [text(sql.SQL("ALTER ROLE {} NOLOGIN;").format(sql.Identifier(role))) for role in app_roles]
    if tables:
        freeze += [
            text(sql.SQL("REVOKE {} ON TABLE {} FROM {};").format(
                sql.SQL(", ").join(map(sql.SQL, WRITE_PRIVILEGES)), table_list, sql.Identifier(role)))
            for role in app_roles
        ]  # fmt: skip
    freeze.append(
        text(
            sql.SQL(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND usename <> ALL ({});"
            ).format(sql.Literal(list(dms_users)))
        )
    )
    rollback = [text(sql.SQL("ALTER ROLE {} LOGIN;").format(sql.Identifier(role))) for role in app_roles if known[role]]
    rollback += [
        text(
            sql.SQL("GRANT {} ON TABLE {} TO {};").format(sql.SQL(privilege), sql.Identifier(schema, table), sql.Identifier(role))
        )
        for schema, table, role, privilege in grants
    ]
    return FreezeSql(freeze=freeze, rollback=rollback)


def _database(conn: psycopg.Connection[Any]) -> str:
    return str(conn.info.dbname)


def _users(users: Sequence[str]) -> str:
    return "the DMS user " + ", ".join(users) if users else "nobody"
