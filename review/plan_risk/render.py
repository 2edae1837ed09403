"""Rendering the report as Markdown, for a pull-request comment (JSON: render_json.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from review.plan_risk.acknowledgements import COMMAND_LINE, Acknowledgement
from review.plan_risk.assess import PlanReport, Risk, loss_of
from review.plan_risk.classify import MEANINGS, Change

MARKER = "<!-- plan-risk -->"
ACKNOWLEDGEMENTS_PATH = "review/exceptions/acknowledged-risks.toml"
CHANGE_SECTIONS = (
    ("created", "Created"),
    ("updated", "Updated in place"),
    ("replaced", "Replaced"),
    ("destroyed", "Destroyed"),
    ("forgotten", "Removed from state, kept in AWS"),
)


def _code(text: str) -> str:
    return f"`{text}`"


def _risk_line(risk: Risk) -> str:
    line = f"- **{_code(risk.change.address)}** ({risk.what}) {risk.summary}. Cost: {risk.cost}."
    if risk.source:
        line += f" Source: {risk.source}."
    line += f" Change: {_code(risk.kind)}."
    if risk.acknowledgement is not None:
        line += f" Acknowledged ({risk.acknowledgement.source}): {risk.acknowledgement.reason}"
    return line


def _change_line(change: Change) -> str:
    line = f"- {_code(change.address)}"
    if change.previous_address:
        line += f" (moved from {_code(change.previous_address)})"
    if change.kind == "updated" and change.attributes:
        line += ": " + ", ".join(_code(attribute) for attribute in change.attributes)
    elif change.kind == "replaced":
        line += f": {change.forced_by()}"
    return line


def _change_lines(report: PlanReport) -> list[str]:
    lines: list[str] = []
    for kind, title in CHANGE_SECTIONS:
        changes = report.of_kind(kind)
        if changes:
            meaning = f": {MEANINGS['forgotten']}" if kind == "forgotten" else ""
            lines += [f"**{title}** ({len(changes)}){meaning}", "", *(_change_line(change) for change in changes), ""]
    moved = [change for change in report.changes if change.previous_address]
    if moved:
        lines += [f"**Moved** ({len(moved)}): {MEANINGS['moved']} (a move to another type is flagged above)", ""]
        lines += [f"- {_code(c.previous_address)} → {_code(c.address)}" for c in moved] + [""]
    imported = [change for change in report.changes if change.importing is not None]
    if imported:
        lines += [f"**Imported** ({len(imported)}): {MEANINGS['imported']}", ""]
        lines += [f"- {_code(c.address)} (id {_code(c.importing or '?')}, then {c.kind})" for c in imported] + [""]
    return lines or ["No changes.", ""]


def _drift_line(change: Change) -> str:
    loss = loss_of(change.resource_type, change.values)
    name = f"**{_code(change.address)}** ({loss.what}, stateful)" if loss else _code(change.address)
    if change.kind == "destroyed":
        return f"- {name}: deleted outside Terraform"
    attributes = change.attributes or tuple(sorted(set(change.before) | set(change.after)))
    shown = [f"{_code(attribute)} ({' → '.join(change.shown(attribute))})" for attribute in attributes]
    return f"- {name}: " + (", ".join(shown) if shown else "changed")


def _drift_lines(report: PlanReport, sub: str) -> list[str]:
    if not report.drift:
        return []
    lines = [f"{sub}# Changed outside Terraform ({len(report.drift)})", ""]
    stateful = report.stateful_drift
    if stateful:
        lines += [
            f"> **Warning**: {len(stateful)} stateful resource(s) changed outside Terraform since the last apply: this "
            "plan was computed from what is in AWS now. Find out who changed them, and why, before applying.",
            "",
        ]
    return [*lines, *(_drift_line(change) for change in report.drift), ""]


def _acknowledgement_snippet(report: PlanReport) -> list[str]:
    lines = ["```toml"]
    for risk in report.unacknowledged:
        lines += [
            "[[acknowledge]]",
            f"address = {json.dumps(risk.change.address)}",
            f"stack = {json.dumps(report.stack)}",
            f"change = {json.dumps(risk.kind)}",
            'reason = "<why this is accepted, or how the data is carried over>"',
            "",
        ]
    lines[-1] = "```"
    first = report.unacknowledged[0]
    example = f"{COMMAND_LINE} '{first.change.address}@{report.stack}:{first.kind}'"
    return [*lines, "", f"Locally: `{COMMAND_LINE} ADDRESS@STACK:KIND` for each, e.g. `{example}`."]


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
            f"If the change is intended, acknowledge each in `{ACKNOWLEDGEMENTS_PATH}` in this pull request (address, "
            "stack and kind of change, exactly):",
            "",
            *_acknowledgement_snippet(report),
            "",
        ]
    if report.acknowledged:
        lines += [f"{sub}# Dangerous changes, acknowledged ({len(report.acknowledged)})", ""]
        lines += [*(_risk_line(risk) for risk in report.acknowledged), ""]
    if not report.risks:
        lines += ["No dangerous change: nothing stateful is replaced or destroyed, and no update takes a protection away.", ""]
    lines += _drift_lines(report, sub)
    lines += [f"{sub}# Changes", "", *_change_lines(report)]
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def _stale_lines(reports: Sequence[PlanReport], stale: Sequence[Acknowledgement]) -> list[str]:
    planned = {report.stack for report in reports if not report.error}
    lines = [
        "",
        f"**Stale acknowledgements** ({len(stale)}): they match nothing in these plans and fail the report, so none "
        "can cover a later change. Remove each once its change is applied, or correct its address, stack or kind:",
        "",
    ]
    for a in stale:
        why = "" if a.stack in planned else f" (no plan of {a.stack} was read)"
        lines.append(f"- {_code(a.describe())} ({a.source}){why}")
    return lines


def verdict(reports: Sequence[PlanReport], stale: Sequence[Acknowledgement]) -> str:
    unacknowledged = sum(len(report.unacknowledged) for report in reports)
    acknowledged = sum(len(report.acknowledged) for report in reports)
    unreadable = [report for report in reports if report.error]
    if unreadable:
        text = f"cannot read {len(unreadable)} plan(s)"
    elif unacknowledged:
        text = f"{unacknowledged} dangerous change(s) not acknowledged"
    else:
        text = "no unacknowledged dangerous changes"
    if stale:
        text += f", {len(stale)} stale acknowledgement(s)"
    if acknowledged:
        text += f", {acknowledged} acknowledged"
    return text


def render_markdown(
    reports: Sequence[PlanReport], *, stale: Sequence[Acknowledgement] = (), heading: str = "#", marker: bool = True
) -> str:
    sub = heading + "#"
    lines = [MARKER, ""] if marker else []
    lines += [f"{heading} Plan risk: {verdict(reports, stale)}", ""]
    lines += [
        "| Stack | Create | Update | Replace | Destroy | Dangerous | Acknowledged | Drift |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for report in reports:
        if report.error:
            lines.append(f"| {report.name} | plan unreadable | | | | | | |")
            continue
        counts = [len(report.of_kind(kind)) for kind in ("created", "updated", "replaced", "destroyed")]
        lines.append(
            f"| {report.name} | {' | '.join(map(str, counts))} | "
            f"{len(report.unacknowledged)} | {len(report.acknowledged)} | {len(report.drift)} |"
        )
    for report in reports:
        lines += ["", f"{sub} {report.name}", "", *_stack_lines(report, sub)]
    if stale:
        lines += _stale_lines(reports, stale)
    return "\n".join(lines) + "\n"
