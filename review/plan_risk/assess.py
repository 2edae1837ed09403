"""Which changes are dangerous, which acknowledgement covers each, and the verdict (the exit code).

Dangerous: a replacement or destruction of any type that is not on the reviewed stateless list (a known stateful type
with its cost, any other with "cannot tell"); a `moved` block to another type unless both types are stateless; an
in-place update that makes a risky transition (transitions.py) or stops a running DMS task.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from plumbing.exit_codes import ExitCode
from review.plan_risk.acknowledgements import Acknowledgement
from review.plan_risk.classify import ACTION_REASONS, MEANINGS, Change, classify
from review.plan_risk.reading import PlanError, PlanSource, read_plan, stale_plan_warning
from review.plan_risk.stateful import STATEFUL, Stateful, unreviewed
from review.plan_risk.stateless import STATELESS
from review.plan_risk.transitions import (
    DESTROY,
    MOVED_TYPE,
    REPLACE,
    REPLICATION_STOPS,
    STOPS_REPLICATION,
    TRANSITIONS,
)
from review.plan_risk.values import marked


@dataclass(frozen=True, kw_only=True)
class Risk:
    change: Change
    kind: str
    """What an acknowledgement must name: replace, destroy, moved-to-another-type, or a transition's kind."""
    what: str
    summary: str
    """What the plan does, in Markdown: `is **replaced** (...): forced by ...`, `` `deletion_protection` `true` → ...``."""
    cost: str
    source: str = ""
    acknowledgement: Acknowledgement | None = None


@dataclass(kw_only=True)
class PlanReport:
    source: PlanSource
    stack: str = ""
    environment: str = ""
    terraform_version: str = ""
    changes: list[Change] = field(default_factory=list)
    drift: list[Change] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    error: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.stack or self.source.label

    def of_kind(self, kind: str) -> list[Change]:
        return [change for change in self.changes if change.kind == kind]

    @property
    def unacknowledged(self) -> list[Risk]:
        return [risk for risk in self.risks if risk.acknowledgement is None]

    @property
    def acknowledged(self) -> list[Risk]:
        return [risk for risk in self.risks if risk.acknowledgement is not None]

    @property
    def stateful_drift(self) -> list[Change]:
        return [change for change in self.drift if loss_of(change.resource_type, change.values) is not None]


def loss_of(resource_type: str, values: Mapping[str, Any]) -> Stateful | None:
    """What losing a resource of this type costs; None only for a reviewed stateless type (fails closed)."""
    stateful = STATEFUL.get(resource_type)
    if stateful is not None and stateful.covers(values):
        return stateful
    return None if resource_type in STATELESS else unreviewed(resource_type)


def _loss_risk(change: Change) -> Risk | None:
    loss = loss_of(change.resource_type, change.values)
    if loss is None and change.moved_type:
        loss = loss_of(change.previous_type, change.values)  # stateless now, but moved from a type that is not
    if loss is None:
        return None
    if change.kind == "replaced":
        order = f" ({change.order})" if change.order else ""
        return Risk(
            change=change,
            kind=REPLACE,
            what=loss.what,
            summary=f"is **replaced**{order}: {change.forced_by()}",
            cost=loss.replace_cost,
        )
    reason = ACTION_REASONS.get(change.reason, change.reason)
    return Risk(
        change=change,
        kind=DESTROY,
        what=loss.what,
        summary="is **destroyed**" + (f": {reason}" if reason else ""),
        cost=loss.destroy_cost,
    )


def _transition_risks(change: Change) -> list[Risk]:
    risks = []
    for transition in TRANSITIONS:
        attribute = transition.attribute
        if change.resource_type not in transition.resource_types or attribute not in change.attributes:
            continue
        unknown = marked(change.after_unknown, [attribute])
        if unknown or transition.risky(change.before.get(attribute), change.after.get(attribute)):
            old, new = change.shown(attribute)
            risks.append(
                Risk(
                    change=change,
                    kind=transition.kind,
                    what=STATEFUL[change.resource_type].what if change.resource_type in STATEFUL else change.resource_type,
                    summary=f"is **updated in place**: `{attribute}` {old} → {new}",
                    cost=transition.cost,
                    source=transition.source,
                )
            )
    return risks


def risks_of(change: Change, environment: str) -> list[Risk]:
    """Every dangerous aspect of one change (a change can be a cross-type move and a replacement at once)."""
    risks: list[Risk] = []
    if change.kind in {"replaced", "destroyed"}:
        risk = _loss_risk(change)
        if risk is not None:
            risks.append(risk)
    if change.moved_type and (loss_of(change.previous_type, change.values) or loss_of(change.resource_type, change.values)):
        risks.append(
            Risk(
                change=change,
                kind=MOVED_TYPE,
                what=f"`{change.previous_type}` → `{change.resource_type}`",
                summary=f"is **moved from another type** (`{change.previous_address}`)",
                cost=MEANINGS["moved-type"] + "; check the converted state before anything else is applied to it",
            )
        )
    if change.kind == "updated":
        risks += _transition_risks(change)
        stop = REPLICATION_STOPS.get(change.resource_type)
        changed = set(change.attributes) - stop.exempt if stop else set()
        if stop is not None and changed:
            risks.append(
                Risk(
                    change=change,
                    kind=STOPS_REPLICATION,
                    what=stop.what,
                    summary="is **updated in place** (" + ", ".join(f"`{name}`" for name in sorted(changed)) + ")",
                    cost=stop.cost(change.after, environment),
                    source=stop.source,
                )
            )
    return risks


def assess(report: PlanReport, plan: Mapping[str, Any], acknowledgements: Sequence[Acknowledgement]) -> PlanReport:
    report.terraform_version = str(plan.get("terraform_version", ""))
    report.changes = classify(plan)
    report.drift = classify(plan, "resource_drift")
    if plan.get("complete") is False:
        report.warnings.append("the plan is incomplete (deferred changes): another plan and apply follow this one")
    for change in report.changes:
        for risk in risks_of(change, report.environment):
            covering = next((a for a in acknowledgements if a.covers(report.stack, change.address, risk.kind)), None)
            report.risks.append(dataclasses.replace(risk, acknowledgement=covering))
    return report


def stale_acknowledgements(reports: Sequence[PlanReport], acknowledgements: Sequence[Acknowledgement]) -> list[Acknowledgement]:
    """Acknowledgements that cover nothing in these plans: they fail the report, so none lingers."""
    used = {id(risk.acknowledgement) for report in reports for risk in report.acknowledged}
    return [a for a in acknowledgements if id(a) not in used]


def exit_code(reports: Sequence[PlanReport], stale: Sequence[Acknowledgement] = ()) -> ExitCode:
    """ERROR when a plan cannot be read; FAILED when a dangerous change is not acknowledged or an acknowledgement is
    stale; else OK."""
    if any(report.error for report in reports):
        return ExitCode.ERROR
    return ExitCode.FAILED if stale or any(report.unacknowledged for report in reports) else ExitCode.OK


def assess_all(
    sources: Sequence[PlanSource], acknowledgements: Sequence[Acknowledgement], *, terraform: str = "terraform"
) -> list[PlanReport]:
    """One report per plan; an unreadable plan becomes a report with `error` set."""
    reports = []
    for source in sources:
        try:
            read = read_plan(source, terraform=terraform)
        except PlanError as error:
            reports.append(PlanReport(source=source, error=str(error)))
            continue
        stale = stale_plan_warning(source)
        report = PlanReport(
            source=source,
            stack=read.identity.stack,
            environment=read.identity.environment,
            warnings=[stale] if stale else [],
        )
        reports.append(assess(report, read.plan, acknowledgements))
    return reports
