"""The write freeze on the source at cutover: the checks `cutover stop` makes (the SQL: freeze_sql.py).

A session setting (`default_transaction_read_only`) is not a freeze: any session can `SET` it back off.
The freeze takes the right to write away from the application roles instead, and closes every other path a write
could take to the in-scope tables (`cutover freeze-sql` writes it and its rollback; docs/write-freeze-paths.md).

`freeze_checks` detects the result, whoever applied it (`FREEZE_CHECKS`, in report order: a new check is a
function of a `FreezeContext` and one line there):
  freeze.*                 every write path of write_paths.py (privileges, column grants, CREATEROLE, SECURITY
                           DEFINER functions, triggers, rules, views, parents, cascading foreign keys,
                           subscriptions, sessions, other backends, prepared transactions, other superusers)
  freeze.write-counters    n_tup_ins + n_tup_upd + n_tup_del of the in-scope tables (pg_stat_user_tables)
                           do not move over a sampling interval
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from config.model import DmsConfig
from migration_ops import catalog
from migration_ops.catalog import Relation
from migration_ops.cutover.write_paths import write_path_checks
from migration_ops.results import CheckResult, failed, passed
from plumbing.text import listed

DEFAULT_SAMPLE_SECONDS = 5.0

_COUNTERS_SQL = """
SELECT format('%%I.%%I', schemaname, relname), n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relid = ANY(%s)
"""


@dataclass(frozen=True, kw_only=True)
class FreezeContext:
    """What every freeze check reads: the source connection, the tables in scope, who DMS connects as."""

    conn: psycopg.Connection[Any]
    tables: tuple[Relation, ...]
    dms_users: tuple[str, ...]
    sample_seconds: float = DEFAULT_SAMPLE_SECONDS

    @property
    def table_oids(self) -> list[int]:
        return [table.oid for table in self.tables]


FreezeCheck = Callable[[FreezeContext], list[CheckResult]]


def write_paths_check(ctx: FreezeContext) -> list[CheckResult]:
    """Every freeze.* write path (write_paths.py); other superusers FAIL, and only `--force` overrides that."""
    return write_path_checks(ctx.conn, ctx.tables, dms_users=ctx.dms_users)


def _counters(conn: psycopg.Connection[Any], oids: list[int]) -> dict[str, int]:
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return {str(table): int(count) for table, count in conn.execute(_COUNTERS_SQL, (oids,)).fetchall()}


def counters_check(ctx: FreezeContext) -> list[CheckResult]:
    return [_counters_result(ctx)]


def _counters_result(ctx: FreezeContext) -> CheckResult:
    name = "freeze.write-counters"
    sample_seconds = ctx.sample_seconds
    before = _counters(ctx.conn, ctx.table_oids)
    time.sleep(sample_seconds)
    after = _counters(ctx.conn, ctx.table_oids)
    moved = [f"{table} +{after[table] - count}" for table, count in sorted(before.items()) if after.get(table, count) != count]
    if not moved:
        return passed(name, f"inserts+updates+deletes of {len(before)} tables in scope unchanged over {sample_seconds:g} s")
    return failed(
        name,
        f"rows written during {sample_seconds:g} s: {listed(moved)}",
        fix="something still writes: find it in pg_stat_activity; counters of a session that just ended "
        "can arrive a few seconds late, so run the check again before anything else",
    )


FREEZE_CHECKS: tuple[FreezeCheck, ...] = (write_paths_check, counters_check)


def run_freeze_checks(ctx: FreezeContext) -> list[CheckResult]:
    return [result for check in FREEZE_CHECKS for result in check(ctx)]


def freeze_checks(
    conn: psycopg.Connection[Any], dms: DmsConfig, *, dms_users: Sequence[str], sample_seconds: float = DEFAULT_SAMPLE_SECONDS
) -> list[CheckResult]:
    """The write-freeze checks (module docstring) on the source connection `conn`, for the tables in scope."""
    tables = tuple(catalog.scoped_tables(conn, dms))
    return run_freeze_checks(FreezeContext(conn=conn, tables=tables, dms_users=tuple(dms_users), sample_seconds=sample_seconds))
