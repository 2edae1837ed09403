"""Which tables the DMS task migrates: `dms.include` minus `dms.exclude`, `%` as the only wildcard.

The one definition of scope shared by preflight, the sequence reset and any
other tool that has to agree with the task's table mappings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from config.model import TableSelection


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("%")), flags=re.DOTALL)


def name_matches(pattern: str, name: str) -> bool:
    """True when `name` matches a selection-rule pattern; `%` matches any run of characters."""
    return _compiled(pattern).fullmatch(name) is not None


def _selected(schema: str, table: str, rules: Iterable[TableSelection]) -> bool:
    return any(name_matches(rule.schema_name, schema) and name_matches(rule.table_name, table) for rule in rules)


def in_scope(schema: str, table: str, *, include: Iterable[TableSelection], exclude: Iterable[TableSelection] = ()) -> bool:
    """True when `schema.table` matches an include rule and no exclude rule."""
    return _selected(schema, table, include) and not _selected(schema, table, exclude)
