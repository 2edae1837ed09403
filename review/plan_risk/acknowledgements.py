"""Acknowledgements: the dangerous changes a pull request accepts, from review/exceptions/ or the command line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from review.exception_files import (
    ACKNOWLEDGEMENTS_FILE,
    EXAMPLE_ADDRESS,
    PLAN_ADDRESS,
    ExceptionFileError,
    load_acknowledgement_entries,
)

COMMAND_LINE = "--acknowledge"


@dataclass(frozen=True, kw_only=True)
class Acknowledgement:
    address: str
    stacks: tuple[str, ...]
    """Empty: every stack in this run (`--acknowledge` on the command line)."""
    reason: str
    source: str
    """The file's name, or `--acknowledge`."""

    def covers(self, stack: str, address: str) -> bool:
        return address == self.address and (not self.stacks or stack in self.stacks)


def load_acknowledgements(path: Path = ACKNOWLEDGEMENTS_FILE) -> list[Acknowledgement]:
    """`[[acknowledge]]` tables: address, stacks, reason. A missing file acknowledges nothing; ExceptionFileError
    names every problem of a malformed one."""
    return [
        Acknowledgement(address=entry.address, stacks=entry.stacks, reason=entry.reason, source=path.name)
        for entry in load_acknowledgement_entries(path)
    ]


def command_line_acknowledgements(addresses: Sequence[str]) -> list[Acknowledgement]:
    """`--acknowledge ADDRESS`: in every stack of this run."""
    bad = [address for address in addresses if not PLAN_ADDRESS.fullmatch(address)]
    if bad:
        raise ExceptionFileError(
            problems=tuple(f"{COMMAND_LINE} {address!r} is not a Terraform address like {EXAMPLE_ADDRESS!r}" for address in bad)
        )
    return [
        Acknowledgement(address=address, stacks=(), reason="acknowledged on the command line", source=COMMAND_LINE)
        for address in addresses
    ]
