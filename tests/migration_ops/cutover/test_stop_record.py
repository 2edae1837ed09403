"""`cutover stop` writes the cutover record (JSON and Markdown) and `cutover report` prints it again; the sequence
resets `cutover sequences --apply-dsn-env` recorded and a `compare --json` file go into it.

AWS: moto and the DMS fake (tests/migration_ops/dms_fake.py). Source and target: real PostgreSQL 15 (test_stop.py's
fixtures).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
import pytest

from migration_ops.cutover import command as cutover
from tests.migration_ops.cutover.test_record import _compare_file
from tests.migration_ops.cutover.test_stop import TABLES, Databases, audit_lines, dbs, freeze, ready_to_stop, running, stop
from tests.migration_ops.dms_fake import ModelAnswers, put_latency, steady_latency, table_stat, task_state

__all__ = ["dbs", "ready_to_stop", "running"]  # fixtures used here
pytestmark = pytest.mark.postgres
STACK = "aurora-migration-dev"


def _records(tmp_path: Path) -> list[Path]:
    directory = tmp_path / "records"
    return sorted(directory.glob("cutover-record-*")) if directory.exists() else []


def test_a_stop_writes_the_record_and_report_prints_it_again(
    running: tuple[str, ModelAnswers], dbs: Databases, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, answers = running
    for database, rows in ((dbs.source, 3), (dbs.target, 0)):
        with psycopg.connect(dbs.dsn(database), autocommit=True) as conn:
            conn.execute("CREATE TABLE public.tickets (id serial PRIMARY KEY)")
            conn.execute(f"INSERT INTO public.tickets SELECT FROM generate_series(1, {rows})")
    answers.tables = [table_stat(table) for table in (*TABLES, "public.tickets")]
    put_latency(arn, steady_latency(2.0))
    freeze(dbs)
    sequences = ["sequences", "--env", "dev", "--dsn-env", "SOURCE_DSN", "--apply-dsn-env", "TARGET_DSN",
                 "--margin", "1000", "--record-dir", str(tmp_path / "records")]  # fmt: skip
    assert cutover.main(sequences) == 0
    assert "1 of 1 target sequences set (margin 1000)" in capsys.readouterr().out
    compare = _compare_file(tmp_path)

    assert stop(arn, tmp_path, "--check") == 0
    assert _records(tmp_path) == [], "--check writes no record"
    capsys.readouterr()

    assert stop(arn, tmp_path, "--compare-report", str(compare)) == 0
    out = capsys.readouterr().out
    assert task_state(arn) == "stopped"
    json_path, markdown_path = _records(tmp_path)
    assert f"cutover record: {json_path} and {markdown_path}" in out
    record = json.loads(json_path.read_text())
    assert (record["kind"], record["stack"], record["task_arn"], record["outcome"]) == ("cutover-record", STACK, arn, "stopped")
    assert record["operator"]["aws_caller_arn"] == "arn:aws:sts::123456789012:user/moto" and record["operator"]["os_user"]
    assert re.fullmatch(r"[0-9A-F]{1,8}/[0-9A-F]{1,8}", record["source_wal_position"])
    assert {metric["metric"]: metric["maximum"] for metric in record["latency"]["metrics"]} == {
        "CDCLatencySource": 2.0,
        "CDCLatencyTarget": 2.0,
    }
    assert record["latency"]["max_seconds"] == 10.0 and record["latency"]["metrics"][0]["datapoints"] >= 10
    assert [table["table"] for table in record["tables"]] == [*TABLES, "public.tickets"]
    assert {gate["name"]: gate["status"] for gate in record["gates"]}["task.stop"] == "pass"
    assert [(item["schema_name"], item["name"], item["value"], item["changed"]) for item in record["sequences"]] == [
        ("public", "tickets_id_seq", 1003, True)
    ]
    assert "applied" in record["sequences_note"] and "sequence-resets-aurora-migration-dev-" in record["sequences_note"]
    assert record["comparison"]["summary"] == {"pass": 1, "warn": 0, "fail": 1, "skip": 0}
    assert record["forced"] == [] and record["outcome_detail"] == "task status stopped"
    outcome = audit_lines(tmp_path)[-1]
    assert outcome["outcome"] == "stopped", "the record follows the audit log's outcome line"

    assert cutover.main(["report", str(tmp_path / "records")]) == 0
    printed = capsys.readouterr().out
    assert printed == markdown_path.read_text()
    assert printed.startswith(f"# Cutover record: {STACK}\n") and "| public.tickets_id_seq | 3 | 0 | 1003 |" in printed
    assert cutover.main(["report", str(json_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == record


def test_a_refused_stop_is_recorded_too(
    running: tuple[str, ModelAnswers], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, _ = running  # no latency datapoints, writes not frozen
    assert stop(arn, tmp_path, "--json") == 1
    document = json.loads(capsys.readouterr().out)
    record = json.loads(Path(document["record"]["json"]).read_text())
    assert record["outcome"] == "refused" and "gate.cdc-latency" in record["outcome_detail"]
    assert Path(document["record"]["markdown"]).read_text().count("REFUSED") == 1
    assert "no sequence reset recorded" in record["sequences_note"]
    assert task_state(arn) == "running"


@pytest.mark.parametrize("problem", ["compare report", "record dir"])
def test_what_the_record_needs_is_checked_before_any_gate(
    ready_to_stop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], problem: str
) -> None:
    arn = ready_to_stop
    if problem == "compare report":
        bad = tmp_path / "compare.json"
        bad.write_text("PASS public.accounts")
        extra, message = ["--compare-report", str(bad)], "not the JSON of `compare --json`"
    else:
        (tmp_path / "records").write_text("a file where the directory should be")
        extra, message = [], "--record-dir"
    assert stop(arn, tmp_path, *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1
    assert task_state(arn) == "running"
    assert audit_lines(tmp_path) == []
