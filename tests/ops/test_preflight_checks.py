"""Every preflight check against real PostgreSQL 15 servers: once passing, once warning or failing."""

from __future__ import annotations

import psycopg
import pytest

from config import EnvironmentConfig
from config.model import TableSelection
from migration_ops.preflight_checks import CHECKS, free_capacity_status, required_dms_engine, wal_sender_timeout_ok
from migration_ops.results import CheckResult, Status
from migration_ops.source_db import connect
from tests.ops.conftest import MIGRATOR, NO_REPLICATION, RDS_STYLE
from tests.ops.helpers import SHOP_EXCLUDE, dms_variant, run_all
from tests.ops.pg_server import PgServer

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def shop(pg: PgServer, dev_config: EnvironmentConfig) -> dict[str, CheckResult]:
    return run_all(pg.dsn("shop", MIGRATOR), dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE))


def test_clean_database_passes_every_check(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    results = run_all(pg.dsn("clean", MIGRATOR), dev_config.dms)
    assert list(results) == [name for name, _ in CHECKS]
    assert {name: r.status for name, r in results.items()} == dict.fromkeys(results, Status.PASS)
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
    assert all(not r.fix for r in results.values())


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


def test_primary_keys_fail_for_cdc_and_warn_for_full_load(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    dsn = pg.dsn("shop", MIGRATOR)
    cdc = run_all(dsn, dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE))["primary_keys"]
    assert cdc.status is Status.FAIL
    # events_full has REPLICA IDENTITY FULL, audit_log is excluded, other.* is not included
    assert cdc.evidence.startswith("1 tables without primary key or REPLICA IDENTITY FULL: public.events;")
    full_load = run_all(dsn, dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE, migration_type="full-load"))["primary_keys"]
    assert full_load.status is Status.WARN
    both_excluded = dms_variant(dev_config.dms, exclude=(*SHOP_EXCLUDE, *_rules("events")))
    clean = run_all(dsn, both_excluded)["primary_keys"]
    assert clean.status is Status.PASS
    assert "public.events_full" in clean.evidence


def _rules(table: str) -> tuple[TableSelection, ...]:
    return (TableSelection(schema_name="public", table_name=table),)


def test_lob_sizes_name_the_oversized_columns(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    dsn = pg.dsn("shop", MIGRATOR)
    result = run_all(dsn, dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE))["lob_sizes"]
    assert result.status is Status.FAIL
    assert "public.orders.note 39.1 KB" in result.evidence  # 40000 bytes of text
    assert "public.orders.attachment 48.8 KB" in result.evidence  # 50000 bytes of bytea
    assert "audit_log" not in result.evidence  # 100 KB, but excluded
    assert "public.orders.tags" not in result.evidence
    assert "lob_max_size_kb" in result.fix
    raised = run_all(dsn, dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE, lob_max_size_kb=64))["lob_sizes"]
    assert raised.status is Status.PASS
    with_audit = run_all(dsn, dms_variant(dev_config.dms, lob_max_size_kb=64))["lob_sizes"]
    assert with_audit.status is Status.FAIL
    assert with_audit.evidence.endswith("public.audit_log.line 97.7 KB")


def test_data_types_warn_on_composite_and_tsvector(shop: dict[str, CheckResult]) -> None:
    result = shop["data_types"]
    assert result.status is Status.WARN
    assert "public.orders.price (money_pair: composite)" in result.evidence
    assert "public.orders.search (tsvector: tsvector)" in result.evidence
    assert result.evidence.startswith("2 columns")


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
