"""The sequence resets `cutover sequences --apply-dsn-env` applied, kept for the cutover record `cutover stop` writes.

The two commands run minutes apart (runbook step 10: sequences after the freeze, stop after them), so the reset
goes through a small file in the record directory: `sequence-resets-<stack>-<UTC yyyymmddTHHMMSSZ>.json`, written
whole or not at all like the record itself (plumbing.atomic_file.write_whole). `stop` takes the newest of its stack into the
record, with the file and the time in `sequences_note`: the operator sees when the resets were applied and to which
target, and a reset applied before the freeze shows as such (its time is before the record's).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from migration_ops.cutover.record_model import RecordError, SequenceReset, Text, UtcTime, first_problem
from migration_ops.cutover.sequence_reset import AppliedSequence
from plumbing.atomic_file import fsync_directory, write_whole
from plumbing.text import first_line

RESETS_KIND: Final = "sequence-resets"
RESETS_PREFIX = "sequence-resets-"
_STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


class SequenceResets(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["sequence-resets"] = RESETS_KIND
    stack: Text
    applied_at: UtcTime
    target: Text
    """user@host:port/db of the target the resets went to (never a password)."""
    margin: int
    sequences: tuple[SequenceReset, ...] = ()


def resets_of(applied: Sequence[AppliedSequence]) -> tuple[SequenceReset, ...]:
    resets = []
    for item in applied:
        schema, _, name = item.sequence.partition(".")
        resets.append(
            SequenceReset(
                schema_name=schema,
                name=name,
                value=item.target_after,
                changed=item.changed,
                source_last_issued=item.source_last_issued,
                target_before=item.target_before,
            )
        )
    return tuple(resets)


def write_resets(directory: Path, resets: SequenceResets) -> Path:
    """`resets` as a new file in `directory` (an existing one is never overwritten). Raises RecordError."""
    stem = f"{RESETS_PREFIX}{resets.stack}-{resets.applied_at.strftime(_STAMP_FORMAT)}"
    path, number = directory / f"{stem}.json", 1
    while path.exists():
        number += 1
        path = directory / f"{stem}-{number}.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_whole(path, resets.model_dump_json(indent=2) + "\n")
    except OSError as error:
        raise RecordError(f"cannot write {path}: {error.strerror or error}") from None
    fsync_directory(directory)
    return path


def _pattern(stack: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(RESETS_PREFIX + stack)}-(?P<stamp>\d{{8}}T\d{{6}}Z)(?:-(?P<number>\d+))?\.json$")


def newest_resets(directory: Path, stack: str) -> tuple[SequenceResets | None, str]:
    """The newest resets file of `stack` in `directory` and the note for the record; (None, why) when there is none
    or it cannot be read (the record says so; a stop is not refused for it)."""
    pattern = _pattern(stack)
    try:
        found = [(match["stamp"], int(match["number"] or 1), path) for path in directory.iterdir()
                 if (match := pattern.match(path.name))]  # fmt: skip
    except FileNotFoundError:
        found = []
    except OSError as error:
        return None, f"cannot list {directory} for sequence resets: {error.strerror or error}"
    if not found:
        return None, f"no sequence reset recorded in {directory} (`cutover sequences --apply-dsn-env` writes one)"
    path = max(found, key=lambda item: (item[0], item[1]))[2]
    try:
        resets = SequenceResets.model_validate_json(path.read_bytes())
    except OSError as error:
        return None, f"{path}: cannot read ({error.strerror or error})"
    except ValidationError as error:
        return None, f"{path}: not a sequence-resets file ({first_problem(error)})"
    except ValueError as error:
        return None, f"{path}: not a sequence-resets file ({first_line(error)})"
    applied = resets.applied_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    changed = sum(item.changed for item in resets.sequences)
    note = (
        f"applied {applied} by `cutover sequences` to {resets.target} (margin {resets.margin}; {changed} set, "
        f"{len(resets.sequences) - changed} already ahead), from {path}"
    )
    return resets, note
