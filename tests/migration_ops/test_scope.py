"""Scope: include minus exclude with DMS's wildcards, and one answer from the tools and from the emitted mappings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from config import EnvironmentConfig
from config.model import DmsConfig, TableSelection
from contract.dms_wildcards import matches
from migration_ops import catalog
from migration_ops.postgres import connect
from migration_ops.scope import in_scope, name_matches
from modules.dms_documents import table_mappings
from stacks.props import task_documents_props
from tests.migration_ops.helpers import dms_variant
from tests.migration_ops.pg_server import PgServer

Name = tuple[str, str]


def rule(schema: str, table: str = "%") -> TableSelection:
    return TableSelection(schema_name=schema, table_name=table)


def test_names_match_as_dms_wildcards_do() -> None:
    assert name_matches("%", "anything")
    assert name_matches("order%", "orders")
    assert name_matches("order%", "order")
    assert name_matches("%_log", "audit_log")
    assert name_matches("%_log", "auditxlog")  # `_` is any one character, as in DMS
    assert not name_matches("%[_]log", "auditxlog")  # `[_]` is a literal underscore
    assert name_matches("audit_%", "audits")  # the staging/prod trap
    assert not name_matches("audit[_]%", "audits")
    assert name_matches("t[a-c]", "tb")
    assert not name_matches("t[a-c]", "td")
    assert not name_matches("a.c", "abc")  # regex metacharacters are literal
    assert not name_matches("orders", "orders_archive")
    assert not name_matches("Orders", "orders")


def test_include_minus_exclude() -> None:
    include = (rule("public"), rule("sales", "order%"))
    exclude = (rule("public", "audit[_]%"),)
    assert in_scope("public", "customers", include=include, exclude=exclude)
    assert not in_scope("public", "audit_log", include=include, exclude=exclude)
    assert in_scope("public", "audits", include=include, exclude=exclude)
    assert not in_scope("public", "audits", include=include, exclude=(rule("public", "audit_%"),))
    assert in_scope("sales", "orders", include=include, exclude=exclude)
    assert not in_scope("sales", "invoices", include=include, exclude=exclude)
    assert not in_scope("other", "customers", include=include, exclude=exclude)
    assert in_scope("public", "audit_log", include=include)


# --- the emitted table mappings, read as DMS reads them, against scope.py and the catalog on a real server ----

TRAPS_DATABASE = "scope_traps"
TRAP_TABLES: tuple[Name, ...] = (
    ("public", "audits"),
    ("public", "audit_log"),
    ("public", "audit_"),
    ("public", "auditlog"),
    ("public", "Audits"),
    ("public", "a_c"),
    ("public", "abc"),
    ("public", "ac"),
    ("public", "abbc"),
    ("public", "ta"),
    ("public", "tb"),
    ("public", "tc"),
    ("public", "td"),
    ("public", "t_"),
    ("public", "tx"),
    ("sales", "orders"),
    ("s_les", "orders"),
    ("saless", "orders"),
)


def _rules(*pairs: Name) -> tuple[TableSelection, ...]:
    return tuple(rule(schema, table) for schema, table in pairs)


# (include, exclude, what DMS selects): each expectation read off the "Wildcards in table mapping" table
CASES: dict[str, tuple[tuple[TableSelection, ...], tuple[TableSelection, ...], set[Name]]] = {
    "staging's old exclude audit_% also drops audits and auditlog": (
        _rules(("public", "%")),
        _rules(("public", "audit_%")),
        {("public", n) for n in ("Audits", "a_c", "abc", "ac", "abbc", "ta", "tb", "tc", "td", "t_", "tx")},
    ),
    "audit[_]% drops only the underscored ones": (
        _rules(("public", "%")),
        _rules(("public", "audit[_]%")),
        {("public", n) for n in ("audits", "auditlog", "Audits", "a_c", "abc", "ac", "abbc", "ta", "tb", "tc", "td", "t_", "tx")},
    ),
    "a_c is any one character": (_rules(("public", "a_c")), (), {("public", "a_c"), ("public", "abc")}),
    "a[_]c is the literal name": (_rules(("public", "a[_]c")), (), {("public", "a_c")}),
    "sets and ranges": (
        _rules(("public", "t[a-c]"), ("public", "t[_x]")),
        _rules(("public", "t[b]")),
        {("public", "ta"), ("public", "tc"), ("public", "t_"), ("public", "tx")},
    ),
    "schema names follow the same grammar": (
        _rules(("s_les", "%")),
        _rules(("s[_]les", "orders")),
        {("sales", "orders")},
    ),
}


def dms_selects(mappings: dict[str, Any], schema: str, table: str) -> bool:
    """DMS's selection rules: included when an include rule matches and no exclude rule matches."""

    def hits(action: str) -> bool:
        return any(
            rule["rule-type"] == "selection"
            and rule["rule-action"] == action
            and matches(rule["object-locator"]["schema-name"], schema)
            and matches(rule["object-locator"]["table-name"], table)
            for rule in mappings["rules"]
        )

    return hits("include") and not hits("exclude")


def _quoted(name: Name) -> str:
    return ".".join('"' + part + '"' for part in name)


@pytest.fixture(scope="module")
def traps(pg: PgServer) -> Iterator[str]:
    """A database holding every trap name, as plain tables (no sequences, so the scopes compare table for table)."""
    with psycopg.connect(pg.dsn(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {TRAPS_DATABASE}")
        admin.execute(f"CREATE DATABASE {TRAPS_DATABASE}")
    with psycopg.connect(pg.dsn(TRAPS_DATABASE), autocommit=True) as conn:
        for schema in sorted({schema for schema, _ in TRAP_TABLES} - {"public"}):
            conn.execute(f'CREATE SCHEMA "{schema}"')
        for name in TRAP_TABLES:
            conn.execute(f"CREATE TABLE {_quoted(name)} (id int PRIMARY KEY)")
    yield pg.dsn(TRAPS_DATABASE)
    with psycopg.connect(pg.dsn(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {TRAPS_DATABASE}")


@pytest.mark.postgres
@pytest.mark.parametrize("case", list(CASES))
def test_emitted_mappings_scope_and_catalog_agree(traps: str, dev_config: EnvironmentConfig, case: str) -> None:
    include, exclude, expected = CASES[case]
    dms: DmsConfig = dms_variant(dev_config.dms, include=include, exclude=exclude)
    mappings = json.loads(table_mappings(task_documents_props(dms)))  # what the stack puts in the task
    with connect(traps, read_only=True) as conn:
        names = {(r.schema, r.name) for r in catalog.relations(conn) if r.is_table}
        by_catalog = {(r.schema, r.name) for r in catalog.scoped_relations(conn, dms) if r.is_table}
    assert names == set(TRAP_TABLES)
    by_dms = {name for name in names if dms_selects(mappings, *name)}
    by_scope = {name for name in names if in_scope(*name, include=dms.include, exclude=dms.exclude)}
    assert by_dms == expected
    assert by_scope == by_dms
    assert by_catalog == by_dms
