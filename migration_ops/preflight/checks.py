"""Source-database preflight checks for DMS: each a small function of a `PreflightContext`.

Every check returns a frozen `CheckResult` (pass / warn / fail / skip, evidence, fix). The catalog is read once
(context.py); the server, user and session checks live in source.py, the table checks (partitions, foreign keys,
LOBs) in tables.py, the checks of which rows DMS reads and what Aurora accepts (row-level security, inheritance,
generated columns) in rows.py, and `CHECKS` lists them all in report order: a new check is a function and one line there.
A `full-load` task needs no logical replication: the checks of slots, WAL, replication privilege, replica
identity and the source endpoint's CDC artifacts are skipped with that reason.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from contract.dms_engines import oldest_engine_for_source, parse_engine_version
from migration_ops import catalog
from migration_ops.catalog import Column
from migration_ops.preflight.context import (
    FULL_LOAD_REASON,
    PreflightContext,
    build_context,
    cdc_only,
    listed,
    setting,
)
from migration_ops.preflight.rows import check_generated_columns, check_inheritance, check_row_security
from migration_ops.preflight.source import (
    check_ddl_capture,
    check_decoding_plugin,
    check_heartbeat_schema,
    check_open_transactions,
    check_secret_password,
    check_session_timeouts,
    check_slot_wal_retention,
    check_target_version,
)
from migration_ops.preflight.tables import (
    check_foreign_keys,
    check_lob_sizes,
    check_lob_without_key,
    check_partitions,
    check_sequence_privilege,
    dms_lob_kind,
)
from migration_ops.results import CheckResult, Status, failed, passed, warned, worse
from plumbing.text import first_line, human_size

__all__ = ["CHECKS", "PreflightContext", "build_context", "run_checks"]

MIN_WAL_SENDER_TIMEOUT_MS = 10_000
UNFAITHFUL_TYPE_KINDS = {"c": "composite", "e": "enum", "d": "domain", "r": "range", "m": "multirange"}
UNFAITHFUL_TYPE_NAMES = frozenset(
    {"tsvector", "tsquery", "point", "line", "lseg", "box", "path", "polygon", "circle", "txid_snapshot", "pg_snapshot"}
)

# --- pure rules, tested without a server -------------------------------------------------------


def required_dms_engine(pg_major: int) -> tuple[int, int, int] | None:
    """Oldest DMS engine that reads this PostgreSQL major as a source (contract/dms_engines.py); None if none does."""
    engine = oldest_engine_for_source(pg_major)
    return None if engine is None else parse_engine_version(engine.version)


def free_capacity_status(free: int) -> Status:
    """A DMS task needs one slot and one sender: none free fails, exactly one leaves no headroom."""
    if free <= 0:
        return Status.FAIL
    return Status.WARN if free == 1 else Status.PASS


def wal_sender_timeout_ok(milliseconds: int) -> bool:
    return milliseconds == 0 or milliseconds >= MIN_WAL_SENDER_TIMEOUT_MS


def is_lob_like(column: Column) -> bool:
    """DMS carries the column as a BLOB, CLOB or NCLOB (tables.dms_lob_kind)."""
    return dms_lob_kind(column) is not None


def unfaithful_reason(column: Column) -> str | None:
    """Why DMS would not carry this column's type faithfully, or None."""
    for name, kind in ((column.type_name, column.type_type), (column.element_type_name, column.element_type_type)):
        if name is None:
            continue
        if kind in UNFAITHFUL_TYPE_KINDS:
            return UNFAITHFUL_TYPE_KINDS[kind]
        if name in UNFAITHFUL_TYPE_NAMES:
            return name
    return None


# --- checks -------------------------------------------------------------------------------------


def check_server_version(ctx: PreflightContext) -> CheckResult:
    number = int(setting(ctx.conn, "server_version_num"))
    version = setting(ctx.conn, "server_version")
    encoding = setting(ctx.conn, "server_encoding")
    major = number // 10000
    engine = parse_engine_version(ctx.dms.engine_version)
    needed = required_dms_engine(major)
    evidence = f"PostgreSQL {version} (server_version_num {number}), encoding {encoding}; DMS engine {ctx.dms.engine_version}"
    if needed is None:
        return failed(
            "server_version",
            f"{evidence}: no known DMS engine supports PostgreSQL {major}",
            fix="check the DMS release notes for an engine that supports this major and pin it in dms.engine_version",
        )
    needed_text = ".".join(map(str, needed))
    if engine < needed:
        return failed(
            "server_version",
            f"{evidence} < {needed_text} needed for PostgreSQL {major}",
            fix=f'set dms.engine_version = "{needed_text}" (or newer) in the environment config and deploy',
        )
    return passed("server_version", f"{evidence} >= {needed_text}")


def check_wal_level(ctx: PreflightContext) -> CheckResult:
    level = setting(ctx.conn, "wal_level")
    if level == "logical":
        return passed("wal_level", "wal_level = logical")
    return failed(
        "wal_level",
        f"wal_level = {level}: CDC needs logical decoding",
        fix="ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL",
    )


def check_replication_capacity(ctx: PreflightContext) -> CheckResult:
    max_slots = int(setting(ctx.conn, "max_replication_slots"))
    max_senders = int(setting(ctx.conn, "max_wal_senders"))
    row = ctx.conn.execute(
        "SELECT (SELECT count(*) FROM pg_replication_slots),"
        " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender')"
    ).fetchone()
    used_slots, used_senders = (int(row[0]), int(row[1])) if row else (0, 0)
    free_slots, free_senders = max_slots - used_slots, max_senders - used_senders
    status = worse(free_capacity_status(free_slots), free_capacity_status(free_senders))
    evidence = (
        f"replication slots {used_slots}/{max_slots} used ({free_slots} free); "
        f"WAL senders {used_senders}/{max_senders} used ({free_senders} free)"
    )
    fix = (
        ""
        if status is Status.PASS
        else (
            "raise max_replication_slots and max_wal_senders (at least in-use + 2 each; restart needed) "
            "or drop unused slots: SELECT pg_drop_replication_slot('<name>')"
        )
    )
    return CheckResult(name="replication_capacity", status=status, evidence=evidence, fix=fix)


def check_wal_sender_timeout(ctx: PreflightContext) -> CheckResult:
    milliseconds = int(setting(ctx.conn, "wal_sender_timeout"))
    evidence = f"wal_sender_timeout = {milliseconds} ms"
    if wal_sender_timeout_ok(milliseconds):
        return passed("wal_sender_timeout", evidence)
    return failed(
        "wal_sender_timeout",
        f"{evidence}: below 10 s, DMS loses the replication connection",
        fix="ALTER SYSTEM SET wal_sender_timeout = '60s'; SELECT pg_reload_conf();",
    )


def check_replication_privilege(ctx: PreflightContext) -> CheckResult:
    row = ctx.conn.execute(
        "SELECT current_user, r.rolsuper, r.rolreplication,"
        " EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_replication'"
        "         AND pg_has_role(current_user, g.oid, 'MEMBER'))"
        " FROM pg_roles r WHERE r.rolname = current_user"
    ).fetchone()
    if row is None:
        raise LookupError("current_user not found in pg_roles")
    user, superuser, replication, rds_member = str(row[0]), bool(row[1]), bool(row[2]), bool(row[3])
    held = (("SUPERUSER", superuser), ("REPLICATION", replication), ("rds_replication", rds_member))
    granted = [label for label, has in held if has]
    if granted:
        return passed("replication_privilege", f"user {user} has {', '.join(granted)}")
    return failed(
        "replication_privilege",
        f"user {user} has neither REPLICATION, SUPERUSER nor membership in rds_replication",
        fix=f'ALTER ROLE "{user}" WITH REPLICATION;  (on RDS: GRANT rds_replication TO "{user}";)',
    )


def check_select_privilege(ctx: PreflightContext) -> CheckResult:
    readable = [r for r in ctx.relations if r.kind != catalog.SEQUENCE]
    missing = [r.qualified for r in readable if not r.can_select]
    if not readable:
        return failed(
            "select_privilege",
            "no table matches dms.include minus dms.exclude",
            fix="check the include/exclude rules in the config and the database name",
        )
    if missing:
        return failed(
            "select_privilege",
            f"no SELECT on {len(missing)} of {len(readable)} relations in scope: {listed(missing)}",
            fix="GRANT SELECT ON <table> TO <migration user>; for each (or GRANT SELECT ON ALL TABLES IN SCHEMA <schema>)",
        )
    return passed("select_privilege", f"SELECT on all {len(readable)} relations in scope")


def check_primary_keys(ctx: PreflightContext) -> CheckResult:
    tables = ctx.tables
    missing = [t.qualified for t in tables if not t.has_primary_key and t.replica_identity not in ("f", "i")]
    if not ctx.cdc:
        keyless = [t.qualified for t in tables if not t.has_primary_key and not t.has_unique_key]
        extra = f" ({len(keyless)} tables without a key are not validated: {listed(keyless)})" if keyless else ""
        return CheckResult(
            name="primary_keys", status=Status.SKIP, evidence=f"{FULL_LOAD_REASON}: replica identity not needed{extra}"
        )
    if not missing:
        full = [t.qualified for t in tables if not t.has_primary_key]
        extra = f" ({len(full)} without a key use REPLICA IDENTITY FULL/index: {listed(full)})" if full else ""
        return CheckResult(
            name="primary_keys", status=Status.PASS, evidence=f"{len(tables)} tables in scope have a primary key{extra}"
        )
    return failed(
        "primary_keys",
        f"{len(missing)} tables without primary key or REPLICA IDENTITY FULL: {listed(missing)}"
        "; CDC cannot apply their UPDATE/DELETE",
        fix="add a primary key, or ALTER TABLE <table> REPLICA IDENTITY FULL;",
    )


def check_data_types(ctx: PreflightContext) -> CheckResult:
    flagged = [f"{c.qualified} ({c.type_display}: {reason})" for c in ctx.columns if (reason := unfaithful_reason(c))]
    if not flagged:
        return passed("data_types", f"{len(ctx.columns)} columns, all of plain types")
    return warned(
        "data_types",
        f"{len(flagged)} columns of types DMS does not carry faithfully: {listed(flagged)}",
        fix="create these types on Aurora before the load (schema-only dump) and compare the data after the full load",
    )


def check_sequences(ctx: PreflightContext) -> CheckResult:
    sequences = [r.qualified for r in ctx.relations if r.kind == catalog.SEQUENCE]
    if not sequences:
        return passed("sequences", "no sequences in scope")
    return warned(
        "sequences",
        f"{len(sequences)} sequences in scope (DMS does not carry their values): {listed(sequences)}",
        fix="at cutover, after writes stop: python -m migration_ops.cutover sequences --env <env> --apply-dsn-env TARGET_DSN",
    )


def check_unreplicated_relations(ctx: PreflightContext) -> CheckResult:
    unlogged = [r.qualified for r in ctx.relations if r.is_table and r.persistence == "u"]
    views = [r.qualified for r in ctx.relations if r.kind == catalog.MATERIALIZED_VIEW]
    if not unlogged and not views:
        return passed("unreplicated_relations", "no unlogged tables or materialized views")
    parts = ([f"unlogged tables (no WAL, no CDC): {listed(unlogged)}"] if unlogged else []) + (
        [f"materialized views (not replicated): {listed(views)}"] if views else []
    )
    return warned(
        "unreplicated_relations",
        "; ".join(parts),
        fix="ALTER TABLE <t> SET LOGGED, or reload them after cutover; create and REFRESH materialized views on Aurora",
    )


def check_database_size(ctx: PreflightContext) -> CheckResult:
    row = ctx.conn.execute("SELECT current_database(), pg_database_size(current_database())").fetchone()
    name, size = (str(row[0]), int(row[1])) if row else ("?", 0)
    largest = sorted(ctx.tables, key=lambda t: t.total_bytes, reverse=True)[:5]
    top = ", ".join(f"{t.qualified} {human_size(t.total_bytes)}" for t in largest) or "none"
    in_scope = sum(t.total_bytes for t in ctx.tables)
    return passed(
        "database_size",
        f"database {name} {human_size(size)}, {len(ctx.tables)} tables in scope {human_size(in_scope)}; largest: {top}",
    )


Check = Callable[[PreflightContext], CheckResult]


def _cdc(name: str, check: Check) -> tuple[str, Check]:
    return name, cdc_only(name, check)


CHECKS: tuple[tuple[str, Check], ...] = (
    ("server_version", check_server_version),
    ("target_version", check_target_version),
    _cdc("wal_level", check_wal_level),
    _cdc("replication_capacity", check_replication_capacity),
    _cdc("slot_wal_retention", check_slot_wal_retention),
    _cdc("wal_sender_timeout", check_wal_sender_timeout),
    _cdc("decoding_plugin", check_decoding_plugin),
    _cdc("replication_privilege", check_replication_privilege),
    _cdc("heartbeat_schema", check_heartbeat_schema),
    _cdc("ddl_capture", check_ddl_capture),
    _cdc("open_transactions", check_open_transactions),
    ("session_timeouts", check_session_timeouts),
    ("secret_password", check_secret_password),
    ("select_privilege", check_select_privilege),
    ("row_security", check_row_security),
    ("sequence_privilege", check_sequence_privilege),
    ("primary_keys", check_primary_keys),
    ("lob_without_key", check_lob_without_key),
    ("partitions", check_partitions),
    ("inheritance", check_inheritance),
    ("foreign_keys", check_foreign_keys),
    ("lob_sizes", check_lob_sizes),
    ("data_types", check_data_types),
    ("generated_columns", check_generated_columns),
    ("sequences", check_sequences),
    ("unreplicated_relations", check_unreplicated_relations),
    ("database_size", check_database_size),
)


def run_checks(ctx: PreflightContext) -> list[CheckResult]:
    """Every check in order; a query that errors fails its own check, not the run."""
    results = []
    for name, check in CHECKS:
        try:
            results.append(check(ctx))
        except (psycopg.Error, LookupError, ValueError) as error:
            results.append(failed(name, f"could not run: {first_line(error)}", fix="see the evidence"))
    return results
