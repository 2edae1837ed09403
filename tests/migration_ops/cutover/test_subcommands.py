"""`cutover snapshot`, `cutover analyze` and `cutover report` through the command line.

snapshot: moto's RDS (an Aurora PostgreSQL cluster; moto's snapshots are `available` at once). analyze: real
PostgreSQL 15 databases whose table sets differ (scope_fixtures.py). The record `report` prints: test_stop_record.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from migration_ops.cutover import command as cutover
from tests.migration_ops.cutover.scope_fixtures import KEPT, LOADED, ScopeDatabases, scope_databases, write_config
from tests.migration_ops.helpers import moto_rds
from tests.migration_ops.pg_server import PgServer

REGION = "eu-west-1"
CLUSTER = "aurora-migration-cluster-dev"


def test_help_lists_the_new_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cutover.main(["--help"])
    out = capsys.readouterr().out
    for name in ("snapshot", "analyze", "report"):
        assert f"    {name}" in out


# --- snapshot -----------------------------------------------------------------------------------


@pytest.fixture
def rds(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_rds(monkeypatch, region=REGION, cluster=CLUSTER) as client:
        yield client


def test_snapshot_of_the_stacks_cluster(rds: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"cluster_id": {"sensitive": False, "type": "string", "value": CLUSTER}}))
    argv = ["snapshot", "--env", "dev", "--outputs", str(outputs), "--snapshot-id", "before-cutover-1", "--json"]
    assert cutover.main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["snapshot"]["cluster_id"], document["snapshot"]["outcome"]) == (CLUSTER, "available")
    [found] = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="before-cutover-1")["DBClusterSnapshots"]
    assert found["DBClusterIdentifier"] == CLUSTER and found["SnapshotType"] == "manual"

    assert cutover.main(["snapshot", "--cluster-id", CLUSTER, "--region", REGION]) == 0
    assert f"PASS    snapshot  cluster snapshot {CLUSTER}-cutover-" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["snapshot", "--region", REGION], "give --env or --config (to find the stack's outputs), or --cluster-id"),
        (["snapshot", "--cluster-id", "no-such-cluster", "--region", REGION], "no such cluster"),
    ],
)
def test_snapshot_errors_are_exit_2(rds: Any, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert cutover.main(argv) == 2
    [error] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]  # besides progress
    assert message in error


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--snapshot-id", "1-bad", "must start with a letter"), ("--timeout-minutes", "nan", "finite number")],
)
def test_snapshot_arguments_are_checked(capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str) -> None:
    with pytest.raises(SystemExit) as raised:
        cutover.main(["snapshot", "--cluster-id", CLUSTER, "--region", REGION, flag, value])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


# --- analyze ------------------------------------------------------------------------------------


@pytest.fixture
def dbs(pg: PgServer) -> Iterator[ScopeDatabases]:
    yield from scope_databases(pg)


def _analyzed(dsn: str, table: str) -> bool:
    """The table has planner statistics: ANALYZE ran on it (pg_statistic rows)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_statistic WHERE starelid = %s::regclass", (table,)).fetchone()
    assert row is not None
    return int(row[0]) > 0


@pytest.mark.postgres
def test_analyze_vacuums_the_migrated_tables_and_analyzes_their_partitioned_parents(
    dbs: ScopeDatabases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANALYZE_SOURCE", dbs.dsn(dbs.source))
    monkeypatch.setenv("ANALYZE_TARGET", dbs.dsn(dbs.target))
    argv = ["analyze", "--config", str(write_config(tmp_path)), "--dsn-env", "ANALYZE_SOURCE",
            "--target-dsn-env", "ANALYZE_TARGET"]  # fmt: skip
    target = dbs.dsn(dbs.target)
    assert not any(_analyzed(target, table) for table in (*LOADED, *KEPT, "public.measurements"))

    assert cutover.main([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    done = [(f"{table['schema']}.{table['name']}", table["statement"], table["status"]) for table in document["tables"]]
    assert done == [*((table, "VACUUM (ANALYZE)", "pass") for table in LOADED), ("public.measurements", "ANALYZE", "pass")]
    assert "not on the target, skipped: public.source_only" in captured.err
    assert all(_analyzed(target, table) for table in (*LOADED, "public.measurements"))
    assert not any(_analyzed(target, table) for table in KEPT), "tables DMS does not load are left alone"

    assert cutover.main(argv) == 0
    out = capsys.readouterr().out
    assert f"VACUUM (ANALYZE) of {len(LOADED)} tables and ANALYZE of 1 partitioned tables on postgres@" in out
    assert "PASS    public.measurements" in out and "ANALYZE in" in out


@pytest.mark.postgres
def test_analyze_refuses_the_reader_and_needs_a_config(
    dbs: ScopeDatabases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANALYZE_SOURCE", dbs.dsn(dbs.source))
    monkeypatch.setenv("ANALYZE_TARGET", dbs.dsn(dbs.target) + "?options=-c%20default_transaction_read_only%3Don")
    argv = ["analyze", "--dsn-env", "ANALYZE_SOURCE", "--target-dsn-env", "ANALYZE_TARGET"]
    assert cutover.main(argv) == 2
    assert "analyze needs --env or --config" in capsys.readouterr().err
    assert cutover.main([*argv, "--config", str(write_config(tmp_path))]) == 2
    [error] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert error == "error: target: the session is read-only (default_transaction_read_only): connect without it"


# --- report -------------------------------------------------------------------------------------


def test_report_without_a_record_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cutover.main(["report", str(tmp_path)]) == 2
    assert "no cutover record" in capsys.readouterr().err
