"""The cutover record on disk: `write_record`, `read_record`, and `cutover report` (`run_report`).

`cutover stop` builds one `CutoverRecord` (migration_ops/cutover/record_model.py) per run, stopped, refused or
error, and writes it with `write_record` as `cutover-record-<stack>-<UTC yyyymmddTHHMMSSZ>.json` and `.md`
(migration_ops/cutover/record_markdown.py) in the record directory. Each file is written to a temporary file in the
same directory, flushed, fsync'ed and renamed into place (POSIX rename(2) replaces atomically), then the directory is
fsync'ed: a reader sees a whole file or none, and a crash leaves at most a `.cutover-record-*.tmp` beside them. An
existing record is never overwritten. `cutover report` prints a record again: a given file, or the newest record in
a directory (by the UTC time in the file name), as Markdown or `--json`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from migration_ops import cli
from migration_ops.cutover.record_markdown import render_markdown
from migration_ops.cutover.record_model import (
    RECORD_KIND,
    ComparisonRecord,
    CutoverRecord,
    ForcedStep,
    GateRecord,
    LatencyRecord,
    LatencySummary,
    Operator,
    RecordError,
    SequenceReset,
    TableRecord,
    first_problem,
    gate_records,
    latency_record,
    load_comparison,
    operator_identity,
    read_wal_position,
    table_records,
)
from migration_ops.postgres import redact
from plumbing.atomic_file import fsync_directory, write_whole
from plumbing.exit_codes import ExitCode
from plumbing.text import first_line

__all__ = [
    "DEFAULT_RECORD_DIR",
    "ComparisonRecord",
    "CutoverRecord",
    "ForcedStep",
    "GateRecord",
    "LatencyRecord",
    "LatencySummary",
    "Operator",
    "RecordError",
    "RecordOptions",
    "ReportOptions",
    "SequenceReset",
    "TableRecord",
    "add_record_arguments",
    "add_report_arguments",
    "ensure_writable",
    "gate_records",
    "latency_record",
    "load_comparison",
    "newest_record",
    "operator_identity",
    "read_record",
    "read_wal_position",
    "redact",
    "render_markdown",
    "run_report",
    "table_records",
    "write_record",
]

DEFAULT_RECORD_DIR = Path("cutover-records")
RECORD_PREFIX = "cutover-record-"
_STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_RECORD_NAME = re.compile(r"^cutover-record-.+-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<number>\d+))?\.json$")

# --- files ------------------------------------------------------------------------------------


def ensure_writable(directory: Path, *, what: str = "--record-dir") -> None:
    """Create `directory` and prove a file can be written in it (then removed). Raises RecordError.

    Called before anything is changed, so the record that follows the change has somewhere to go."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(prefix=".cutover-probe-", dir=directory)
        os.close(descriptor)
        os.unlink(probe)
    except OSError as error:
        raise RecordError(f"{what} {directory}: not writable ({error.strerror or error}); nothing was changed") from None


def record_stem(record: CutoverRecord) -> str:
    return f"{RECORD_PREFIX}{record.stack}-{record.started_at.strftime(_STAMP_FORMAT)}"


def write_record(record: CutoverRecord, directory: Path) -> tuple[Path, Path]:
    """Write `record` as `<stem>.json` and `<stem>.md` in `directory`; returns both paths. Raises RecordError.

    Both texts are serialized before any file is touched; each file appears whole or not at all. An existing record
    is never overwritten (a second record in the same second gets `-2`, `-3`, ...).
    """
    try:
        json_text = record.model_dump_json(indent=2) + "\n"
        markdown = render_markdown(record)
    except (ValueError, TypeError) as error:
        raise RecordError(f"cannot serialize the cutover record: {first_line(error)}") from None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RecordError(f"cannot create the record directory {directory}: {error.strerror or error}") from None
    stem = record_stem(record)
    number = 1
    while (directory / f"{stem}.json").exists() or (directory / f"{stem}.md").exists():
        number += 1
        stem = f"{record_stem(record)}-{number}"
    json_path, markdown_path = directory / f"{stem}.json", directory / f"{stem}.md"
    try:
        write_whole(json_path, json_text)
    except OSError as error:
        raise RecordError(f"cannot write the cutover record {json_path}: {error.strerror or error}") from None
    try:
        write_whole(markdown_path, markdown)
    except OSError as error:
        raise RecordError(
            f"wrote {json_path} but not {markdown_path} ({error.strerror or error}): "
            f"`cutover report {json_path}` prints the Markdown"
        ) from None
    fsync_directory(directory)
    return json_path, markdown_path


def read_record(path: Path) -> CutoverRecord:
    """The record in `path`, validated. Raises RecordError (one line) for a missing, unreadable or invalid file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else first_line(error)
        raise RecordError(f"{path}: cannot read ({reason})") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise RecordError(f"{path}: not JSON ({first_line(error)})") from None
    if not isinstance(document, dict) or document.get("kind") != RECORD_KIND:
        raise RecordError(f'{path}: not a cutover record (no "kind": "{RECORD_KIND}")')
    try:
        return CutoverRecord.model_validate(document)
    except ValidationError as error:
        raise RecordError(f"{path}: not a valid cutover record ({first_problem(error)})") from None


def newest_record(directory: Path) -> Path:
    """The newest `cutover-record-*.json` in `directory` by the UTC time in its name. Raises RecordError."""
    try:
        names = [(match["stamp"], int(match["number"] or 1), path) for path in directory.iterdir()
                 if (match := _RECORD_NAME.match(path.name))]  # fmt: skip
    except OSError as error:
        raise RecordError(f"{directory}: cannot list ({error.strerror or error})") from None
    if not names:
        raise RecordError(f"{directory}: no cutover record (cutover-record-<stack>-<time>.json) in it")
    return max(names, key=lambda item: (item[0], item[1], item[2].name))[2]


# --- command line -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RecordOptions:
    """What `cutover stop` needs for its record."""

    record_dir: Path = DEFAULT_RECORD_DIR
    compare_report: Path | None = None


def add_record_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """`cutover stop`'s --record-dir DIR and --compare-report FILE; returns `parser`."""
    parser.add_argument(
        "--record-dir", type=Path, default=DEFAULT_RECORD_DIR, metavar="DIR",
        help=f"where the cutover record (JSON and Markdown) is written (default {DEFAULT_RECORD_DIR})",
    )  # fmt: skip
    parser.add_argument(
        "--compare-report", type=Path, metavar="FILE",
        help="the output of `compare --json` after the freeze: its summary goes into the cutover record",
    )  # fmt: skip
    return parser


REPORT_HELP = cli.CommandHelp(
    succeeded="the record was printed",
    failed="not used",
    could_not_run="no readable cutover record at the path (one line on stderr)",
    credentials=(("none", "it reads a file"),),
    needs_aws=False,
    aws="It reads the record file only.",
)


@dataclass(frozen=True, kw_only=True)
class ReportOptions:
    """RECORD and --json (fields named as their dests: `cli.options_from` builds it)."""

    path: Path = DEFAULT_RECORD_DIR
    """A record's JSON file, or a directory: its newest record."""
    json: bool = False


def add_report_arguments(parser: argparse.ArgumentParser, *, json_flag: bool = True) -> argparse.ArgumentParser:
    """RECORD (a record's .json, or a directory; default cutover-records) and --json (leave it out with
    `json_flag=False` when a parent parser already has it); returns `parser`."""
    parser.add_argument(
        "path", nargs="?", type=Path, default=DEFAULT_RECORD_DIR, metavar="RECORD",
        help=f"a cutover record's .json, or a directory: its newest record (default {DEFAULT_RECORD_DIR})",
    )  # fmt: skip
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print the record's JSON instead of the Markdown")
    return parser


def run_report(options: ReportOptions) -> int:
    """Print the record (Markdown, or JSON with --json); 0 printed, 2 no readable record (one line on stderr)."""
    try:
        path = newest_record(options.path) if options.path.is_dir() else options.path
        record = read_record(path)
    except RecordError as error:
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.ERROR
    if options.json:
        print(record.model_dump_json(indent=2))
    else:
        print(render_markdown(record), end="")
    return ExitCode.OK
