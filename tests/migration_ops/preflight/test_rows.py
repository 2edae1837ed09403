"""Preflight sees the rows DMS will not: row-level security and old-style inheritance, on a real PostgreSQL 15."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from config import EnvironmentConfig
from config.model import DmsConfig, TableSelection
from migration_ops.postgres import connect
from migration_ops.preflight.checks import CHECKS, build_context
from migration_ops.results import CheckResult, Status
from tests.migration_ops.helpers import dms_variant
from tests.migration_ops.pg_server import PgServer

pytestmark = pytest.mark.postgres
CHECK = dict(CHECKS)
DATABASE = "rows_seen"
READER = "rls_reader"  # the DMS user of this module: REPLICATION, SELECT, owns public.ledger and public.vault
DBA = "postgres"

ROLE_SQL = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER}') THEN CREATE ROLE {READER} LOGIN REPLICATION; END IF;
END $$;
"""

SCHEMA_SQL = f"""
-- row-level security: a tenant policy, an owner's table, an owner's table under FORCE with no policy
CREATE TABLE public.accounts (id int PRIMARY KEY, tenant text NOT NULL);
INSERT INTO public.accounts SELECT g, CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END FROM generate_series(1, 10) g;
ALTER TABLE public.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.accounts USING (tenant = 'even');
CREATE TABLE public.ledger (id int PRIMARY KEY);
INSERT INTO public.ledger SELECT generate_series(1, 5);
ALTER TABLE public.ledger OWNER TO {READER};
ALTER TABLE public.ledger ENABLE ROW LEVEL SECURITY;
CREATE TABLE public.vault (id int PRIMARY KEY);
INSERT INTO public.vault SELECT generate_series(1, 3);
ALTER TABLE public.vault OWNER TO {READER};
ALTER TABLE public.vault ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.vault FORCE ROW LEVEL SECURITY;
-- old-style inheritance: a parent with rows of its own, a parent that is only a template
CREATE SCHEMA fleet;
CREATE TABLE fleet.vehicles (id int PRIMARY KEY, name text);
CREATE TABLE fleet.cars (seats int) INHERITS (fleet.vehicles);
CREATE TABLE fleet.trucks (axles int) INHERITS (fleet.vehicles);
ALTER TABLE fleet.cars ADD PRIMARY KEY (id);
ALTER TABLE fleet.trucks ADD PRIMARY KEY (id);
INSERT INTO fleet.vehicles VALUES (1, 'bicycle');
INSERT INTO fleet.cars VALUES (2, 'hatchback', 4), (3, 'van', 7);
INSERT INTO fleet.trucks VALUES (4, 'tipper', 3);
CREATE TABLE fleet.log_base (at timestamptz NOT NULL, line text);
CREATE TABLE fleet.log_2025 () INHERITS (fleet.log_base);
INSERT INTO fleet.log_2025 VALUES (now(), 'one'), (now(), 'two');
-- a declarative partition is not inheritance
CREATE TABLE fleet.trips (id int, day date NOT NULL) PARTITION BY RANGE (day);
CREATE TABLE fleet.trips_2025 PARTITION OF fleet.trips FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
GRANT USAGE ON SCHEMA fleet TO {READER};
GRANT SELECT ON ALL TABLES IN SCHEMA public, fleet TO {READER};
"""


@pytest.fixture(scope="module")
def database(pg: PgServer) -> Iterator[PgServer]:
    with psycopg.connect(pg.dsn(), autocommit=True) as admin:
        admin.execute(ROLE_SQL)
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    with psycopg.connect(pg.dsn(DATABASE), autocommit=True) as conn:
        conn.execute(SCHEMA_SQL)
    yield pg
    with psycopg.connect(pg.dsn(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {DATABASE}")
        admin.execute(f"ALTER ROLE {READER} NOBYPASSRLS")


def _rules(*pairs: tuple[str, str]) -> tuple[TableSelection, ...]:
    return tuple(TableSelection(schema_name=schema, table_name=table) for schema, table in pairs)


def run_one(dsn: str, dms: DmsConfig, name: str) -> CheckResult:
    with connect(dsn, read_only=True, statement_timeout_seconds=30) as conn:
        return CHECK[name](build_context(conn, dms, target_major=15))


def count(dsn: str, query: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


# --- row-level security ------------------------------------------------------------------------------------


def test_row_security_fails_when_policies_hide_rows_from_the_dms_user(database: PgServer, dev_config: EnvironmentConfig) -> None:
    reader = database.dsn(DATABASE, READER)
    # what DMS's full load would read as this user: nothing errors, rows are simply missing
    assert count(reader, "SELECT count(*) FROM public.accounts") == 5
    assert count(reader, "SELECT count(*) FROM public.vault") == 0
    assert count(reader, "SELECT count(*) FROM public.ledger") == 5
    result = run_one(reader, dev_config.dms, "row_security")
    assert result.status is Status.FAIL
    assert result.evidence.startswith(
        f"row-level security filters what user {READER} reads from 2 tables in scope: "
        "public.accounts (policies: tenant_isolation), "
        "public.vault (FORCE ROW LEVEL SECURITY, no policy: default deny, DMS reads no row); "
        f"DMS's full load and validation run as {READER} and silently miss the rows the policies hide"
    )
    assert result.evidence.endswith(f"; owned by {READER} (the owner is exempt): public.ledger")
    assert f'ALTER ROLE "{READER}" BYPASSRLS;' in result.fix
    assert '{ schema_name = "public", table_name = "accounts" }' in result.fix


def test_row_security_passes_for_bypassrls_superuser_or_when_out_of_scope(
    database: PgServer, dev_config: EnvironmentConfig
) -> None:
    reader = database.dsn(DATABASE, READER)
    excluded = run_one(
        reader, dms_variant(dev_config.dms, exclude=_rules(("public", "accounts"), ("public", "vault"))), "row_security"
    )
    assert (excluded.status, excluded.evidence) == (
        Status.PASS,
        f"1 tables in scope with row-level security, all owned by {READER}; owned by {READER} (the owner is exempt): "
        "public.ledger",
    )
    superuser = run_one(database.dsn(DATABASE), dev_config.dms, "row_security")
    assert (superuser.status, superuser.evidence) == (
        Status.PASS,
        f"user {DBA} is superuser, so no policy filters its reads: public.accounts, public.ledger, public.vault",
    )
    with psycopg.connect(database.dsn(), autocommit=True) as admin:
        admin.execute(f"ALTER ROLE {READER} BYPASSRLS")
        try:
            bypass = run_one(reader, dev_config.dms, "row_security")
            assert count(reader, "SELECT count(*) FROM public.accounts") == 10
        finally:
            admin.execute(f"ALTER ROLE {READER} NOBYPASSRLS")
    assert bypass.status is Status.PASS
    assert bypass.evidence.startswith(f"user {READER} is BYPASSRLS")
    nothing = run_one(reader, dms_variant(dev_config.dms, include=_rules(("fleet", "%"))), "row_security")
    assert (nothing.status, nothing.evidence) == (Status.PASS, "no table in scope has row-level security enabled")


# --- old-style inheritance ------------------------------------------------------------------------------------

FLEET = _rules(("fleet", "%"))


def test_inheritance_warns_when_a_parent_and_its_children_are_both_selected(
    database: PgServer, dev_config: EnvironmentConfig
) -> None:
    reader = database.dsn(DATABASE, READER)
    # a parent read without ONLY, as DMS reads it, returns its children's rows too
    assert count(reader, "SELECT count(*) FROM fleet.vehicles") == 4
    assert count(reader, "SELECT count(*) FROM ONLY fleet.vehicles") == 1
    result = run_one(reader, dms_variant(dev_config.dms, include=FLEET), "inheritance")
    assert result.status is Status.WARN
    assert result.evidence == (
        "old-style inheritance (INHERITS) in scope: parents selected with their children, whose rows DMS reads again "
        "through the parent (no ONLY) and so writes twice, into each child and into the parent on Aurora, where an "
        "INSERT stays in the parent (a SELECT of the parent there returns them twice): "
        "fleet.log_base (no rows of its own) with fleet.log_2025; "
        "fleet.vehicles (holds rows of its own) with fleet.cars, fleet.trucks"
    )
    assert "trips" not in result.evidence  # a partitioned table is the partitions check's business
    assert 'add to dms.exclude: { schema_name = "fleet", table_name = "log_base" }' in result.fix
    assert 'INSERT INTO <child> SELECT * FROM ONLY "fleet"."vehicles"; DELETE FROM ONLY "fleet"."vehicles";' in result.fix
    assert 'then add to dms.exclude: { schema_name = "fleet", table_name = "vehicles" }' in result.fix


def test_inheritance_with_one_side_excluded(database: PgServer, dev_config: EnvironmentConfig) -> None:
    reader = database.dsn(DATABASE, READER)
    children_only = dms_variant(dev_config.dms, include=FLEET, exclude=_rules(("fleet", "log[_]base"), ("fleet", "vehicles")))
    result = run_one(reader, children_only, "inheritance")
    assert result.status is Status.WARN  # vehicles' own row (the bicycle) would be left behind
    assert result.evidence == (
        "old-style inheritance (INHERITS) in scope: parents excluded whose own rows are then not migrated: "
        "fleet.vehicles (holds rows of its own)"
    )
    template_only = dms_variant(dev_config.dms, include=_rules(("fleet", "log%")), exclude=_rules(("fleet", "log[_]base")))
    clean = run_one(reader, template_only, "inheritance")
    assert (clean.status, clean.evidence) == (Status.PASS, "fleet.log_base: parent excluded, children selected: fleet.log_2025")
    parent_only = dms_variant(dev_config.dms, include=_rules(("fleet", "log[_]base")))
    missed = run_one(reader, parent_only, "inheritance")
    assert missed.status is Status.WARN
    assert missed.evidence == (
        "old-style inheritance (INHERITS) in scope: parents selected without their children (the full load copies "
        "the children's rows into the parent on Aurora; their changes, decoded under the children's names, are not "
        "replicated): fleet.log_base without fleet.log_2025"
    )
    assert missed.fix.endswith(
        'add to dms.exclude: { schema_name = "fleet", table_name = "log_base" }, then include fleet.log_2025'
    )
    loaded = run_one(reader, dms_variant(parent_only, migration_type="full-load"), "inheritance")
    assert loaded.status is Status.WARN
    assert "(the full load copies the children's rows into the parent on Aurora): fleet.log_base" in loaded.evidence
    plain = run_one(reader, dev_config.dms, "inheritance")  # public only
    assert (plain.status, plain.evidence) == (Status.PASS, "no old-style inheritance (INHERITS) among the tables in scope")


def test_partitions_are_not_reported_as_inheritance(pg: PgServer, dev_config: EnvironmentConfig) -> None:
    result = run_one(pg.dsn("edge", "migrator"), dev_config.dms, "inheritance")
    assert (result.status, result.evidence) == (Status.PASS, "no old-style inheritance (INHERITS) among the tables in scope")
