"""Running preflight checks against the test servers."""

from __future__ import annotations

from typing import Any

from config.model import DmsConfig, TableSelection
from migration_ops.preflight_checks import CheckResult, build_context, run_checks
from migration_ops.source_db import connect

SHOP_EXCLUDE = (TableSelection(schema_name="public", table_name="audit%"),)


def dms_variant(base: DmsConfig, **changes: Any) -> DmsConfig:
    """`base` with `changes`, unvalidated (so a too-old engine can be tried)."""
    return base.model_copy(update=changes)


def run_all(dsn: str, dms: DmsConfig) -> dict[str, CheckResult]:
    with connect(dsn, read_only=True, statement_timeout_seconds=30) as conn:
        return {result.name: result for result in run_checks(build_context(conn, dms))}
