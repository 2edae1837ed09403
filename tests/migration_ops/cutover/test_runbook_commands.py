"""Every `python -m migration_ops.cutover ...` the runbook shows is a subcommand that exists, with flags it takes."""

from __future__ import annotations

import argparse
import re

import pytest

from migration_ops.cutover.command import build_parser
from tests.conftest import REPO_ROOT

RUNBOOK = REPO_ROOT / "docs" / "runbook.md"
_COMMAND = re.compile(r"migration_ops\.cutover ([a-z][a-z-]*)((?:\\\n|[^\n`#])*)")


def runbook_commands() -> list[tuple[str, list[str]]]:
    """(subcommand, its --flags) of every cutover command in the runbook, continuation lines included."""
    text = RUNBOOK.read_text(encoding="utf-8")
    return [(match[1], re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", match[2])) for match in _COMMAND.finditer(text)]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(item for item in build_parser()._actions if isinstance(item, argparse._SubParsersAction))
    return dict(action.choices)


def test_the_runbook_walks_the_cutover_with_every_new_command() -> None:
    used = {name for name, _ in runbook_commands()}
    assert {"snapshot", "analyze", "freeze-sql", "stop", "sequences", "report", "reload"} <= used


@pytest.mark.parametrize(("name", "flags"), runbook_commands(), ids=str)
def test_each_runbook_command_exists_with_its_flags(name: str, flags: list[str]) -> None:
    parsers = _subparsers()
    assert name in parsers, f"the runbook shows `cutover {name}`, which does not exist"
    known = set(parsers[name]._option_string_actions)
    assert [flag for flag in flags if flag not in known] == []
