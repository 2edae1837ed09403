"""Preflight checks of which rows DMS reads and whether Aurora accepts what it writes: row-level security,
old-style inheritance, columns PostgreSQL fills itself.

Sources:
- PostgreSQL 15, "Row Security Policies": with row security enabled, a user who is neither superuser, BYPASSRLS
  nor the table's owner (the owner too under FORCE ROW LEVEL SECURITY) reads only the rows the policies let
  through, and none when no policy applies ("default deny"); nothing errors. DMS's full load and its validation
  read the source as the endpoint's user, so they miss the hidden rows silently; logical decoding ignores
  policies, so CDC later sends changes to rows Aurora never got.
- PostgreSQL 15, "Inheritance": a query of a parent table without ONLY also returns the rows of its children, and
  an INSERT into a parent stays in the parent. The DMS guide ("Using a PostgreSQL database as an AWS DMS source")
  does not mention INHERITS; its parent/child notes ("Using DMS to migrate data from PostgreSQL to PostgreSQL":
  "Mentioning the parent table causes data to be duplicated in child tables on the target"; "Limitations": a
  parent sharing primary key values with its child tables gives a "duplicate key" error) say DMS reads a parent
  together with its children's rows, i.e. without ONLY. Changes are decoded under the name of the table that
  holds the row (the child).
- PostgreSQL 15, CREATE TABLE / INSERT: an explicit value for a GENERATED ALWAYS identity column (without
  OVERRIDING SYSTEM VALUE) or a stored generated column fails with "cannot insert a non-DEFAULT value into
  column"; UPDATE fails with "can only be updated to DEFAULT". DMS writes the source's value into every column.
  The task's ErrorBehavior policies are all STOP_TASK (modules/dms_documents.py), so the first such change stops
  the task.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from psycopg import sql

from migration_ops.catalog import ALWAYS_IDENTITY, Column, Relation
from migration_ops.preflight.context import MAX_LISTED, PreflightContext, listed
from migration_ops.results import CheckResult, failed, passed, warned

TARGET_FIX_SECTION = "runbook 5, 'Identity and generated columns'"


def _quoted(relation: Relation) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in (relation.schema, relation.name))


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _exclude_rule(relation: Relation) -> str:
    return f'{{ schema_name = "{relation.schema}", table_name = "{relation.name}" }}'


# --- row-level security -------------------------------------------------------------------------------


def _exemption(ctx: PreflightContext) -> tuple[str, str | None]:
    """(user, why row security never applies to it: superuser or BYPASSRLS; None when it can apply)."""
    row = ctx.conn.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
    if row is None:
        raise LookupError("current_user not found in pg_roles")
    user = str(row[0])
    if row[1]:
        return user, "superuser"
    return user, "BYPASSRLS" if row[2] else None


def _policies(ctx: PreflightContext, tables: Iterable[Relation]) -> dict[int, list[str]]:
    oids = [table.oid for table in tables]
    rows = ctx.conn.execute(
        "SELECT polrelid, polname FROM pg_policy WHERE polrelid = ANY(%s::oid[]) ORDER BY polrelid, polname", (oids,)
    ).fetchall()
    found: dict[int, list[str]] = {}
    for oid, name in rows:
        found.setdefault(int(oid), []).append(str(name))
    return found


def check_row_security(ctx: PreflightContext) -> CheckResult:
    """Tables in scope whose row-level security policies filter what the migration user (DMS) reads."""
    name = "row_security"
    protected = [table for table in ctx.tables if table.row_security]
    if not protected:
        return passed(name, "no table in scope has row-level security enabled")
    user, exempt = _exemption(ctx)
    labels = [table.qualified for table in protected]
    if exempt is not None:
        return passed(name, f"user {user} is {exempt}, so no policy filters its reads: {listed(labels)}")
    filtered = [table for table in protected if table.force_row_security or not table.user_owns]
    owned = [table.qualified for table in protected if table not in filtered]
    owned_note = f"; owned by {user} (the owner is exempt): {listed(owned)}" if owned else ""
    if not filtered:
        return passed(name, f"{len(protected)} tables in scope with row-level security, all owned by {user}{owned_note}")
    policies = _policies(ctx, filtered)

    def described(table: Relation) -> str:
        forced = "FORCE ROW LEVEL SECURITY, " if table.force_row_security and table.user_owns else ""
        names = policies.get(table.oid)
        return f"{table.qualified} ({forced}" + (
            f"policies: {', '.join(names)})" if names else "no policy: default deny, DMS reads no row)"
        )

    return failed(
        name,
        f"row-level security filters what user {user} reads from {len(filtered)} tables in scope: "
        f"{listed([described(table) for table in filtered])}; DMS's full load and validation run as {user} and "
        f"silently miss the rows the policies hide{owned_note}",
        fix=f'as a superuser: ALTER ROLE "{user}" BYPASSRLS; (NOBYPASSRLS after decommission), or make {user} the '
        "tables' owner (not enough under FORCE ROW LEVEL SECURITY), or add to dms.exclude: "
        + ", ".join(_exclude_rule(table) for table in filtered),
    )


# --- old-style inheritance -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Family:
    """An inheritance parent (not a partitioned table) and every table below it."""

    parent: Relation
    descendants: tuple[Relation, ...]


def inheritance_families(all_relations: Iterable[Relation]) -> list[Family]:
    """Every old-style inheritance parent with its children, grandchildren, ... in name order."""
    relations = list(all_relations)
    by_oid = {relation.oid: relation for relation in relations}
    children: dict[int, list[Relation]] = {}
    for relation in relations:
        for parent_oid in relation.inherits_from:
            children.setdefault(parent_oid, []).append(relation)
    families = []
    for oid, direct in children.items():
        parent = by_oid.get(oid)
        if parent is None:
            continue
        seen: dict[int, Relation] = {}
        pending = list(direct)
        while pending:
            relation = pending.pop()
            if relation.oid not in seen:
                seen[relation.oid] = relation
                pending.extend(children.get(relation.oid, ()))
        families.append(Family(parent=parent, descendants=tuple(sorted(seen.values(), key=lambda r: (r.schema, r.name)))))
    return sorted(families, key=lambda family: (family.parent.schema, family.parent.name))


def _own_rows(ctx: PreflightContext, parent: Relation) -> bool | None:
    """Whether the parent holds rows itself (SELECT ... FROM ONLY); None when the user cannot read it."""
    if not parent.can_select:
        return None
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM ONLY {})").format(sql.Identifier(parent.schema, parent.name))
    row = ctx.conn.execute(query).fetchone()
    return bool(row and row[0])


def _rows_label(own: bool | None) -> str:
    return {True: "holds rows of its own", False: "no rows of its own", None: "not readable"}[own]


def _move_own_rows(parent: Relation) -> str:
    return (
        f"move {parent.qualified}'s own rows into a child first (INSERT INTO <child> SELECT * FROM ONLY "
        f"{_quoted(parent)}; DELETE FROM ONLY {_quoted(parent)};)"
    )


@dataclass(frozen=True, kw_only=True)
class FamilyFinding:
    """What the selection rules do with one inheritance family (each text empty when it does not apply)."""

    twice: str = ""
    without_children: str = ""
    left_behind: str = ""
    fix: str = ""
    note: str = ""


def _assess(ctx: PreflightContext, family: Family) -> FamilyFinding | None:
    parent, scope = family.parent, ctx.in_scope_oids
    chosen = [child.qualified for child in family.descendants if child.oid in scope]
    left_out = [child.qualified for child in family.descendants if child.oid not in scope]
    if parent.oid not in scope and not chosen:
        return None
    own = _own_rows(ctx, parent)
    label = f"{parent.qualified} ({_rows_label(own)})"
    if parent.oid not in scope:
        if own is False:
            return FamilyFinding(note=f"{parent.qualified}: parent excluded, children selected: {listed(chosen)}")
        return FamilyFinding(left_behind=label, fix=_move_own_rows(parent))
    steps = [_move_own_rows(parent)] if own is not False else []
    steps.append(f"add to dms.exclude: {_exclude_rule(parent)}")
    if left_out:
        steps.append(f"include {listed(left_out)}")
    return FamilyFinding(
        twice=f"{label} with {listed(chosen)}" if chosen else "",
        without_children=f"{parent.qualified} without {listed(left_out)}" if left_out else "",
        fix=", then ".join(steps),
    )


def check_inheritance(ctx: PreflightContext) -> CheckResult:
    """Old-style inheritance (INHERITS, not partitions) in scope: DMS reads a parent with its children's rows."""
    name = "inheritance"
    findings = [found for family in inheritance_families(ctx.all_relations) if (found := _assess(ctx, family))]
    twice = [found.twice for found in findings if found.twice]
    without_children = [found.without_children for found in findings if found.without_children]
    left_behind = [found.left_behind for found in findings if found.left_behind]
    problems = []
    if twice:
        problems.append(
            "parents selected with their children, whose rows DMS reads again through the parent (no ONLY) and so "
            "writes twice, into each child and into the parent on Aurora, where an INSERT stays in the parent (a "
            "SELECT of the parent there returns them twice): " + "; ".join(twice)
        )
    if without_children:
        problems.append(
            "parents selected without their children (the full load copies the children's rows into the parent on "
            "Aurora"
            + ("; their changes, decoded under the children's names, are not replicated" if ctx.cdc else "")
            + "): "
            + "; ".join(without_children)
        )
    if left_behind:
        problems.append(f"parents excluded whose own rows are then not migrated: {listed(left_behind)}")
    if problems:
        return warned(
            name,
            "old-style inheritance (INHERITS) in scope: " + "; ".join(problems),
            fix="exclude the parent and select its children (on Aurora the parent still returns their rows through "
            "inheritance): " + "; ".join(found.fix for found in findings if found.fix),
        )
    notes = [found.note for found in findings if found.note]
    if notes:
        return passed(name, "; ".join(notes))
    return passed(name, "no old-style inheritance (INHERITS) among the tables in scope")


# --- columns PostgreSQL fills itself ------------------------------------------------------------------------


def _kind(column: Column) -> str:
    return "GENERATED ALWAYS AS IDENTITY" if column.identity == ALWAYS_IDENTITY else "GENERATED ALWAYS AS (...) STORED"


def target_fix_statements(columns: Iterable[Column]) -> list[str]:
    """What to run on Aurora (only) before the task starts, so that DMS can write the source's values."""
    statements = []
    for column in columns:
        action = "SET GENERATED BY DEFAULT" if column.identity == ALWAYS_IDENTITY else "DROP EXPRESSION"
        statements.append(f"ALTER TABLE {_quoted(column.relation)} ALTER COLUMN {_identifier(column.name)} {action};")
    return statements


def check_generated_columns(ctx: PreflightContext) -> CheckResult:
    """GENERATED ALWAYS identity and stored generated columns in scope: Aurora refuses the values DMS writes.

    A WARN, not a FAIL: the task runs once Aurora's copy of the schema has the runbook's fix, which this check
    cannot see from the source (the source keeps its columns as they are).
    """
    name = "generated_columns"
    flagged = [column for column in ctx.columns if column.refuses_explicit_values]
    if not flagged:
        return passed(name, f"{len(ctx.columns)} columns in scope, none GENERATED ALWAYS (identity or stored)")
    statements = target_fix_statements(flagged)
    more = len(statements) - MAX_LISTED
    return warned(
        name,
        f"{len(flagged)} columns that PostgreSQL fills itself and that refuse an explicit value: "
        f"{listed([f'{column.qualified} ({_kind(column)})' for column in flagged])}; DMS writes the source's "
        "value into every column, so on a schema dump of the source the first change DMS applies to these "
        'tables fails ("cannot insert a non-DEFAULT value into column") and, with the task\'s STOP_TASK error '
        "policies, stops the task",
        fix=f"on Aurora only, before the task starts ({TARGET_FIX_SECTION}; restore after cutover): "
        + " ".join(statements[:MAX_LISTED])
        + (f" (and {more} more like these)" if more > 0 else ""),
    )
