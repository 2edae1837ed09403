"""What compare found, per table: the report with its status, evidence and fix, and the table the command prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from migration_ops.compare.tables import Table
from migration_ops.results import CheckResult, Status
from plumbing.text import listed

KEYS_SHOWN = 5
CHUNKS_SHOWN = 3
ROW_LABEL = "row"
"""What a difference of a table without a key lists: the start of each row's text."""

FIX_COLUMNS = "create the target table with the source's columns and types (runbook step 5), then reload the table"
FIX_UNREADABLE = (
    "compare as a user that reads every row (the table's owner, or a role with BYPASSRLS and SELECT on it); "
    "if row-level security or a missing grant hides rows from the DMS user too, DMS did not migrate them (preflight)"
)
FIX_CHANGED = (
    "the source changed during the run, so the difference may be changes still on their way through CDC: "
    "rerun with writes frozen (cutover freeze) and CDC latency near 0 before acting on it"
)
FIX_UNKNOWN_CHANGE = "whether the source changed during the run is unknown ({why}): rerun with writes frozen before acting on it"
FIX_UNCONFIRMED = (
    "the difference was not confirmed by a recheck ({why}): compare this table again (--tables); "
    "do not reload before a recheck confirms it"
)
FIX_CONFIRMED = (
    "conclusive: no write reached this table on the source during the run and a recheck {delay:g} s later "
    "confirmed the difference: look at the named rows on both sides, then reload the table in the DMS task and "
    "compare again"
)
FIX_COLLATION = (
    "no data difference; if applications rely on the source's sort order or case rules, give the target's "
    "columns (or database) the source's collation"
)


@dataclass(kw_only=True)
class ChunkDifference:
    """A bucket of rows (a chunk) whose digests differ; after the recheck, its differing rows by key."""

    chunk: int
    where: str
    """The predicate that selects the chunk's rows on the source (compare's pinned session settings)."""
    source_rows: int
    target_rows: int
    key: list[str] = field(default_factory=list)
    changed: list[tuple[str, ...]] | None = None
    missing: list[tuple[str, ...]] | None = None
    """On the source, not on the target."""
    extra: list[tuple[str, ...]] | None = None
    """On the target, not on the source."""

    @property
    def names(self) -> list[str]:
        return self.key or [ROW_LABEL]

    def describe(self) -> str:
        text = f"chunk {self.chunk}: {self.source_rows} rows on the source, {self.target_rows} on the target"
        if self.changed is None:
            return text + ", digests differ"
        details = [
            f"{label} {key_values(self.names, keys)}"
            for label, keys in (
                ("changed", self.changed),
                ("missing on the target", self.missing),
                ("extra on the target", self.extra),
            )
            if keys
        ]
        return text + ("; " + "; ".join(details) if details else ", digests differ")

    def as_dict(self) -> dict[str, Any]:
        return {
            "chunk": self.chunk,
            "where": self.where,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "changed": _key_list(self.names, self.changed),
            "missing_on_target": _key_list(self.names, self.missing),
            "extra_on_target": _key_list(self.names, self.extra),
        }


def key_values(key: Sequence[str], values: Sequence[tuple[str, ...]]) -> str:
    """`(id)=(4), (9)`: the first as PostgreSQL names a key, at most KEYS_SHOWN of them."""
    return f"({', '.join(key)})=" + listed([f"({', '.join(value)})" for value in values], limit=KEYS_SHOWN)


def _key_list(key: Sequence[str], values: Sequence[tuple[str, ...]] | None) -> list[dict[str, str]] | None:
    return None if values is None else [dict(zip(key, value, strict=True)) for value in values]


@dataclass(kw_only=True)
class TableReport:
    table: Table
    key: list[str] = field(default_factory=list)
    source_rows: int | None = None
    target_rows: int | None = None
    chunks_compared: int = 0
    """Non-empty buckets (chunks) whose digests were compared."""
    differences: list[ChunkDifference] = field(default_factory=list)
    first_differences: int = 0
    """Chunks that differed in the first pass (before the recheck)."""
    recheck_delay: float | None = None
    """Seconds waited before the recheck; None: no recheck ran."""
    column_problems: list[str] = field(default_factory=list)
    column_warnings: list[str] = field(default_factory=list)
    """Differences that are not data differences: collations, encodings."""
    missing_on_target: bool = False
    unreadable: str | None = None
    """Why the comparing user cannot read every row (row-level security, no SELECT); the table is not compared."""
    incomplete: str | None = None
    """Why the table was not completely compared; None when it was."""
    note: str | None = None
    source_changed: bool | None = None
    source_change_unknown: str = "not measured"
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        rows_differ = None not in (self.source_rows, self.target_rows) and self.source_rows != self.target_rows
        if self.missing_on_target or self.unreadable or self.column_problems or self.differences or rows_differ:
            return Status.FAIL
        return Status.WARN if self.incomplete or self.column_warnings else Status.PASS

    @property
    def confirmed(self) -> bool:
        return self.recheck_delay is not None and not self.incomplete

    def evidence(self) -> str:
        if self.missing_on_target:
            return "no such table on the target"
        if self.unreadable:
            return f"not compared: {self.unreadable}"
        parts: list[str] = []
        if self.column_problems:
            parts.append("columns differ: " + "; ".join(self.column_problems))
        parts.extend(self.column_warnings)
        if self.source_rows is not None and self.target_rows is not None:
            parts.append(
                f"{self.source_rows} rows"
                if self.source_rows == self.target_rows
                else f"rows differ: {self.source_rows} on the source, {self.target_rows} on the target"
            )
        if self.note:
            parts.append(self.note)
        parts.extend(self._chunks())
        if self.incomplete:
            parts.append(f"not completely compared: {self.incomplete}")
        if self.status is Status.FAIL and not self.column_problems:
            parts.append(self._change_note())
        return ", ".join(parts) if parts else "nothing compared"

    def _chunks(self) -> list[str]:
        if self.differences:
            shown = [difference.describe() for difference in self.differences[:CHUNKS_SHOWN]]
            more = len(self.differences) - CHUNKS_SHOWN
            when = f" after a recheck {self.recheck_delay:g} s later" if self.confirmed else " (not rechecked)"
            return [
                f"{len(self.differences)} of {self.chunks_compared} chunks differ{when}: "
                + "; ".join(shown)
                + (f"; and {more} more" if more > 0 else "")
            ]
        if self.chunks_compared and self.recheck_delay is not None:
            return [
                f"{self.chunks_compared} chunks equal ({self.first_differences} differed at first and were equal "
                f"when rechecked {self.recheck_delay:g} s later: changes in flight)"
            ]
        return [f"{self.chunks_compared} chunks equal"] if self.chunks_compared and not self.incomplete else []

    def _change_note(self) -> str:
        if self.source_changed:
            return "the source changed during the run: rerun with writes frozen"
        if self.source_changed is None:
            return f"unknown whether the source changed during the run ({self.source_change_unknown})"
        return "conclusive: the source table did not change during the run"

    def fix(self) -> str:
        if self.missing_on_target:
            return "create the table on the target (runbook step 5) and reload it in the DMS task"
        if self.unreadable:
            return FIX_UNREADABLE
        if self.column_problems:
            return FIX_COLUMNS
        if self.status is Status.FAIL:
            return self._data_fix()
        if self.incomplete:
            return "compare this table again (--tables) with a larger --time-budget-seconds or --statement-timeout"
        return FIX_COLLATION if self.column_warnings else ""

    def _data_fix(self) -> str:
        """A reload only once a recheck confirmed the difference and the source did not change meanwhile."""
        if not self.confirmed:
            return FIX_UNCONFIRMED.format(why=self.incomplete or "none ran")
        if self.source_changed:
            return FIX_CHANGED
        if self.source_changed is None:
            return FIX_UNKNOWN_CHANGE.format(why=self.source_change_unknown)
        return FIX_CONFIRMED.format(delay=self.recheck_delay)

    def result(self) -> CheckResult:
        return CheckResult(name=self.table.qualified, status=self.status, evidence=self.evidence(), fix=self.fix())

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table.qualified,
            "status": self.status.value,
            "key": self.key,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "chunks_compared": self.chunks_compared,
            "differences": [difference.as_dict() for difference in self.differences],
            "first_pass_differences": self.first_differences,
            "recheck_delay_seconds": self.recheck_delay,
            "column_problems": self.column_problems,
            "column_warnings": self.column_warnings,
            "missing_on_target": self.missing_on_target,
            "unreadable": self.unreadable,
            "incomplete": self.incomplete,
            "source_changed": self.source_changed,
            "seconds": round(self.seconds, 3),
        }


def parent_result(parent: Table, leaves: Sequence[Table]) -> CheckResult:
    evidence = (
        f"partitioned table: compared as its {len(leaves)} leaf partitions ({', '.join(leaf.qualified for leaf in leaves)})"
        if leaves
        else "partitioned table without partitions: holds no rows"
    )
    return CheckResult(name=parent.qualified, status=Status.SKIP, evidence=evidence)


def render_reports(reports: Sequence[TableReport], others: Sequence[CheckResult]) -> str:
    """One line per table: status, name, rows on each side, chunks compared, evidence; `fix:` under a non-pass."""
    rows = [(result.status.label, result.name, "-", "-", "-", result.evidence, result.fix) for result in others]
    for report in reports:
        result = report.result()
        counted = (str(report.source_rows), str(report.target_rows)) if report.source_rows is not None else ("-", "-")
        rows.append((result.status.label, result.name, *counted, str(report.chunks_compared), result.evidence, result.fix))
    header = ("STATUS", "TABLE", "SOURCE ROWS", "TARGET ROWS", "CHUNKS")
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]

    def cells(values: Sequence[str]) -> str:
        """Names left-aligned, numbers right-aligned."""
        return "  ".join(
            value.ljust(width) if i < 2 else value.rjust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        )

    lines = [cells(header) + "  EVIDENCE"]
    for *values, evidence, fix in rows:
        lines.append(f"{cells(values)}  {evidence}")
        if fix:
            lines.append(" " * (sum(widths) + 2 * len(widths)) + f"fix: {fix}")
    return "\n".join(lines)
