"""Scope: include minus exclude, `%` the only wildcard."""

from __future__ import annotations

from config.model import TableSelection
from migration_ops.scope import in_scope, name_matches


def rule(schema: str, table: str = "%") -> TableSelection:
    return TableSelection(schema_name=schema, table_name=table)


def test_percent_matches_any_run_and_nothing_else_is_a_wildcard() -> None:
    assert name_matches("%", "anything")
    assert name_matches("order%", "orders")
    assert name_matches("order%", "order")
    assert name_matches("%_log", "audit_log")
    assert not name_matches("%_log", "auditlog")  # `_` is literal, not LIKE's single-character wildcard
    assert not name_matches("a.c", "abc")  # regex metacharacters are literal
    assert not name_matches("orders", "orders_archive")
    assert not name_matches("Orders", "orders")


def test_include_minus_exclude() -> None:
    include = (rule("public"), rule("sales", "order%"))
    exclude = (rule("public", "audit%"),)
    assert in_scope("public", "customers", include=include, exclude=exclude)
    assert not in_scope("public", "audit_log", include=include, exclude=exclude)
    assert in_scope("sales", "orders", include=include, exclude=exclude)
    assert not in_scope("sales", "invoices", include=include, exclude=exclude)
    assert not in_scope("other", "customers", include=include, exclude=exclude)
    assert in_scope("public", "audit_log", include=include)
