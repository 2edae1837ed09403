"""Which changes lose state, which acknowledgement covers each, and the verdict (the exit code)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from plumbing.exit_codes import ExitCode
from review.plan_risk.acknowledgements import COMMAND_LINE, Acknowledgement
from review.plan_risk.classify import Change, classify, values_before
from review.plan_risk.reading import PlanError, PlanSource, read_plan, stale_plan_warning
from review.plan_risk.stateful import STATEFUL, Stateful


@dataclass(frozen=True, kw_only=True)
class Risk:
    change: Change
    stateful: Stateful
    acknowledgement: Acknowledgement | None

    @property
    def cost(self) -> str:
        return self.stateful.replace_cost if self.change.kind == "replaced" else self.stateful.destroy_cost


@dataclass(kw_only=True)
class PlanReport:
    source: PlanSource
    terraform_version: str = ""
    changes: list[Change] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    error: str = ""
    warnings: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Change]:
        return [change for change in self.changes if change.kind == kind]

    @property
    def unacknowledged(self) -> list[Risk]:
        return [risk for risk in self.risks if risk.acknowledgement is None]

    @property
    def acknowledged(self) -> list[Risk]:
        return [risk for risk in self.risks if risk.acknowledgement is not None]


def assess(
    source: PlanSource, plan: Mapping[str, Any], acknowledgements: Sequence[Acknowledgement], *, warnings: Sequence[str] = ()
) -> PlanReport:
    report = PlanReport(source=source, terraform_version=str(plan.get("terraform_version", "")), warnings=list(warnings))
    report.changes = classify(plan)
    if plan.get("complete") is False:
        report.warnings.append("the plan is incomplete (deferred changes): another plan and apply follow this one")
    for change in report.changes:
        stateful = STATEFUL.get(change.resource_type)
        if change.kind in {"replaced", "destroyed"} and stateful and stateful.covers(values_before(plan, change.address)):
            acknowledged = next((a for a in acknowledgements if a.covers(source.stack, change.address)), None)
            report.risks.append(Risk(change=change, stateful=stateful, acknowledgement=acknowledged))
    return report


def exit_code(reports: Sequence[PlanReport]) -> ExitCode:
    """ERROR when a plan cannot be read, FAILED when a dangerous change is not acknowledged, else OK."""
    if any(report.error for report in reports):
        return ExitCode.ERROR
    return ExitCode.FAILED if any(report.unacknowledged for report in reports) else ExitCode.OK


def unused_acknowledgements(reports: Sequence[PlanReport], acknowledgements: Sequence[Acknowledgement]) -> list[Acknowledgement]:
    used = {id(risk.acknowledgement) for report in reports for risk in report.acknowledged}
    return [a for a in acknowledgements if id(a) not in used and a.source != COMMAND_LINE]


def assess_all(
    sources: Sequence[PlanSource], acknowledgements: Sequence[Acknowledgement], *, terraform: str = "terraform"
) -> list[PlanReport]:
    """One report per plan; an unreadable plan becomes a report with `error` set."""
    reports = []
    for source in sources:
        try:
            plan = read_plan(source, terraform=terraform)
        except PlanError as error:
            reports.append(PlanReport(source=source, error=str(error)))
            continue
        stale = stale_plan_warning(source)
        reports.append(assess(source, plan, acknowledgements, warnings=[stale] if stale else []))
    return reports
