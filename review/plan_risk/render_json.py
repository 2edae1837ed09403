"""Rendering the report as JSON: the same content as the Markdown, for tools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from review.plan_risk.acknowledgements import Acknowledgement
from review.plan_risk.assess import PlanReport, exit_code, loss_of
from review.plan_risk.classify import Change

KINDS = ("created", "updated", "replaced", "destroyed", "forgotten")


def _change_json(change: Change) -> dict[str, Any]:
    data: dict[str, Any] = {"address": change.address, "type": change.resource_type, "actions": list(change.actions)}
    if change.kind == "replaced":
        data["replace_paths"] = [forcing.path for forcing in change.forcing]
    if change.reason:
        data["action_reason"] = change.reason
    if change.attributes:
        data["attributes"] = list(change.attributes)
    if change.previous_address:
        data["previous_address"] = change.previous_address
    if change.importing is not None:
        data["importing"] = change.importing
    return data


def _plan_json(report: PlanReport) -> dict[str, Any]:
    entry: dict[str, Any] = {"stack": report.name, "plan": str(report.source.path)}
    if report.error:
        return {**entry, "error": report.error}
    entry.update(environment=report.environment, terraform_version=report.terraform_version, warnings=report.warnings)
    for kind in KINDS:
        entry[kind] = [_change_json(change) for change in report.of_kind(kind)]
    entry["moved"] = [_change_json(change) for change in report.changes if change.previous_address]
    entry["imported"] = [_change_json(change) for change in report.changes if change.importing is not None]
    entry["drift"] = [
        {**_change_json(change), "stateful": loss_of(change.resource_type, change.values) is not None} for change in report.drift
    ]
    entry["risks"] = [
        {
            **_change_json(risk.change),
            "change": risk.kind,
            "what": risk.what,
            "summary": risk.summary,
            "cost": risk.cost,
            "source": risk.source,
            "acknowledged": None
            if risk.acknowledgement is None
            else {"reason": risk.acknowledgement.reason, "source": risk.acknowledgement.source},
        }
        for risk in report.risks
    ]
    return entry


def render_json(reports: Sequence[PlanReport], *, stale: Sequence[Acknowledgement] = ()) -> str:
    document = {
        "exit_code": int(exit_code(reports, stale)),
        "unacknowledged": sum(len(report.unacknowledged) for report in reports),
        "plans": [_plan_json(report) for report in reports],
        "stale_acknowledgements": [
            {"address": a.address, "stack": a.stack, "change": a.change, "source": a.source} for a in stale
        ],
    }
    return json.dumps(document, indent=2) + "\n"
