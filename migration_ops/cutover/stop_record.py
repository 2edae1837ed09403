"""What `cutover stop` gathers for its cutover record, and the record it writes (record.py, record_model.py).

Before any gate is evaluated (`prepare`): the start time, the `--compare-report` (a bad file refuses the stop:
exit 2, nothing changed), a writable record directory, the operator (OS user and AWS caller identity; refused
without the AWS identity, audit.require_identity), and the newest sequence resets `cutover sequences` recorded
for the stack (record_sequences.py). The gates hand back their evidence (`StopEvidence`: results, the CDC latency
over the window, the source's WAL position read in the freeze check's session, DMS's table statistics); `write`
builds the `CutoverRecord` from both and writes its JSON and Markdown, after the audit log's outcome line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from config import EnvironmentConfig
from migration_ops.cutover.dms_task import TableStat
from migration_ops.cutover.record import (
    ComparisonRecord,
    CutoverRecord,
    ForcedStep,
    LatencyRecord,
    Operator,
    RecordError,
    RecordOptions,
    SequenceReset,
    ensure_writable,
    gate_records,
    load_comparison,
    table_records,
    write_record,
)
from migration_ops.cutover.record_model import Outcome
from migration_ops.cutover.record_sequences import newest_resets
from migration_ops.cutover.task import Task
from migration_ops.results import CheckResult


@dataclass(frozen=True, kw_only=True)
class StopEvidence:
    """What the gates saw, for the output and the record."""

    results: list[CheckResult]
    latency: LatencyRecord | None = None
    wal_position: str | None = None
    tables: tuple[TableStat, ...] | None = None
    tables_note: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordInputs:
    """What the record needs that the gates do not give, gathered before any gate runs."""

    started: datetime
    operator: Operator
    record_dir: Path
    comparison: ComparisonRecord | None = None
    sequences: tuple[SequenceReset, ...] = ()
    sequences_note: str = ""


def prepare(options: RecordOptions, config: EnvironmentConfig, task: Task, *, started: datetime) -> RecordInputs:
    """Everything a stop needs before its gates. Raises RecordError or AuditError (exit 2, nothing changed)."""
    comparison = None
    if options.compare_report is not None:
        comparison = load_comparison(options.compare_report, stack=config.stack_name)
    ensure_writable(options.record_dir)
    operator = task.operator()
    resets, note = newest_resets(options.record_dir, config.stack_name)
    return RecordInputs(
        started=started,
        operator=operator,
        record_dir=options.record_dir,
        comparison=comparison,
        sequences=resets.sequences if resets is not None else (),
        sequences_note=note,
    )


def forced_step(reason: str) -> ForcedStep:
    return ForcedStep(step="stop despite failed gates", reason=reason, at=datetime.now(UTC))


def write(
    inputs: RecordInputs,
    *,
    config: EnvironmentConfig,
    task_arn: str,
    evidence: StopEvidence | None,
    results: Sequence[CheckResult],
    outcome: Outcome,
    detail: str,
    forced: tuple[ForcedStep, ...] = (),
    after_stop: bool = False,
) -> tuple[Path, Path]:
    """Build the record of this stop and write its JSON and Markdown. Raises RecordError (`after_stop`: saying that
    the task was asked to stop)."""
    record = CutoverRecord(
        started_at=inputs.started,
        finished_at=datetime.now(UTC),
        environment=config.environment_suffix,
        stack=config.stack_name,
        task_arn=task_arn,
        operator=inputs.operator,
        source_wal_position=evidence.wal_position if evidence else None,
        latency=evidence.latency if evidence else None,
        tables=table_records(evidence.tables if evidence else None),
        tables_note=evidence.tables_note if evidence else "",
        gates=gate_records(results),
        sequences=inputs.sequences,
        sequences_note=inputs.sequences_note,
        comparison=inputs.comparison,
        forced=forced,
        outcome=outcome,
        outcome_detail=detail,
    )
    try:
        return write_record(record, inputs.record_dir)
    except RecordError as error:
        if not after_stop:
            raise
        raise RecordError(f"{error} (the task WAS asked to stop; the audit log has the outcome)") from None
