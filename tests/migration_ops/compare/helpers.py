"""The compare tests' data, databases made for one test, and how they run the command."""

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
from tests.migration_ops.pg_server import PgServer

COUNTER = itertools.count()
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


def execute(dsn: str, script: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(script)


@contextmanager
def clone(server: PgServer) -> Iterator[str]:
    """A fresh copy of the identical target, with odd session defaults; dropped afterwards."""
    name = f"cmp_target_{next(COUNTER)}"
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE cmp_target STRATEGY FILE_COPY")
        for setting, value in ODD_SETTINGS.items():
            admin.execute(f"ALTER DATABASE {name} SET {setting} = '{value}'")
    yield server.dsn(name)
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@contextmanager
def database(server: PgServer, script: str, options: str = "") -> Iterator[str]:
    """A new database made by `script` (CREATE DATABASE ... `options`), dropped afterwards."""
    name = f"cmp_scratch_{next(COUNTER)}"
    execute(server.dsn(), f"CREATE DATABASE {name} {options}")
    try:
        if script:
            execute(server.dsn(name), script)
        yield server.dsn(name)
    finally:
        execute(server.dsn(), f"DROP DATABASE {name} WITH (FORCE)")


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
    """--json with --chunk-rows 50 and --recheck-delay-seconds 0 unless `args` say otherwise."""
    defaults = ("--chunk-rows", CHUNK_ROWS) + (() if "--recheck-delay-seconds" in args else ("--recheck-delay-seconds", "0"))
    code, out, _ = run(config, source, target, mp, cap, *defaults, "--json", *args)
    document = json.loads(out)
    document["exit"] = code
    return document


def by_table(document: Any) -> dict[str, Any]:
    return {item["table"]: item for item in document["tables"]}


def results(document: Any) -> dict[str, Any]:
    return {item["name"]: item for item in document["results"]}
