"""`cutover analyze`: VACUUM (ANALYZE) per migrated table on a real PostgreSQL 15, timed, failing per table.

The target database is owned by the superuser; the login role `loader` owns some of its tables, as the Aurora master
user owns the tables it created from the schema dump. A table `loader` does not own is skipped by VACUUM with a
WARNING: it must be FAIL while the others are vacuumed and analyzed (pg_class.reltuples, -1 until a table is first
vacuumed or analyzed, holds the row count afterwards).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migration_ops import cli
from migration_ops.cutover import analyze
from migration_ops.cutover.analyze import FIX_PERMISSION, AnalyzeError, AnalyzeOptions, TableAnalyze, analyze_tables
from migration_ops.results import Status
from plumbing.exit_codes import ExitCode
from tests.migration_ops.pg_server import PgServer, running_server

pytestmark = pytest.mark.postgres
DATABASE = "aurora_like"
LOADER = "loader"
SETUP = f"""
CREATE ROLE {LOADER} LOGIN;
CREATE SCHEMA sales AUTHORIZATION {LOADER};
CREATE TABLE public.orders (id int PRIMARY KEY, note text);
CREATE TABLE sales."Line Items" (id int PRIMARY KEY, order_id int);
CREATE TABLE public.owned_by_admin (id int PRIMARY KEY);
INSERT INTO public.orders SELECT g, 'note ' || g FROM generate_series(1, 500) g;
INSERT INTO sales."Line Items" SELECT g, g % 50 FROM generate_series(1, 300) g;
INSERT INTO public.owned_by_admin SELECT generate_series(1, 10);
ALTER TABLE public.orders OWNER TO {LOADER};
ALTER TABLE sales."Line Items" OWNER TO {LOADER};
"""
OWNED = [("public", "orders"), ("sales", "Line Items")]
NOT_OWNED = ("public", "owned_by_admin")


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with running_server() as started:
        with psycopg.connect(started.dsn(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {DATABASE}")
        with psycopg.connect(started.dsn(DATABASE), autocommit=True) as conn:
            conn.execute(SETUP)
        yield started


@pytest.fixture
def loader(server: PgServer) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(server.dsn(DATABASE, LOADER), autocommit=True) as conn:
        yield conn


def _reltuples(server: PgServer, schema: str, name: str) -> float:
    with psycopg.connect(server.dsn(DATABASE), autocommit=True) as conn:
        row = conn.execute(
            "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relname = %s",
            (schema, name),
        ).fetchone()
    assert row is not None
    return float(row[0])


def test_a_table_the_user_cannot_vacuum_fails_while_the_others_succeed(server: PgServer, loader: psycopg.Connection[Any]) -> None:
    heard: list[TableAnalyze] = []
    tables = [OWNED[0], NOT_OWNED, OWNED[1]]
    results = analyze_tables(loader, tables, on_table=heard.append)
    assert heard == results
    assert [(item.schema, item.name) for item in results] == tables
    by_name = {item.qualified: item for item in results}
    refused = by_name["public.owned_by_admin"]
    assert refused.status is Status.FAIL
    assert "only table or database owner" in refused.error and refused.fix == FIX_PERMISSION
    assert refused.result().status is Status.FAIL and "not vacuumed" in refused.result().evidence
    for schema, name in OWNED:
        done = by_name[f"{schema}.{name}"]
        assert done.status is Status.PASS and done.error == "" and done.seconds >= 0
        assert "VACUUM (ANALYZE) in" in done.result().evidence
    assert _reltuples(server, "public", "orders") == 500
    assert _reltuples(server, "sales", "Line Items") == 300
    assert _reltuples(server, *NOT_OWNED) == -1, "the skipped table was neither vacuumed nor analyzed"


def test_times_are_reported_per_table(loader: psycopg.Connection[Any]) -> None:
    ticks = itertools.count(step=2.5)
    results = analyze_tables(loader, OWNED, clock=lambda: next(ticks))
    assert [item.seconds for item in results] == [2.5, 2.5]
    assert [item.as_dict()["seconds"] for item in results] == [2.5, 2.5]


def test_a_missing_table_fails_and_the_next_still_runs(loader: psycopg.Connection[Any]) -> None:
    results = analyze_tables(loader, [("public", "not_there"), OWNED[0]])
    assert results[0].status is Status.FAIL and "no such table on the target" in results[0].error
    assert "create the table on Aurora" in results[0].fix
    assert results[1].status is Status.PASS


def test_vacuum_needs_autocommit(server: PgServer) -> None:
    with psycopg.connect(server.dsn(DATABASE, LOADER)) as conn, pytest.raises(AnalyzeError, match="autocommit"):
        analyze_tables(conn, OWNED)


def test_a_read_only_session_is_refused_up_front(server: PgServer) -> None:
    dsn = server.dsn(DATABASE, LOADER) + "?options=-c%20default_transaction_read_only%3Don"
    with psycopg.connect(dsn, autocommit=True) as conn, pytest.raises(AnalyzeError, match="read-only"):
        analyze_tables(conn, OWNED)


def test_run_analyze_exit_codes(server: PgServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TARGET_DSN", server.dsn(DATABASE, LOADER))
    options = AnalyzeOptions(target_dsn_env="TARGET_DSN")
    assert analyze.run_analyze(options, OWNED) == ExitCode.OK
    assert "2 passed" in capsys.readouterr().out
    assert analyze.run_analyze(options, [*OWNED, NOT_OWNED], json_output=True) == ExitCode.FAILED
    document = json.loads(capsys.readouterr().out)
    assert [table["status"] for table in document["tables"]] == ["pass", "pass", "fail"]
    assert all(isinstance(table["seconds"], float) for table in document["tables"])
    assert analyze.run_analyze(AnalyzeOptions(target_dsn_env="UNSET_TARGET_DSN"), OWNED) == ExitCode.ERROR
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and "UNSET_TARGET_DSN" in captured.err
    assert analyze.run_analyze(options, []) == ExitCode.ERROR


def test_arguments() -> None:
    import argparse

    parser = analyze.add_analyze_arguments(argparse.ArgumentParser(prog="cutover analyze"))
    assert cli.options_from(parser.parse_args(["--target-dsn-env", "T"]), AnalyzeOptions) == AnalyzeOptions(target_dsn_env="T")
    with pytest.raises(SystemExit):
        parser.parse_args([])
