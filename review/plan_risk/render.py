"""Rendering: Markdown for a pull-request comment, or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from review.plan_risk.acknowledgements import Acknowledgement
from review.plan_risk.assess import PlanReport, Risk, exit_code
from review.plan_risk.classify import ACTION_REASONS, Change

MARKER = "<!-- plan-risk -->"


def _code(text: str) -> str:
    return f"`{text}`"


def _risk_line(risk: Risk) -> str:
    change = risk.change
    verb = "replaced" if change.kind == "replaced" else "destroyed"
    how = f" ({change.order})" if change.order else ""
    why = change.forced_by() if change.kind == "replaced" else ACTION_REASONS.get(change.reason, change.reason)
    line = f"- **{_code(change.address)}** ({risk.stateful.what}) is **{verb}**{how}"
    line += f": {why}. " if why else ". "
    line += f"Cost: {risk.cost}."
    if risk.acknowledgement is not None:
        line += f" Acknowledged ({risk.acknowledgement.source}): {risk.acknowledgement.reason}"
    return line


def _change_lines(report: PlanReport) -> list[str]:
    lines: list[str] = []
    for kind, title in (
        ("created", "Created"),
        ("updated", "Updated in place"),
        ("replaced", "Replaced"),
        ("destroyed", "Destroyed"),
        ("forgotten", "Removed from state, kept in AWS"),
        ("other", "Other actions"),
    ):
        changes = report.of_kind(kind)
        if not changes:
            continue
        lines += [f"**{title}** ({len(changes)})", ""]
        for change in changes:
            line = f"- {_code(change.address)}"
            if change.previous_address:
                line += f" (moved from {_code(change.previous_address)})"
            if kind == "updated" and change.attributes:
                line += ": " + ", ".join(_code(attribute) for attribute in change.attributes)
            elif kind == "replaced":
                line += f": {change.forced_by()}"
            elif kind == "other":
                line += f": {' + '.join(change.actions)}"
            lines.append(line)
        lines.append("")
    return lines or ["No changes.", ""]


def _acknowledgement_snippet(report: PlanReport) -> list[str]:
    lines = ["```toml"]
    for risk in report.unacknowledged:
        lines += [
            "[[acknowledge]]",
            f'address = "{risk.change.address}"',
            f'stacks = ["{report.source.stack}"]',
            'reason = "<why this loss is accepted, or how the data is carried over>"',
            "",
        ]
    return [*lines[:-1], "```"]


def _stack_lines(report: PlanReport, sub: str) -> list[str]:
    if report.error:
        return [f"**Cannot read the plan**: {report.error}"]
    version = f" (Terraform {report.terraform_version})" if report.terraform_version else ""
    lines = [f"Plan: {_code(str(report.source.path))}{version}", ""]
    if report.warnings:
        lines += [*(f"> **Warning**: {warning}" for warning in report.warnings), ""]
    if report.unacknowledged:
        lines += [f"{sub}# Dangerous changes, not acknowledged ({len(report.unacknowledged)})", ""]
        lines += [_risk_line(risk) for risk in report.unacknowledged]
        lines += [
            "",
            "If the loss is intended, acknowledge each address in `review/exceptions/acknowledged-risks.toml` in this pull "
            "request (or pass `--acknowledge ADDRESS` locally):",
            "",
            *_acknowledgement_snippet(report),
            "",
        ]
    if report.acknowledged:
        lines += [f"{sub}# Dangerous changes, acknowledged ({len(report.acknowledged)})", ""]
        lines += [*(_risk_line(risk) for risk in report.acknowledged), ""]
    if not report.risks:
        lines += ["No replacement or destruction of a stateful resource.", ""]
    lines += [f"{sub}# Changes", "", *_change_lines(report)]
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def render_markdown(
    reports: Sequence[PlanReport], *, unused: Sequence[Acknowledgement] = (), heading: str = "#", marker: bool = True
) -> str:
    sub = heading + "#"
    unacknowledged = sum(len(report.unacknowledged) for report in reports)
    acknowledged = sum(len(report.acknowledged) for report in reports)
    unreadable = [report for report in reports if report.error]
    if unreadable:
        verdict = f"cannot read {len(unreadable)} plan(s)"
    elif unacknowledged:
        verdict = f"{unacknowledged} dangerous change(s) not acknowledged"
    else:
        verdict = "no unacknowledged dangerous changes"
    if acknowledged:
        verdict += f", {acknowledged} acknowledged"
    lines = [MARKER, ""] if marker else []
    lines += [f"{heading} Plan risk: {verdict}", ""]
    lines += [
        "| Stack | Create | Update | Replace | Destroy | Dangerous | Acknowledged |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for report in reports:
        if report.error:
            lines.append(f"| {report.source.stack} | plan unreadable | | | | | |")
            continue
        counts = [len(report.of_kind(kind)) for kind in ("created", "updated", "replaced", "destroyed")]
        lines.append(
            f"| {report.source.stack} | {' | '.join(map(str, counts))} | "
            f"{len(report.unacknowledged)} | {len(report.acknowledged)} |"
        )
    for report in reports:
        lines += ["", f"{sub} {report.source.stack}", "", *_stack_lines(report, sub)]
    if unused:
        lines += [
            "",
            "Acknowledgements that match nothing in these plans (remove them once their change is applied, so they "
            "cannot cover a later one):",
            "",
            *[f"- {_code(a.address)} in {', '.join(a.stacks) or 'every stack'} ({a.source})" for a in unused],
        ]
    return "\n".join(lines) + "\n"


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
    return data


def render_json(reports: Sequence[PlanReport], *, unused: Sequence[Acknowledgement] = ()) -> str:
    plans = []
    for report in reports:
        entry: dict[str, Any] = {"stack": report.source.stack, "plan": str(report.source.path)}
        if report.error:
            entry["error"] = report.error
        else:
            entry["terraform_version"] = report.terraform_version
            entry["warnings"] = report.warnings
            for kind in ("created", "updated", "replaced", "destroyed", "forgotten", "other"):
                entry[kind] = [_change_json(change) for change in report.of_kind(kind)]
            entry["risks"] = [
                {
                    **_change_json(risk.change),
                    "what": risk.stateful.what,
                    "change": risk.change.kind,
                    "forced_by": risk.change.forced_by() if risk.change.kind == "replaced" else "",
                    "cost": risk.cost,
                    "acknowledged": None
                    if risk.acknowledgement is None
                    else {"reason": risk.acknowledgement.reason, "source": risk.acknowledgement.source},
                }
                for risk in report.risks
            ]
        plans.append(entry)
    return (
        json.dumps(
            {
                "exit_code": int(exit_code(reports)),
                "unacknowledged": sum(len(report.unacknowledged) for report in reports),
                "plans": plans,
                "unused_acknowledgements": [{"address": a.address, "stacks": list(a.stacks)} for a in unused],
            },
            indent=2,
        )
        + "\n"
    )
