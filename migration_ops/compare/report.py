"""What compare found, per table: the report with its status, evidence and fix, and the table the command prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from migration_ops.compare.chunks import Chunk
from migration_ops.compare.tables import Table
from migration_ops.results import CheckResult, Status
from plumbing.text import listed

KEYS_SHOWN = 5
CHUNKS_SHOWN = 3

FIX_DIFFERENCE = (
    "look at the named rows on both sides (SELECT ... WHERE <the chunk's range>); with writes frozen and CDC latency "
    "near 0 the difference is real: reload the table in the DMS task, then compare again"
)
FIX_DIFFERENCE_WITHOUT_KEY = (
    "without a primary key the differing rows cannot be named: with writes frozen and CDC latency near 0, "
    "reload the table in the DMS task, then compare again"
)
FIX_COLUMNS = "create the target table with the source's columns and types (runbook step 5), then reload the table"


@dataclass(kw_only=True)
class ChunkDifference:
    chunk: Chunk
    source_rows: int
    target_rows: int
    changed: list[tuple[str, ...]] | None = None
    missing: list[tuple[str, ...]] | None = None
    """On the source, not on the target."""
    extra: list[tuple[str, ...]] | None = None
    """On the target, not on the source."""

    def describe(self) -> str:
        text = f"chunk {self.chunk.number} {self.chunk.where()}: "
        text += f"{self.source_rows} rows on the source, {self.target_rows} on the target"
        if self.changed is None:
            return text + ", digests differ"
        details = [
            f"{label} {key_values(self.chunk.key, keys)}"
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
            "chunk": self.chunk.number,
            "lower": _key_dict(self.chunk.key, self.chunk.lower),
            "upper": _key_dict(self.chunk.key, self.chunk.upper),
            "where": self.chunk.where(),
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "changed": _key_list(self.chunk.key, self.changed),
            "missing_on_target": _key_list(self.chunk.key, self.missing),
            "extra_on_target": _key_list(self.chunk.key, self.extra),
        }


def key_values(key: Sequence[str], values: Sequence[tuple[str, ...]]) -> str:
    """`(id)=(4), (9)`: the first as PostgreSQL names a key, at most KEYS_SHOWN of them."""
    return f"({', '.join(key)})=" + listed([f"({', '.join(value)})" for value in values], limit=KEYS_SHOWN)


def _key_dict(key: Sequence[str], value: tuple[str, ...] | None) -> dict[str, str] | None:
    return None if value is None else dict(zip(key, value, strict=True))


def _key_list(key: Sequence[str], values: Sequence[tuple[str, ...]] | None) -> list[dict[str, str]] | None:
    return None if values is None else [dict(zip(key, value, strict=True)) for value in values]


@dataclass(kw_only=True)
class TableReport:
    table: Table
    key: list[str] = field(default_factory=list)
    source_rows: int | None = None
    target_rows: int | None = None
    chunks_compared: int = 0
    reached: tuple[str, ...] | None = None
    """The last key of the last chunk compared."""
    differences: list[ChunkDifference] = field(default_factory=list)
    column_problems: list[str] = field(default_factory=list)
    missing_on_target: bool = False
    incomplete: str | None = None
    """Why the table was not completely compared; None when it was."""
    note: str | None = None
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        rows_differ = None not in (self.source_rows, self.target_rows) and self.source_rows != self.target_rows
        if self.missing_on_target or self.column_problems or self.differences or rows_differ:
            return Status.FAIL
        return Status.WARN if self.incomplete else Status.PASS

    def evidence(self) -> str:
        parts: list[str] = []
        if self.missing_on_target:
            return "no such table on the target"
        if self.column_problems:
            parts.append("columns differ: " + "; ".join(self.column_problems))
        if self.source_rows is not None and self.target_rows is not None:
            rows = (
                f"{self.source_rows} rows"
                if self.source_rows == self.target_rows
                else (f"rows differ: {self.source_rows} on the source, {self.target_rows} on the target")
            )
            parts.append(rows)
        if self.note:
            parts.append(self.note)
        if self.differences and self.key:
            shown = [difference.describe() for difference in self.differences[:CHUNKS_SHOWN]]
            more = len(self.differences) - CHUNKS_SHOWN
            parts.append(
                f"{len(self.differences)} of {self.chunks_compared} chunks differ: "
                + "; ".join(shown)
                + (f"; and {more} more" if more > 0 else "")
            )
        elif self.key and self.chunks_compared:
            parts.append(f"{self.chunks_compared} chunks equal")
        if self.incomplete:
            parts.append(f"not completely compared: {self.incomplete}")
        return ", ".join(parts) if parts else "nothing compared"

    def fix(self) -> str:
        if self.missing_on_target:
            return "create the table on the target (runbook step 5) and reload it in the DMS task"
        if self.column_problems:
            return FIX_COLUMNS
        if self.status is Status.FAIL:
            return FIX_DIFFERENCE if self.key else FIX_DIFFERENCE_WITHOUT_KEY
        if self.incomplete:
            return "compare this table again (--tables) with a larger --time-budget-seconds or --statement-timeout"
        return ""

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
            "column_problems": self.column_problems,
            "missing_on_target": self.missing_on_target,
            "incomplete": self.incomplete,
            "seconds": round(self.seconds, 3),
        }


def parent_result(parent: Table, leaves: Sequence[Table]) -> CheckResult:
    evidence = (
        f"partitioned table: compared as its {len(leaves)} leaf partitions ({', '.join(leaf.qualified for leaf in leaves)})"
        if leaves
        else "partitioned table without partitions: holds no rows"
    )
    return CheckResult(name=parent.qualified, status=Status.SKIP, evidence=evidence)


def render_reports(reports: Sequence[TableReport], parents: Sequence[CheckResult]) -> str:
    """One line per table: status, name, rows on each side, chunks compared, evidence; `fix:` under a non-pass."""
    rows = [(result.status.label, result.name, "-", "-", "-", result.evidence, "") for result in parents]
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
