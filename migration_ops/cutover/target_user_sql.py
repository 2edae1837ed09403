"""The SQL of `cutover target-user`: the least-privilege user the DMS target endpoint logs in to Aurora as.

With `dms.target_user = "dedicated"` the stack writes the user's credentials to
their own secret (output `dms_target_secret_arn`); `create_target_user` makes the
role on Aurora match it, connected to the writer as the master user (the command
around it: target_user.py), in one transaction:

- creates the role (LOGIN, nothing else: no SUPERUSER, CREATEDB, CREATEROLE,
  REPLICATION, BYPASSRLS), or on a re-run ALTER ROLE ... PASSWORD to the
  secret's current password; a role of that name not made by `cutover target-user`
  (no COMMENT of ours) is refused, never taken over;
- CONNECT on the database; USAGE on the schemas of the migrated tables;
  SELECT, INSERT, UPDATE, DELETE, TRUNCATE on exactly the migrated tables that
  exist on Aurora (the task's scope, `dms.include` minus `dms.exclude`), and
  revokes what an earlier run granted on tables or schemas no longer in scope;
- creates `dms.control_schema` if missing, USAGE and CREATE on it (DMS creates
  its control tables there: task settings `ControlTablesSettings.ControlSchema`,
  DMS user guide "Control table task settings": awsdms_apply_exceptions,
  awsdms_status, awsdms_suspended_tables, awsdms_history, and validation's
  awsdms_validation_failures_v1), and DML on control tables already there (made
  by the master user before a switch from `master`).

Then it grants SET on the parameter `session_replication_role`, which the
endpoint's after-connect script sets (contract/dms.py) and which only a
superuser may set (PostgreSQL 15, runtime-config-client) unless granted with
PostgreSQL 15's `GRANT SET ON PARAMETER` (sql-grant, ddl-priv "SET"). Whether
Aurora's master, a member of rds_superuser and no superuser, may grant it is
not settled by AWS's documentation: the Aurora user guide's "Understanding the
rds_superuser role" lists what the role may do and says nothing of parameter
privileges. Public reports are about RDS for PostgreSQL, not Aurora (an RDS
master granting it: cityofaustin/atd-data-tech#23488; rds_replication is not
enough to set it, rds_superuser is: dotCMS/core#21065). So the command tries,
and proves the result by logging in as the user and running the after-connect
script: a refusal is one FAIL line (exit 1) with the two ways out, never a
silent fallback.

What DMS needs on a PostgreSQL target with TargetTablePrepMode DO_NOTHING (the
schema exists beforehand): the DMS user guide's grants for a PostgreSQL target
("Using a PostgreSQL database as a target for homogeneous data migrations":
USAGE and CREATE on the schema, CONNECT and CREATE on the database, UPDATE,
INSERT, SELECT, DELETE, TRUNCATE on the tables; its rds_superuser is for native
logical replication, which a replication task does not use on the target)
minus CREATE on the database and on the migrated schemas, which only creating
schemas and tables would need. Future tables get nothing (no ALTER DEFAULT
PRIVILEGES): default privileges would also cover tables the mappings exclude,
and with the DDL freeze no migrated table appears mid-migration; after a
mapping or schema change, run the command again (runbook).

The password: ALTER/CREATE ROLE statements can be logged (`log_statement`: this
stack sets `ddl`, modules/aurora_parameters.py; pgAudit's `role` class), on a
connection whose logging the command does not control. So the statement never
holds the password: libpq computes the SCRAM verifier on this side
(PQencryptPasswordConn, as psql's \\password does; PostgreSQL "CREATE ROLE": an
already encrypted password is stored as is), and it travels as a
`psycopg.sql.Literal`. The session also tries `SET log_statement = 'none'`
(superuser-only in PostgreSQL; refused, it is ignored: the log would hold the
verifier, not the password).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from contract.dms import TARGET_AFTER_CONNECT_SCRIPT
from migration_ops.catalog import Table
from migration_ops.errors import OpsError
from migration_ops.results import CheckResult, failed, passed, warned
from plumbing.text import first_line, listed

__all__ = [
    "FIX_NO_TABLES",
    "FIX_PARAMETER",
    "REPLICATION_ROLE_PARAMETER",
    "ROLE_COMMENT",
    "TABLE_PRIVILEGES",
    "Table",
    "TargetUserError",
    "create_target_user",
    "login_check",
    "verify_target_user",
]

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
REPLICATION_ROLE_PARAMETER = "session_replication_role"
ROLE_COMMENT = "DMS target endpoint user, managed by `cutover target-user` (docs/runbook.md, The DMS target user)"
FIX_PARAMETER = (
    "two ways out: (1) as the master user `GRANT rds_superuser TO {user};`, then `cutover target-user` again (not least "
    'privilege: rds_superuser may create roles and databases and read every table); (2) dms.target_user = "master" in '
    "the config and deploy, with the task stopped (the endpoint then logs in as the master user)"
)
FIX_NO_TABLES = "create the schema on Aurora (runbook step 5), then run `cutover target-user` again"


class TargetUserError(OpsError):
    """The command could not run (secrets, the database, the outputs): exit 2 with this message."""


def _try_quiet_statement_log(conn: psycopg.Connection[Any]) -> bool:
    """`SET log_statement = 'none'` for this session if the user may (superuser-only in PostgreSQL): try and ignore."""
    try:
        conn.execute("SET log_statement = 'none'")
    except psycopg.Error:
        return False
    return True


def _role(conn: psycopg.Connection[Any], username: str) -> tuple[int, str | None] | None:
    row = conn.execute("SELECT oid, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", (username,)).fetchone()
    return None if row is None else (int(row[0]), row[1])


_STALE_TABLES_SQL = """
SELECT DISTINCT n.nspname, c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL aclexplode(c.relacl) a
 WHERE a.grantee = %(role)s AND c.relkind IN ('r', 'p') AND n.nspname <> %(control)s
   AND NOT (n.nspname, c.relname) IN (SELECT * FROM unnest(%(schemas)s::text[], %(names)s::text[]))
 ORDER BY 1, 2
"""
_STALE_SCHEMAS_SQL = """
SELECT n.nspname FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
 WHERE a.grantee = %(role)s AND n.nspname <> %(control)s AND n.nspname <> ALL(%(schemas)s) GROUP BY 1 ORDER BY 1
"""


def _revoke_stale(
    conn: psycopg.Connection[Any], role: sql.Identifier, role_oid: int, tables: Sequence[Table], control: str
) -> list[str]:
    keep_schemas = sorted({table.schema for table in tables})
    params = {"role": role_oid, "control": control, "schemas": [t.schema for t in tables], "names": [t.name for t in tables]}
    stale_tables = [Table(schema=row[0], name=row[1]) for row in conn.execute(_STALE_TABLES_SQL, params).fetchall()]
    stale_schemas = [row[0] for row in conn.execute(_STALE_SCHEMAS_SQL, {**params, "schemas": keep_schemas}).fetchall()]
    for table in stale_tables:
        conn.execute(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(table.identifier, role))
    for schema in stale_schemas:
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(sql.Identifier(schema), role))
    return [table.qualified for table in stale_tables] + [f"schema {schema}" for schema in stale_schemas]


def create_target_user(
    master: psycopg.Connection[Any], *, username: str, password: str, tables: Sequence[Table], control_schema: str
) -> list[CheckResult]:
    """Create or update the role (see the module docstring); `master` is an autocommit connection as the master user.

    Returns target-user.role, target-user.grants and target-user.replication-role; refusals are FAIL results, database
    errors a TargetUserError.
    """
    role = sql.Identifier(username)
    if username == _scalar(master, "SELECT current_user"):
        raise TargetUserError(f"the dedicated user {username} is the user this command connects as")
    quiet = _try_quiet_statement_log(master)
    existing = _role(master, username)
    if existing is not None and existing[1] != ROLE_COMMENT:
        return [
            failed(
                "target-user.role",
                f"refused: a role {username} exists that `cutover target-user` did not create; nothing changed",
                fix="choose another dms.target_username, or drop that role if it is a leftover",
            )
        ]
    verifier = master.pgconn.encrypt_password(password.encode(), username.encode()).decode()
    schemas = sorted({table.schema for table in tables})
    try:
        with master.transaction():
            if existing is None:
                master.execute(
                    sql.SQL(
                        "CREATE ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {}"
                    ).format(role, sql.Literal(verifier))
                )
                master.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(role, sql.Literal(ROLE_COMMENT)))
            else:
                # NOSUPERUSER/NOREPLICATION/NOBYPASSRLS would need a superuser to state; the attributes check reads them.
                master.execute(
                    sql.SQL("ALTER ROLE {} WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD {}").format(role, sql.Literal(verifier))
                )
            role_oid = int(_scalar(master, "SELECT oid FROM pg_roles WHERE rolname = %s", username))
            database = sql.Identifier(_scalar(master, "SELECT current_database()"))
            master.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, role))
            control = sql.Identifier(control_schema)
            master.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(control))
            master.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(control, role))
            privileges = sql.SQL(", ").join(sql.SQL(privilege) for privilege in TABLE_PRIVILEGES)
            master.execute(sql.SQL("GRANT {} ON ALL TABLES IN SCHEMA {} TO {}").format(privileges, control, role))
            for schema in schemas:
                master.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), role))
            if tables:
                names = sql.SQL(", ").join(table.identifier for table in tables)
                master.execute(sql.SQL("GRANT {} ON TABLE {} TO {}").format(privileges, names, role))
            revoked = _revoke_stale(master, role, role_oid, tables, control_schema)
    except psycopg.Error as error:
        raise TargetUserError(f"creating the DMS target user {username} failed, nothing changed: {first_line(error)}") from None
    logged = "statement logging off for the session" if quiet else "log_statement not settable: it would show the verifier"
    results = [
        passed(
            "target-user.role",
            f"{'updated' if existing else 'created'} {username}: LOGIN, password from its secret sent as a SCRAM verifier "
            f"({logged})",
        ),
        _grants_result(tables, schemas, control_schema, revoked),
    ]
    return [*results, _grant_replication_role(master, role, username)]


def _scalar(conn: psycopg.Connection[Any], query: str, *params: object) -> str:
    row = conn.execute(query, params or None).fetchone()
    if row is None:
        raise TargetUserError(f"no row from {query!r}")
    return str(row[0])


def _grants_result(tables: Sequence[Table], schemas: Sequence[str], control_schema: str, revoked: Sequence[str]) -> CheckResult:
    extra = f"; revoked from {listed(list(revoked))} (no longer in scope)" if revoked else ""
    control = f"USAGE, CREATE on {control_schema} (DMS control tables)"
    if not tables:
        return warned(
            "target-user.grants",
            f"CONNECT; {control}; no table in scope exists on the target yet{extra}",
            fix=FIX_NO_TABLES,
        )
    return passed(
        "target-user.grants",
        f"CONNECT; USAGE on {listed(list(schemas))}; {', '.join(TABLE_PRIVILEGES)} on {len(tables)} tables; {control}{extra}",
    )


def _grant_replication_role(master: psycopg.Connection[Any], role: sql.Identifier, username: str) -> CheckResult:
    name = "target-user.replication-role"
    try:
        master.execute(sql.SQL("GRANT SET ON PARAMETER {} TO {}").format(sql.Identifier(REPLICATION_ROLE_PARAMETER), role))
    except psycopg.errors.InsufficientPrivilege as error:
        return warned(
            name,
            f"GRANT SET ON PARAMETER {REPLICATION_ROLE_PARAMETER} TO {username} refused ({first_line(error)}); the login "
            "check shows whether the user can set it anyway",
        )
    except psycopg.Error as error:
        raise TargetUserError(f"GRANT SET ON PARAMETER {REPLICATION_ROLE_PARAMETER} failed: {first_line(error)}") from None
    return passed(name, f"SET on {REPLICATION_ROLE_PARAMETER} granted to {username} (GRANT SET ON PARAMETER)")


_ATTRIBUTES_SQL = """
SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin,
       rolvaliduntil IS NOT NULL AND rolvaliduntil < now(),
       ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid ORDER BY 1)
  FROM pg_roles r WHERE rolname = %s
"""
_DATABASE_AND_SCHEMA_PRIVILEGES_SQL = """
SELECT has_database_privilege(%(role)s, current_database(), 'CONNECT'),
       has_schema_privilege(%(role)s, %(control)s, 'USAGE'), has_schema_privilege(%(role)s, %(control)s, 'CREATE'),
       ARRAY(SELECT s FROM unnest(%(schemas)s::text[]) AS s WHERE NOT has_schema_privilege(%(role)s, s, 'USAGE') ORDER BY 1)
"""
_MISSING_TABLE_PRIVILEGES_SQL = """
SELECT format('%%I.%%I', t.schema, t.name), p.privilege
  FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS t(schema, name)
 CROSS JOIN unnest(%(privileges)s::text[]) AS p(privilege)
 WHERE NOT has_table_privilege(%(role)s, format('%%I.%%I', t.schema, t.name), p.privilege)
 ORDER BY 1, 2
"""


def verify_target_user(
    master: psycopg.Connection[Any], *, username: str, tables: Sequence[Table], control_schema: str
) -> list[CheckResult]:
    """What the catalog says the role may do: target-user.attributes and target-user.privileges (a GRANT by a master who
    does not own a table grants nothing and only warns, so every privilege is read back)."""
    row = master.execute(_ATTRIBUTES_SQL, (username,)).fetchone()
    if row is None:
        return [failed("target-user.attributes", f"role {username} does not exist")]
    flags = dict(zip(("SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS"), row[:5], strict=True))
    held = [flag for flag, value in flags.items() if value]
    memberships: list[str] = list(row[7])
    if held or not row[5] or row[6]:
        problems = [*held, *(["no LOGIN"] if not row[5] else []), *(["password expired (VALID UNTIL)"] if row[6] else [])]
        attributes = failed(
            "target-user.attributes",
            f"{username}: {', '.join(problems)}",
            fix=f"as a superuser: ALTER ROLE {username} NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS "
            "LOGIN VALID UNTIL 'infinity'",
        )
    elif memberships:
        attributes = warned(
            "target-user.attributes",
            f"{username} is a member of {listed(memberships)}: it holds what they hold (not least privilege)",
            fix=f"REVOKE {', '.join(memberships)} FROM {username} unless chosen on purpose (rds_superuser: runbook)",
        )
    else:
        attributes = passed("target-user.attributes", f"{username}: LOGIN only, member of no role")
    params = {
        "role": username,
        "control": control_schema,
        "schemas": [t.schema for t in tables],
        "names": [t.name for t in tables],
        "privileges": list(TABLE_PRIVILEGES),
    }
    connect_, usage, create, schemas_without_usage = master.execute(_DATABASE_AND_SCHEMA_PRIVILEGES_SQL, params).fetchone() or (
        False, False, False, []
    )  # fmt: skip
    missing = [
        label
        for label, held in (("CONNECT", connect_), (f"USAGE on {control_schema}", usage), (f"CREATE on {control_schema}", create))
        if not held
    ]
    missing += [f"USAGE on {schema}" for schema in schemas_without_usage]
    missing += [
        f"{privilege} on {table}" for table, privilege in master.execute(_MISSING_TABLE_PRIVILEGES_SQL, params).fetchall()
    ]
    if missing:
        privileges = failed(
            "target-user.privileges",
            f"{username} lacks {listed(missing)}",
            fix="the master user must own the tables (runbook step 5 creates them as the master) or hold the grant option",
        )
    else:
        privileges = passed("target-user.privileges", f"{username} holds every privilege target-user.grants lists")
    return [attributes, privileges]


def login_check(dsn: str, *, username: str) -> CheckResult:
    """Log in as the dedicated user and run the endpoint's after-connect script, as DMS will."""
    name = "target-user.login"
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10, application_name="migration-ops") as conn:
            conn.execute(TARGET_AFTER_CONNECT_SCRIPT)
            setting = _scalar(conn, f"SHOW {REPLICATION_ROLE_PARAMETER}")
    except psycopg.errors.InsufficientPrivilege as error:
        return failed(
            name,
            f"{username} cannot run the endpoint's after-connect script `{TARGET_AFTER_CONNECT_SCRIPT}`: {first_line(error)}",
            fix=FIX_PARAMETER.format(user=username),
        )
    except psycopg.Error as error:
        return failed(
            name,
            f"cannot log in as {username}: {first_line(error)}",
            fix="run `cutover target-user` again after every deploy that rewrote its secret (runbook)",
        )
    return passed(
        name, f"logged in as {username}; `{TARGET_AFTER_CONNECT_SCRIPT}` works ({REPLICATION_ROLE_PARAMETER}={setting})"
    )
