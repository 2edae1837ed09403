"""DMS's table-mapping wildcards, exactly as DMS reads them: the one definition every tool that decides scope uses.

Source: AWS DMS User Guide, "Wildcards in table mapping"
(CHAP_Tasks.CustomizingTasks.TableMapping.SelectionTransformation.Wildcards):

    %      zero or more characters
    _      a single character
    [_]    a literal underscore character
    [ab]   a set of characters: 'a' or 'b'
    [a-d]  a range of characters: 'a', 'b', 'c' or 'd'

So `audit_%` also selects `audits` (the `_` is any one character); a literal underscore is written `[_]`
(`audit[_]%`). Every other character stands for itself; names compare case-sensitively, as PostgreSQL
stores them. The guide documents no negated set and no escape for PostgreSQL endpoints (the
`escapeCharacter` attribute is Oracle's), so `[!a]` and `[^a]` are sets containing `!`/`^`, and a `[` that
is never closed, or an empty set `[]`, is refused rather than guessed at.
"""

from __future__ import annotations

import re
from functools import lru_cache

DOCUMENTATION = "AWS DMS User Guide, 'Wildcards in table mapping'"


class WildcardPatternError(ValueError):
    """A pattern DMS's wildcard grammar does not define."""


def _set_to_regex(body: str) -> str:
    """The inside of `[...]` as a regex character class: single characters and `x-y` ranges."""
    parts: list[str] = []
    index = 0
    while index < len(body):
        if index + 2 < len(body) and body[index + 1] == "-":
            low, high = body[index], body[index + 2]
            if low > high:
                raise WildcardPatternError(f"range [{low}-{high}] runs backwards")
            parts.append(f"{re.escape(low)}-{re.escape(high)}")
            index += 3
        else:
            parts.append(re.escape(body[index]))
            index += 1
    return "[" + "".join(parts) + "]"


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The regex that matches exactly the names DMS selects with `pattern`. Raises WildcardPatternError."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif char == "[":
            close = pattern.find("]", index + 1)
            if close == -1:
                raise WildcardPatternError(f"'[' at position {index + 1} is never closed (a literal underscore is [_])")
            if close == index + 1:
                raise WildcardPatternError(f"empty set '[]' at position {index + 1}")
            out.append(_set_to_regex(pattern[index + 1 : close]))
            index = close
        elif char == "]":
            raise WildcardPatternError(f"']' at position {index + 1} closes no '['")
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out), flags=re.DOTALL)


def pattern_problem(pattern: str) -> str | None:
    """Why DMS's grammar does not define `pattern`, or None when it does."""
    try:
        compile_pattern(pattern)
    except WildcardPatternError as error:
        return str(error)
    return None


def matches(pattern: str, name: str) -> bool:
    """True when DMS's selection pattern `pattern` selects the schema or table name `name`."""
    return compile_pattern(pattern).fullmatch(name) is not None


def is_literal(pattern: str) -> bool:
    """True when `pattern` selects exactly one name (no `%`, `_` or set)."""
    return not any(char in pattern for char in "%_[")


def literal_name(pattern: str) -> str | None:
    """The one name a pattern selects when its only wildcards are `[_]`-style one-character sets, else None."""
    if not is_literal(re.sub(r"\[.\]", "", pattern)):
        return None
    name = re.sub(r"\[(.)\]", r"\1", pattern)
    return name if compile_pattern(pattern).fullmatch(name) else None
