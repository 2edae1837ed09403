"""`python -m migration_ops.compare` against two real PostgreSQL 15 servers: a source and a target database.

The target is a fresh clone of identical data per test, with session defaults that print values differently
(TimeZone, DateStyle, IntervalStyle, bytea_output) so the digests prove they do not depend on them.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from migration_ops.compare import command as compare
from migration_ops.compare.engine import Budget, open_connection
from tests.conftest import REPO_ROOT
from tests.migration_ops.pg_server import PgServer

pytestmark = pytest.mark.postgres
_COUNTER = itertools.count()
CHUNK_ROWS = "50"

DATA_SQL = """
CREATE SCHEMA cmp;
CREATE SCHEMA elsewhere;
CREATE TYPE cmp.mood AS ENUM ('sad', 'ok', 'happy');
-- composite key (tenant, id), ids with gaps: 3 tenants x 100 rows
CREATE TABLE cmp.orders (
    tenant int, id bigint, note text, attachment bytea, amount numeric(12, 3), details jsonb,
    created_at timestamp, paid_at timestamptz, waited interval, mood cmp.mood, ratio double precision, tags text[],
    PRIMARY KEY (tenant, id)
);
INSERT INTO cmp.orders
SELECT t, 2 * g, CASE WHEN g % 7 = 0 THEN NULL WHEN g % 11 = 0 THEN '' ELSE 'note "' || g || E'\\\\ é' END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END,
       g * 1.125, jsonb_build_object('g', g, 'nested', jsonb_build_array(t, NULL, 'x')),
       timestamp '2024-02-29 13:45:00' + g * interval '1 hour 1 second',
       timestamptz '2024-03-31 01:30:00+00' + g * interval '17 minutes',
       g * interval '1 day 3 hours', (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::cmp.mood, g / 3.0, ARRAY['a', 'b,' || g]
  FROM generate_series(1, 3) t, generate_series(1, 100) g;
-- text key
CREATE TABLE cmp.items (code text PRIMARY KEY, label varchar(40), price numeric);
INSERT INTO cmp.items SELECT 'item-' || lpad(g::text, 3, '0'), 'label ' || g, g / 4.0 FROM generate_series(1, 120) g;
-- no primary key
CREATE TABLE cmp.events (payload jsonb, happened_at timestamptz);
INSERT INTO cmp.events SELECT jsonb_build_object('n', g), timestamptz '2024-01-01 00:00+00' + g * interval '1 minute'
  FROM generate_series(1, 40) g;
INSERT INTO cmp.events VALUES (NULL, NULL), (NULL, NULL);
-- partitioned: compared as its partitions
CREATE TABLE cmp.readings (id int PRIMARY KEY, value numeric) PARTITION BY RANGE (id);
CREATE TABLE cmp.readings_low PARTITION OF cmp.readings FOR VALUES FROM (0) TO (100);
CREATE TABLE cmp.readings_high PARTITION OF cmp.readings FOR VALUES FROM (100) TO (1000);
INSERT INTO cmp.readings SELECT g, g * 0.5 FROM generate_series(1, 180) g;
-- out of scope: dms.exclude and another schema
CREATE TABLE cmp.skip_scratch (id int PRIMARY KEY);
INSERT INTO cmp.skip_scratch VALUES (1);
CREATE TABLE elsewhere.other (id int PRIMARY KEY);
"""
# only on the target: tables out of scope may differ
TARGET_ONLY_SQL = "INSERT INTO cmp.skip_scratch VALUES (2); INSERT INTO elsewhere.other VALUES (1);"
# values print differently under these defaults; the command pins its own
ODD_SETTINGS = {
    "TimeZone": "America/New_York",
    "DateStyle": "SQL, DMY",
    "IntervalStyle": "sql_standard",
    "bytea_output": "escape",
}

IN_SCOPE = {"cmp.events", "cmp.items", "cmp.orders", "cmp.readings_high", "cmp.readings_low"}


def _execute(dsn: str, script: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(script)


@pytest.fixture(scope="module")
def source(servers: tuple[PgServer, PgServer]) -> str:
    server = servers[0]
    _execute(server.dsn(), "CREATE DATABASE cmp_source STRATEGY FILE_COPY")
    _execute(server.dsn("cmp_source"), DATA_SQL)
    return server.dsn("cmp_source")


@pytest.fixture(scope="module")
def target_template(servers: tuple[PgServer, PgServer]) -> PgServer:
    server = servers[1]
    _execute(server.dsn(), "CREATE DATABASE cmp_target STRATEGY FILE_COPY")
    _execute(server.dsn("cmp_target"), DATA_SQL + TARGET_ONLY_SQL)
    return server


@contextmanager
def _clone(server: PgServer) -> Iterator[str]:
    """A fresh copy of the identical target, with odd session defaults; dropped afterwards."""
    name = f"cmp_target_{next(_COUNTER)}"
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE cmp_target STRATEGY FILE_COPY")
        for setting, value in ODD_SETTINGS.items():
            admin.execute(f"ALTER DATABASE {name} SET {setting} = '{value}'")
    yield server.dsn(name)
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def target(target_template: PgServer) -> Iterator[str]:
    """The identical target, shared by the tests that do not change it."""
    with _clone(target_template) as dsn:
        yield dsn


@pytest.fixture
def changed_target(target_template: PgServer) -> Iterator[str]:
    """An identical target of its own, for a test to change."""
    with _clone(target_template) as dsn:
        yield dsn


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """config/dev.toml with the task's scope set to schema cmp minus cmp.skip%."""
    dev = (REPO_ROOT / "config" / "dev.toml").read_text()
    scope = (
        '[dms]\ninclude = [{ schema_name = "cmp", table_name = "%" }]\n'
        'exclude = [{ schema_name = "cmp", table_name = "skip%" }]\n'
    )
    text = dev.replace("[dms]\n", scope).replace('"certs/', f'"{REPO_ROOT / "config" / "certs"}/')
    path = tmp_path_factory.mktemp("compare") / "cmp.toml"
    path.write_text(text)
    return path


def run(
    config: Path, source: str, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("CMP_SOURCE_DSN", source)
    monkeypatch.setenv("CMP_TARGET_DSN", target)
    argv = ["--config", str(config), "--dsn-env", "CMP_SOURCE_DSN", "--target-dsn-env", "CMP_TARGET_DSN", *args]
    code = compare.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(config: Path, source: str, target: str, mp: pytest.MonkeyPatch, cap: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, _ = run(config, source, target, mp, cap, "--chunk-rows", CHUNK_ROWS, "--json", *args)
    document = json.loads(out)
    document["exit"] = code
    return document


def by_table(document: Any) -> dict[str, Any]:
    return {item["table"]: item for item in document["tables"]}


def results(document: Any) -> dict[str, Any]:
    return {item["name"]: item for item in document["results"]}


def test_identical_data_passes(
    config_path: Path, source: str, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(config_path, source, target, monkeypatch, capsys)
    assert document["exit"] == 0, document
    assert document["complete"] is True
    assert document["summary"] == {"pass": 5, "warn": 0, "fail": 0, "skip": 1}
    assert set(by_table(document)) == IN_SCOPE  # cmp.skip_scratch excluded, elsewhere.other not included
    assert results(document)["cmp.readings"]["status"] == "skip"
    assert "cmp.readings_high, cmp.readings_low" in results(document)["cmp.readings"]["evidence"]
    orders = by_table(document)["cmp.orders"]
    assert (orders["source_rows"], orders["target_rows"], orders["key"]) == (300, 300, ["tenant", "id"])
    assert orders["chunks_compared"] == 7  # 6 full chunks of 50 keys and the open-ended last one
    assert by_table(document)["cmp.items"]["chunks_compared"] == 3
    assert results(document)["cmp.events"]["evidence"] == "42 rows, no primary key, whole-table digest equal"

    code, out, _ = run(config_path, source, target, monkeypatch, capsys, "--chunk-rows", CHUNK_ROWS)
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split() == ["STATUS", "TABLE", "SOURCE", "ROWS", "TARGET", "ROWS", "CHUNKS", "EVIDENCE"]
    assert lines[-1] == "summary: 5 passed, 0 warnings, 0 failed, 1 skipped"
    assert any(line.split()[:5] == ["PASS", "cmp.orders", "300", "300", "7"] for line in lines)


# (what changes on the target, the table, the chunk's WHERE clause, how the key is named)
DIFFERENCES = {
    "changed": (
        "UPDATE cmp.orders SET amount = amount + 0.001 WHERE tenant = 2 AND id = 100",
        """("tenant", "id") > ('1', '200') AND ("tenant", "id") <= ('2', '100')""",
        "changed (tenant, id)=(2, 100)",
        {"source_rows": 50, "target_rows": 50, "changed": [{"tenant": "2", "id": "100"}]},
    ),
    "missing": (
        "DELETE FROM cmp.orders WHERE tenant = 3 AND id = 150",
        """("tenant", "id") > ('3', '100') AND ("tenant", "id") <= ('3', '200')""",
        "missing on the target (tenant, id)=(3, 150)",
        {"source_rows": 50, "target_rows": 49, "missing_on_target": [{"tenant": "3", "id": "150"}]},
    ),
    "extra": (
        "INSERT INTO cmp.orders (tenant, id, note) VALUES (1, 51, 'only on the target')",
        """("tenant", "id") <= ('1', '100')""",
        "extra on the target (tenant, id)=(1, 51)",
        {"source_rows": 50, "target_rows": 51, "extra_on_target": [{"tenant": "1", "id": "51"}]},
    ),
    "extra after the last key": (
        "INSERT INTO cmp.orders (tenant, id) VALUES (9, 1)",
        """("tenant", "id") > ('3', '200')""",
        "extra on the target (tenant, id)=(9, 1)",
        {"source_rows": 0, "target_rows": 1, "extra_on_target": [{"tenant": "9", "id": "1"}]},
    ),
}


@pytest.mark.parametrize("kind", list(DIFFERENCES))
def test_a_difference_fails_naming_table_and_chunk(
    *,
    kind: str,
    config_path: Path,
    source: str,
    changed_target: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    change, where, named, expected = DIFFERENCES[kind]
    _execute(changed_target, change)
    document = run_json(config_path, source, changed_target, monkeypatch, capsys)
    assert document["exit"] == 1
    failing = {name for name, item in results(document).items() if item["status"] == "fail"}
    assert failing == {"cmp.orders"}
    (difference,) = by_table(document)["cmp.orders"]["differences"]
    assert difference["where"] == where
    assert {key: difference[key] for key in expected} == expected
    evidence = results(document)["cmp.orders"]["evidence"]
    assert f"{where}: " in evidence
    assert named in evidence
    assert results(document)["cmp.orders"]["fix"].startswith("look at the named rows")

    code, out, _ = run(config_path, source, changed_target, monkeypatch, capsys, "--chunk-rows", CHUNK_ROWS)
    assert code == 1
    assert any(line.startswith("FAIL") and "cmp.orders" in line and where in line for line in out.splitlines())


def test_columns_and_tables_without_key_and_missing_tables_fail(
    config_path: Path, source: str, changed_target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _execute(
        changed_target,
        "ALTER TABLE cmp.items ADD COLUMN added int; ALTER TABLE cmp.items ALTER COLUMN label TYPE text;"
        " UPDATE cmp.events SET payload = '{\"n\": 0}' WHERE payload = '{\"n\": 7}'; DROP TABLE cmp.readings_high;",
    )
    document = run_json(config_path, source, changed_target, monkeypatch, capsys)
    assert document["exit"] == 1
    found = results(document)
    assert {name for name, item in found.items() if item["status"] == "fail"} == {"cmp.items", "cmp.events", "cmp.readings_high"}
    assert found["cmp.items"]["evidence"].startswith(
        "columns differ: only on the target: added; types differ: label character varying(40) on the source, text on the target"
    )
    assert "120 rows, 3 chunks equal" in found["cmp.items"]["evidence"]  # the common columns are still compared
    assert found["cmp.events"]["evidence"].startswith("42 rows, no primary key, whole-table digest differs")
    assert found["cmp.readings_high"]["evidence"] == "no such table on the target"
    assert found["cmp.orders"]["status"] == "pass"


def test_a_large_table_without_key_is_counted_only_and_incomplete(
    config_path: Path, source: str, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--tables", "cmp.events", "cmp.readings", "--max-rows-without-key", "10")
    document = run_json(config_path, source, target, monkeypatch, capsys, *args)
    assert set(results(document)) == {"cmp.events", "cmp.readings", "cmp.readings_high", "cmp.readings_low"}
    events = results(document)["cmp.events"]
    assert events["status"] == "warn"
    assert "no primary key to chunk by and 42 rows (more than --max-rows-without-key 10): row counts only" in events["evidence"]
    assert (document["exit"], document["complete"]) == (1, False)
    assert run_json(config_path, source, target, monkeypatch, capsys, *args, "--allow-incomplete")["exit"] == 0


def test_the_time_budget_leaves_an_incomplete_report(
    config_path: Path, source: str, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clock that advances one second per reading: the budget runs out part-way, at the same place every time."""
    monkeypatch.setenv("CMP_SOURCE_DSN", source)
    monkeypatch.setenv("CMP_TARGET_DSN", target)
    base = ["--config", str(config_path), "--dsn-env", "CMP_SOURCE_DSN", "--target-dsn-env", "CMP_TARGET_DSN"]
    ticks = itertools.count()
    argv = [*base, "--chunk-rows", CHUNK_ROWS, "--tables", "cmp.items", "cmp.orders", "--json"]
    code = compare.run_compare(compare.parse_args(argv), budget=Budget(10, clock=lambda: float(next(ticks))))
    document = json.loads(capsys.readouterr().out)
    assert (code, document["complete"]) == (1, False)
    items, orders = by_table(document)["cmp.items"], by_table(document)["cmp.orders"]
    assert (items["status"], items["chunks_compared"], items["incomplete"]) == ("pass", 3, None)
    assert orders["status"] == "warn"
    assert orders["chunks_compared"] == 2
    assert orders["incomplete"] == "the time budget of 10 s ran out after 2 chunks, keys up to (tenant, id)=(1, 200)"
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
        "error: --tables cmp.skip_scratch: not a table in the task's scope": [
            "--config", str(config_path), *common, "--target-dsn-env", "CMP_TARGET_DSN", "--tables", "cmp.skip_scratch"
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
        shown = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in ("default_transaction_read_only", "TimeZone")}  # type: ignore[index]
        assert shown == {"default_transaction_read_only": "on", "TimeZone": "UTC"}
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM cmp.items")
