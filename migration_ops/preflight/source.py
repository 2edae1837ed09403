"""Preflight checks of the source server and the migration user, for the source endpoint settings the stack emits.

Sources (AWS DMS user guide unless named otherwise):
- "Using a PostgreSQL database as an AWS DMS source" (CHAP_Source.PostgreSQL): the self-managed prerequisites
  (idle transactions must not be ended: `idle_in_transaction_session_timeout`), "Enabling change data capture (CDC)
  using logical replication" (`test_decoding`; a non-default `max_slot_wal_keep_size` lets the slot fall behind and
  the task fail), "Limitations" (the test_decoding plugin from the contrib package must be installed on an
  on-premises source; avoid long-running transactions), "Removing AWS DMS artifacts from a PostgreSQL source
  database" and the non-master-user procedure (event trigger `awsdms_intercept_ddl`, function
  `<schema>.awsdms_intercept_ddl()`, table `<schema>.awsdms_ddl_audit`).
- Endpoint settings `HeartbeatSchema` ("the schema in which the heartbeat artifacts are created") and
  `DdlArtifactsSchema` (API reference, PostgreSQLSettings). The heartbeat table is `awsdms_heartbeat`: named in
  AWS's DMS diagnostic support script for PostgreSQL (awsdms_support_collector_postgres.sql, "DMS task will create a
  dummy table awsdms_heartbeat").
- "PostgreSQL assessments" (premigration assessments): long-running transactions, `max_slot_wal_keep_size`,
  prepared transactions.
- contract/passwords.py: characters DMS refuses in PostgreSQL endpoint secrets.
"""

from __future__ import annotations

from typing import Any

import psycopg

from contract.dms import SOURCE_PLUGIN
from contract.passwords import DMS_FORBIDDEN_PASSWORD_CHARACTERS
from migration_ops.preflight.context import PreflightContext, current_user, listed, setting
from migration_ops.results import CheckResult, Status, failed, passed, skipped, warned, worse
from migration_ops.scope import in_scope
from plumbing.text import human_duration, human_size

HEARTBEAT_TABLE = "awsdms_heartbeat"
DDL_EVENT_TRIGGER = "awsdms_intercept_ddl"
DDL_FUNCTION = "awsdms_intercept_ddl"
DDL_AUDIT_TABLE = "awsdms_ddl_audit"
# The API spells the plugin `test-decoding` (contract/dms.py); PostgreSQL loads the output plugin `test_decoding`.
DECODING_PLUGIN = SOURCE_PLUGIN.replace("-", "_")
LIBRARY_SUFFIXES = (".so", ".dylib", ".dll")
SESSION_TIMEOUTS = ("idle_in_transaction_session_timeout", "statement_timeout", "idle_session_timeout")


def source_major(conn: psycopg.Connection[Any]) -> int:
    return int(setting(conn, "server_version_num")) // 10000


# --- versions -----------------------------------------------------------------------------------


def check_target_version(ctx: PreflightContext) -> CheckResult:
    major = source_major(ctx.conn)
    if ctx.target_major is None:
        return skipped("target_version", f"source PostgreSQL {major}; target major unknown")
    evidence = f"source PostgreSQL {major}, target Aurora PostgreSQL {ctx.target_major} (aurora.engine_version)"
    if ctx.target_major < major:
        return failed(
            "target_version",
            f"{evidence}: migrating to an older major is not supported (types, catalogs and dump formats differ)",
            fix=f"set aurora.engine_version to a {major}.x (or newer) version before the cluster is created",
        )
    return passed("target_version", f"{evidence}: target >= source")


# --- replication slots ----------------------------------------------------------------------------


def check_slot_wal_retention(ctx: PreflightContext) -> CheckResult:
    """How much WAL a slot may hold: `max_slot_wal_keep_size` and what inactive slots hold already."""
    keep_mb = int(setting(ctx.conn, "max_slot_wal_keep_size"))
    max_wal_mb = int(setting(ctx.conn, "max_wal_size"))
    rows = ctx.conn.execute(
        "SELECT slot_name, slot_type, coalesce(plugin, ''), active, coalesce(wal_status, ''),"
        " coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)"
        " FROM pg_replication_slots ORDER BY slot_name"
    ).fetchall()
    problems: list[str] = []
    status = Status.PASS
    if keep_mb < 0:
        status = Status.WARN
        limit = "max_slot_wal_keep_size = -1 (unlimited): a stopped or abandoned DMS slot keeps WAL until the disk fills"
    elif keep_mb < max_wal_mb:
        status = Status.WARN
        limit = (
            f"max_slot_wal_keep_size = {keep_mb} MB < max_wal_size {max_wal_mb} MB: a paused task's slot can lose "
            "its WAL (wal_status lost) and the task then fails and must reload"
        )
    else:
        limit = f"max_slot_wal_keep_size = {keep_mb} MB (>= max_wal_size {max_wal_mb} MB)"
    for name, kind, plugin, active, wal_status, held in rows:
        label = f"{name} ({kind}{' ' + plugin if plugin else ''})"
        if wal_status == "lost":
            problems.append(f"{label} has lost its WAL (unusable)")
        elif not active and held > 0:
            problems.append(f"{label} inactive, holds {human_size(float(held))} of WAL")
    if problems:
        status = Status.WARN
    evidence = limit + ("; " + listed(problems) if problems else f"; {len(rows)} slots, none inactive holding WAL")
    fix = ""
    if status is not Status.PASS:
        fix = (
            "set max_slot_wal_keep_size to the WAL the source can hold on disk during the longest task pause "
            "(at least max_wal_size; ALTER SYSTEM SET max_slot_wal_keep_size = '50GB'; SELECT pg_reload_conf();), "
            "watch the slot (runbook step 8), drop slots nobody uses: SELECT pg_drop_replication_slot('<name>');"
        )
    return CheckResult(name="slot_wal_retention", status=status, evidence=evidence, fix=fix)


def check_decoding_plugin(ctx: PreflightContext) -> CheckResult:
    """Is the `test_decoding` output plugin installed? Read-only detection, in this order:

    1. a logical slot already using it proves it loads;
    2. with superuser (or EXECUTE on pg_stat_file and SELECT on pg_config), look for the shared library in
       PKGLIBDIR, where contrib installs it;
    3. otherwise skip and say what a DBA runs. Creating a temporary logical slot would prove it too, but that
       writes, waits for every running transaction on the server to end (a long transaction blocks it), and is
       refused in the preflight's read-only session.
    """
    name = "decoding_plugin"
    row = ctx.conn.execute(
        "SELECT slot_name FROM pg_replication_slots WHERE plugin = %s ORDER BY slot_name LIMIT 1", (DECODING_PLUGIN,)
    ).fetchone()
    if row is not None:
        return passed(name, f"logical slot {row[0]} already decodes with {DECODING_PLUGIN}")
    readable = ctx.conn.execute(
        "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
        " OR (has_function_privilege('pg_catalog.pg_stat_file(text, boolean)', 'EXECUTE')"
        "     AND has_table_privilege('pg_catalog.pg_config', 'SELECT'))"
    ).fetchone()
    how_to = (
        f"as a superuser on the source: SELECT pg_stat_file(setting || '/{DECODING_PLUGIN}.so', true) "
        "FROM pg_config WHERE name = 'PKGLIBDIR'; (or on the host: ls $(pg_config --pkglibdir)/"
        f"{DECODING_PLUGIN}.so)"
    )
    if not (readable and readable[0]):
        return CheckResult(
            name=name,
            status=Status.SKIP,
            evidence=f"cannot see the server's library directory without superuser; {DECODING_PLUGIN} not verified",
            fix=how_to + "; it ships with PostgreSQL's contrib package",
        )
    libdir_row = ctx.conn.execute("SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'").fetchone()
    if libdir_row is None:
        raise LookupError("PKGLIBDIR missing from pg_config")
    libdir = str(libdir_row[0])
    for suffix in LIBRARY_SUFFIXES:
        path = f"{libdir}/{DECODING_PLUGIN}{suffix}"
        found = ctx.conn.execute("SELECT (pg_stat_file(%s, true)).size IS NOT NULL", (path,)).fetchone()
        if found and found[0]:
            return passed(name, f"{path} exists (the logical decoding plugin DMS uses, PluginName {SOURCE_PLUGIN})")
    return failed(
        name,
        f"{DECODING_PLUGIN} is not installed in {libdir}: DMS cannot create its replication slot",
        fix="install PostgreSQL's contrib package for this major on the source host (e.g. postgresql15-contrib on "
        "RHEL; Debian's postgresql-15 includes it); no restart needed",
    )


# --- what the source endpoint settings need --------------------------------------------------------


def check_heartbeat_schema(ctx: PreflightContext) -> CheckResult:
    """HeartbeatEnable writes `<source_schema>.awsdms_heartbeat`: the schema must exist and be writable."""
    name, schema = "heartbeat_schema", ctx.dms.source_schema
    user, superuser = current_user(ctx.conn)
    row = ctx.conn.execute(
        "SELECT has_schema_privilege(n.oid, 'USAGE'), has_schema_privilege(n.oid, 'CREATE'),"
        " (SELECT c.oid FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = %s)"
        " FROM pg_namespace n WHERE n.nspname = %s",
        (HEARTBEAT_TABLE, schema),
    ).fetchone()
    grant = f'CREATE SCHEMA "{schema}" AUTHORIZATION "{user}";  (or GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{user}";)'
    if row is None:
        return failed(
            name,
            f"schema {schema} (dms.source_schema) does not exist: DMS cannot create its heartbeat table",
            fix=f"as a superuser on the source: {grant}",
        )
    usage, create, heartbeat_oid = bool(row[0]), bool(row[1]), row[2]
    missing = [label for label, has in (("USAGE", usage), ("CREATE", create)) if not has]
    if missing:
        return failed(
            name,
            f"user {user} lacks {' and '.join(missing)} on schema {schema} (dms.source_schema)",
            fix=f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{user}";',
        )
    evidence = f"user {user} has USAGE and CREATE on schema {schema}"
    if heartbeat_oid is not None:
        writable = ctx.conn.execute(
            "SELECT has_table_privilege(%s::oid, 'SELECT') AND has_table_privilege(%s::oid, 'INSERT')"
            " AND has_table_privilege(%s::oid, 'UPDATE')",
            (heartbeat_oid, heartbeat_oid, heartbeat_oid),
        ).fetchone()
        if not (writable and writable[0]) and not superuser:
            return failed(
                name,
                f"{schema}.{HEARTBEAT_TABLE} exists (an earlier run) but user {user} cannot write it",
                fix=f'DROP TABLE "{schema}".{HEARTBEAT_TABLE}; (DMS recreates it) or GRANT SELECT, INSERT, UPDATE on it',
            )
        evidence += f"; {schema}.{HEARTBEAT_TABLE} exists from an earlier run and is writable"
    if in_scope(schema, HEARTBEAT_TABLE, include=ctx.dms.include, exclude=ctx.dms.exclude):
        return warned(
            name,
            f"{evidence}; but dms.include selects {schema}.{HEARTBEAT_TABLE}: the task would replicate its own heartbeat",
            fix=f'add {{ schema_name = "{schema}", table_name = "awsdms%" }} to dms.exclude',
        )
    return passed(name, evidence)


def _ddl_artifacts(ctx: PreflightContext) -> tuple[str | None, bool, bool]:
    """(event trigger's enabled flag or None, function in source_schema exists, audit table exists)."""
    schema = ctx.dms.source_schema
    trigger = ctx.conn.execute(
        "SELECT t.evtenabled, n.nspname, p.proname FROM pg_event_trigger t"
        " JOIN pg_proc p ON p.oid = t.evtfoid JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE t.evtname = %s",
        (DDL_EVENT_TRIGGER,),
    ).fetchone()
    function = ctx.conn.execute(
        "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s AND p.proname = %s",
        (schema, DDL_FUNCTION),
    ).fetchone()
    table = ctx.conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (schema, DDL_AUDIT_TABLE),
    ).fetchone()
    enabled = None
    if trigger is not None:
        enabled = str(trigger[0]) if (trigger[1], trigger[2]) == (schema, DDL_FUNCTION) else "elsewhere"
    return enabled, function is not None, table is not None


def check_ddl_capture(ctx: PreflightContext) -> CheckResult:
    """dms.capture_ddl: DMS creates an event trigger (superuser only), a function and a table at task start.

    Accepted when on: a superuser migration user, or the three artifacts already in dms.source_schema with the
    trigger enabled (the AWS procedure for a migration user that is not the master user: the user creates the
    table and function, a superuser the event trigger). Off: artifacts left by an earlier run are reported.
    """
    name, schema = "ddl_capture", ctx.dms.source_schema
    user, superuser = current_user(ctx.conn)
    trigger, function, table = _ddl_artifacts(ctx)
    present = [
        label
        for label, exists in (
            (f"event trigger {DDL_EVENT_TRIGGER}", trigger is not None),
            (f"function {schema}.{DDL_FUNCTION}()", function),
            (f"table {schema}.{DDL_AUDIT_TABLE}", table),
        )
        if exists
    ]
    cleanup = "remove them as in the runbook, 'Remove what DMS left on the source'"
    if not ctx.dms.capture_ddl:
        if trigger is not None and trigger != "D":
            return warned(
                name,
                f"capture_ddl off, but DMS artifacts from an earlier run are on the source: {', '.join(present)}; "
                "the event trigger still fires on every CREATE/ALTER/DROP TABLE",
                fix=cleanup,
            )
        extra = f" (left over, inactive: {', '.join(present)})" if present else ""
        return passed(name, f"capture_ddl off: DDL freeze on migrated tables from task start to cutover{extra}")
    if superuser:
        return passed(name, f"capture_ddl on; user {user} is superuser: DMS creates its DDL artifacts in {schema}")
    if trigger in ("O", "A") and function and table:  # R fires only under session_replication_role = replica
        return passed(name, f"capture_ddl on; artifacts pre-created by a superuser in {schema}: {', '.join(present)}")
    state = f"present: {', '.join(present)}" if present else "none present"
    if trigger == "D":
        state += f" (event trigger {DDL_EVENT_TRIGGER} disabled)"
    elif trigger == "elsewhere":
        state += f" (event trigger {DDL_EVENT_TRIGGER} calls a function outside {schema})"
    return failed(
        name,
        f"capture_ddl on, but user {user} is not superuser and the DDL artifacts are not usable ({state}): "
        "DMS cannot create the event trigger",
        fix=f'set dms.capture_ddl = false and keep the DDL freeze, or ALTER ROLE "{user}" SUPERUSER for the migration, '
        "or pre-create the artifacts (runbook step 1, 'DDL capture')",
    )


# --- sessions -----------------------------------------------------------------------------------


def check_open_transactions(ctx: PreflightContext) -> CheckResult:
    """Prepared and long-running transactions: DMS's slot creation waits for them, and they pin the slot's WAL."""
    name = "open_transactions"
    prepared = ctx.conn.execute(
        "SELECT gid, owner, database, now() - prepared FROM pg_prepared_xacts ORDER BY prepared"
    ).fetchall()
    sessions = ctx.conn.execute(
        "SELECT pid, usename, datname, state, extract(epoch FROM now() - xact_start), query = '<insufficient privilege>'"
        " FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        # another user's session shows no backend_type to a user without pg_read_all_stats; it has a database
        "   AND (backend_type = 'client backend' OR (backend_type IS NULL AND datname IS NOT NULL))"
    ).fetchall()
    threshold = ctx.long_transaction_seconds
    long_running = [
        f"pid {pid} {user}@{db} {state} for {human_duration(float(age))}"
        for pid, user, db, state, age, _hidden in sessions
        if age is not None and float(age) >= threshold
    ]
    hidden = sum(1 for *_, age, is_hidden in sessions if age is None and is_hidden)
    parts: list[str] = []
    status = Status.PASS
    fixes: list[str] = []
    if prepared:
        status = Status.FAIL
        parts.append(f"prepared transactions: {listed([f'{gid} ({owner}@{db}, {age})' for gid, owner, db, age in prepared])}")
        fixes.append("COMMIT PREPARED '<gid>' or ROLLBACK PREPARED '<gid>' (as their owner or a superuser)")
    if long_running:
        status = worse(status, Status.WARN)
        parts.append(f"transactions open longer than {human_duration(threshold)}: {listed(long_running)}")
        fixes.append("end them before `cutover start` (slot creation waits for them; they hold WAL while open)")
    if hidden:
        status = worse(status, Status.WARN)
        parts.append(f"{hidden} sessions of other users not visible to this user")
        fixes.append("GRANT pg_read_all_stats TO the migration user, or run the preflight as a DBA")
    if not parts:
        return passed(name, f"no prepared transactions; {len(sessions)} other sessions, none open >= {human_duration(threshold)}")
    return CheckResult(name=name, status=status, evidence="; ".join(parts), fix="; ".join(fixes))


def check_session_timeouts(ctx: PreflightContext) -> CheckResult:
    """Timeouts that would end DMS's sessions, as a new session of this user in this database gets them.

    `pg_settings.reset_val` is the value at session start (server, database, role and role-in-database settings
    applied), unaffected by the preflight's own SET; pg_db_role_setting says where a value comes from.
    """
    name = "session_timeouts"
    user, _ = current_user(ctx.conn)
    values = {
        str(row[0]): int(row[1])
        for row in ctx.conn.execute(
            "SELECT name, reset_val FROM pg_settings WHERE name = ANY(%s)", (list(SESSION_TIMEOUTS),)
        ).fetchall()
    }
    origins: dict[str, list[str]] = {}
    for scope_label, entry in ctx.conn.execute(
        "SELECT CASE WHEN s.setrole = 0 THEN 'all roles' ELSE 'role ' || r.rolname END"
        "       || CASE WHEN s.setdatabase = 0 THEN '' ELSE ' in database ' || d.datname END, cfg"
        " FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole"
        " LEFT JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) cfg"
        " WHERE s.setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = current_user))"
        "   AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))"
    ).fetchall():
        key, _, value = str(entry).partition("=")
        if key in SESSION_TIMEOUTS:
            origins.setdefault(key, []).append(f"{value} for {scope_label}")
    status = Status.PASS
    shown: list[str] = []
    fixes: list[str] = []
    for key in SESSION_TIMEOUTS:
        milliseconds = values.get(key, 0)
        where = f" ({'; '.join(origins[key])})" if key in origins else ""
        shown.append(f"{key} = {milliseconds} ms{where}")
        if milliseconds > 0:
            status = worse(status, Status.FAIL if key == "idle_in_transaction_session_timeout" else Status.WARN)
            fixes.append(f'ALTER ROLE "{user}" IN DATABASE "{{db}}" SET {key} = 0;')
    evidence = f"for user {user}: " + ", ".join(shown)
    if status is Status.PASS:
        return passed(name, evidence)
    reasons = {
        Status.FAIL: "DMS keeps transactions idle between uses and must not have them ended",
        Status.WARN: "a full-load unload is one long SELECT per table; idle DMS sessions must stay open",
    }
    database = ctx.conn.execute("SELECT current_database()").fetchone()
    db = str(database[0]) if database else "<db>"
    return CheckResult(
        name=name,
        status=status,
        evidence=f"{evidence}: {reasons[status]}",
        fix=" ".join(fixes).replace("{db}", db),
    )


def check_secret_password(ctx: PreflightContext) -> CheckResult:
    """The source secret's password against the characters DMS refuses (contract/passwords.py); never shown."""
    name = "secret_password"
    if ctx.secret_password is None:
        return skipped(name, "password not read from the secret (run with --from-secret to check it)")
    if any(character in DMS_FORBIDDEN_PASSWORD_CHARACTERS for character in ctx.secret_password):
        return failed(
            name,
            f"the secret's password contains at least one character DMS refuses for PostgreSQL endpoints "
            f"({' '.join(DMS_FORBIDDEN_PASSWORD_CHARACTERS)}): the endpoint cannot log in",
            fix="generate a password without those characters, ALTER ROLE <user> PASSWORD '...'; then update the secret",
        )
    return passed(name, "the secret's password has none of the characters DMS refuses for PostgreSQL endpoints")
