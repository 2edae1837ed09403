"""The one result type of every operations command: preflight, verify and cutover report `CheckResult`s."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """Outcome of one check; the value is what JSON carries, the label what a table shows."""

    PASS = "pass"
    SKIP = "skip"
    WARN = "warn"
    FAIL = "fail"

    @property
    def label(self) -> str:
        return self.value.upper()

    @property
    def severity(self) -> int:
        """PASS < SKIP < WARN < FAIL: a skipped check proves less than a passed one, and fails nothing."""
        return _SEVERITY.index(self)


_SEVERITY = (Status.PASS, Status.SKIP, Status.WARN, Status.FAIL)


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    name: str
    status: Status
    evidence: str
    fix: str = ""
    """What to do about a WARN or FAIL; empty when there is nothing to do."""

    def line(self) -> str:
        """`PASS aurora.cluster: evidence`, the streaming form (tests/integration parse it)."""
        return f"{self.status.label} {self.name}: {self.evidence}"

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status.value, "evidence": self.evidence, "fix": self.fix}


def passed(name: str, evidence: str) -> CheckResult:
    return CheckResult(name=name, status=Status.PASS, evidence=evidence)


def failed(name: str, evidence: str, fix: str = "") -> CheckResult:
    return CheckResult(name=name, status=Status.FAIL, evidence=evidence, fix=fix)


def warned(name: str, evidence: str, fix: str = "") -> CheckResult:
    return CheckResult(name=name, status=Status.WARN, evidence=evidence, fix=fix)


def skipped(name: str, evidence: str) -> CheckResult:
    return CheckResult(name=name, status=Status.SKIP, evidence=evidence)


def worse(*statuses: Status) -> Status:
    """The most severe of `statuses` (PASS when there are none)."""
    return max(statuses, key=lambda status: status.severity, default=Status.PASS)


def worst(results: Iterable[CheckResult]) -> Status:
    """The most severe status among `results` (PASS when there are none)."""
    return worse(*(result.status for result in results))


def counts(results: Iterable[CheckResult]) -> dict[str, int]:
    """`{"pass": n, "warn": n, "fail": n, "skip": n}`, every status present."""
    listed = list(results)
    return {status.value: sum(1 for result in listed if result.status is status) for status in _SUMMARY_ORDER}


_SUMMARY_ORDER = (Status.PASS, Status.WARN, Status.FAIL, Status.SKIP)
