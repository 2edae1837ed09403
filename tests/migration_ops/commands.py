"""Every operations command and cutover subcommand, as the tests of the CLI edge walk them: its name, its `main`,
the argv before its own flags, and a parser holding its arguments (to discover its flags)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from migration_ops.compare import command as compare
from migration_ops.cutover import command as cutover
from migration_ops.preflight import command as preflight
from migration_ops.verify import command as verify


@dataclass(frozen=True)
class Command:
    name: str
    """`preflight`, `cutover stop`, ..."""
    main: Callable[[Sequence[str] | None], int]
    prefix: tuple[str, ...]
    """The argv before the command's own flags: the subcommand's name."""
    parser: argparse.ArgumentParser

    @property
    def module(self) -> str:
        """What `python -m` runs."""
        return f"migration_ops.{self.name.split()[0]}"

    def argv(self, *flags: str) -> list[str]:
        return [*self.prefix, *flags]


def every_command() -> list[Command]:
    """The three commands and each cutover subcommand in `SUBCOMMANDS` (a new one is walked without a change here)."""
    found = [
        Command("preflight", preflight.main, (), preflight.build_parser()),
        Command("verify", verify.main, (), verify.build_parser()),
        Command("compare", compare.main, (), compare.build_parser()),
    ]
    for subcommand in cutover.SUBCOMMANDS:
        parser = argparse.ArgumentParser(prog=f"cutover {subcommand.NAME}")
        subcommand.add_arguments(parser)
        found.append(Command(f"cutover {subcommand.NAME}", cutover.main, (subcommand.NAME,), parser))
    return found


def numeric_flags(parser: argparse.ArgumentParser) -> list[str]:
    """The flags that take a number: typed int, float or a cli range type, or with a numeric default."""
    flags = []
    for action in parser._actions:
        typed = action.type in (int, float) or type(action.type).__name__ in ("FiniteFloat", "BoundedInt")
        numeric_default = isinstance(action.default, int | float) and not isinstance(action.default, bool)
        if action.option_strings and action.nargs != 0 and (typed or numeric_default):
            flags.append(max(action.option_strings, key=len))
    return flags
