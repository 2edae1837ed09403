"""The cutover record as a Markdown sign-off document (`render_markdown`), for `cutover stop` and `cutover report`.

Sections: the header (environment, stack, task, times, operator, the source WAL position), the outcome, the gates,
the CDC latency over the gate window, DMS's table statistics, the sequences reset, the data comparison, the forced
steps and a sign-off with blank lines for names, dates and signatures. Every value is escaped for a Markdown table
cell (`|`, backslashes, line breaks).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from migration_ops.cutover.record_model import CutoverRecord
from plumbing.text import human_duration

OUTCOME_TEXT = {
    "stopped": "STOPPED: the replication task was stopped",
    "refused": "REFUSED: not every gate passed; the task was not stopped and keeps running",
    "error": "ERROR: the command failed; see the detail and the audit log",
}
SIGNERS = ("Operator", "Application owner", "Database owner")
_BLANK = "______________________________"
Row = Sequence[object]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ") or " "


def _table(header: Sequence[str], rows: Iterable[Row]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines.extend("| " + " | ".join(_cell(value) for value in row) + " |" for row in rows)
    return lines


def _time(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _header(record: CutoverRecord) -> list[str]:
    who = record.operator
    aws = f"`{who.aws_caller_arn}`" if who.aws_caller_arn else f"unknown ({who.aws_identity_error or 'not read'})"
    duration = human_duration(record.finished_at - record.started_at)
    rows: list[Row] = [
        ("Environment", record.environment),
        ("Stack", record.stack),
        ("Replication task", record.task_arn),
        ("Started", _time(record.started_at)),
        ("Finished", f"{_time(record.finished_at)} ({duration})"),
        ("Operator", f"OS user `{who.os_user}`; AWS {aws}"),
        ("Source WAL position at the freeze", record.source_wal_position or "not read"),
    ]
    return [f"# Cutover record: {record.stack}", "", *_table(("Field", "Value"), rows)]


def _outcome(record: CutoverRecord) -> list[str]:
    lines = [f"**{OUTCOME_TEXT[record.outcome]}**."]
    if record.outcome_detail:
        lines += ["", record.outcome_detail]
    if record.forced:
        lines += ["", f"**FORCED**: {len(record.forced)} step(s) overrode a failed check (see Forced steps)."]
    return lines


def _gates(record: CutoverRecord) -> list[str]:
    if not record.gates:
        return ["No gate was evaluated."]
    rows: list[Row] = [(gate.status.label, gate.name, gate.evidence, gate.fix) for gate in record.gates]
    return _table(("Status", "Check", "Evidence", "Fix"), rows)


def _latency(record: CutoverRecord) -> list[str]:
    latency = record.latency
    if latency is None:
        return ["Not recorded."]
    limit = "" if latency.max_seconds is None else f", at most {latency.max_seconds:g} s allowed"
    rows: list[Row] = [
        (metric.metric, metric.datapoints, _seconds(metric.minimum), _seconds(metric.maximum), _seconds(metric.last))
        for metric in latency.metrics
    ]
    window = f"Window {_time(latency.window_start)} to {_time(latency.window_end)}{limit}."
    return [window, "", *_table(("Metric", "Datapoints", "Min (s)", "Max (s)", "Last (s)"), rows)]


def _tables(record: CutoverRecord) -> list[str]:
    if not record.tables:
        return [record.tables_note or "No table statistics."]
    header = ("Table", "State", "Full load rows", "Inserts", "Updates", "Deletes", "Validation", "Pending", "Failed",
              "Suspended")  # fmt: skip
    rows: list[Row] = [
        (t.table, t.state, t.full_load_rows, t.inserts, t.updates, t.deletes, t.validation_state,
         t.validation_pending, t.validation_failed, t.validation_suspended)
        for t in record.tables
    ]  # fmt: skip
    return _table(header, rows)


def _sequences(record: CutoverRecord) -> list[str]:
    note = [record.sequences_note, ""] if record.sequences_note else []
    if not record.sequences:
        return [*note, "None recorded."]
    rows: list[Row] = [
        (f"{item.schema_name}.{item.name}", _number(item.source_last_issued), _number(item.target_before),
         item.value if item.changed else f"{item.value} (already ahead, kept)")
        for item in record.sequences
    ]  # fmt: skip
    return [*note, *_table(("Sequence", "Source last issued", "Target before", "Set to"), rows)]


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)


def _comparison(record: CutoverRecord) -> list[str]:
    comparison = record.comparison
    if comparison is None:
        return ["No comparison given (`--compare-report`)."]
    summary = ", ".join(f"{comparison.summary.get(key, 0)} {key}" for key in ("pass", "warn", "fail", "skip"))
    verdict = "everything compared and equal" if comparison.equal else "NOT everything compared and equal"
    incomplete = "" if comparison.complete else "; INCOMPLETE"
    lines = [f"`{comparison.file}` (sha256 `{comparison.sha256}`): {verdict}; {summary}{incomplete}.", ""]
    if comparison.source or comparison.target:
        lines += [f"Source {comparison.source or '-'}, target {comparison.target or '-'}.", ""]
    rows: list[Row] = [(item.status.label, item.table) for item in comparison.tables]
    return lines + _table(("Status", "Table"), rows)


def _forced(record: CutoverRecord) -> list[str]:
    if not record.forced:
        return ["None."]
    rows: list[Row] = [(step.step, step.reason, _time(step.at)) for step in record.forced]
    return _table(("Step", "Reason (verbatim)", "At"), rows)


def _sign_off(_: CutoverRecord) -> list[str]:
    lines = ["Sign when the applications run on Aurora and the migration is accepted; until then the source stays frozen.", ""]
    for signer in SIGNERS:
        lines += [f"**{signer}**", "", f"Name: {_BLANK}", "", f"Date: {_BLANK}", "", f"Signature: {_BLANK}", ""]
    return lines


SECTIONS = (
    ("Outcome", _outcome),
    ("Gates", _gates),
    ("CDC latency over the gate window", _latency),
    ("Tables (DMS table statistics)", _tables),
    ("Sequences reset on the target", _sequences),
    ("Data comparison", _comparison),
    ("Forced steps", _forced),
    ("Sign-off", _sign_off),
)


def render_markdown(record: CutoverRecord) -> str:
    """A sign-off document: header, outcome, gates, latency, tables, sequences, comparison, forced steps, sign-off."""
    lines = _header(record)
    for title, section in SECTIONS:
        lines += ["", f"## {title}", "", *section(record)]
    return "\n".join(lines).rstrip("\n") + "\n"
