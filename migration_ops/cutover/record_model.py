"""The cutover record's model and the pieces `cutover stop` collects for it (migration_ops/cutover/record.py writes it).

A frozen pydantic model: started/finished (UTC), environment and stack, the task ARN, the operator (OS user, AWS
caller identity), the source WAL position at the freeze, the CDC latencies over the gate window (per metric: min,
max, last, datapoint count), DMS's statistics and validation state per table, the gate results, the sequence resets
applied, the data comparison (a `compare --json` file: its summary and per-table statuses), the forced steps with
their reasons, and the outcome (stopped, refused, error).

No secret goes into the record: every string field passes through `redact` (migration_ops/postgres.py) when a model
is built (and again when a file is read): every password the command read (its DSNs', the secret's, PGPASSWORD), the
values of `password=...`, `PGPASSWORD=...`, `"password": "..."`, and the user-info of every URI
(`postgresql://user:secret@host` -> `postgresql://[redacted]@host`).

Facts relied on:
- PostgreSQL 15 documentation, "System Administration Functions" (Backup Control Functions): `pg_current_wal_insert_lsn()`
  returns the current write-ahead log insert location (everything written so far, flushed or not) as `pg_lsn`
  (text `X/X`, each part up to 8 hexadecimal
  digits); it fails during recovery (a standby).
- AWS STS API reference, GetCallerIdentity: the `Arn` of the calling identity; no permission is needed for it.
- DMS API reference, TableStatistics: the per-table fields (migration_ops.cutover.dms_task.TableStat).
- `compare --json` (migration_ops/compare.py): `{stack, source, target, complete, seconds, results: [{name, status,
  evidence, fix}], summary: {pass, warn, fail, skip}, tables: [...]}`.
"""

from __future__ import annotations

import getpass
import hashlib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Protocol

import psycopg
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from migration_ops.cutover.dms_task import TableStat
from migration_ops.errors import OpsError
from migration_ops.postgres import redact
from migration_ops.results import CheckResult, Status
from plumbing.text import first_line

RECORD_KIND: Final = "cutover-record"
RECORD_VERSION: Final = 1

Outcome = Literal["stopped", "refused", "error"]

# --- redaction: postgres.redact, the one scrubber of every operations message ---------------------


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timestamp needs its time zone (UTC)")
    return moment.astimezone(UTC)


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    return value


Text = Annotated[str, AfterValidator(redact)]
UtcTime = Annotated[datetime, AfterValidator(_utc)]
Seconds = Annotated[float | None, AfterValidator(_finite)]
Lsn = Annotated[str, Field(pattern=r"^[0-9A-F]{1,8}/[0-9A-F]{1,8}$")]


class RecordError(OpsError):
    """The record or a file it reads cannot be read or written: exit 2 with this one-line message."""


# --- the model --------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Operator(_Model):
    os_user: Text
    aws_caller_arn: Text | None = None
    aws_identity_error: Text | None = None
    """Why the AWS caller identity is missing, when it is."""


class LatencySummary(_Model):
    metric: Text
    datapoints: int = Field(ge=0)
    minimum: Seconds = None
    maximum: Seconds = None
    last: Seconds = None
    """The newest datapoint's value."""


class LatencyRecord(_Model):
    window_start: UtcTime
    window_end: UtcTime
    max_seconds: Seconds = None
    """The gate's threshold."""
    metrics: tuple[LatencySummary, ...] = ()


class TableRecord(_Model):
    table: Text
    state: Text
    full_load_rows: int
    inserts: int
    updates: int
    deletes: int
    validation_state: Text
    validation_pending: int = 0
    validation_failed: int = 0
    validation_suspended: int = 0

    @classmethod
    def from_stat(cls, stat: TableStat) -> TableRecord:
        return cls.model_validate(stat.as_dict())


class GateRecord(_Model):
    name: Text
    status: Status
    evidence: Text
    fix: Text = ""

    @classmethod
    def from_result(cls, result: CheckResult) -> GateRecord:
        return cls(name=result.name, status=result.status, evidence=result.evidence, fix=result.fix)


class SequenceReset(_Model):
    schema_name: Text
    name: Text
    value: int
    """The target sequence's last value afterwards: what setval set it to, or where it already was."""
    changed: bool = True
    """False when the target was already ahead and was left alone."""
    source_last_issued: int | None = None
    target_before: int | None = None


class ComparisonTable(_Model):
    table: Text
    status: Status


class ComparisonRecord(_Model):
    file: Text
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    stack: Text | None = None
    source: Text | None = None
    target: Text | None = None
    complete: bool
    seconds: Seconds = None
    summary: dict[Literal["pass", "warn", "fail", "skip"], int]
    tables: tuple[ComparisonTable, ...] = ()

    @property
    def equal(self) -> bool:
        """Everything compared and nothing differs."""
        return self.complete and self.summary.get("fail", 0) == 0 and self.summary.get("warn", 0) == 0


class ForcedStep(_Model):
    step: Text
    """What was forced, e.g. `stop despite failed gates`."""
    reason: Text
    at: UtcTime | None = None


class CutoverRecord(_Model):
    kind: Literal["cutover-record"] = RECORD_KIND
    version: Literal[1] = RECORD_VERSION
    started_at: UtcTime
    finished_at: UtcTime
    environment: Text
    stack: Text
    task_arn: Text
    operator: Operator
    source_wal_position: Lsn | None = None
    """`pg_current_wal_insert_lsn()` on the source at the freeze check; None when it could not be read."""
    latency: LatencyRecord | None = None
    tables: tuple[TableRecord, ...] = ()
    tables_note: Text = ""
    """Why there are no table statistics, when there are none."""
    gates: tuple[GateRecord, ...] = ()
    sequences: tuple[SequenceReset, ...] = ()
    sequences_note: Text = ""
    """Where the sequence resets come from (`cutover sequences --apply-dsn-env`, its file and time), or why none."""
    comparison: ComparisonRecord | None = None
    forced: tuple[ForcedStep, ...] = ()
    outcome: Outcome
    outcome_detail: Text = ""
    """The task status after the stop, why it was refused, or the error."""

    @model_validator(mode="after")
    def _finished_after_start(self) -> CutoverRecord:
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        return self


# --- collecting the pieces --------------------------------------------------------------------


class CallerIdentity(Protocol):
    """What `operator_identity` needs of an STS client."""

    def get_caller_identity(self) -> Mapping[str, Any]: ...


def os_user() -> str:
    """The OS user running the command (the uid when it has no name)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"


def operator_identity(sts: CallerIdentity | None) -> Operator:
    """The OS user and the AWS caller identity ARN (STS GetCallerIdentity); an STS failure is noted, not raised."""
    if sts is None:
        return Operator(os_user=os_user(), aws_identity_error="no STS client")
    try:
        arn = str(sts.get_caller_identity()["Arn"])
    except (ClientError, BotoCoreError, KeyError) as error:
        return Operator(os_user=os_user(), aws_identity_error=first_line(error))
    return Operator(os_user=os_user(), aws_caller_arn=arn)


def read_wal_position(conn: psycopg.Connection[Any]) -> str:
    """`pg_current_wal_insert_lsn()` of the source, e.g. `0/1A2B3C4`. Raises RecordError (one line)."""
    try:
        row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
    except psycopg.Error as error:
        raise RecordError(f"cannot read the source's WAL position (pg_current_wal_insert_lsn): {first_line(error)}") from None
    if row is None or not row[0]:
        raise RecordError("cannot read the source's WAL position: pg_current_wal_insert_lsn() returned nothing")
    return str(row[0])


def latency_record(
    series: Mapping[str, Sequence[tuple[datetime, float]]],
    *,
    window_start: datetime,
    window_end: datetime,
    max_seconds: float | None = None,
) -> LatencyRecord:
    """Per metric of `series` (dms_task.latency_datapoints: oldest first): count, min, max and the newest value."""
    metrics = []
    for metric, points in series.items():
        values = [value for _, value in sorted(points)]
        metrics.append(
            LatencySummary(
                metric=metric,
                datapoints=len(values),
                minimum=min(values) if values else None,
                maximum=max(values) if values else None,
                last=values[-1] if values else None,
            )
        )
    return LatencyRecord(window_start=window_start, window_end=window_end, max_seconds=max_seconds, metrics=tuple(metrics))


def table_records(stats: Iterable[TableStat] | None) -> tuple[TableRecord, ...]:
    return tuple(TableRecord.from_stat(stat) for stat in stats or ())


def gate_records(results: Iterable[CheckResult]) -> tuple[GateRecord, ...]:
    return tuple(GateRecord.from_result(result) for result in results)


class _CompareResult(BaseModel):
    name: str
    status: Status


class _CompareDocument(BaseModel):
    """The parts of `compare --json` the record keeps; anything else compare prints is allowed and dropped."""

    model_config = ConfigDict(extra="allow")
    stack: str
    source: str | None = None
    target: str | None = None
    complete: bool
    seconds: float | None = None
    results: list[_CompareResult]
    summary: dict[Literal["pass", "warn", "fail", "skip"], int]
    tables: list[Any]


def load_comparison(path: Path, *, stack: str | None = None) -> ComparisonRecord:
    """The summary and per-table statuses of a `compare --json` file. Raises RecordError (not compare's JSON, another
    stack's comparison, unreadable)."""
    where = f"--compare-report {path}"
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RecordError(f"{where}: cannot read ({error.strerror or error})") from None
    try:
        document = _CompareDocument.model_validate_json(raw)
    except ValidationError as error:
        raise RecordError(f"{where}: not the JSON of `compare --json` ({first_problem(error)})") from None
    if stack is not None and document.stack != stack:
        raise RecordError(f"{where}: compares stack {document.stack}, not {stack}")
    return ComparisonRecord(
        file=str(path),
        sha256=hashlib.sha256(raw).hexdigest(),
        stack=document.stack,
        source=document.source,
        target=document.target,
        complete=document.complete,
        seconds=document.seconds,
        summary=document.summary,
        tables=tuple(ComparisonTable(table=item.name, status=item.status) for item in document.results),
    )


def first_problem(error: ValidationError) -> str:
    problems = error.errors(include_url=False)
    if not problems:
        return "invalid"
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"]) or "document"
    more = f"; {len(problems) - 1} more" if len(problems) > 1 else ""
    return f"{where}: {first['msg']}{more}"
