"""Two throw-away PostgreSQL 15 servers for the ops tests, one per session.

`pg`: wal_level=logical, 4 slots/senders, max_slot_wal_keep_size 2GB, 2 prepared transactions, with databases
  shop      every preflight problem at once (see SHOP_SQL)
  clean     everything passes
  warnonly  only warnings (a sequence)
  target    the same sequences as shop, at their start (sequence reset target)
  edge      partitions, a foreign key out of scope, LOBs without a key, a sequence without SELECT,
            pre-created DDL capture artifacts, a heartbeat schema without CREATE (see EDGE_SQL)
`pg_legacy`: wal_level=replica, wal_sender_timeout=5s, 1 slot and 1 sender, max_slot_wal_keep_size unlimited.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import psycopg
import pytest

from config import EnvironmentConfig, load_environment
from config.dms import DmsConfig
from config.loader import CONFIG_DIR
from migration_ops import postgres
from tests.migration_ops.pg_server import BinaryMissingError, PgServer, start_server


@pytest.fixture(autouse=True)
def _no_remembered_dsns() -> Iterator[None]:
    """What one test's process read (passwords to scrub, the variable a DSN came from) is module state of
    migration_ops.postgres: start and end each test without it, so no test depends on the order tests run in."""
    postgres.forget_secrets()
    yield
    postgres.forget_secrets()


EXAMPLE_RDS_CA = CONFIG_DIR / "certs" / "example-rds-ca.pem"


def dms_scope(**fields: object) -> DmsConfig:
    """A `[dms]` table of the defaults (the scope `%.%`) plus `fields`; the target CA is required, so the example one."""
    return DmsConfig.model_validate({"target_ca_certificate_file": EXAMPLE_RDS_CA, **fields})


MIGRATOR = "migrator"  # REPLICATION, SELECT on everything in scope except public.payroll
NO_REPLICATION = "reporting"  # SELECT on everything, no REPLICATION
RDS_STYLE = "rds_style"  # member of rds_replication
HASTY = "hasty"  # REPLICATION, but session timeouts that would end DMS's sessions
SOURCE_SCHEMA = "dms_control"  # dms.source_schema default: DMS's heartbeat table goes here

ROLES_SQL = f"""
CREATE ROLE {MIGRATOR} LOGIN REPLICATION;
GRANT pg_read_all_stats TO {MIGRATOR};
CREATE ROLE {NO_REPLICATION} LOGIN;
CREATE ROLE rds_replication NOLOGIN;
CREATE ROLE {RDS_STYLE} LOGIN IN ROLE rds_replication;
CREATE ROLE {HASTY} LOGIN REPLICATION;
ALTER ROLE {HASTY} SET statement_timeout = '5min';
"""

GRANTS_SQL = f"""
GRANT SELECT ON ALL TABLES IN SCHEMA public TO {MIGRATOR}, {NO_REPLICATION}, {RDS_STYLE}, {HASTY};
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {MIGRATOR}, {NO_REPLICATION}, {RDS_STYLE}, {HASTY};
"""

HEARTBEAT_SCHEMA_SQL = f"""
CREATE SCHEMA {SOURCE_SCHEMA};
GRANT USAGE, CREATE ON SCHEMA {SOURCE_SCHEMA} TO {MIGRATOR}, {RDS_STYLE}, {HASTY};
"""

SEQUENCES_SQL = """
CREATE TABLE public.customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name varchar(200) NOT NULL);
CREATE TABLE public.orders (
    id serial PRIMARY KEY, customer_id bigint, note text, attachment bytea, price public.money_pair,
    search tsvector, tags text[]
);
CREATE SEQUENCE public.invoice_number START 5000;
CREATE SEQUENCE public.countdown INCREMENT -1 START 0 MINVALUE -1000000 MAXVALUE 0;
CREATE SEQUENCE other.unrelated_seq;
"""

SHOP_SQL = f"""
CREATE SCHEMA other;
CREATE TYPE public.money_pair AS (amount numeric, currency text);
{SEQUENCES_SQL}
INSERT INTO public.customers (name) SELECT 'customer ' || g FROM generate_series(1, 42) g;
INSERT INTO public.orders (customer_id, note, attachment, price, search, tags)
    SELECT g, 'short note', '\\x00ff'::bytea, ROW(9.99, 'EUR'::text)::public.money_pair,
           to_tsvector('simple', 'red shoe'), ARRAY['a']
      FROM generate_series(1, 10) g;
INSERT INTO public.orders (customer_id, note, attachment) VALUES (1, repeat('x', 40000), decode(repeat('ab', 50000), 'hex'));
SELECT nextval('public.invoice_number') FROM generate_series(1, 7);
SELECT nextval('public.countdown') FROM generate_series(1, 3);
CREATE TABLE public.events (payload jsonb, happened_at timestamptz);
CREATE TABLE public.events_full (payload jsonb, happened_at timestamptz);
ALTER TABLE public.events_full REPLICA IDENTITY FULL;
CREATE TABLE public.payroll (id int PRIMARY KEY, amount numeric);
CREATE UNLOGGED TABLE public.scratch (id int PRIMARY KEY);
CREATE MATERIALIZED VIEW public.order_totals AS SELECT customer_id, count(*) AS orders FROM public.orders GROUP BY 1;
CREATE TABLE public.audit_log (line text);
INSERT INTO public.audit_log VALUES (repeat('y', 100000));
CREATE TABLE other.not_in_scope (line text);
ANALYZE;
{GRANTS_SQL}
REVOKE SELECT ON public.payroll FROM {MIGRATOR};
"""

CLEAN_SQL = f"""
CREATE TABLE public.items (id int PRIMARY KEY, label text, details jsonb, price numeric(10, 2));
INSERT INTO public.items SELECT g, 'item ' || g, jsonb_build_object('n', g), g * 1.5 FROM generate_series(1, 100) g;
ANALYZE public.items;
{GRANTS_SQL}
{HEARTBEAT_SCHEMA_SQL}
ALTER ROLE {HASTY} IN DATABASE clean SET idle_in_transaction_session_timeout = '1min';
"""

WARNONLY_SQL = f"""
CREATE TABLE public.tickets (id bigserial PRIMARY KEY, title text);
INSERT INTO public.tickets (title) VALUES ('one'), ('two');
{GRANTS_SQL}
{HEARTBEAT_SCHEMA_SQL}
"""

# The event trigger comes last: it fires on every later CREATE/ALTER/DROP TABLE in this database.
EDGE_SQL = rf"""
CREATE SCHEMA {SOURCE_SCHEMA};
GRANT USAGE ON SCHEMA {SOURCE_SCHEMA} TO {MIGRATOR};
CREATE SCHEMA archive;
CREATE TABLE archive.regions (id int PRIMARY KEY, name text);
CREATE TABLE public.stores (id int PRIMARY KEY, region_id int REFERENCES archive.regions (id));
CREATE TABLE public.measurements (
    id bigserial, taken_on date NOT NULL, reading numeric, PRIMARY KEY (id, taken_on)
) PARTITION BY RANGE (taken_on);
CREATE TABLE public.measurements_2024 PARTITION OF public.measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE public.measurements_2025 PARTITION OF public.measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO public.measurements (taken_on, reading) SELECT date '2024-06-01' + g * 3, g FROM generate_series(1, 100) g;
CREATE TABLE public.readings (
    id int PRIMARY KEY, measurement_id bigint, taken_on date,
    FOREIGN KEY (measurement_id, taken_on) REFERENCES public.measurements (id, taken_on)
);
CREATE TABLE public.notes (body text, mood text, written_at timestamptz);
ALTER TABLE public.notes REPLICA IDENTITY FULL;
INSERT INTO public.notes VALUES (repeat('n', 20000), repeat(U&'\+01F600', 9000), now()), ('short', 'ok', now());
CREATE SEQUENCE public.private_counter;
ANALYZE;
{GRANTS_SQL}
REVOKE SELECT ON SEQUENCE public.private_counter FROM {MIGRATOR};
CREATE TABLE {SOURCE_SCHEMA}.awsdms_ddl_audit (c_key bigserial PRIMARY KEY, c_tag varchar(24), c_ddlqry text);
CREATE FUNCTION {SOURCE_SCHEMA}.awsdms_intercept_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER awsdms_intercept_ddl ON ddl_command_end EXECUTE FUNCTION {SOURCE_SCHEMA}.awsdms_intercept_ddl();
"""

TARGET_SQL = f"""
CREATE SCHEMA other;
CREATE TYPE public.money_pair AS (amount numeric, currency text);
{SEQUENCES_SQL}
"""


def _execute(dsn: str, script: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(script)


PG_SETTINGS = {
    "wal_level": "logical",
    "max_replication_slots": "4",
    "max_wal_senders": "4",
    "max_slot_wal_keep_size": "2GB",
    "max_prepared_transactions": "2",
}
LEGACY_SETTINGS = {"wal_level": "replica", "wal_sender_timeout": "5s", "max_replication_slots": "1", "max_wal_senders": "1"}


def _create_database(server: PgServer, name: str, script: str) -> None:
    _execute(server.dsn(), f"CREATE DATABASE {name} STRATEGY FILE_COPY")
    _execute(server.dsn(name), script)


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[PgServer, PgServer]]:
    """Both servers, initialized and started in parallel (initdb dominates the suite's setup time)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(start_server, settings) for settings in (PG_SETTINGS, LEGACY_SETTINGS)]
        wait(futures)
    started = [future.result() for future in futures if future.exception() is None]
    try:
        errors = [future.exception() for future in futures if future.exception() is not None]
        missing = next((error for error in errors if isinstance(error, BinaryMissingError)), None)
        if missing is not None:
            pytest.skip(f"postgres: {missing}")
        if errors:
            raise RuntimeError(f"PostgreSQL did not start: {errors[0]}")
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="session")
def pg(servers: tuple[PgServer, PgServer]) -> PgServer:
    server = servers[0]
    _execute(server.dsn(), ROLES_SQL)
    databases = (
        ("shop", SHOP_SQL),
        ("clean", CLEAN_SQL),
        ("warnonly", WARNONLY_SQL),
        ("target", TARGET_SQL),
        ("edge", EDGE_SQL),
    )
    for name, script in databases:
        _create_database(server, name, script)
    return server


@pytest.fixture(scope="session")
def pg_legacy(servers: tuple[PgServer, PgServer]) -> PgServer:
    server = servers[1]
    _execute(server.dsn(), ROLES_SQL)
    _create_database(server, "clean", CLEAN_SQL)
    return server


@pytest.fixture(scope="session")
def dev_config() -> EnvironmentConfig:
    return load_environment(CONFIG_DIR / "dev.toml")


@pytest.fixture(scope="session")
def dev_config_path() -> Path:
    return CONFIG_DIR / "dev.toml"
