"""What every preflight check reads: the connection, the DMS config, the catalog (read once) and the run's limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial, wraps
from typing import Any

import psycopg

from config.model import DmsConfig
from migration_ops import catalog
from migration_ops.catalog import Column, Relation
from migration_ops.results import CheckResult, skipped
from plumbing import text

MAX_LISTED = 20
DEFAULT_LOB_SCAN_SECONDS = 300.0
LOB_FULL_SCAN_MAX_BYTES = 1024**3
"""Tables larger than this (with indexes and TOAST) are sampled, not read in full, by the LOB size scan."""
LOB_SAMPLE_BYTES = 256 * 1024**2
"""About how much of a sampled table the LOB size scan reads."""
LONG_TRANSACTION_SECONDS = 300.0


@dataclass(frozen=True, kw_only=True)
class PreflightContext:
    conn: psycopg.Connection[Any]
    dms: DmsConfig
    relations: tuple[Relation, ...]
    """Relations in scope: `dms.include` minus `dms.exclude`, as the task's selection rules pick them."""
    all_relations: tuple[Relation, ...]
    """Every table, materialized view and sequence outside the system schemas (for partitions and foreign keys)."""
    columns: tuple[Column, ...]
    target_major: int | None = None
    """Aurora PostgreSQL major of the target (aurora.engine_version); None skips the version comparison."""
    secret_password: str | None = field(default=None, repr=False)
    """The password from the source secret (--from-secret), only to check it against DMS's rules; never shown."""
    lob_scan_seconds: float = DEFAULT_LOB_SCAN_SECONDS
    """Time budget of the LOB size scan (0: no budget and no sampling)."""
    lob_full_scan_max_bytes: int = LOB_FULL_SCAN_MAX_BYTES
    lob_sample_bytes: int = LOB_SAMPLE_BYTES
    long_transaction_seconds: float = LONG_TRANSACTION_SECONDS

    @property
    def tables(self) -> list[Relation]:
        return [relation for relation in self.relations if relation.is_table]

    @property
    def cdc(self) -> bool:
        """The task replicates changes (full-load-and-cdc or cdc), so it needs a logical replication slot."""
        return self.dms.migration_type != "full-load"

    @property
    def in_scope_oids(self) -> frozenset[int]:
        return frozenset(relation.oid for relation in self.relations)

    def leaf_partitions(self, oid: int) -> list[Relation]:
        return catalog.leaf_partitions(self.all_relations, oid)


def build_context(
    conn: psycopg.Connection[Any],
    dms: DmsConfig,
    *,
    target_major: int | None = None,
    secret_password: str | None = None,
    lob_scan_seconds: float = DEFAULT_LOB_SCAN_SECONDS,
    **limits: Any,
) -> PreflightContext:
    """Read the catalog once: every relation, those in scope, and the columns of the tables among them."""
    everything = tuple(catalog.relations(conn))
    in_scope = tuple(catalog.scoped(everything, dms))
    tables = [relation for relation in in_scope if relation.is_table]
    return PreflightContext(
        conn=conn,
        dms=dms,
        relations=in_scope,
        all_relations=everything,
        columns=tuple(catalog.columns(conn, tables)),
        target_major=target_major,
        secret_password=secret_password,
        lob_scan_seconds=lob_scan_seconds,
        **limits,
    )


listed = partial(text.listed, limit=MAX_LISTED)
"""`a, b, c and 7 more` after 20 items: the preflight lists more than the other commands (plumbing/text.py)."""


def setting(conn: psycopg.Connection[Any], name: str) -> str:
    row = conn.execute("SELECT setting FROM pg_settings WHERE name = %s", (name,)).fetchone()
    if row is None:
        raise LookupError(f"setting {name} not found")
    return str(row[0])


def current_user(conn: psycopg.Connection[Any]) -> tuple[str, bool]:
    """(name, is superuser) of the session's user."""
    row = conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    if row is None:
        raise LookupError("current_user not found in pg_roles")
    return str(row[0]), bool(row[1])


FULL_LOAD_REASON = "migration_type full-load: no replication slot, no CDC"


def cdc_only(name: str, check: Callable[[PreflightContext], CheckResult]) -> Callable[[PreflightContext], CheckResult]:
    """`check`, skipped with the reason when the task only loads (full-load needs no logical replication)."""

    @wraps(check)
    def guarded(ctx: PreflightContext) -> CheckResult:
        if not ctx.cdc:
            return skipped(name, f"{FULL_LOAD_REASON}: not needed")
        return check(ctx)

    return guarded
