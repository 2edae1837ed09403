"""The write-freeze SQL `cutover freeze-sql` prints: the freeze for the application roles, and its exact rollback.

The freeze (why a session setting is not one: freeze.py) takes LOGIN and the write privileges on the in-scope
tables from the application roles, then ends every client session but DMS's; the rollback gives LOGIN back and
every INSERT/UPDATE/DELETE/TRUNCATE grant the roles held before, as the ACLs say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from config.model import DmsConfig
from migration_ops import catalog
from migration_ops.errors import UsageError

WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")

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
class FreezeSql:
    freeze: list[str]
    rollback: list[str]


def freeze_statements(
    conn: psycopg.Connection[Any], dms: DmsConfig, *, app_roles: Sequence[str], dms_users: Sequence[str]
) -> FreezeSql:
    """The freeze for `app_roles` on the in-scope tables, and the rollback that restores exactly what they had."""
    tables = catalog.scoped_tables(conn, dms)
    known = {row[0]: bool(row[1]) for row in conn.execute("SELECT rolname, rolcanlogin FROM pg_roles").fetchall()}
    missing = [role for role in app_roles if role not in known]
    if missing:
        raise UsageError(f"no such role on the source: {', '.join(missing)}")
    grants = conn.execute(
        _GRANTS_SQL,
        {"tables": [table.oid for table in tables], "roles": list(app_roles), "privileges": list(WRITE_PRIVILEGES)},
    ).fetchall()

    def text(statement: sql.Composable) -> str:
        return statement.as_string(conn)

    table_list = sql.SQL(", ").join(sql.Identifier(table.schema, table.name) for table in tables)
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
