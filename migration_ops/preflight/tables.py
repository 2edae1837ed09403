"""Preflight checks of the tables in scope: partitions, foreign keys, keys for LOBs, LOB sizes, sequence grants.

Sources (AWS DMS user guide):
- "Using a PostgreSQL database as an AWS DMS source", "Using DMS to migrate data from PostgreSQL to PostgreSQL":
  selecting a partitioned parent as well as its partitions duplicates the rows on the target; select the
  partitions alone. "Limitations": DMS does not replicate partitioned tables as such; with LOB mode source and
  target need the same primary key, otherwise UPDATE/DELETE results are unpredictable.
- "Source data types for PostgreSQL" and "Working with LOB source data types for PostgreSQL": TEXT, JSON, JSONB,
  ARRAY, COMPOSITE and HSTORE become NCLOB (each character counts 2 bytes, 4 with 4-byte characters); XML,
  TSVECTOR, TSQUERY, PATH and POLYGON become CLOB (1 byte per character, 2 with 4-byte characters); BYTEA is a
  BLOB (bytes). LobMaxSize (dms.lob_max_size_kb) is compared with those byte counts.
- Premigration assessment "Source table with Large objects (LOBs) but without primary keys or unique constraints"
  (table-with-lob-but-without-primary-key-or-unique-constraint): DMS needs a primary or unique key to migrate LOBs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from migration_ops import catalog
from migration_ops.catalog import Column, Relation
from migration_ops.preflight.context import PreflightContext, listed, setting
from migration_ops.results import CheckResult, Status, failed, passed, warned

BLOB, CLOB, NCLOB = "BLOB", "CLOB", "NCLOB"
CLOB_TYPES = frozenset({"xml", "tsvector", "tsquery", "path", "polygon"})
NCLOB_TYPES = frozenset({"text", "json", "jsonb", "hstore"})
# (bytes per character, bytes per character when the value holds a 4-byte UTF-8 character)
CHARACTER_BYTES = {CLOB: (1, 2), NCLOB: (2, 4)}
_FOUR_BYTE_CHARACTER = r"'[\U00010000-\U0010FFFF]'"


def dms_lob_kind(column: Column) -> str | None:
    """The DMS LOB type a PostgreSQL column becomes, or None when DMS does not treat it as a LOB."""
    if column.type_name == "bytea":
        return BLOB
    if column.type_name in CLOB_TYPES:
        return CLOB
    if column.type_category == "A" or column.type_type == "c" or column.type_name in NCLOB_TYPES:
        return NCLOB
    if column.type_name == "varchar" and column.typmod < 0:
        return NCLOB
    return None


def dms_lob_bytes(kind: str, characters: int, *, four_byte: bool = False) -> int:
    """How many bytes DMS counts for a value of `characters` characters (BLOB: `characters` is the byte count)."""
    if kind == BLOB:
        return characters
    plain, wide = CHARACTER_BYTES[kind]
    return characters * (wide if four_byte else plain)


# --- grants and keys --------------------------------------------------------------------------------


def check_sequence_privilege(ctx: PreflightContext) -> CheckResult:
    """`cutover sequences` reads every sequence in scope as the migration user (SELECT last_value)."""
    sequences = [relation for relation in ctx.relations if relation.kind == catalog.SEQUENCE]
    missing = [relation.qualified for relation in sequences if not relation.can_select]
    if missing:
        return failed(
            "sequence_privilege",
            f"no SELECT on {len(missing)} of {len(sequences)} sequences in scope: {listed(missing)}; "
            "cutover sequences cannot read them",
            fix="GRANT SELECT ON SEQUENCE <sequence> TO <migration user>; (or GRANT SELECT ON ALL SEQUENCES IN SCHEMA <schema>)",
        )
    return passed("sequence_privilege", f"SELECT on all {len(sequences)} sequences in scope")


def check_lob_without_key(ctx: PreflightContext) -> CheckResult:
    """Tables with LOB columns but neither a primary key nor a unique index (REPLICA IDENTITY FULL or not)."""
    lob_columns: dict[int, list[str]] = {}
    for column in ctx.columns:
        if dms_lob_kind(column) is not None:
            lob_columns.setdefault(column.relation.oid, []).append(column.name)
    flagged = [
        f"{table.qualified} (REPLICA IDENTITY {_identity(table)}; LOBs: {', '.join(lob_columns[table.oid])})"
        for table in ctx.tables
        if table.oid in lob_columns and not table.has_primary_key and not table.has_unique_key
    ]
    if not flagged:
        return passed("lob_without_key", "every table in scope with LOB columns has a primary key or unique index")
    return CheckResult(
        name="lob_without_key",
        status=Status.FAIL if ctx.cdc else Status.WARN,
        evidence=f"{len(flagged)} tables with LOB columns and no primary key or unique index: {listed(flagged)}"
        + ("; DMS needs a key to look LOBs up and to apply their UPDATE/DELETE" if ctx.cdc else "; not validated"),
        fix="add a primary key (or a unique index on NOT NULL columns) to each; REPLICA IDENTITY FULL is not enough",
    )


def _identity(table: Relation) -> str:
    return {"d": "DEFAULT", "f": "FULL", "i": "INDEX", "n": "NOTHING"}.get(table.replica_identity, table.replica_identity)


# --- partitions and foreign keys ---------------------------------------------------------------------


def _exclude_rule(relation: Relation) -> str:
    return f'{{ schema_name = "{relation.schema}", table_name = "{relation.name}" }}'


def check_partitions(ctx: PreflightContext) -> CheckResult:
    """How the selection rules treat partitioned tables: partitions alone, never a parent and its partitions."""
    scope = ctx.in_scope_oids
    duplicated: list[Relation] = []
    parent_only: list[str] = []
    notes: list[str] = []
    for parent in (relation for relation in ctx.all_relations if relation.is_partitioned):
        leaves = ctx.leaf_partitions(parent.oid)
        chosen = [leaf for leaf in leaves if leaf.oid in scope]
        if parent.oid in scope and chosen:
            duplicated.append(parent)
        elif parent.oid in scope and leaves and ctx.cdc:
            parent_only.append(parent.qualified)
        elif parent.oid in scope and parent.partition_of is None:
            notes.append(f"{parent.qualified}: loaded through the parent ({len(leaves)} partitions; full-load)")
        elif chosen and parent.partition_of is None:
            left_out = [leaf.qualified for leaf in leaves if leaf.oid not in scope]
            notes.append(
                f"{parent.qualified}: parent excluded, {len(chosen)} of {len(leaves)} partitions selected"
                + (f" (left out: {listed(left_out)})" if left_out else "")
            )
    if duplicated or parent_only:
        parts = []
        if duplicated:
            parts.append(
                "selected together with their partitions (the full load copies every row twice): "
                + listed([parent.qualified for parent in duplicated])
            )
        if parent_only:
            parts.append(
                "selected without any partition (changes are decoded under the partitions' names, so CDC would "
                f"miss them): {listed(parent_only)}"
            )
        rules = ", ".join(_exclude_rule(parent) for parent in duplicated)
        fix = f"add to dms.exclude: {rules}" if rules else ""
        if parent_only:
            fix += ("; " if fix else "") + 'include the partitions (e.g. table_name = "<parent>%") and exclude the parent'
        return failed("partitions", "partitioned tables " + "; ".join(parts), fix=fix)
    if not notes:
        return passed("partitions", "no partitioned tables in scope")
    return passed("partitions", "; ".join(notes) + "; a new partition during replication is DDL (DDL freeze)")


def check_foreign_keys(ctx: PreflightContext) -> CheckResult:
    """Foreign keys from tables in scope into tables the task leaves out."""
    scope = ctx.in_scope_oids
    by_oid = {relation.oid: relation for relation in ctx.all_relations}

    def leaves_in_scope(oid: int) -> list[bool]:
        return [leaf.oid in scope for leaf in ctx.leaf_partitions(oid)]

    def migrated_from(oid: int) -> bool:
        return oid in scope or any(leaves_in_scope(oid))

    def fully_migrated(oid: int) -> bool:
        relation = by_oid.get(oid)
        if oid in scope and not (relation and relation.is_partitioned):
            return True
        leaves = leaves_in_scope(oid)
        return (oid in scope and not leaves) or (bool(leaves) and all(leaves))

    rows = ctx.conn.execute(
        "SELECT conname, conrelid, confrelid FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 ORDER BY conname"
    ).fetchall()
    counted = 0
    dangling: list[str] = []
    for name, source_oid, target_oid in rows:
        if not migrated_from(int(source_oid)):
            continue
        counted += 1
        if not fully_migrated(int(target_oid)):
            source, target = by_oid.get(int(source_oid)), by_oid.get(int(target_oid))
            source_name = source.qualified if source else str(source_oid)
            dangling.append(f"{source_name}.{name} -> {target.qualified if target else target_oid}")
    if dangling:
        return failed(
            "foreign_keys",
            f"{len(dangling)} foreign keys from tables in scope reference tables left out (Aurora will not hold "
            f"their rows): {listed(dangling)}",
            fix="add the referenced tables to dms.include (or take them out of dms.exclude), or drop those foreign "
            "keys on Aurora deliberately: adding them after the load, or the first write after cutover, fails",
        )
    return passed("foreign_keys", f"{counted} foreign keys from tables in scope, all into tables in scope")


# --- LOB sizes ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LobMeasure:
    column: Column
    kind: str
    largest: int | None
    """Largest value as DMS counts it, in bytes; None when not measured (or the column is empty)."""
    sample_percent: float | None = None
    unmeasured: str | None = None
    average_width: int | None = None

    @property
    def label(self) -> str:
        return f"{self.column.qualified} {(self.largest or 0) / 1024:.1f} KB ({self.kind})"


def _size_expression(column: Column, kind: str, *, utf8: bool) -> sql.Composable:
    target = sql.Identifier(column.name)
    if kind == BLOB:
        return sql.SQL("octet_length({})").format(target)
    text = target if column.type_name in ("text", "varchar") else sql.SQL("({})::text").format(target)
    plain, wide = CHARACTER_BYTES[kind]
    if not utf8:
        return sql.SQL("char_length({}) * {}").format(text, sql.Literal(plain))
    return sql.SQL("char_length({t}) * CASE WHEN {t} ~ " + _FOUR_BYTE_CHARACTER + " THEN {w} ELSE {p} END").format(
        t=text, w=sql.Literal(wide), p=sql.Literal(plain)
    )


def _scan_size(ctx: PreflightContext, table: Relation) -> int:
    if table.is_partitioned:
        return sum(leaf.total_bytes for leaf in ctx.leaf_partitions(table.oid))
    return table.total_bytes


def _average_widths(conn: psycopg.Connection[Any], table: Relation, names: list[str]) -> dict[str, int]:
    rows = conn.execute(
        "SELECT attname, max(avg_width) FROM pg_stats WHERE schemaname = %s AND tablename = %s AND attname = ANY(%s)"
        " GROUP BY attname",
        (table.schema, table.name, names),
    ).fetchall()
    return {str(name): int(width) for name, width in rows if width is not None}


def measure_lobs(ctx: PreflightContext) -> tuple[list[LobMeasure], list[str]]:
    """The largest value of every LOB-like column in scope as DMS counts it, within the time budget.

    Smallest tables first; a table above `lob_full_scan_max_bytes` is sampled (TABLESAMPLE SYSTEM, a lower bound);
    once the budget is spent the rest fall back to pg_stats' average width. Returns the measures and the tables
    that could not be read (no SELECT).
    """
    scope = ctx.in_scope_oids
    by_table: dict[int, list[tuple[Column, str]]] = {}
    for column in ctx.columns:
        kind = dms_lob_kind(column)
        if kind is not None:
            by_table.setdefault(column.relation.oid, []).append((column, kind))
    tables = {column.relation.oid: column.relation for column in ctx.columns}
    unreadable = sorted(tables[oid].qualified for oid in by_table if not tables[oid].can_select)
    # a parent whose partitions are in scope is measured through them, not twice
    todo = [
        tables[oid]
        for oid in by_table
        if tables[oid].can_select
        and not (tables[oid].is_partitioned and any(leaf.oid in scope for leaf in ctx.leaf_partitions(oid)))
    ]
    todo.sort(key=lambda table: _scan_size(ctx, table))
    utf8 = setting(ctx.conn, "server_encoding") == "UTF8"
    budget = ctx.lob_scan_seconds
    deadline = time.monotonic() + budget if budget > 0 else None
    original_timeout = int(setting(ctx.conn, "statement_timeout"))
    measures: list[LobMeasure] = []
    try:
        for table in todo:
            columns = by_table[table.oid]
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                measures.extend(_unmeasured(ctx.conn, table, columns, "time budget spent"))
                continue
            percent = None
            size = _scan_size(ctx, table)
            if deadline is not None and size > ctx.lob_full_scan_max_bytes:
                percent = max(0.0001, min(100.0, 100.0 * ctx.lob_sample_bytes / max(size, 1)))
            if remaining is not None:
                limit = int(remaining * 1000) + 1
                if original_timeout > 0:
                    limit = min(limit, original_timeout)
                ctx.conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(limit)))
            query = sql.SQL("SELECT {} FROM {}{}").format(
                sql.SQL(", ").join(
                    sql.SQL("max({})").format(_size_expression(column, kind, utf8=utf8)) for column, kind in columns
                ),
                sql.Identifier(table.schema, table.name),
                sql.SQL("")
                if percent is None
                else sql.SQL(" TABLESAMPLE SYSTEM ({}) REPEATABLE (0)").format(sql.Literal(percent)),
            )
            try:
                row = ctx.conn.execute(query).fetchone()
            except psycopg.errors.QueryCanceled:
                measures.extend(_unmeasured(ctx.conn, table, columns, "stopped by the time budget"))
                continue
            values = list(row) if row is not None else [None] * len(columns)
            measures.extend(
                LobMeasure(column=column, kind=kind, largest=None if value is None else int(value), sample_percent=percent)
                for (column, kind), value in zip(columns, values, strict=True)
            )
    finally:
        ctx.conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(original_timeout)))
    return measures, unreadable


def _unmeasured(
    conn: psycopg.Connection[Any], table: Relation, columns: list[tuple[Column, str]], reason: str
) -> list[LobMeasure]:
    widths = _average_widths(conn, table, [column.name for column, _ in columns])
    return [
        LobMeasure(
            column=column,
            kind=kind,
            largest=None if column.name not in widths else dms_lob_bytes(kind, widths[column.name]),
            unmeasured=reason,
            average_width=widths.get(column.name),
        )
        for column, kind in columns
    ]


def check_lob_sizes(ctx: PreflightContext) -> CheckResult:
    limit_kb = ctx.dms.lob_max_size_kb
    limit_bytes = limit_kb * 1024
    measures, unreadable = measure_lobs(ctx)
    over = [m for m in measures if m.largest is not None and m.largest > limit_bytes]
    sampled = sorted({f"{m.column.relation.qualified} ({m.sample_percent:.2g}% of pages)" for m in measures if m.sample_percent})
    unmeasured = [
        f"{m.column.qualified} ({m.unmeasured}; "
        + (f"pg_stats average {m.average_width} B)" if m.average_width is not None else "no statistics)")
        for m in measures
        if m.unmeasured and m not in over
    ]
    notes = ""
    if sampled:
        notes += f"; sampled, so a lower bound: {listed(sampled)}"
    if unmeasured:
        notes += f"; not measured: {listed(unmeasured)}"
    if unreadable:
        notes += f"; not measured (no SELECT): {listed(unreadable)}"
    counting = "NCLOB characters x2, CLOB characters, BLOB bytes"
    if over:
        shown = [m.label + (" (pg_stats average)" if m.unmeasured else "") for m in over]
        return failed(
            "lob_sizes",
            f"largest values as DMS counts them ({counting}) above lob_max_size_kb = {limit_kb}: {listed(shown)}{notes}",
            fix="raise dms.lob_max_size_kb above the largest value (the task fails instead of truncating), then deploy",
        )
    measured = [m for m in measures if m.largest is not None and not m.unmeasured]
    largest = max(measured, key=lambda m: m.largest or 0, default=None)
    top = f" (largest {largest.label})" if largest is not None and largest.largest else ""
    evidence = f"{len(measures)} LOB-like columns, all within {limit_kb} KB as DMS counts them{top}{notes}"
    if sampled or unmeasured or unreadable:
        fixes = []
        if sampled or unmeasured:
            fixes.append("run the preflight with --lob-scan-seconds 0 at a quiet time to read every value")
        if unreadable:
            fixes.append("grant SELECT so every LOB column can be measured")
        return warned("lob_sizes", evidence, fix="; ".join(fixes))
    return passed("lob_sizes", evidence)
