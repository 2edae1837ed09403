"""The comparison benchmark's table: N rows of mixed types, generated identically on each server, and the planted cases.

Every value is a pure function of the row number g (no random(), no now()), so the same INSERT ... SELECT over
generate_series on each server writes the same rows: both servers load at the same time, and the hash floor's
per-side sums prove the two tables identical before anything is timed. Keys are 2*g, so there are gaps for a
planted insert in the middle of the key range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import psycopg

DATABASE = "bench"
SCHEMA = "bench"
TABLE = "mixed"
QUALIFIED = f"{SCHEMA}.{TABLE}"
KEY = "id"

CREATE_SQL = f"""
CREATE SCHEMA {SCHEMA};
CREATE TABLE {QUALIFIED} (
    id bigint NOT NULL,
    quantity int NOT NULL,
    amount numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL,
    active boolean NOT NULL,
    label text NOT NULL,
    note text,
    details jsonb NOT NULL
)
"""
# label: 20-200 characters (hex of md5, repeated and cut); note: NULL in every 10th row.
ROWS_SQL = f"""
INSERT INTO {QUALIFIED}
SELECT 2 * g,
       (g * 7919) %% 1000003,
       ((g * 104729) %% 100000000)::numeric / 100,
       timestamptz '2020-01-01 00:00:00+00' + g * interval '1.000017 seconds',
       g %% 3 = 0,
       left(repeat(md5(g::text), 7), (20 + (g * 37) %% 181)::int),
       CASE WHEN g %% 10 = 0 THEN NULL ELSE 'note ' || g %% 1000 END,
       jsonb_build_object('n', g %% 1000, 'k', (ARRAY['a', 'b', 'c'])[1 + g %% 3])
  FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
"""
SERVER_VERSION_SQL = "SELECT current_setting('server_version')"
KEY_SQL = f"ALTER TABLE {QUALIFIED} ADD PRIMARY KEY ({KEY})"
SIZE_SQL = f"SELECT pg_table_size('{QUALIFIED}'), pg_total_relation_size('{QUALIFIED}'), count(*) FROM {QUALIFIED}"


def connect(dsn: str, *, timeout_s: float) -> psycopg.Connection[Any]:
    """An autocommit session whose every statement is bounded by `timeout_s`."""
    options = f"-c statement_timeout={int(timeout_s * 1000)}"
    return psycopg.connect(dsn, autocommit=True, connect_timeout=10, options=options)


def create_database(dsn: str) -> None:
    with connect(dsn, timeout_s=60) as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")


def load(dsn: str, rows: int, *, timeout_s: float) -> None:
    """Create and fill the table in the transaction that creates it (with wal_level=minimal: no WAL), then key it."""
    with connect(dsn, timeout_s=timeout_s) as conn:
        with conn.transaction():
            conn.execute(CREATE_SQL)
            conn.execute(ROWS_SQL, {"first": 1, "last": rows})
            conn.execute(KEY_SQL)
        conn.execute(f"VACUUM (ANALYZE) {QUALIFIED}")


@dataclass(frozen=True, kw_only=True)
class TableSize:
    table_bytes: int
    """pg_table_size: heap, TOAST, free space and visibility maps."""
    total_bytes: int
    """pg_total_relation_size: the same with the primary key's index."""
    rows: int


def size(dsn: str, *, timeout_s: float) -> TableSize:
    with connect(dsn, timeout_s=timeout_s) as conn:
        row = conn.execute(SIZE_SQL).fetchone()
    assert row is not None
    return TableSize(table_bytes=int(row[0]), total_bytes=int(row[1]), rows=int(row[2]))


Kind = Literal["changed", "missing", "extra"]


@dataclass(frozen=True, kw_only=True)
class PlantedCase:
    """One difference planted on the target and reverted afterwards; `key` is the id compare must name."""

    name: str
    kind: Kind
    key: int
    plant: str
    revert: str
    revert_params: dict[str, int]


def server_version(dsn: str) -> str:
    with connect(dsn, timeout_s=60) as conn:
        row = conn.execute(SERVER_VERSION_SQL).fetchone()
    return "" if row is None else str(row[0])


def planted_cases(rows: int) -> tuple[PlantedCase, ...]:
    """A single-row UPDATE, DELETE and INSERT on the target, at about a third, half and two thirds of the keys."""
    updated, deleted = 2 * max(1, rows // 3), 2 * max(1, rows // 2)
    inserted = 2 * max(1, (2 * rows) // 3) + 1  # odd: between two existing keys
    return (
        PlantedCase(
            name="update",
            kind="changed",
            key=updated,
            plant=f"UPDATE {QUALIFIED} SET label = label || '!' WHERE id = {updated}",
            revert=f"UPDATE {QUALIFIED} SET label = left(label, -1) WHERE id = {updated}",
            revert_params={},
        ),
        PlantedCase(
            name="delete",
            kind="missing",
            key=deleted,
            plant=f"DELETE FROM {QUALIFIED} WHERE id = {deleted}",
            revert=ROWS_SQL,
            revert_params={"first": deleted // 2, "last": deleted // 2},
        ),
        PlantedCase(
            name="insert",
            kind="extra",
            key=inserted,
            plant=(
                f"INSERT INTO {QUALIFIED} VALUES ({inserted}, 1, 1.00, timestamptz '2020-01-01 00:00:00+00', true,"
                " 'planted: only on the target', NULL, '{}')"
            ),
            revert=f"DELETE FROM {QUALIFIED} WHERE id = {inserted}",
            revert_params={},
        ),
    )


def row_text(dsn: str, key: int) -> str | None:
    """The row of `key` as text (None when absent): what a revert is checked with, against the source."""
    with connect(dsn, timeout_s=60) as conn:
        row = conn.execute(f"SELECT t::text FROM {QUALIFIED} t WHERE id = %s", (key,)).fetchone()
    return None if row is None else str(row[0])


def execute(dsn: str, statement: str, params: dict[str, int] | None = None) -> int:
    """Run one statement in autocommit; the number of rows it touched."""
    with connect(dsn, timeout_s=60) as conn:
        return conn.execute(statement, params).rowcount
