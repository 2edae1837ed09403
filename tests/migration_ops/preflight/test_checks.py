"""Every preflight check against real PostgreSQL 15 servers: once passing, once warning or failing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from config import EnvironmentConfig
from config.model import DmsConfig, TableSelection
from migration_ops.postgres import connect
from migration_ops.preflight.checks import (
    CHECKS,
    build_context,
    free_capacity_status,
    required_dms_engine,
    run_checks,
    wal_sender_timeout_ok,
)
from migration_ops.results import CheckResult, Status
from tests.migration_ops.conftest import HASTY, MIGRATOR, NO_REPLICATION, RDS_STYLE
from tests.migration_ops.helpers import SHOP_EXCLUDE, dms_variant
from tests.migration_ops.pg_server import PgServer

pytestmark = pytest.mark.postgres
CHECK = dict(CHECKS)
AURORA_MAJOR = 15  # config/dev.toml: aurora.engine_version 15.x


def run_all(dsn: str, dms: DmsConfig, **context: Any) -> dict[str, CheckResult]:
    """Every check, as the CLI runs them (the target major from the dev config)."""
    context.setdefault("target_major", AURORA_MAJOR)
    with connect(dsn, read_only=True, statement_timeout_seconds=30) as conn:
        return {result.name: result for result in run_checks(build_context(conn, dms, **context))}


def run_one(dsn: str, dms: DmsConfig, name: str, **context: Any) -> CheckResult:
    context.setdefault("target_major", AURORA_MAJOR)
    with connect(dsn, read_only=True, statement_timeout_seconds=30) as conn:
        return CHECK[name](build_context(conn, dms, **context))


@contextmanager
def admin(server: PgServer, dbname: str = "postgres") -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(server.dsn(dbname), autocommit=True) as conn:
        yield conn


def _rules(table: str, schema: str = "public") -> tuple[TableSelection, ...]:
    return (TableSelection(schema_name=schema, table_name=table),)


@pytest.fixture(scope="module")
def shop(pg: PgServer, dev_config: EnvironmentConfig) -> dict[str, CheckResult]:
    return run_all(pg.dsn("shop", MIGRATOR), dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE))


@pytest.fixture(scope="module")
def edge(pg: PgServer, dev_config: EnvironmentConfig) -> dict[str, CheckResult]:
    """The edge database with the default mappings (everything in public)."""
    return run_all(pg.dsn("edge", MIGRATOR), dev_config.dms)


def test_clean_database_passes_every_check(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    results = run_all(pg.dsn("clean", MIGRATOR), dev_config.dms)
    assert list(results) == [name for name, _ in CHECKS]
    not_verifiable = {"decoding_plugin", "secret_password"}  # need superuser / --from-secret, shown below
    assert {name: r.status for name, r in results.items()} == {
        name: Status.SKIP if name in not_verifiable else Status.PASS for name in results
    }
    assert "PostgreSQL 15." in results["server_version"].evidence
    assert "encoding UTF8" in results["server_version"].evidence
    assert ">= 3.5.1" in results["server_version"].evidence
    assert results["wal_level"].evidence == "wal_level = logical"
    assert "replication slots 0/4 used (4 free)" in results["replication_capacity"].evidence
    assert results["wal_sender_timeout"].evidence == "wal_sender_timeout = 60000 ms"
    assert results["replication_privilege"].evidence == f"user {MIGRATOR} has REPLICATION"
    assert results["select_privilege"].evidence == "SELECT on all 1 relations in scope"
    assert "2 LOB-like columns, all within 32 KB" in results["lob_sizes"].evidence
    assert "database clean" in results["database_size"].evidence
    assert "largest: public.items" in results["database_size"].evidence
    assert results["target_version"].evidence.endswith("target >= source")
    assert results["heartbeat_schema"].evidence == f"user {MIGRATOR} has USAGE and CREATE on schema dms_control"
    assert results["ddl_capture"].evidence.startswith("capture_ddl off: DDL freeze")
    assert results["session_timeouts"].evidence.startswith(f"for user {MIGRATOR}: idle_in_transaction_session_timeout = 0 ms")
    assert results["partitions"].evidence == "no partitioned tables in scope"
    assert all(not r.fix for r in results.values() if r.status is Status.PASS)


def test_connection_is_read_only(pg: PgServer) -> None:
    with connect(pg.dsn("clean", MIGRATOR), read_only=True) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("CREATE TABLE public.should_not_exist (id int)")


def test_server_version_fails_when_the_pinned_engine_is_too_old(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    result = run_all(pg.dsn("clean", MIGRATOR), dms_variant(dev_config.dms, engine_version="3.4.7"))["server_version"]
    assert result.status is Status.FAIL
    assert "DMS engine 3.4.7 < 3.5.1 needed for PostgreSQL 15" in result.evidence
    assert 'dms.engine_version = "3.5.1"' in result.fix


def test_engine_requirements_per_major() -> None:
    assert required_dms_engine(14) == (3, 5, 1)
    assert required_dms_engine(15) == (3, 5, 1)
    assert required_dms_engine(16) == (3, 5, 3)
    assert required_dms_engine(17) == (3, 6, 1)
    assert required_dms_engine(18) == (3, 6, 1)  # DMS user guide: 17.x and 18.x sources need 3.6.1+
    assert required_dms_engine(19) is None


def test_legacy_server_fails_wal_level_and_wal_sender_timeout(pg_legacy: PgServer, dev_config: EnvironmentConfig) -> None:
    results = run_all(pg_legacy.dsn("clean", MIGRATOR), dev_config.dms)
    assert results["wal_level"].status is Status.FAIL
    assert results["wal_level"].evidence.startswith("wal_level = replica")
    assert "wal_level = logical" in results["wal_level"].fix
    assert results["wal_sender_timeout"].status is Status.FAIL
    assert results["wal_sender_timeout"].evidence.startswith("wal_sender_timeout = 5000 ms")


def test_replication_capacity_warns_with_one_free_and_fails_with_none(pg_legacy: PgServer, dev_config: EnvironmentConfig) -> None:
    dsn = pg_legacy.dsn("clean", MIGRATOR)
    one_free = run_all(dsn, dev_config.dms)["replication_capacity"]
    assert one_free.status is Status.WARN
    assert one_free.evidence == "replication slots 0/1 used (1 free); WAL senders 0/1 used (1 free)"
    with psycopg.connect(pg_legacy.dsn(), autocommit=True) as admin:
        admin.execute("SELECT pg_create_physical_replication_slot('held_by_someone')")
        try:
            none_free = run_all(dsn, dev_config.dms)["replication_capacity"]
        finally:
            admin.execute("SELECT pg_drop_replication_slot('held_by_someone')")
    assert none_free.status is Status.FAIL
    assert "replication slots 1/1 used (0 free)" in none_free.evidence
    assert "max_replication_slots" in none_free.fix


def test_capacity_and_timeout_rules() -> None:
    assert [free_capacity_status(n) for n in (-1, 0, 1, 2)] == [Status.FAIL, Status.FAIL, Status.WARN, Status.PASS]
    assert wal_sender_timeout_ok(0)
    assert wal_sender_timeout_ok(10_000)
    assert not wal_sender_timeout_ok(9_999)


@pytest.mark.parametrize(
    ("user", "status", "evidence"),
    [
        (MIGRATOR, Status.PASS, f"user {MIGRATOR} has REPLICATION"),
        (RDS_STYLE, Status.PASS, f"user {RDS_STYLE} has rds_replication"),
        ("postgres", Status.PASS, "user postgres has SUPERUSER, REPLICATION, rds_replication"),
        (
            NO_REPLICATION,
            Status.FAIL,
            f"user {NO_REPLICATION} has neither REPLICATION, SUPERUSER nor membership in rds_replication",
        ),
    ],
)
def test_replication_privilege(pg: PgServer, dev_config: EnvironmentConfig, user: str, status: Status, evidence: str) -> None:
    result = run_all(pg.dsn("shop", user), dev_config.dms)["replication_privilege"]
    assert (result.status, result.evidence) == (status, evidence)


def test_select_privilege_lists_the_table_without_grant(
    shop: dict[str, CheckResult], pg: PgServer, dev_config: EnvironmentConfig
) -> None:
    result = shop["select_privilege"]
    assert result.status is Status.FAIL
    assert result.evidence == "no SELECT on 1 of 7 relations in scope: public.payroll"
    granted = run_all(pg.dsn("shop", NO_REPLICATION), dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE))["select_privilege"]
    assert (granted.status, granted.evidence) == (Status.PASS, "SELECT on all 7 relations in scope")


def test_primary_keys_fail_for_cdc_and_skip_for_full_load(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    dsn = pg.dsn("shop", MIGRATOR)
    cdc = run_one(dsn, dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE), "primary_keys")
    assert cdc.status is Status.FAIL
    # events_full has REPLICA IDENTITY FULL, audit_log is excluded, other.* is not included
    assert cdc.evidence.startswith("1 tables without primary key or REPLICA IDENTITY FULL: public.events;")
    full_load = run_one(dsn, dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE, migration_type="full-load"), "primary_keys")
    assert full_load.status is Status.SKIP
    assert full_load.evidence.startswith("migration_type full-load: no replication slot, no CDC: replica identity not needed")
    both_excluded = dms_variant(dev_config.dms, exclude=(*SHOP_EXCLUDE, *_rules("events")))
    clean = run_one(dsn, both_excluded, "primary_keys")
    assert clean.status is Status.PASS
    assert "public.events_full" in clean.evidence


def test_lob_sizes_count_as_dms_does(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    """NCLOB (text, json, arrays, composites): characters x 2, x 4 with 4-byte characters; BLOB (bytea): bytes."""
    dsn = pg.dsn("shop", MIGRATOR)
    result = run_one(dsn, dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE), "lob_sizes")
    assert result.status is Status.FAIL
    assert "public.orders.note 78.1 KB (NCLOB)" in result.evidence  # 40000 ASCII characters x 2
    assert "public.orders.attachment 48.8 KB (BLOB)" in result.evidence  # 50000 bytes of bytea
    assert "audit_log" not in result.evidence  # 200 KB as DMS counts it, but excluded
    assert "public.orders.tags" not in result.evidence
    assert "lob_max_size_kb" in result.fix
    raised = run_one(dsn, dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE, lob_max_size_kb=80), "lob_sizes")
    assert raised.status is Status.PASS
    assert "(largest public.orders.note 78.1 KB (NCLOB))" in raised.evidence
    with_audit = run_one(dsn, dms_variant(dev_config.dms, lob_max_size_kb=80), "lob_sizes")
    assert with_audit.status is Status.FAIL
    assert with_audit.evidence.endswith("public.audit_log.line 195.3 KB (NCLOB)")
    wide = run_one(pg.dsn("edge", MIGRATOR), dms_variant(dev_config.dms, lob_max_size_kb=36), "lob_sizes")
    assert wide.status is Status.FAIL
    assert "public.notes.body 39.1 KB (NCLOB)" in wide.evidence  # 20000 ASCII characters
    assert "public.notes.mood 35.2 KB" not in wide.evidence  # 9000 emoji x 4 = 36000 bytes: within 36 KB
    assert (
        run_one(pg.dsn("edge", MIGRATOR), dms_variant(dev_config.dms, lob_max_size_kb=35), "lob_sizes").evidence.count(
            "public.notes.mood 35.2 KB (NCLOB)"
        )
        == 1
    )


def test_lob_sizes_sample_large_tables_and_stay_within_the_budget(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    dsn, dms = pg.dsn("shop", MIGRATOR), dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE, lob_max_size_kb=1024)
    sampled = run_one(dsn, dms, "lob_sizes", lob_full_scan_max_bytes=0, lob_sample_bytes=1)
    assert sampled.status is Status.WARN
    assert "; sampled, so a lower bound: public.events (" in sampled.evidence
    assert "public.orders (0.0031% of pages)" in sampled.evidence
    assert "--lob-scan-seconds 0" in sampled.fix
    spent = run_one(dsn, dms, "lob_sizes", lob_scan_seconds=1e-9)
    assert spent.status is Status.WARN
    assert "public.orders.note (time budget spent; pg_stats average" in spent.evidence


def test_data_types_warn_on_composite_and_tsvector(shop: dict[str, CheckResult]) -> None:
    result = shop["data_types"]
    assert result.status is Status.WARN
    assert "public.orders.price (money_pair: composite)" in result.evidence
    assert "public.orders.search (tsvector: tsvector)" in result.evidence
    assert result.evidence.startswith("2 columns")


def test_generated_always_identity_is_flagged_for_the_target_fix(shop: dict[str, CheckResult]) -> None:
    result = shop["generated_columns"]
    assert result.status is Status.WARN
    assert result.evidence.startswith(
        "1 columns that PostgreSQL fills itself and that refuse an explicit value: "
        "public.customers.id (GENERATED ALWAYS AS IDENTITY); "
    )
    assert result.fix.endswith('ALTER TABLE "public"."customers" ALTER COLUMN "id" SET GENERATED BY DEFAULT;')


def test_sequences_in_scope_are_listed(shop: dict[str, CheckResult]) -> None:
    result = shop["sequences"]
    assert result.status is Status.WARN
    assert result.evidence == (
        "4 sequences in scope (DMS does not carry their values): "
        "public.countdown, public.customers_id_seq, public.invoice_number, public.orders_id_seq"
    )


def test_unlogged_tables_and_materialized_views_warn(shop: dict[str, CheckResult]) -> None:
    result = shop["unreplicated_relations"]
    assert result.status is Status.WARN
    assert result.evidence == (
        "unlogged tables (no WAL, no CDC): public.scratch; materialized views (not replicated): public.order_totals"
    )


def test_database_size_reports_the_largest_tables_in_scope(shop: dict[str, CheckResult]) -> None:
    result = shop["database_size"]
    assert result.status is Status.PASS
    assert result.evidence.startswith("database shop ")
    assert "6 tables in scope" in result.evidence
    largest = result.evidence.split("largest: ")[1].split(", ")
    assert len(largest) == 5
    assert not any("audit_log" in item or "other." in item for item in largest)


# --- issue #18: the source endpoint's settings, sessions, partitions, keys ------------------------------


def test_target_major_must_not_be_older_than_the_source(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    dsn = pg.dsn("clean", MIGRATOR)
    same = run_one(dsn, dev_config.dms, "target_version")
    assert (same.status, same.evidence) == (
        Status.PASS,
        "source PostgreSQL 15, target Aurora PostgreSQL 15 (aurora.engine_version): target >= source",
    )
    older = run_one(dsn, dev_config.dms, "target_version", target_major=14)
    assert older.status is Status.FAIL
    assert "aurora.engine_version to a 15.x" in older.fix


def test_full_load_skips_what_only_cdc_needs(pg_legacy: PgServer, dev_config: EnvironmentConfig) -> None:
    """wal_level=replica and a 5 s wal_sender_timeout fail CDC, but a full-load task needs no slot."""
    results = run_all(pg_legacy.dsn("clean", NO_REPLICATION), dms_variant(dev_config.dms, migration_type="full-load"))
    cdc_only = {
        "wal_level",
        "replication_capacity",
        "slot_wal_retention",
        "wal_sender_timeout",
        "decoding_plugin",
        "replication_privilege",
        "heartbeat_schema",
        "ddl_capture",
        "open_transactions",
        "primary_keys",
    }
    assert {name for name, result in results.items() if result.status is Status.SKIP} == cdc_only | {"secret_password"}
    assert results["wal_level"].evidence == "migration_type full-load: no replication slot, no CDC: not needed"
    assert results["select_privilege"].status is Status.PASS


def test_slot_wal_retention(pg: PgServer, pg_legacy: PgServer, dev_config: EnvironmentConfig) -> None:
    bounded = run_one(pg.dsn("clean", MIGRATOR), dev_config.dms, "slot_wal_retention")
    assert bounded.status is Status.PASS
    assert bounded.evidence.startswith("max_slot_wal_keep_size = 2048 MB (>= max_wal_size 1024 MB); 0 slots")
    unlimited = run_one(pg_legacy.dsn("clean", MIGRATOR), dev_config.dms, "slot_wal_retention")
    assert unlimited.status is Status.WARN
    assert unlimited.evidence.startswith("max_slot_wal_keep_size = -1 (unlimited)")
    with admin(pg_legacy) as conn:
        conn.execute("ALTER SYSTEM SET max_slot_wal_keep_size = '64MB'")
        conn.execute("SELECT pg_reload_conf()")
        try:
            small = run_one(pg_legacy.dsn("clean", MIGRATOR), dev_config.dms, "slot_wal_retention")
        finally:
            conn.execute("ALTER SYSTEM RESET max_slot_wal_keep_size")
            conn.execute("SELECT pg_reload_conf()")
    assert small.status is Status.WARN
    assert small.evidence.startswith("max_slot_wal_keep_size = 64 MB < max_wal_size 1024 MB")


def test_an_inactive_logical_slot_holds_wal_and_proves_the_plugin(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    dsn = pg.dsn("clean", MIGRATOR)
    unverified = run_one(dsn, dev_config.dms, "decoding_plugin")
    assert unverified.status is Status.SKIP  # a REPLICATION user cannot see the library directory
    assert "pg_stat_file" in unverified.fix
    with admin(pg, "clean") as conn:
        conn.execute("SELECT pg_create_logical_replication_slot('left_by_dms', 'test_decoding')")
        try:
            conn.execute("CREATE TABLE public.wal_writer AS SELECT generate_series(1, 5000) AS n")
            conn.execute("DROP TABLE public.wal_writer")
            plugin = run_one(dsn, dev_config.dms, "decoding_plugin")
            held = run_one(dsn, dev_config.dms, "slot_wal_retention")
        finally:
            conn.execute("SELECT pg_drop_replication_slot('left_by_dms')")
    assert (plugin.status, plugin.evidence) == (Status.PASS, "logical slot left_by_dms already decodes with test_decoding")
    assert held.status is Status.WARN
    assert "left_by_dms (logical test_decoding) inactive, holds " in held.evidence
    assert "pg_drop_replication_slot" in held.fix


def test_decoding_plugin_found_or_missing_in_the_library_directory(
    pg: PgServer, dev_config: EnvironmentConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = run_one(pg.dsn("clean"), dev_config.dms, "decoding_plugin")  # superuser: reads PKGLIBDIR
    assert found.status is Status.PASS
    assert found.evidence.endswith("/test_decoding.so exists (the logical decoding plugin DMS uses, PluginName test-decoding)")
    monkeypatch.setattr("migration_ops.preflight.source.DECODING_PLUGIN", "not_installed_decoding")
    missing = run_one(pg.dsn("clean"), dev_config.dms, "decoding_plugin")
    assert missing.status is Status.FAIL
    assert missing.evidence.startswith("not_installed_decoding is not installed in /")
    assert "contrib" in missing.fix


def test_heartbeat_schema_must_exist_and_be_writable(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    absent = run_one(pg.dsn("shop", MIGRATOR), dev_config.dms, "heartbeat_schema")
    assert absent.status is Status.FAIL
    assert absent.evidence.startswith("schema dms_control (dms.source_schema) does not exist")
    assert f'CREATE SCHEMA "dms_control" AUTHORIZATION "{MIGRATOR}"' in absent.fix
    usage_only = run_one(pg.dsn("edge", MIGRATOR), dev_config.dms, "heartbeat_schema")
    assert (usage_only.status, usage_only.evidence) == (
        Status.FAIL,
        f"user {MIGRATOR} lacks CREATE on schema dms_control (dms.source_schema)",
    )
    selected = run_one(
        pg.dsn("clean", MIGRATOR), dms_variant(dev_config.dms, include=_rules("%", schema="%")), "heartbeat_schema"
    )
    assert selected.status is Status.WARN
    assert "the task would replicate its own heartbeat" in selected.evidence


def test_ddl_capture_needs_a_superuser_or_pre_created_artifacts(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    capture = dms_variant(dev_config.dms, capture_ddl=True)
    refused = run_one(pg.dsn("clean", MIGRATOR), capture, "ddl_capture")
    assert refused.status is Status.FAIL
    assert refused.evidence.startswith(f"capture_ddl on, but user {MIGRATOR} is not superuser")
    assert "dms.capture_ddl = false" in refused.fix
    superuser = run_one(pg.dsn("clean"), capture, "ddl_capture")
    assert superuser.status is Status.PASS
    assert superuser.evidence == "capture_ddl on; user postgres is superuser: DMS creates its DDL artifacts in dms_control"
    pre_created = run_one(pg.dsn("edge", MIGRATOR), capture, "ddl_capture")
    assert pre_created.status is Status.PASS
    assert "pre-created by a superuser in dms_control: event trigger awsdms_intercept_ddl" in pre_created.evidence
    left_over = run_one(pg.dsn("edge", MIGRATOR), dev_config.dms, "ddl_capture")
    assert left_over.status is Status.WARN
    assert left_over.evidence.startswith("capture_ddl off, but DMS artifacts from an earlier run are on the source")
    assert "Remove what DMS left on the source" in left_over.fix


def test_open_and_prepared_transactions(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    dsn = pg.dsn("clean", MIGRATOR)
    with admin(pg, "clean") as conn:
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM public.items")
        try:
            long_open = run_one(dsn, dev_config.dms, "open_transactions", long_transaction_seconds=0)
            hidden = run_one(pg.dsn("clean", NO_REPLICATION), dev_config.dms, "open_transactions")
        finally:
            conn.execute("ROLLBACK")
        conn.execute("BEGIN")
        conn.execute("PREPARE TRANSACTION 'two_phase_leftover'")
        try:
            prepared = run_one(dsn, dev_config.dms, "open_transactions")
        finally:
            conn.execute("ROLLBACK PREPARED 'two_phase_leftover'")
    assert long_open.status is Status.WARN
    assert "transactions open longer than 0 s: pid " in long_open.evidence
    assert "postgres@clean idle in transaction" in long_open.evidence
    assert hidden.status is Status.WARN
    assert "sessions of other users not visible to this user" in hidden.evidence
    assert "pg_read_all_stats" in hidden.fix
    assert prepared.status is Status.FAIL
    assert prepared.evidence.startswith("prepared transactions: two_phase_leftover (postgres@clean")
    assert "ROLLBACK PREPARED" in prepared.fix


def test_session_timeouts_that_would_end_dms_sessions(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    result = run_one(pg.dsn("clean", HASTY), dev_config.dms, "session_timeouts")
    assert result.status is Status.FAIL
    assert "idle_in_transaction_session_timeout = 60000 ms (1min for role hasty in database clean)" in result.evidence
    assert "statement_timeout = 300000 ms (5min for role hasty)" in result.evidence
    assert f'ALTER ROLE "{HASTY}" IN DATABASE "clean" SET idle_in_transaction_session_timeout = 0;' in result.fix
    assert f'ALTER ROLE "{HASTY}" IN DATABASE "clean" SET statement_timeout = 0;' in result.fix


def test_partitioned_parent_and_partitions_must_not_both_be_selected(
    pg: PgServer, dev_config: EnvironmentConfig, edge: dict[str, CheckResult]
) -> None:
    both = edge["partitions"]
    assert both.status is Status.FAIL
    assert both.evidence.startswith(
        "partitioned tables selected together with their partitions (the full load copies every row twice): public.measurements"
    )
    assert both.fix == 'add to dms.exclude: { schema_name = "public", table_name = "measurements" }'
    dsn = pg.dsn("edge", MIGRATOR)
    recommended = dms_variant(dev_config.dms, exclude=_rules("measurements"))
    with connect(dsn, read_only=True) as conn:
        context = build_context(conn, recommended, target_major=AURORA_MAJOR)
        partitions = CHECK["partitions"](context)
    assert (partitions.status, partitions.evidence) == (
        Status.PASS,
        "public.measurements: parent excluded, 2 of 2 partitions selected; a new partition during replication is DDL "
        "(DDL freeze)",
    )
    # the parent's serial sequence stays in scope for the cutover's sequence reset
    assert "public.measurements_id_seq" in {r.qualified for r in context.relations}
    parent_only = dms_variant(dev_config.dms, include=_rules("measurements"))
    missed = run_one(dsn, parent_only, "partitions")
    assert missed.status is Status.FAIL
    assert "selected without any partition" in missed.evidence
    loaded = run_one(dsn, dms_variant(parent_only, migration_type="full-load"), "partitions")
    assert (loaded.status, loaded.evidence) == (
        Status.PASS,
        "public.measurements: loaded through the parent (2 partitions; full-load); a new partition during replication "
        "is DDL (DDL freeze)",
    )


def test_foreign_keys_into_tables_left_out(pg: PgServer, dev_config: EnvironmentConfig, edge: dict[str, CheckResult]) -> None:
    result = edge["foreign_keys"]
    assert result.status is Status.FAIL
    assert result.evidence.endswith("reference tables left out (Aurora will not hold their rows): "
                                    "public.stores.stores_region_id_fkey -> archive.regions")  # fmt: skip
    dsn = pg.dsn("edge", MIGRATOR)
    with_archive = (*dev_config.dms.include, *_rules("%", schema="archive"))
    whole = run_one(dsn, dms_variant(dev_config.dms, include=with_archive, exclude=_rules("measurements")), "foreign_keys")
    assert (whole.status, whole.evidence) == (Status.PASS, "2 foreign keys from tables in scope, all into tables in scope")
    one_partition_out = dms_variant(
        dev_config.dms, include=with_archive, exclude=(*_rules("measurements"), *_rules("measurements_2025"))
    )
    partial = run_one(dsn, one_partition_out, "foreign_keys")
    assert partial.status is Status.FAIL
    assert "public.readings.readings_measurement_id_taken_on_fkey -> public.measurements" in partial.evidence


def test_lob_columns_need_a_key_even_with_replica_identity_full(
    pg: PgServer, dev_config: EnvironmentConfig, edge: dict[str, CheckResult]
) -> None:
    result = edge["lob_without_key"]
    assert result.status is Status.FAIL
    assert result.evidence.startswith(
        "1 tables with LOB columns and no primary key or unique index: public.notes (REPLICA IDENTITY FULL; LOBs: body, mood)"
    )
    assert edge["primary_keys"].status is Status.PASS  # REPLICA IDENTITY FULL satisfies CDC, not LOB lookups
    full_load = run_one(pg.dsn("edge", MIGRATOR), dms_variant(dev_config.dms, migration_type="full-load"), "lob_without_key")
    assert full_load.status is Status.WARN


def test_sequences_the_cutover_reads_need_select(edge: dict[str, CheckResult], shop: dict[str, CheckResult]) -> None:
    result = edge["sequence_privilege"]
    assert result.status is Status.FAIL
    assert result.evidence.startswith("no SELECT on 1 of 2 sequences in scope: public.private_counter;")
    assert shop["sequence_privilege"].evidence == "SELECT on all 4 sequences in scope"
