"""`python -m migration_ops.compare` against two real PostgreSQL 15 servers: what it compares, finds and reports."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import psycopg
import pytest

from migration_ops.compare import command as compare
from migration_ops.compare.engine import Budget, open_connection
from tests.migration_ops.compare.helpers import IN_SCOPE, by_table, execute, results, run, run_json

pytestmark = pytest.mark.postgres


def test_identical_data_passes(
    config_path: Path, source: str, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(config_path, source, target, monkeypatch, capsys)
    assert document["exit"] == 0, document
    assert (document["complete"], document["source_changed"]) == (True, False)
    assert document["summary"] == {"pass": 5, "warn": 0, "fail": 0, "skip": 1}
    assert document["hashing"] == "hashtextextended of each row's text"
    assert set(by_table(document)) == IN_SCOPE  # cmp.skip_scratch excluded, elsewhere.other not included
    assert results(document)["cmp.readings"]["status"] == "skip"
    assert "cmp.readings_high, cmp.readings_low" in results(document)["cmp.readings"]["evidence"]
    orders = by_table(document)["cmp.orders"]
    assert (orders["source_rows"], orders["target_rows"], orders["key"]) == (300, 300, ["tenant", "id"])
    assert orders["chunks_compared"] >= 4  # about 50 rows per hash bucket
    assert results(document)["cmp.events"]["evidence"].startswith("42 rows, no primary key: compared as a multiset of rows")

    code, out, _ = run(config_path, source, target, monkeypatch, capsys, "--chunk-rows", "50", "--recheck-delay-seconds", "0")
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split() == ["STATUS", "TABLE", "SOURCE", "ROWS", "TARGET", "ROWS", "CHUNKS", "EVIDENCE"]
    assert lines[-1] == "summary: 5 passed, 0 warnings, 0 failed, 1 skipped"
    assert any(line.split()[:4] == ["PASS", "cmp.orders", "300", "300"] for line in lines)


# (what changes on the target, how the evidence names it, the JSON list, target rows minus source rows in the chunk)
DIFFERENCES = {
    "changed": (
        "UPDATE cmp.orders SET amount = amount + 0.001 WHERE tenant = 2 AND id = 100",
        "changed (tenant, id)=(2, 100)",
        {"changed": [{"tenant": "2", "id": "100"}]},
        0,
    ),
    "missing": (
        "DELETE FROM cmp.orders WHERE tenant = 3 AND id = 150",
        "missing on the target (tenant, id)=(3, 150)",
        {"missing_on_target": [{"tenant": "3", "id": "150"}]},
        -1,
    ),
    "extra": (
        "INSERT INTO cmp.orders (tenant, id, note) VALUES (1, 51, 'only on the target')",
        "extra on the target (tenant, id)=(1, 51)",
        {"extra_on_target": [{"tenant": "1", "id": "51"}]},
        1,
    ),
    "extra beyond the source's keys": (
        "INSERT INTO cmp.orders (tenant, id) VALUES (9, 1)",
        "extra on the target (tenant, id)=(9, 1)",
        {"extra_on_target": [{"tenant": "9", "id": "1"}]},
        1,
    ),
}


@pytest.mark.parametrize("kind", list(DIFFERENCES))
def test_a_difference_fails_naming_the_key(
    *,
    kind: str,
    config_path: Path,
    source: str,
    changed_target: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    change, named, expected, more_on_target = DIFFERENCES[kind]
    execute(changed_target, change)
    document = run_json(config_path, source, changed_target, monkeypatch, capsys)
    assert document["exit"] == 1
    failing = {name for name, item in results(document).items() if item["status"] == "fail"}
    assert failing == {"cmp.orders"}
    (difference,) = by_table(document)["cmp.orders"]["differences"]
    assert {key: difference[key] for key in expected} == expected
    assert difference["target_rows"] - difference["source_rows"] == more_on_target
    with open_connection("source", source, statement_timeout_seconds=5) as conn:  # `where` selects the chunk's rows
        counted = conn.execute(f"SELECT count(*) FROM ONLY cmp.orders WHERE {difference['where']}").fetchone()
    assert counted == (difference["source_rows"],)
    result = results(document)["cmp.orders"]
    assert named in result["evidence"]
    assert "after a recheck 0 s later" in result["evidence"]
    assert result["evidence"].endswith("conclusive: the source table did not change during the run")
    assert result["fix"].startswith("conclusive: no write reached this table on the source during the run")

    code, out, _ = run(config_path, source, changed_target, monkeypatch, capsys, "--recheck-delay-seconds", "0")
    assert code == 1
    assert any(line.startswith("FAIL") and "cmp.orders" in line and named in line for line in out.splitlines())


def test_columns_and_tables_without_key_and_missing_tables_fail(
    config_path: Path, source: str, changed_target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(
        changed_target,
        "ALTER TABLE cmp.items ADD COLUMN added int; ALTER TABLE cmp.items ALTER COLUMN label TYPE text;"
        " UPDATE cmp.events SET payload = '{\"n\": 0}' WHERE payload = '{\"n\": 7}'; DROP TABLE cmp.readings_high;"
        # the target's copy without the key, holding one row twice
        " ALTER TABLE cmp.readings DETACH PARTITION cmp.readings_low;"
        " ALTER TABLE cmp.readings_low DROP CONSTRAINT readings_low_pkey;"
        " INSERT INTO cmp.readings_low SELECT * FROM cmp.readings_low WHERE id = 5;",
    )
    document = run_json(config_path, source, changed_target, monkeypatch, capsys)
    assert document["exit"] == 1
    found = results(document)
    failing = {name for name, item in found.items() if item["status"] == "fail"}
    assert failing == {"cmp.items", "cmp.events", "cmp.readings_high", "cmp.readings_low"}
    assert found["cmp.items"]["evidence"].startswith(
        "columns differ: only on the target: added; types differ: label character varying(40) on the source, text on the target"
    )
    assert "120 rows" in found["cmp.items"]["evidence"]  # the common columns are still compared
    assert "chunks equal" in found["cmp.items"]["evidence"]
    events = found["cmp.events"]["evidence"]
    assert events.startswith("42 rows, no primary key: compared as a multiset of rows")
    assert 'missing on the target (row)=(("{""n"": 7}","2024-01-01 00:07:00+00"))' in events
    assert 'extra on the target (row)=(("{""n"": 0}","2024-01-01 00:07:00+00"))' in events
    assert found["cmp.readings_high"]["evidence"] == "no such table on the target"
    assert "extra on the target (id)=(5)" in found["cmp.readings_low"]["evidence"]  # the same key twice
    assert found["cmp.orders"]["status"] == "pass"


def test_the_time_budget_leaves_an_incomplete_report(
    config_path: Path, source: str, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clock that advances one second per reading: the budget runs out part-way, at the same place every time."""
    monkeypatch.setenv("CMP_SOURCE_DSN", source)
    monkeypatch.setenv("CMP_TARGET_DSN", target)
    base = ["--config", str(config_path), "--dsn-env", "CMP_SOURCE_DSN", "--target-dsn-env", "CMP_TARGET_DSN"]
    ticks = itertools.count()
    argv = [*base, "--tables", "cmp.items", "cmp.orders", "--json"]
    # one reading each: the catalog reads' limit, the start (encodings, write counters), per table its shapes and digests
    code = compare.run_compare(compare.parse_args(argv), budget=Budget(6, clock=lambda: float(next(ticks))))
    document = json.loads(capsys.readouterr().out)
    assert (code, document["complete"]) == (1, False)
    items, orders = by_table(document)["cmp.items"], by_table(document)["cmp.orders"]
    assert (items["status"], items["source_rows"], items["incomplete"]) == ("pass", 120, None)
    assert (orders["status"], orders["incomplete"]) == ("warn", "the time budget of 6 s ran out")
    assert results(document)["cmp.orders"]["fix"].startswith("compare this table again (--tables)")

    code, out, _ = run(config_path, source, target, monkeypatch, capsys, "--time-budget-seconds", "0.001")
    assert code == 1
    assert out.count("not completely compared: the time budget of 0.001 s ran out") == len(IN_SCOPE)
    assert out.splitlines()[-1].endswith("; INCOMPLETE: not every table was compared completely")
    code, _, _ = run(config_path, source, target, monkeypatch, capsys, "--time-budget-seconds", "0.001", "--allow-incomplete")
    assert code == 0


def test_what_cannot_run_exits_2(
    config_path: Path, source: str, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CMP_SOURCE_DSN", source)
    monkeypatch.setenv("CMP_TARGET_DSN", target)
    monkeypatch.setenv("CMP_SAME_DSN", source.replace("127.0.0.1", "localhost"))
    monkeypatch.setenv("CMP_NOWHERE", "postgresql://postgres@127.0.0.1:1/x?connect_timeout=3")
    monkeypatch.delenv("CMP_UNSET", raising=False)
    broken = config_path.parent / "broken.toml"
    broken.write_text(config_path.read_text().replace('table_name = "skip%"', 'table_name = ""'))
    common = ["--dsn-env", "CMP_SOURCE_DSN"]
    cases = {
        "error: --env nope: no such environment": ["--env", "nope", *common, "--target-dsn-env", "CMP_TARGET_DSN"],
        "configuration error:": ["--config", str(broken), *common, "--target-dsn-env", "CMP_TARGET_DSN"],
        "error: target: environment variable CMP_UNSET is not set": [
            "--config", str(config_path), *common, "--target-dsn-env", "CMP_UNSET"
        ],
        "error: target: cannot connect to postgres@127.0.0.1:1/x": [
            "--config", str(config_path), *common, "--target-dsn-env", "CMP_NOWHERE"
        ],
        "error: source: cannot connect to postgres@127.0.0.1:1/x": [
            "--config", str(config_path), "--dsn-env", "CMP_NOWHERE", "--target-dsn-env", "CMP_TARGET_DSN"
        ],
        "error: the source and the target are the same database (cmp_source, oid ": [
            "--config", str(config_path), *common, "--target-dsn-env", "CMP_SAME_DSN"
        ],
    }  # fmt: skip
    for message, argv in cases.items():
        assert compare.main(argv) == 2, message
        captured = capsys.readouterr()
        assert captured.err.startswith(message), captured.err
        assert "Traceback" not in captured.err
    with pytest.raises(SystemExit) as usage:
        compare.main(["--config", str(config_path), *common])  # --target-dsn-env is required
    assert usage.value.code == 2


def test_sessions_are_read_only_with_pinned_settings(target: str) -> None:
    with open_connection("target", target, statement_timeout_seconds=5) as conn:
        names = ("default_transaction_read_only", "TimeZone", "row_security", "client_encoding")
        shown = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}  # type: ignore[index]
        assert shown == {
            "default_transaction_read_only": "on",
            "TimeZone": "UTC",
            "row_security": "off",
            "client_encoding": "UTF8",
        }
        assert conn.info.get_parameters()["keepalives_idle"] == "30"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM cmp.items")
