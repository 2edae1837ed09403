"""Sequence reset: read on the source, setval on the target past the source's values."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from config import EnvironmentConfig
from config.model import DmsConfig
from migration_ops.cutover.sequence_reset import SequenceResetError, apply_sequences, read_sequences
from migration_ops.postgres import connect
from tests.conftest import REPO_ROOT
from tests.migration_ops.conftest import MIGRATOR
from tests.migration_ops.helpers import SHOP_EXCLUDE, dms_variant
from tests.migration_ops.pg_server import PgServer

pytestmark = pytest.mark.postgres
_COUNTER = itertools.count()
# (last_value, is_called, increment_by) on the source after the fixture's inserts and nextval calls
SOURCE_STATE = {
    "public.countdown": (-2, True, -1),
    "public.customers_id_seq": (42, True, 1),
    "public.invoice_number": (5006, True, 1),
    "public.orders_id_seq": (11, True, 1),
}


@pytest.fixture
def fresh_target(pg: PgServer) -> Iterator[str]:
    """A new database cloned from `target` (same sequences, at their start), dropped afterwards."""
    name = f"target_{next(_COUNTER)}"
    with psycopg.connect(pg.dsn(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE target STRATEGY FILE_COPY")
    yield pg.dsn(name)
    with psycopg.connect(pg.dsn(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def shop_dms(dev_config: EnvironmentConfig) -> DmsConfig:
    return dms_variant(dev_config.dms, exclude=SHOP_EXCLUDE)


def target_positions(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {
            name: int(conn.execute(f"SELECT last_value FROM {name}").fetchone()[0])  # type: ignore[index]
            for name in SOURCE_STATE
        }


def test_read_sequences_in_scope_from_the_source(pg: PgServer, shop_dms: DmsConfig) -> None:
    with connect(pg.dsn("shop", MIGRATOR), read_only=True) as conn:
        states = read_sequences(conn, shop_dms)
    assert {s.qualified: (s.last_value, s.is_called, s.increment_by) for s in states} == SOURCE_STATE


def test_apply_moves_every_target_sequence_past_the_source(pg: PgServer, shop_dms: DmsConfig, fresh_target: str) -> None:
    with connect(pg.dsn("shop", MIGRATOR), read_only=True) as conn:
        states = read_sequences(conn, shop_dms)
    with connect(fresh_target, read_only=False) as conn:
        applied = apply_sequences(conn, states, margin=1000)
    assert all(item.changed for item in applied)
    assert target_positions(fresh_target) == {
        "public.countdown": -1002,
        "public.customers_id_seq": 1042,
        "public.invoice_number": 6006,
        "public.orders_id_seq": 1011,
    }
    with psycopg.connect(fresh_target, autocommit=True) as conn:
        next_order = conn.execute("SELECT nextval('public.orders_id_seq')").fetchone()
        next_countdown = conn.execute("SELECT nextval('public.countdown')").fetchone()
    assert next_order is not None and next_order[0] == 1012 > SOURCE_STATE["public.orders_id_seq"][0]
    assert next_countdown is not None and next_countdown[0] == -1003 < SOURCE_STATE["public.countdown"][0]
    with connect(fresh_target, read_only=False) as conn:
        again = apply_sequences(conn, states, margin=10)
    assert not any(item.changed for item in again)  # never moves a target backwards
    assert target_positions(fresh_target)["public.customers_id_seq"] == 1042


def test_apply_refuses_missing_sequences_and_overflow(pg: PgServer, shop_dms: DmsConfig, fresh_target: str) -> None:
    with connect(pg.dsn("shop", MIGRATOR), read_only=True) as conn:
        states = read_sequences(conn, shop_dms)
    with connect(pg.dsn("clean"), read_only=False) as conn, pytest.raises(SequenceResetError, match="no such sequence"):
        apply_sequences(conn, states)
    with (
        connect(fresh_target, read_only=False) as conn,
        pytest.raises(SequenceResetError, match=r"public\.countdown: -2000002 is outside"),
    ):
        apply_sequences(conn, states, margin=2_000_000)
    assert target_positions(fresh_target)["public.customers_id_seq"] == 1  # the failed run rolled back


def test_cli_prints_then_applies(pg: PgServer, fresh_target: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(SOURCE_DSN=pg.dsn("shop", MIGRATOR), TARGET_DSN=fresh_target)
    base = [sys.executable, "-m", "migration_ops.cutover", "sequences", "--env", "dev", "--dsn-env", "SOURCE_DSN",
            "--record-dir", str(tmp_path / "records")]  # fmt: skip

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *extra], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)

    listed = run("--json")
    assert listed.returncode == 0, listed.stderr
    # dev.toml includes all of public: audit_log has no sequence, so the same four
    assert {item["sequence"]: item["last_value"] for item in json.loads(listed.stdout)} == {
        name: state[0] for name, state in SOURCE_STATE.items()
    }
    assert target_positions(fresh_target)["public.invoice_number"] == 5000  # printing applies nothing
    applied = run("--apply-dsn-env", "TARGET_DSN", "--margin", "50")
    assert applied.returncode == 0, applied.stderr
    assert "4 of 4 target sequences set (margin 50)" in applied.stdout
    assert target_positions(fresh_target)["public.invoice_number"] == 5056
    failed = run("--apply-dsn-env", "NO_SUCH_VARIABLE")
    assert failed.returncode == 2
    assert "NO_SUCH_VARIABLE is not set" in failed.stderr
