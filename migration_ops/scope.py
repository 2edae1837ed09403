"""Which tables the DMS task migrates: `dms.include` minus `dms.exclude`, with DMS's own wildcards.

The one definition of scope every operations tool uses (through `catalog.scoped` or `in_scope`): preflight,
compare, the cutover gates, freeze, reload and the sequence reset. Names match as DMS's selection rules match
them (contract/dms_wildcards.py, DMS user guide "Wildcards in table mapping"): `%` any run of characters, `_`
exactly one character, `[_]` a literal underscore, `[ab]` / `[a-d]` sets and ranges; case-sensitive. A table is
migrated when an include rule selects it and no exclude rule does (the emitted table mappings list the include
rules, then the exclude rules: modules/dms_documents.py). tests/migration_ops/test_scope.py holds this definition,
the emitted mappings read as DMS reads them and the catalog's scope on a real server to one answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from config.model import TableSelection
from contract.dms_wildcards import matches


def name_matches(pattern: str, name: str) -> bool:
    """True when DMS's selection pattern `pattern` selects the schema or table name `name`."""
    return matches(pattern, name)


def _selected(schema: str, table: str, rules: Iterable[TableSelection]) -> bool:
    return any(matches(rule.schema_name, schema) and matches(rule.table_name, table) for rule in rules)


def in_scope(schema: str, table: str, *, include: Iterable[TableSelection], exclude: Iterable[TableSelection] = ()) -> bool:
    """True when `schema.table` matches an include rule and no exclude rule."""
    return _selected(schema, table, include) and not _selected(schema, table, exclude)
