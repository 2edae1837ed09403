"""Tag values DMS accepts, from any text (a forced stop's reason).

botocore's `dms` model, shape `Tag`, member `Value`: "1-256 Unicode characters in length and can't be prefixed with
"aws:" or "dms:". The string can only contain only the set of Unicode letters, digits, white-space, '_', '.', '/',
'=', '+', '-' (Java regular expressions: "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-]*)$")". (`Key`: the same, 1-128.)

The standard library's `re` has no `\\p{...}`, so the classes are read from `unicodedata.category`: `\\p{L}` is every
category starting with L (Lu Ll Lt Lm Lo), `\\p{Z}` with Z (Zs Zl Zp: the space separators; tab and newline are Cc,
not Z, whatever "white-space" suggests), `\\p{N}` with N (Nd Nl No). Anything else becomes `_`. The length is
counted in UTF-16 code units, as a Java String counts it, so a character outside the BMP never pushes a value past
the limit AWS checks.
"""

from __future__ import annotations

import unicodedata

MAX_VALUE_LENGTH = 256
MAX_KEY_LENGTH = 128
ALLOWED_PUNCTUATION = frozenset("_.:/=+-")
ALLOWED_CATEGORIES = frozenset({"L", "Z", "N"})
RESERVED_PREFIXES = ("aws:", "dms:")
REPLACEMENT = "_"


def allowed(char: str) -> bool:
    """True when DMS's tag pattern accepts the one character `char`."""
    return char in ALLOWED_PUNCTUATION or unicodedata.category(char)[0] in ALLOWED_CATEGORIES


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def sanitize(text: str, *, limit: int = MAX_VALUE_LENGTH) -> str:
    """`text` as a valid DMS tag value (or key, with `limit=MAX_KEY_LENGTH`): each character outside the pattern
    replaced by `_`, a reserved `aws:`/`dms:` prefix (any case) escaped by a leading `_`, cut to `limit` UTF-16 units;
    an empty result is `_` (a tag value has at least one character)."""
    cleaned = "".join(char if allowed(char) else REPLACEMENT for char in text)
    if cleaned.lower().startswith(RESERVED_PREFIXES):
        cleaned = REPLACEMENT + cleaned
    kept, units = [], 0
    for char in cleaned:
        units += _utf16_units(char)
        if units > limit:
            break
        kept.append(char)
    return "".join(kept) or REPLACEMENT
