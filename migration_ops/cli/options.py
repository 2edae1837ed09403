"""Reading a command line into a command's options, and the types of its numeric flags.

`options_from` builds an options dataclass from argparse's namespace by field name (option groups by type); it is
the one function that reads a namespace. `finite_float` and `bounded_int` are the argparse types of every numeric
flag: a value that is not a number, nan, inf or outside the flag's range is a usage error (exit 2) naming the flag,
and `check` applies the same rule to an options object built in code (its `__post_init__`).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields, is_dataclass
from typing import Any, ClassVar, TypeVar, cast, get_args, get_origin, get_type_hints

from migration_ops.errors import UsageError

Options = TypeVar("Options")


def options_from(args: argparse.Namespace, kind: type[Options]) -> Options:
    """The options dataclass `kind` built from parsed arguments: each field from the argument whose dest is its name
    (a list becomes the field's tuple or frozenset; None, for a field that cannot hold it, leaves the default), each
    field whose type is itself a dataclass (an option group) from the same arguments; a field no argument sets keeps
    its default. `kind.__post_init__` then refuses what argparse cannot (UsageError).

    The one function that reads an argparse namespace: every command's parse_args hands it its namespace.
    """
    if not is_dataclass(kind):
        raise TypeError(f"{kind!r} is not an options dataclass")
    hints = get_type_hints(kind)
    values: dict[str, Any] = {}
    for item in fields(kind):
        hint, has_default = hints[item.name], item.default is not MISSING or item.default_factory is not MISSING
        if isinstance(hint, type) and is_dataclass(hint):
            values[item.name] = options_from(args, hint)
        elif hasattr(args, item.name):
            value = getattr(args, item.name)
            if value is None and has_default and type(None) not in get_args(hint):
                continue
            origin = get_origin(hint)
            values[item.name] = origin(value) if origin in (tuple, frozenset) and isinstance(value, list) else value
        elif not has_default:
            raise TypeError(f"{kind.__name__}.{item.name}: no argument has this dest")
    return cast(Callable[..., Options], kind)(**values)


# --- numeric arguments: finite and in range --------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Range:
    """The range of a numeric flag: an argparse type (`type=`) and the same rule for an options object (`check`)."""

    KIND: ClassVar[str]
    minimum: float | None = None
    maximum: float | None = None
    strictly_above: float | None = None

    @property
    def rule(self) -> str:
        """`a finite number >= 0`, `an integer from 1 to 21600`, `a finite number greater than 0`, ..."""
        shown = [None if bound is None else str(bound) if isinstance(bound, int) else f"{bound:g}"
                 for bound in (self.minimum, self.maximum, self.strictly_above)]  # fmt: skip
        low, high, above = shown
        if low is not None and high is not None:
            return f"{self.KIND} from {low} to {high}"
        parts = ([f"greater than {above}"] if above is not None else []) + ([f">= {low}"] if low is not None else [])
        parts += [f"<= {high}"] if high is not None else []
        return " ".join([self.KIND, " and ".join(parts)]).strip()

    def allows(self, value: float) -> bool:
        return math.isfinite(value) and not (
            (self.minimum is not None and value < self.minimum)
            or (self.maximum is not None and value > self.maximum)
            or (self.strictly_above is not None and value <= self.strictly_above)
        )

    def check(self, flag: str, value: float) -> None:
        """Raise UsageError naming `flag` when `value` is outside the range (an options object built in code)."""
        if not self.allows(value):
            raise UsageError(f"{flag} must be {self.rule}, not {value!r}")

    def _refuse(self, text: str, value: float) -> None:
        if not self.allows(value):
            raise argparse.ArgumentTypeError(f"must be {self.rule}: {text}")


@dataclass(frozen=True, kw_only=True)
class FiniteFloat(_Range):
    KIND: ClassVar[str] = "a finite number"

    def __call__(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text}") from None
        self._refuse(text, value)
        return value


@dataclass(frozen=True, kw_only=True)
class BoundedInt(_Range):
    KIND: ClassVar[str] = "an integer"

    def __call__(self, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text}") from None
        self._refuse(text, value)
        return value


def finite_float(
    *, minimum: float | None = None, maximum: float | None = None, strictly_above: float | None = None
) -> FiniteFloat:
    """The argparse type of a float flag: a finite number within the bounds (nan, inf and -inf never are)."""
    return FiniteFloat(minimum=minimum, maximum=maximum, strictly_above=strictly_above)


def bounded_int(*, minimum: int | None = None, maximum: int | None = None) -> BoundedInt:
    """The argparse type of an integer flag: an integer within the bounds."""
    return BoundedInt(minimum=minimum, maximum=maximum)


BIGINT_MAX = 2**63 - 1
"""PostgreSQL's bigint: the most a row count or a sequence value can be."""
STATEMENT_TIMEOUT_MAX_SECONDS = 2_147_483
"""PostgreSQL's statement_timeout is an int of milliseconds: at most 2^31 - 1 ms."""
STATEMENT_TIMEOUT = finite_float(strictly_above=0, maximum=STATEMENT_TIMEOUT_MAX_SECONDS)
