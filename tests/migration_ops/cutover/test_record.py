"""The cutover record: JSON and Markdown written atomically, read back validated, printed again by `cutover report`,
and never a secret in it.

The comparison file is built the way `compare --json` builds its output (cli.render_json over compare's own
TableReport results), so a change of compare's shape shows here. The WAL position is read from a real PostgreSQL 15.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from migration_ops import cli
from migration_ops.compare.report import TableReport
from migration_ops.compare.tables import Table
from migration_ops.cutover import record
from migration_ops.cutover.dms_task import TableStat
from migration_ops.cutover.record import (
    ComparisonRecord,
    CutoverRecord,
    ForcedStep,
    Operator,
    RecordError,
    ReportOptions,
    SequenceReset,
    gate_records,
    latency_record,
    load_comparison,
    operator_identity,
    read_record,
    read_wal_position,
    redact,
    render_markdown,
    run_report,
    table_records,
    write_record,
)
from migration_ops.results import failed, passed, warned
from plumbing.exit_codes import ExitCode
from tests.migration_ops.pg_server import PgServer, running_server

STACK = "aurora-migration-dev"
STARTED = datetime(2025, 3, 4, 10, 0, 0, tzinfo=UTC)
PLANTED = "Pl4nted-S3cret"


def _stat(table: str, **changes: Any) -> TableStat:
    values: dict[str, Any] = {"table": table, "state": "Table completed", "full_load_rows": 10, "inserts": 3, "updates": 1,
                              "deletes": 0, "validation_state": "Validated"}  # fmt: skip
    values.update(changes)
    return TableStat(**values)


def _compare_file(directory: Path, *, stack: str = STACK) -> Path:
    """What `compare --json` prints for two tables, one equal and one with different row counts."""
    equal = TableReport(table=Table("public", "orders"), key=["id"], source_rows=5, target_rows=5)
    equal.chunks_compared = 1
    differs = TableReport(table=Table("public", "customers"), key=["id"], source_rows=4, target_rows=3)
    reports = [equal, differs]
    text = cli.render_json(
        [report.result() for report in reports],
        environment="dev",
        stack=stack,
        source="dms_migrator@pg.corp.example.com:5432/orders",
        target="master@aurora.example.com:5432/app",
        chunk_rows=10_000,
        time_budget_seconds=3600.0,
        seconds=1.25,
        complete=True,
        tables=[report.as_dict() for report in reports],
    )
    path = directory / "compare.json"
    path.write_text(text)
    return path


def _record(tmp_path: Path, *, started: datetime = STARTED, stack: str = STACK, **changes: Any) -> CutoverRecord:
    window_end = started - timedelta(minutes=2)
    series = {
        "CDCLatencySource": [(window_end - timedelta(minutes=minute), 1.0 + minute) for minute in range(10)],
        "CDCLatencyTarget": [],
    }
    values: dict[str, Any] = {
        "started_at": started,
        "finished_at": started + timedelta(seconds=42),
        "environment": "dev",
        "stack": stack,
        "task_arn": "arn:aws:dms:eu-west-1:123456789012:task:ABCDEF",
        "operator": Operator(os_user="alice", aws_caller_arn="arn:aws:sts::123456789012:assumed-role/ops/alice"),
        "source_wal_position": "0/1A2B3C4",
        "latency": latency_record(
            series, window_start=window_end - timedelta(minutes=10), window_end=window_end, max_seconds=10.0
        ),
        "tables": table_records(
            [_stat("public.orders"), _stat("public.customers", validation_state="Pending records", validation_pending=2)]
        ),
        "gates": gate_records(
            [
                passed("gate.cdc-latency", "20 datapoints, max 10 s"),
                warned("freeze.sessions", "1 session | of the DMS user"),
                failed("gate.validation", "public.customers: Pending records", fix="wait for validation"),
            ]
        ),
        "sequences": (SequenceReset(schema_name="public", name="orders_id_seq", value=1042),),
        "comparison": load_comparison(_compare_file(tmp_path, stack=stack), stack=stack),
        "forced": (
            ForcedStep(
                step="stop despite failed gates",
                reason="validation lags; counts compared by hand",
                at=started + timedelta(seconds=40),
            ),
        ),
        "outcome": "stopped",
        "outcome_detail": "task status stopping",
    }
    values.update(changes)
    return CutoverRecord(**values)


def test_round_trip_json_read_markdown(tmp_path: Path) -> None:
    built = _record(tmp_path)
    json_path, markdown_path = write_record(built, tmp_path / "records")
    assert json_path.name == f"cutover-record-{STACK}-20250304T100000Z.json"
    assert markdown_path.name == f"cutover-record-{STACK}-20250304T100000Z.md"
    again = read_record(json_path)
    assert again == built
    markdown = markdown_path.read_text()
    assert render_markdown(again) == markdown
    for heading in ("# Cutover record: aurora-migration-dev", "## Outcome", "## Gates", "## CDC latency over the gate window",
                    "## Tables (DMS table statistics)", "## Sequences reset on the target", "## Data comparison",
                    "## Forced steps", "## Sign-off"):  # fmt: skip
        assert heading in markdown
    assert "`0/1A2B3C4`" not in markdown and "0/1A2B3C4" in markdown
    assert "| CDCLatencySource | 10 | 1 | 10 | 1 |" in markdown, "count, min, max and the newest value"
    assert "| CDCLatencyTarget | 0 | - | - | - |" in markdown
    assert "1 session \\| of the DMS user" in markdown, "a | in a value does not break the table"
    assert "| public.orders_id_seq | - | - | 1042 |" in markdown
    assert "NOT everything compared and equal; 1 pass, 0 warn, 1 fail, 0 skip" in markdown
    assert "| FAIL | public.customers |" in markdown
    assert "validation lags; counts compared by hand" in markdown and "**FORCED**" in markdown
    assert markdown.count("Name: ____") == 3 and markdown.count("Date: ____") == 3
    document = json.loads(json_path.read_text())
    assert document["kind"] == "cutover-record" and document["version"] == 1
    assert document["started_at"] == "2025-03-04T10:00:00Z"
    assert document["comparison"]["summary"] == {"pass": 1, "warn": 0, "fail": 1, "skip": 0}


def test_no_secret_reaches_the_record(tmp_path: Path) -> None:
    dsn = f"postgresql://app_rw:{PLANTED}@db.example.com:5432/orders?sslmode=require"
    built = _record(
        tmp_path,
        gates=gate_records([failed("freeze.source", f"cannot connect to {dsn}: password authentication failed")]),
        tables=(),
        tables_note=f'secret document {{"username": "dms", "password": "{PLANTED}"}}',
        forced=(ForcedStep(step="stop despite failed gates", reason=f"PGPASSWORD={PLANTED} was used by hand"),),
        outcome="error",
        outcome_detail=f"stop failed: host=db.example.com user=app password={PLANTED} dbname=orders",
        operator=Operator(os_user="alice", aws_identity_error=f"https://key:{PLANTED}@sts.example.com refused"),
    )
    json_path, markdown_path = write_record(built, tmp_path)
    for text in (json_path.read_text(), markdown_path.read_text(), built.model_dump_json(), render_markdown(built)):
        assert PLANTED not in text
    assert "postgresql://[redacted]@db.example.com:5432/orders" in json_path.read_text()
    assert "password=[redacted] dbname=orders" in built.outcome_detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://u:p4ss@h/db", "postgresql://[redacted]@h/db"),
        ("postgres://only-user@h", "postgres://[redacted]@h"),
        ("host=h password='a b\\' c' user=u", "host=h password=[redacted] user=u"),
        ("uri?sslmode=require&password=x1&user=u", "uri?sslmode=require&password=[redacted]&user=u"),
        ('{"password": "p", "username": "u"}', '{"password": [redacted], "username": "u"}'),
        ("PGPASSWORD=abc make deploy", "PGPASSWORD=[redacted] make deploy"),
        ("CREATE ROLE app LOGIN PASSWORD 'se cret'", "CREATE ROLE app LOGIN PASSWORD [redacted]"),
        ("postgresql://u:p@ss/w0rd@h:5432/db fails", "postgresql://[redacted]@h:5432/db fails"),
        ('{"dsn": "postgresql://u:pw@h/db", "n": 1}', '{"dsn": "postgresql://[redacted]@h/db", "n": 1}'),
        ("https://example.com/docs and mail a@b.c", "https://example.com/docs and mail a@b.c"),
        ("password authentication failed for user app", "password authentication failed for user app"),
        ("user@host:5432/db", "user@host:5432/db"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_serialization_failure_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: CutoverRecord) -> str:
        raise ValueError("cannot render")

    monkeypatch.setattr(record, "render_markdown", broken)
    with pytest.raises(RecordError, match="cannot serialize the cutover record"):
        write_record(_record(tmp_path), tmp_path / "records")
    assert not (tmp_path / "records").exists() or list((tmp_path / "records").iterdir()) == []


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = _record(tmp_path)
    directory = tmp_path / "records"
    directory.mkdir()

    def full_disk(_: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(RecordError, match="No space left on device"):
        write_record(built, directory)
    assert list(directory.iterdir()) == [], "neither the record nor a temporary file is left"


def test_a_failed_markdown_write_keeps_the_whole_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = _record(tmp_path)
    directory = tmp_path / "records"
    real_fsync = os.fsync
    calls = []

    def second_fails(descriptor: int) -> None:
        calls.append(descriptor)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", second_fails)
    with pytest.raises(RecordError, match="cutover report") as raised:
        write_record(built, directory)
    assert "\n" not in str(raised.value)
    names = sorted(path.name for path in directory.iterdir())
    assert names == [f"cutover-record-{STACK}-20250304T100000Z.json"]
    assert read_record(directory / names[0]) == built


def test_an_existing_record_is_never_overwritten(tmp_path: Path) -> None:
    first, _ = write_record(_record(tmp_path), tmp_path / "records")
    second, second_md = write_record(_record(tmp_path, outcome="refused"), tmp_path / "records")
    assert second.name == f"cutover-record-{STACK}-20250304T100000Z-2.json" and second_md.suffix == ".md"
    assert read_record(first).outcome == "stopped" and read_record(second).outcome == "refused"


def test_report_prints_the_newest_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "records"
    for hours, stack in ((0, STACK), (5, "aurora-migration-staging"), (2, STACK)):
        write_record(_record(tmp_path, started=STARTED + timedelta(hours=hours), stack=stack), directory)
    (directory / "notes.json").write_text("{}")
    (directory / f".cutover-record-{STACK}-20990101T000000Z.json.x.tmp").write_text("partial")
    assert run_report(ReportOptions(path=directory)) == ExitCode.OK
    markdown = capsys.readouterr().out
    assert markdown.startswith("# Cutover record: aurora-migration-staging\n") and "2025-03-04 15:00:00 UTC" in markdown
    assert run_report(ReportOptions(path=directory, json=True)) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["stack"] == "aurora-migration-staging"
    given = next(directory.glob(f"cutover-record-{STACK}-20250304T100000Z.json"))
    assert run_report(ReportOptions(path=given)) == ExitCode.OK
    assert "2025-03-04 10:00:00 UTC" in capsys.readouterr().out


def _valid_document(tmp_path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_record(tmp_path).model_dump_json())
    return document


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all", "not JSON"),
        ('{"stack": "x"}', "not a cutover record"),
        ("[1, 2]", "not a cutover record"),
        (None, "cannot read"),
        ("outcome", "not a valid cutover record (outcome"),
        ("naive", "not a valid cutover record (started_at"),
        ("order", "finished_at is before started_at"),
    ],
)
def test_a_bad_record_file_is_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "bad.json"
    document = _valid_document(tmp_path)
    if content == "outcome":
        path.write_text(json.dumps({**document, "outcome": "maybe"}))
    elif content == "naive":
        path.write_text(json.dumps({**document, "started_at": "2025-03-04T10:00:00"}))
    elif content == "order":
        path.write_text(json.dumps({**document, "finished_at": "2025-03-04T09:00:00Z"}))
    elif content is not None:
        path.write_text(content)
    assert run_report(ReportOptions(path=path)) == ExitCode.ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1 and captured.err.startswith("error: ") and message in captured.err


def test_report_of_a_directory_without_records_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_report(ReportOptions(path=tmp_path)) == ExitCode.ERROR
    assert "no cutover record" in capsys.readouterr().err


def test_a_comparison_file_that_is_not_compares_json_is_an_error(tmp_path: Path) -> None:
    comparison = load_comparison(_compare_file(tmp_path))
    assert isinstance(comparison, ComparisonRecord) and len(comparison.sha256) == 64
    assert [(item.table, item.status.value) for item in comparison.tables] == [
        ("public.orders", "pass"),
        ("public.customers", "fail"),
    ]
    json_path, _ = write_record(_record(tmp_path), tmp_path / "records")
    for path in (json_path, tmp_path / "missing.json"):
        with pytest.raises(RecordError, match="--compare-report"):
            load_comparison(path)
    (tmp_path / "text.json").write_text("PASS public.orders")
    with pytest.raises(RecordError, match="not the JSON of `compare --json`"):
        load_comparison(tmp_path / "text.json")
    with pytest.raises(RecordError, match="compares stack aurora-migration-dev, not aurora-migration-prod"):
        load_comparison(_compare_file(tmp_path), stack="aurora-migration-prod")


def test_timestamps_must_carry_a_zone(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        _record(tmp_path, started=datetime(2025, 3, 4, 10, 0, 0))
    berlin = timezone(timedelta(hours=1))
    moved = _record(tmp_path, started=datetime(2025, 3, 4, 11, 0, 0, tzinfo=berlin))
    assert moved.started_at == STARTED and moved.started_at.tzinfo is UTC


class _Sts:
    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        self.answer = answer

    def get_caller_identity(self) -> dict[str, Any]:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_operator_identity_has_the_os_user_and_the_caller_arn() -> None:
    arn = "arn:aws:sts::123456789012:assumed-role/ops/alice"
    found = operator_identity(_Sts({"Arn": arn, "Account": "123456789012", "UserId": "AROA:alice"}))
    assert found.aws_caller_arn == arn and found.os_user and found.aws_identity_error is None
    denied = ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "GetCallerIdentity")
    missing = operator_identity(_Sts(denied))
    assert missing.aws_caller_arn is None and "ExpiredToken" in (missing.aws_identity_error or "")


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with running_server() as started:
        yield started


@pytest.mark.postgres
def test_read_wal_position(server: PgServer, tmp_path: Path) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        position = read_wal_position(conn)
        # the test server runs with synchronous_commit off: a commit would not have to reach the WAL write position
        conn.execute("SET synchronous_commit = on")
        conn.execute("CREATE TABLE moved (id int); INSERT INTO moved SELECT generate_series(1, 1000)")
        later = read_wal_position(conn)
    high, low = (int(part, 16) for part in position.split("/"))
    later_high, later_low = (int(part, 16) for part in later.split("/"))
    assert (later_high, later_low) > (high, low)
    assert _record(tmp_path, source_wal_position=position).source_wal_position == position
    with pytest.raises(RecordError, match="pg_current_wal_insert_lsn"):
        read_wal_position(conn)  # closed
