"""`cutover stop` refuses to lose data, `freeze-sql` freezes for real (`reload`: test_reload.py).

AWS: moto in-process (task, CloudWatch latency datapoints), DescribeTableStatistics and AddTagsToResource
answered from botocore's model (tests/migration_ops/dms_fake.py). Source and target: the real PostgreSQL 15 server.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from migration_ops import catalog
from migration_ops.cutover import command as cutover
from migration_ops.cutover.freeze import freeze_checks
from migration_ops.cutover.freeze_sql import FreezeScript, freeze_script
from migration_ops.results import Status
from tests.migration_ops.conftest import MIGRATOR, dms_scope
from tests.migration_ops.dms_fake import ModelAnswers, put_latency, started_task, steady_latency, table_stat, task_state
from tests.migration_ops.pg_server import PgServer

pytestmark = pytest.mark.postgres
_COUNTER = itertools.count()
SAMPLE = "0.3"
TABLES = ("public.accounts", "public.ledger")


def _script(app: str) -> str:
    return f"""
CREATE TABLE public.accounts (id int PRIMARY KEY, balance numeric);
CREATE TABLE public.ledger (line text);
INSERT INTO public.accounts SELECT g, g * 10 FROM generate_series(1, 5) g;
INSERT INTO public.ledger VALUES ('opening');
CREATE SCHEMA dms_control;
CREATE TABLE dms_control.awsdms_heartbeat (hearbeat_id serial PRIMARY KEY, hearbeat_timestamp timestamp);
GRANT USAGE ON SCHEMA dms_control TO {MIGRATOR};
GRANT SELECT, INSERT, UPDATE ON dms_control.awsdms_heartbeat TO {MIGRATOR};
GRANT USAGE ON SEQUENCE dms_control.awsdms_heartbeat_hearbeat_id_seq TO {MIGRATOR};
GRANT SELECT ON ALL TABLES IN SCHEMA public TO {MIGRATOR};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app};
"""


@dataclass(frozen=True)
class Databases:
    server: PgServer
    source: str
    target: str
    app: str

    def dsn(self, database: str, user: str = "postgres") -> str:
        return self.server.dsn(database, user)


@pytest.fixture
def dbs(pg: PgServer) -> Iterator[Databases]:
    """A source and a target database with the same two tables, and an application role that writes to the source."""
    number = next(_COUNTER)
    found = Databases(server=pg, source=f"cutover_src_{number}", target=f"cutover_tgt_{number}", app=f"cutover_app_{number}")
    with psycopg.connect(pg.dsn(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {found.app} LOGIN")
        for database in (found.source, found.target):
            admin.execute(f"CREATE DATABASE {database} STRATEGY WAL_LOG")
            with psycopg.connect(pg.dsn(database), autocommit=True) as conn:
                conn.execute(_script(found.app))
    yield found
    with psycopg.connect(pg.dsn(), autocommit=True) as admin:
        for database in (found.source, found.target):
            admin.execute(f"DROP DATABASE {database} WITH (FORCE)")
        admin.execute(f"DROP ROLE {found.app}")


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch, dbs: Databases) -> Iterator[tuple[str, ModelAnswers]]:
    """A running task whose tables are validated; SOURCE_DSN and TARGET_DSN point at the test databases."""
    with started_task(monkeypatch, source_dsn=dbs.dsn(dbs.source), target_dsn=dbs.dsn(dbs.target)) as (arn, answers):
        answers.tables = [table_stat(table) for table in TABLES]
        yield arn, answers


class Writer:
    """An application session inserting into public.ledger every 50 ms until stopped."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute("INSERT INTO public.ledger VALUES ('first')")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.conn.execute("INSERT INTO public.ledger VALUES ('app')")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.conn.close()


def heartbeat(dbs: Databases) -> psycopg.Connection[Any]:
    """A DMS-like session: the migration user, writing its heartbeat on the source (outside the scope)."""
    conn = psycopg.connect(dbs.dsn(dbs.source, MIGRATOR), autocommit=True)
    conn.execute("INSERT INTO dms_control.awsdms_heartbeat (hearbeat_timestamp) VALUES (now())")
    return conn


def freeze(dbs: Databases) -> FreezeScript:
    """Apply the runbook's freeze file (as `cutover freeze-sql` writes it) whole as a superuser; wait for terminated sessions."""
    with psycopg.connect(dbs.dsn(dbs.source), autocommit=True) as admin:
        tables = catalog.scoped_tables(admin, dms_scope())
        statements = freeze_script(admin, tables, app_roles=[dbs.app], dms_users=[MIGRATOR])
        admin.execute(statements.freeze_text().encode())
        for _ in range(100):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE usename = %s", (dbs.app,)).fetchone():
                break
            threading.Event().wait(0.05)
    return statements


@pytest.fixture
def ready_to_stop(running: tuple[str, ModelAnswers], dbs: Databases) -> str:
    """The running task's ARN once every gate of `cutover stop` passes: steady latency, the source frozen."""
    arn, _ = running
    put_latency(arn, steady_latency())
    freeze(dbs)
    return arn


def stop(arn: str, tmp_path: Path, *extra: str) -> int:
    return cutover.main([
        "stop", "--env", "dev", "--task-arn", arn, "--dsn-env", "SOURCE_DSN", "--dms-user", MIGRATOR,
        "--sample-seconds", SAMPLE, "--audit-log", str(tmp_path / "audit.jsonl"),
        "--record-dir", str(tmp_path / "records"), *extra,
    ])  # fmt: skip


def results_of(out: str) -> dict[str, dict[str, str]]:
    return {result["name"]: result for result in json.loads(out)["results"]}


def audit_lines(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# --- the write-freeze checks on their own ------------------------------------------------------


def test_an_app_session_writing_fails_the_freeze_and_the_runbook_freeze_passes_it(dbs: Databases) -> None:
    writer = Writer(dbs.dsn(dbs.source, dbs.app))
    dms_session = heartbeat(dbs)
    try:
        with psycopg.connect(dbs.dsn(dbs.source), autocommit=True) as conn:
            checks = {r.name: r for r in freeze_checks(conn, dms_scope(), dms_users=[MIGRATOR], sample_seconds=1.5)}
        failing = {name for name, r in checks.items() if r.status is Status.FAIL}
        assert failing == {"freeze.write-privileges", "freeze.sessions", "freeze.write-counters"}, checks
        assert all(checks[name].status is Status.PASS for name in checks.keys() - failing)
        assert f"{dbs.app} can write public.accounts, can write public.ledger" in checks["freeze.write-privileges"].evidence
        assert "1 other sessions" in checks["freeze.sessions"].evidence
        assert f"{dbs.app}@" in checks["freeze.sessions"].evidence and MIGRATOR not in checks["freeze.sessions"].evidence
        assert "public.ledger +" in checks["freeze.write-counters"].evidence
    finally:
        writer.close()

    statements = freeze(dbs)
    assert f'ALTER ROLE "{dbs.app}" NOLOGIN;' in statements.freeze
    assert "ROLLBACK" not in statements.freeze_text() and "GRANT INSERT" not in statements.freeze_text()
    dms_session.execute("UPDATE dms_control.awsdms_heartbeat SET hearbeat_timestamp = now()")  # DMS keeps writing
    with psycopg.connect(dbs.dsn(dbs.source), autocommit=True) as conn:
        checks = {r.name: r for r in freeze_checks(conn, dms_scope(), dms_users=[MIGRATOR], sample_seconds=0.5)}
        # a session setting cannot undo it: the app role can neither log in nor write
        with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
            psycopg.connect(dbs.dsn(dbs.source, dbs.app))
        conn.execute(f"SET ROLE {dbs.app}")
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO public.ledger VALUES ('after the freeze')")
        conn.execute("RESET ROLE")
    assert all(r.status is Status.PASS for r in checks.values()), checks
    assert checks["freeze.superusers"].status is Status.PASS, "the check's own superuser is the only one"
    dms_session.close()

    with psycopg.connect(dbs.dsn(dbs.source), autocommit=True) as admin:  # the rollback restores exactly the grants
        admin.execute(statements.rollback_text().encode())
    with psycopg.connect(dbs.dsn(dbs.source, dbs.app), autocommit=True) as app:
        app.execute("INSERT INTO public.ledger VALUES ('after the rollback')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("TRUNCATE public.ledger")  # it never had TRUNCATE, so the rollback does not grant it


def test_freeze_sql_writes_the_freeze_and_its_rollback_to_separate_files(
    dbs: Databases, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SOURCE_DSN", dbs.dsn(dbs.source))
    argv = ["freeze-sql", "--env", "dev", "--dsn-env", "SOURCE_DSN", "--dms-user", MIGRATOR, "--app-role", dbs.app]
    assert cutover.main(argv) == 0
    out = capsys.readouterr().out
    assert f'ALTER ROLE "{dbs.app}" NOLOGIN;' in out and "GRANT INSERT" not in out, "stdout: the freeze alone"
    assert f"usename <> ALL ('{{{MIGRATOR}}}'::text[]);" in out
    assert f"-- write freeze for database {dbs.source}," in out, "the header names the database it read"
    assert cutover.main([*argv, "--rollback"]) == 0
    rollback = capsys.readouterr().out
    assert f'GRANT DELETE, INSERT, UPDATE ON TABLE "public"."accounts" TO "{dbs.app}";' in rollback

    freeze_file = tmp_path / "freeze.sql"
    assert cutover.main([*argv, "--output", str(freeze_file)]) == 0
    rollback_file = tmp_path / "freeze.rollback.sql"
    assert "NOLOGIN" in freeze_file.read_text() and "GRANT INSERT" not in freeze_file.read_text()
    assert f'ALTER ROLE "{dbs.app}" LOGIN;' in rollback_file.read_text()

    assert cutover.main([*argv[:-1], "no_such_role"]) == 1
    assert "refused:" in capsys.readouterr().err
    assert cutover.main([*argv[:-1], MIGRATOR]) == 1, "the DMS user is never frozen"
    assert cutover.main([*argv[:-1], "postgres"]) == 1, "nor a superuser"
    assert not (tmp_path / "other.sql").exists()


# --- stop ----------------------------------------------------------------------------------------


def test_stop_stops_when_every_gate_passes(
    running: tuple[str, ModelAnswers], dbs: Databases, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, _ = running
    put_latency(arn, steady_latency(2.0))
    freeze(dbs)
    assert stop(arn, tmp_path, "--check") == 0
    assert "PASS    gate.cdc-latency" in capsys.readouterr().out
    assert task_state(arn) == "running"
    assert audit_lines(tmp_path) == []

    assert stop(arn, tmp_path, "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["stopped"], document["forced"]) == (True, False)
    statuses = {r["name"]: r["status"] for r in document["results"]}
    assert set(statuses.values()) == {"pass"} and {"gate.cdc-latency", "freeze.superusers", "task.stop"} <= set(statuses)
    assert task_state(arn) == "stopped"
    intent, outcome = audit_lines(tmp_path)
    assert (intent["action"], intent["intent"], intent["forced"]) == ("stop", "stopping", False)
    assert (outcome["action"], outcome["outcome"], outcome["forced"]) == ("stop", "stopped", False)


@pytest.mark.parametrize(
    ("latency", "evidence"),
    [
        ({**steady_latency(2.0), 6: 45.0}, "CDCLatencySource above 10 s: 45 s at"),
        ({minute: 2.0 for minute in steady_latency() if minute != 7}, "no datapoint for 1 of 10 minutes"),
    ],
    ids=["above-threshold", "gap"],
)
def test_stop_refuses_on_latency(
    running: tuple[str, ModelAnswers],
    dbs: Databases,
    *,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    latency: dict[int, float],
    evidence: str,
) -> None:
    arn, _ = running
    put_latency(arn, latency)
    freeze(dbs)
    assert stop(arn, tmp_path, "--json") == 1
    results = results_of(capsys.readouterr().out)
    assert results["gate.cdc-latency"]["status"] == "fail"
    assert evidence in results["gate.cdc-latency"]["evidence"]
    assert results["task.stop"]["evidence"] == "refused: not every gate passes; the task keeps running"
    assert task_state(arn) == "running"
    assert audit_lines(tmp_path)[0]["outcome"] == "refused"


def test_stop_refuses_on_a_table_not_validated(
    running: tuple[str, ModelAnswers], dbs: Databases, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, answers = running
    answers.tables = [table_stat("public.accounts", ValidationState="Pending records", ValidationPendingRecords=4)]
    put_latency(arn, steady_latency())
    freeze(dbs)
    assert stop(arn, tmp_path, "--json") == 1
    gate = results_of(capsys.readouterr().out)["gate.validation"]
    assert gate["status"] == "fail"
    assert "public.accounts (validation Pending records, 4 pending records)" in gate["evidence"]
    assert "in scope on the source but not in the task's statistics: public.ledger" in gate["evidence"]
    assert task_state(arn) == "running"

    answers.tables = [table_stat("public.accounts"), table_stat("public.ledger", TableState="Table error")]
    assert stop(arn, tmp_path, "--json") == 1
    assert "public.ledger (state Table error)" in results_of(capsys.readouterr().out)["gate.validation"]["evidence"]


def test_stop_refuses_while_an_app_session_writes(
    running: tuple[str, ModelAnswers], dbs: Databases, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, _ = running
    put_latency(arn, steady_latency())
    writer = Writer(dbs.dsn(dbs.source, dbs.app))
    try:
        assert stop(arn, tmp_path) == 1
    finally:
        writer.close()
    out = capsys.readouterr().out
    assert "FAIL    freeze.sessions" in out and "FAIL    freeze.write-privileges" in out
    assert "PASS    gate.cdc-latency" in out and "PASS    gate.validation" in out
    assert task_state(arn) == "running"


def test_force_needs_a_reason_and_is_recorded(
    running: tuple[str, ModelAnswers], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, answers = running  # no latency data, writes not frozen: the gates fail
    assert stop(arn, tmp_path, "--force") == 2
    assert '--force needs --reason "why the gates are overridden"' in capsys.readouterr().err
    assert stop(arn, tmp_path, "--force", "--reason", "  ") == 2
    assert task_state(arn) == "running"
    assert audit_lines(tmp_path) == []

    reason = "DMS latency metric broken (case 4711); counts checked by hand"
    assert stop(arn, tmp_path, "--force", "--reason", reason, "--json") == 0
    captured = capsys.readouterr()
    assert f"FORCED: stopping despite failed gates; reason: {reason}" in captured.err
    document = json.loads(captured.out)
    assert (document["stopped"], document["forced"], document["reason"]) == (True, True, reason)
    assert task_state(arn) == "stopped"
    intent, outcome = audit_lines(tmp_path)
    assert (intent["intent"], intent["forced"], intent["reason"]) == ("stopping", True, reason)
    assert (outcome["outcome"], outcome["forced"], outcome["reason"]) == ("stopped", True, reason)
    failing = {gate["name"] for gate in intent["gates"] if gate["status"] == "fail"}
    assert failing >= {"gate.cdc-latency", "freeze.write-privileges"}
    assert answers.tags[0] == {
        "Key": "cutover-forced-reason",
        "Value": "DMS latency metric broken _case 4711__ counts checked by hand",
    }
