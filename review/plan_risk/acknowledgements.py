"""Acknowledgements: the dangerous changes a pull request accepts, from review/exceptions/ or the command line.

Each names exactly what it accepts: the address, the stack (as the plan itself says, identity.py) and the kind of
change (`replace`, `destroy`, or a named risky transition, transitions.py). One written for a replacement does not cover
a destroy of the same address, and one that matches nothing in the plans read fails the report (assess.py), so none
lingers to cover a later change. On the command line: `--acknowledge ADDRESS@STACK:KIND`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from review.exception_files import (
    ACKNOWLEDGEMENTS_FILE,
    EXAMPLE_ADDRESS,
    EXAMPLE_STACK,
    ExceptionFileError,
    PlanAcknowledgement,
    describe_errors,
    load_acknowledgement_entries,
)

COMMAND_LINE = "--acknowledge"
COMMAND_LINE_REASON = "acknowledged on the command line (--acknowledge)"
COMMAND_LINE_FORM = f"ADDRESS@STACK:KIND, e.g. '{EXAMPLE_ADDRESS}@{EXAMPLE_STACK}:replace'"


@dataclass(frozen=True, kw_only=True)
class Acknowledgement:
    address: str
    stack: str
    change: str
    """The kind of change accepted: replace, destroy, or a transition's kind."""
    reason: str
    source: str
    """The file's name, or `--acknowledge`."""

    def covers(self, stack: str, address: str, kind: str) -> bool:
        return (address, stack, kind) == (self.address, self.stack, self.change)

    def describe(self) -> str:
        return f"{self.address}@{self.stack}:{self.change}"


def _from_entry(entry: PlanAcknowledgement, source: str) -> Acknowledgement:
    return Acknowledgement(address=entry.address, stack=entry.stack, change=entry.change, reason=entry.reason, source=source)


def load_acknowledgements(path: Path = ACKNOWLEDGEMENTS_FILE) -> list[Acknowledgement]:
    """`[[acknowledge]]` tables: address, stack, change, reason. A missing file acknowledges nothing; ExceptionFileError
    names every problem of a malformed one."""
    return [_from_entry(entry, path.name) for entry in load_acknowledgement_entries(path)]


def parse_acknowledgement(text: str) -> PlanAcknowledgement:
    """`ADDRESS@STACK:KIND` (a kind holds neither `@` nor `:`, a stack no `@`; the address may hold both in a key)."""
    rest, colon, kind = text.rpartition(":")
    address, at, stack = rest.rpartition("@")
    if not (colon and at):
        raise ExceptionFileError(problems=(f"{COMMAND_LINE} {text!r}: expected {COMMAND_LINE_FORM}",))
    try:
        return PlanAcknowledgement(address=address, stack=stack, change=kind, reason=COMMAND_LINE_REASON)
    except ValidationError as error:
        problems = describe_errors(error, PlanAcknowledgement)
        raise ExceptionFileError(problems=tuple(f"{COMMAND_LINE} {text!r}: {problem}" for problem in problems)) from None


def command_line_acknowledgements(arguments: Sequence[str]) -> list[Acknowledgement]:
    """`--acknowledge ADDRESS@STACK:KIND`, each checked like a file entry; ExceptionFileError names every bad one."""
    problems: list[str] = []
    found = []
    for argument in arguments:
        try:
            found.append(_from_entry(parse_acknowledgement(argument), COMMAND_LINE))
        except ExceptionFileError as error:
            problems += error.problems
    if problems:
        raise ExceptionFileError(problems=tuple(problems))
    return found
