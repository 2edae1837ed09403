"""A source and a target whose tables are not the same set, and a config whose mappings leave some out: what
`cutover reload` and `cutover analyze` must get exactly right (migration_ops/cutover/migrated.py).

Source and target both hold, in `public`:
  accounts, ledger                      in scope
  skipped                               excluded by the config
  measurements (partitioned, excluded   as the runbook recommends) and its leaves measurements_2024/_2025 (in scope)
  base, base_child (INHERITS base)      base in scope, base_child excluded
The source alone: source_only (in scope; not on the target). The target alone: aurora_only (never DMS's).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.conftest import REPO_ROOT
from tests.migration_ops.pg_server import PgServer

_COUNTER = itertools.count()
EXCLUDED = ("skipped", "measurements", "base_child")
COMMON_SQL = """
CREATE TABLE public.accounts (id int PRIMARY KEY, balance numeric);
CREATE TABLE public.ledger (line text);
CREATE TABLE public.skipped (id int);
CREATE TABLE public.measurements (id int, taken_on date NOT NULL) PARTITION BY RANGE (taken_on);
CREATE TABLE public.measurements_2024 PARTITION OF public.measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE public.measurements_2025 PARTITION OF public.measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE public.base (id int);
CREATE TABLE public.base_child (extra text) INHERITS (public.base);
INSERT INTO public.accounts VALUES (1, 10), (2, 20);
INSERT INTO public.ledger VALUES ('opening');
INSERT INTO public.skipped VALUES (1);
INSERT INTO public.measurements VALUES (1, '2024-06-01'), (2, '2025-06-01');
INSERT INTO public.base VALUES (1);
INSERT INTO public.base_child VALUES (2, 'child');
"""
SOURCE_SQL = COMMON_SQL + "CREATE TABLE public.source_only (id int); INSERT INTO public.source_only VALUES (1);"
TARGET_SQL = COMMON_SQL + "CREATE TABLE public.aurora_only (id int); INSERT INTO public.aurora_only VALUES (1);"
LOADED = ("public.accounts", "public.base", "public.ledger", "public.measurements_2024", "public.measurements_2025")
"""What DMS loads that is on the target, in name order: what reload truncates and analyze vacuums."""
TRUNCATE = 'TRUNCATE ONLY "public"."accounts", ONLY "public"."base", ONLY "public"."ledger", ' \
           'ONLY "public"."measurements_2024", ONLY "public"."measurements_2025"'  # fmt: skip
KEPT = ("public.skipped", "public.base_child", "public.aurora_only")
"""Tables on the target that are not DMS's: never touched."""


@dataclass(frozen=True)
class ScopeDatabases:
    server: PgServer
    source: str
    target: str

    def dsn(self, database: str, user: str = "postgres") -> str:
        return self.server.dsn(database, user)


def create_databases(server: PgServer) -> ScopeDatabases:
    number = next(_COUNTER)
    found = ScopeDatabases(server=server, source=f"scope_src_{number}", target=f"scope_tgt_{number}")
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        for database, script in ((found.source, SOURCE_SQL), (found.target, TARGET_SQL)):
            admin.execute(f"CREATE DATABASE {database} STRATEGY WAL_LOG")
            with psycopg.connect(server.dsn(database), autocommit=True) as conn:
                conn.execute(script)
    return found


def drop_databases(found: ScopeDatabases) -> None:
    with psycopg.connect(found.server.dsn(), autocommit=True) as admin:
        for database in (found.source, found.target):
            admin.execute(f"DROP DATABASE {database} WITH (FORCE)")


def scope_databases(server: PgServer) -> Iterator[ScopeDatabases]:
    """Body of a fixture: the two databases, dropped afterwards."""
    found = create_databases(server)
    try:
        yield found
    finally:
        drop_databases(found)


def write_config(directory: Path) -> Path:
    """config/dev.toml with the exclude rules of EXCLUDED (all of `public` included, as in dev)."""
    dev = (REPO_ROOT / "config" / "dev.toml").read_text()
    rules = ", ".join(f'{{ schema_name = "public", table_name = "{name}" }}' for name in EXCLUDED)
    text = dev.replace("[dms]\n", f"[dms]\nexclude = [{rules}]\n").replace('"certs/', f'"{REPO_ROOT / "config" / "certs"}/')
    path = directory / "scope.toml"
    path.write_text(text)
    return path


def row_counts(dsn: str, tables: tuple[str, ...]) -> dict[str, int]:
    """Rows of each table itself (ONLY: an inheritance parent's count leaves out its children)."""
    counts = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in tables:
            schema, name = table.split(".")
            row = conn.execute(f'SELECT count(*) FROM ONLY "{schema}"."{name}"').fetchone()
            assert row is not None
            counts[table] = int(row[0])
    return counts
