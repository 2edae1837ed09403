"""contract.dms_wildcards against the table in DMS's "Wildcards in table mapping" page, row by row."""

from __future__ import annotations

import pytest

from contract.dms_wildcards import WildcardPatternError, compile_pattern, literal_name, matches, pattern_problem


@pytest.mark.parametrize(
    ("pattern", "name", "selected"),
    [
        ("%", "", True),  # % zero or more characters
        ("%", "anything_at_all", True),
        ("audit%", "audit", True),
        ("a_c", "abc", True),  # _ a single character
        ("a_c", "ac", False),
        ("a_c", "abbc", False),
        ("audit_%", "audits", True),  # the staging/prod trap: _ is any one character
        ("audit_%", "audit_log", True),
        ("audit[_]%", "audits", False),  # [_] a literal underscore
        ("audit[_]%", "audit_log", True),
        ("t[ab]", "ta", True),  # [ab] a set
        ("t[ab]", "tc", False),
        ("t[a-d]", "tc", True),  # [a-d] a range
        ("t[a-d]", "te", False),
        ("Orders", "orders", False),  # PostgreSQL names compare case-sensitively
        ("a.b", "axb", False),  # regex metacharacters are literal
        ("x$y", "x$y", True),
    ],
)
def test_each_documented_wildcard_selects_what_dms_says(pattern: str, name: str, selected: bool) -> None:
    assert matches(pattern, name) is selected


@pytest.mark.parametrize("pattern", ["audit[_%", "a]b", "t[]", "t[z-a]"])
def test_patterns_outside_the_grammar_are_refused_not_guessed(pattern: str) -> None:
    assert pattern_problem(pattern)
    with pytest.raises(WildcardPatternError):
        compile_pattern(pattern)


def test_literal_name_reads_bracketed_underscores() -> None:
    assert literal_name("order[_]items") == "order_items"
    assert literal_name("orders") == "orders"
    assert literal_name("order_items") is None  # a wildcard: order_items, orderXitems, ...
    assert literal_name("orders%") is None
