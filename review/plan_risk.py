"""Plan risk report: what a Terraform plan creates, updates, replaces and destroys, and which of it loses state.

    python -m review.plan_risk PLAN [PLAN ...] [--stack-dir DIR] [--acknowledgements FILE]
                               [--acknowledge ADDRESS ...] [--json] [--output FILE] [--terraform PATH]

PLAN is the output of `terraform show -json <saved plan>` (a JSON file), or a saved binary plan
(`terraform plan -out=...`), for which this tool runs `terraform show -json` in the stack's working
directory (`--stack-dir`, default the plan's own folder, which must be initialized). `NAME=PLAN` names
the stack; otherwise a plan inside a stack folder (one holding `cdk.tf.json`, e.g.
`cdktf.out/stacks/aurora-migration-dev/dev.tfplan`) is named after that folder, any other after its file.

Every replacement or destruction of a resource in `STATEFUL` (the Aurora cluster and instances, KMS keys
and aliases, the secrets, the DMS replication instance, endpoints and task, the log groups, the alarm topic,
the account-wide DMS service roles) is a dangerous change, listed with the attribute that forces the
replacement and what it costs. A dangerous change passes only when it is acknowledged: an entry in
`review/acknowledged-risks.toml` (address, stacks, reason), checked in with the pull request, or
`--acknowledge ADDRESS` on the command line.

Exit codes: 0 no unacknowledged dangerous change, 1 at least one, 2 a plan or the acknowledgement file
cannot be read. Markdown (for a pull-request comment, marked `<!-- plan-risk -->` so a workflow can
update one comment) or `--json`.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.layout import STACK_FILE

REPO_ROOT = Path(__file__).resolve().parent.parent
ACKNOWLEDGEMENTS_FILE = REPO_ROOT / "review" / "acknowledged-risks.toml"
MARKER = "<!-- plan-risk -->"
EXIT_OK = 0
EXIT_RISK = 1
EXIT_UNREADABLE = 2
ZIP_MAGIC = b"PK\x03\x04"
# Where a saved plan keeps the root module's configuration files.
PLAN_CONFIG_PREFIX = "tfconfig/m-/"
MIN_REASON_CHARS = 20
ACK_TABLE = "acknowledge"
ACK_KEYS = {"address", "stacks", "reason"}
ADDRESS = re.compile(r"[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+(\[[^\]]+\])?")
MAX_VALUE_CHARS = 60
SENSITIVE = "(sensitive)"
DESCRIPTION = "What a Terraform plan creates, updates, replaces and destroys; fails on unacknowledged loss of state."


@dataclass(frozen=True, kw_only=True)
class Stateful:
    """A resource type whose replacement or destruction loses data or identity, and what that costs."""

    what: str
    replace_cost: str
    destroy_cost: str
    names: frozenset[str] = frozenset()
    """If set, only resources with one of these `name`s are stateful (account-wide roles)."""

    def covers(self, values: Mapping[str, Any]) -> bool:
        return not self.names or values.get("name") in self.names


# The one table of stateful and identity-bearing resource types of this stack, with what losing them costs.
STATEFUL: dict[str, Stateful] = {
    "aws_rds_cluster": Stateful(
        what="Aurora cluster",
        replace_cost="replaces the cluster: all data is lost unless restored from a snapshot (the new cluster starts "
        "empty), and its instances are replaced with it",
        destroy_cost="destroys the cluster: all data is lost unless a final snapshot is taken and restored",
    ),
    "aws_rds_cluster_instance": Stateful(
        what="Aurora instance",
        replace_cost="replaces a database instance: its connections drop (a failover if it is the writer), the cluster "
        "runs with one instance less until the new one is available, and its Performance Insights history is lost",
        destroy_cost="destroys a database instance: capacity (or the writer, forcing a failover) is lost",
    ),
    "aws_kms_key": Stateful(
        what="KMS key",
        replace_cost="replaces the KMS key: everything encrypted with it (cluster storage, secrets, logs, Performance "
        "Insights, the DMS instance) becomes unreadable once the old key is deleted, and what refers to it is replaced",
        destroy_cost="schedules the KMS key for deletion: everything encrypted with it becomes unreadable once it is deleted",
    ),
    "aws_kms_alias": Stateful(
        what="KMS alias",
        replace_cost="renames the key's alias: policies, scripts and other stacks that name the key by the old alias "
        "stop finding it (the key and its data are unaffected)",
        destroy_cost="removes the key's alias: whatever names the key by the alias stops finding it",
    ),
    "aws_secretsmanager_secret": Stateful(
        what="Secrets Manager secret",
        replace_cost="replaces the secret: it gets a new ARN (applications holding the old ARN lose the credentials) "
        "and the old secret and its value are deleted after the recovery window",
        destroy_cost="deletes the secret and its value (restorable only within the recovery window)",
    ),
    "aws_dms_replication_instance": Stateful(
        what="DMS replication instance",
        replace_cost="replaces the replication instance: running tasks stop, and the task on it is replaced too: "
        "replication starts from scratch",
        destroy_cost="destroys the replication instance: replication stops and its tasks go with it",
    ),
    "aws_dms_replication_task": Stateful(
        what="DMS replication task",
        replace_cost="replaces the DMS task: replication starts from scratch (a new full load into tables that already "
        "hold data, and the CDC position is lost: source changes since the last stop are not carried over)",
        destroy_cost="destroys the DMS task: replication stops and its CDC position and table statistics are lost",
    ),
    "aws_dms_endpoint": Stateful(
        what="DMS endpoint",
        replace_cost="replaces a DMS endpoint: its ARN changes, which replaces the replication task that uses it "
        "(replication starts from scratch)",
        destroy_cost="destroys a DMS endpoint: the task that uses it cannot run",
    ),
    "aws_cloudwatch_log_group": Stateful(
        what="log group",
        replace_cost="replaces the log group: every log event in it (PostgreSQL or DMS task logs) is deleted",
        destroy_cost="deletes the log group and every log event in it",
    ),
    "aws_sns_topic": Stateful(
        what="alarm topic",
        replace_cost="replaces the alarm topic: e-mail subscribers must confirm again, and alarms page no one until they do",
        destroy_cost="deletes the alarm topic: alarms and event subscriptions page no one",
    ),
    "aws_iam_role": Stateful(
        what="account-wide DMS service role",
        replace_cost="replaces an account-wide DMS service role: every replication instance in the account (other "
        "environments too) loses VPC access or CloudWatch logging until the new role is in place",
        destroy_cost="deletes an account-wide DMS service role: DMS in the whole account (other environments that set "
        '`dms.service_roles = "existing"` too) stops working',
        names=frozenset({"dms-vpc-role", "dms-cloudwatch-logs-role"}),
    ),
}

ACTION_REASONS = {
    "replace_because_tainted": "the resource is tainted (a previous apply failed part-way)",
    "replace_because_cannot_update": "the provider cannot change this attribute in place",
    "replace_by_request": "replacement was requested (`-replace`)",
    "replace_by_triggers": "`replace_triggered_by` fired",
    "delete_because_no_resource_config": "the resource is no longer in the configuration",
    "delete_because_no_module": "its module is no longer in the configuration",
    "delete_because_wrong_repetition": "`count`/`for_each` was added or removed",
    "delete_because_count_index": "its `count` index is out of range",
    "delete_because_each_key": "its `for_each` key is gone",
    "delete_because_no_move_target": "a `moved` block points at nothing",
}


class PlanError(Exception):
    """The plan cannot be read (exit 2)."""


class AcknowledgementError(Exception):
    """The acknowledgement file is malformed (exit 2)."""


# --- Reading plans -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PlanSource:
    stack: str
    path: Path
    stack_dir: Path | None = None


def plan_source(argument: str, stack_dir: Path | None = None) -> PlanSource:
    """`[NAME=]PATH`: the stack is NAME, else the stack folder the plan lies in, else the file's name."""
    name, separator, rest = argument.partition("=")
    if separator and name and "/" not in name and not Path(argument).exists():
        return PlanSource(stack=name, path=Path(rest), stack_dir=stack_dir)
    path = Path(argument)
    folder = stack_dir or path.parent
    if (folder / STACK_FILE).is_file():
        return PlanSource(stack=folder.resolve().name, path=path, stack_dir=stack_dir)
    return PlanSource(stack=path.name.split(".")[0] or path.name, path=path, stack_dir=stack_dir)


def read_plan(source: PlanSource, *, terraform: str = "terraform") -> dict[str, Any]:
    """The plan as `terraform show -json` prints it, from a JSON file or a saved binary plan."""
    try:
        raw = source.path.read_bytes()
    except OSError as error:
        raise PlanError(f"cannot read {source.path}: {error.strerror or error}") from None
    if raw.startswith(ZIP_MAGIC):
        text = _show_saved_plan(source, terraform)
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise PlanError(f"{source.path} is neither plan JSON nor a saved plan") from None
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanError(f"{source.path} is neither plan JSON nor a saved plan ({error})") from None
    if not isinstance(plan, dict) or "format_version" not in plan or "planned_values" not in plan:
        raise PlanError(f"{source.path} is JSON but not a plan (`terraform show -json <saved plan>` has `planned_values`)")
    if plan.get("errored"):
        raise PlanError(f"{source.path}: the plan is errored (Terraform stopped part-way): it shows only part of the changes")
    return plan


def _show_saved_plan(source: PlanSource, terraform: str) -> str:
    workdir = source.stack_dir or source.path.parent
    command = [terraform, "show", "-json", "-no-color", str(source.path.resolve())]
    try:
        shown = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PlanError(f"{source.path}: cannot run `{terraform} show -json` in {workdir}: {error}") from None
    if shown.returncode != 0:
        detail = " ".join(shown.stderr.split())[:500]
        raise PlanError(
            f"{source.path}: `terraform show -json` in {workdir} exited {shown.returncode} (is the stack dir "
            f"initialized with the same providers? pass --stack-dir): {detail}"
        )
    return shown.stdout


def stale_plan_warning(source: PlanSource) -> str | None:
    """A saved plan made from another `cdk.tf.json` than the one in its stack folder (synthesized since)."""
    folder = source.stack_dir or source.path.parent
    current = folder / STACK_FILE
    try:
        if not current.is_file() or not zipfile.is_zipfile(source.path):
            return None
        with zipfile.ZipFile(source.path) as archive:
            planned = json.loads(archive.read(PLAN_CONFIG_PREFIX + STACK_FILE))
        if planned == json.loads(current.read_text(encoding="utf-8")):
            return None
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        return None
    return f"the plan was made from another `{STACK_FILE}` than `{current}` (synthesized since?): run `terraform plan` again"


# --- Classifying changes -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Forcing:
    """One attribute path that forces a replacement, with its old and new value where they may be shown."""

    path: str
    before: str
    after: str

    def describe(self) -> str:
        if self.before == self.after:
            return f"`{self.path}` (sensitive)" if self.before == SENSITIVE else f"`{self.path}`"
        return f"`{self.path}` ({self.before} → {self.after})"


@dataclass(frozen=True, kw_only=True)
class Change:
    address: str
    resource_type: str
    kind: str
    """created, updated, replaced, destroyed, forgotten or other."""
    actions: tuple[str, ...]
    forcing: tuple[Forcing, ...] = ()
    reason: str = ""
    attributes: tuple[str, ...] = ()
    """Top-level attributes an in-place update changes."""
    previous_address: str = ""

    @property
    def order(self) -> str:
        if self.actions == ("create", "delete"):
            return "created first, then the old one destroyed"
        if self.actions == ("delete", "create"):
            return "destroyed first, then created"
        return ""

    def forced_by(self) -> str:
        if self.forcing:
            return "forced by " + ", ".join(forcing.describe() for forcing in self.forcing)
        if self.reason:
            return f"no attribute forces it: {ACTION_REASONS.get(self.reason, self.reason)}"
        return "the plan names no attribute or reason"


@dataclass(frozen=True, kw_only=True)
class Acknowledgement:
    address: str
    stacks: tuple[str, ...]
    """Empty: every stack in this run (`--acknowledge` on the command line)."""
    reason: str
    source: str

    def covers(self, stack: str, address: str) -> bool:
        return address == self.address and (not self.stacks or stack in self.stacks)


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


def _kind(actions: tuple[str, ...]) -> str | None:
    if actions in {("no-op",), ("read",)}:
        return None
    return {
        ("create",): "created",
        ("update",): "updated",
        ("delete", "create"): "replaced",
        ("create", "delete"): "replaced",
        ("delete",): "destroyed",
        ("forget",): "forgotten",
    }.get(actions, "other")


def _path_text(path: Sequence[Any]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _at(value: Any, path: Sequence[Any]) -> tuple[bool, Any]:
    """(found, value) at `path`; a True on the way (sensitivity or unknown markers) is returned as found."""
    for step in path:
        if value is True:
            return True, True
        in_dict = isinstance(value, dict) and isinstance(step, str) and step in value
        in_list = isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)
        if not (in_dict or in_list):
            return False, None
        value = value[step]
    return True, value


def _shown(values: Any, sensitive: Any, path: Sequence[Any], unknown: Any = None) -> str:
    if _at(sensitive, path) == (True, True):
        return SENSITIVE
    if unknown is not None and _at(unknown, path) == (True, True):
        return "(known after apply)"
    found, value = _at(values, path)
    if not found:
        return "(unset)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return f"`{text}`" if len(text) <= MAX_VALUE_CHARS else f"`{text[: MAX_VALUE_CHARS - 1]}…`"


def _forcing(change: Mapping[str, Any]) -> tuple[Forcing, ...]:
    found = []
    for path in change.get("replace_paths") or []:
        steps = path if isinstance(path, list) else [path]
        found.append(
            Forcing(
                path=_path_text(steps),
                before=_shown(change.get("before"), change.get("before_sensitive"), steps),
                after=_shown(change.get("after"), change.get("after_sensitive"), steps, change.get("after_unknown")),
            )
        )
    return tuple(found)


def _updated_attributes(change: Mapping[str, Any]) -> tuple[str, ...]:
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ()
    keys = set(before) | set(after) | (set(unknown) if isinstance(unknown, dict) else set())
    return tuple(
        sorted(
            key for key in keys if before.get(key) != after.get(key) or (isinstance(unknown, dict) and unknown.get(key) is True)
        )
    )


def classify(plan: Mapping[str, Any]) -> list[Change]:
    """Every managed resource the plan changes (no-ops and data-source reads left out), in plan order."""
    changes: list[Change] = []
    for resource in plan.get("resource_changes") or []:
        if resource.get("mode", "managed") != "managed":
            continue
        change = resource.get("change") or {}
        actions = tuple(change.get("actions") or ())
        kind = _kind(actions)
        if kind is None:
            continue
        changes.append(
            Change(
                address=str(resource.get("address")),
                resource_type=str(resource.get("type")),
                kind=kind,
                actions=actions,
                forcing=_forcing(change) if kind == "replaced" else (),
                reason=str(resource.get("action_reason") or ""),
                attributes=_updated_attributes(change) if kind == "updated" else (),
                previous_address=str(resource.get("previous_address") or ""),
            )
        )
    return changes


def _values(plan: Mapping[str, Any], address: str) -> Mapping[str, Any]:
    for resource in plan.get("resource_changes") or []:
        if resource.get("address") == address:
            change = resource.get("change") or {}
            before = change.get("before") or change.get("after") or {}
            return before if isinstance(before, dict) else {}
    return {}


def assess(
    source: PlanSource, plan: Mapping[str, Any], acknowledgements: Sequence[Acknowledgement], *, warnings: Sequence[str] = ()
) -> PlanReport:
    report = PlanReport(source=source, terraform_version=str(plan.get("terraform_version", "")), warnings=list(warnings))
    report.changes = classify(plan)
    if plan.get("complete") is False:
        report.warnings.append("the plan is incomplete (deferred changes): another plan and apply follow this one")
    for change in report.changes:
        stateful = STATEFUL.get(change.resource_type)
        if change.kind in {"replaced", "destroyed"} and stateful and stateful.covers(_values(plan, change.address)):
            acknowledged = next((a for a in acknowledgements if a.covers(source.stack, change.address)), None)
            report.risks.append(Risk(change=change, stateful=stateful, acknowledgement=acknowledged))
    return report


# --- Acknowledgements ----------------------------------------------------------------------------------


def load_acknowledgements(path: Path) -> list[Acknowledgement]:
    """`[[acknowledge]]` tables: address, stacks, reason. A missing file acknowledges nothing."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AcknowledgementError(f"{path}: not readable TOML: {error}") from None
    problems = [f"{path.name}: unknown top-level key {key!r} (only [[acknowledge]] tables)" for key in data if key != ACK_TABLE]
    entries = data.get(ACK_TABLE, [])
    if not isinstance(entries, list):
        raise AcknowledgementError(f"{path.name}: `acknowledge` must be an array of tables ([[acknowledge]])")
    found: list[Acknowledgement] = []
    seen: set[tuple[str, str]] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path.name} acknowledgement #{number}"
        entry_problems = _entry_problems(entry, where)
        problems += entry_problems
        if entry_problems:
            continue
        acknowledgement = Acknowledgement(
            address=entry["address"], stacks=tuple(entry["stacks"]), reason=" ".join(entry["reason"].split()), source=path.name
        )
        for stack in acknowledgement.stacks:
            if (stack, acknowledgement.address) in seen:
                problems.append(f"{where}: {acknowledgement.address} in {stack} is acknowledged twice")
            seen.add((stack, acknowledgement.address))
        found.append(acknowledgement)
    if problems:
        raise AcknowledgementError("\n".join(problems))
    return found


def _entry_problems(entry: Any, where: str) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where}: expected a table"]
    problems = [f"{where}: missing key {key!r}" for key in sorted(ACK_KEYS - set(entry))]
    problems += [f"{where}: unknown key {key!r} (allowed: {sorted(ACK_KEYS)})" for key in sorted(set(entry) - ACK_KEYS)]
    address, stacks, reason = entry.get("address"), entry.get("stacks"), entry.get("reason")
    if "address" in entry and not (isinstance(address, str) and ADDRESS.fullmatch(address)):
        problems.append(f"{where}: address {address!r} is not a Terraform address like 'aws_rds_cluster.aurora_cluster_059EF40F'")
    if "stacks" in entry and not (
        isinstance(stacks, list) and stacks and all(isinstance(stack, str) and stack for stack in stacks)
    ):
        problems.append(f"{where}: stacks must be a non-empty list of stack names like ['aurora-migration-dev']")
    if "reason" in entry and not (isinstance(reason, str) and len(" ".join(reason.split())) >= MIN_REASON_CHARS):
        problems.append(f"{where}: reason must say why the loss is accepted (at least {MIN_REASON_CHARS} characters)")
    return problems


def command_line_acknowledgements(addresses: Sequence[str]) -> list[Acknowledgement]:
    bad = [address for address in addresses if not ADDRESS.fullmatch(address)]
    if bad:
        raise AcknowledgementError(f"--acknowledge {bad[0]!r} is not a Terraform address")
    return [
        Acknowledgement(address=address, stacks=(), reason="acknowledged on the command line", source="--acknowledge")
        for address in addresses
    ]


# --- Rendering ---------------------------------------------------------------------------------------


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
            "If the loss is intended, acknowledge each address in `review/acknowledged-risks.toml` in this pull "
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
                "exit_code": exit_code(reports),
                "unacknowledged": sum(len(report.unacknowledged) for report in reports),
                "plans": plans,
                "unused_acknowledgements": [{"address": a.address, "stacks": list(a.stacks)} for a in unused],
            },
            indent=2,
        )
        + "\n"
    )


def exit_code(reports: Sequence[PlanReport]) -> int:
    if any(report.error for report in reports):
        return EXIT_UNREADABLE
    return EXIT_RISK if any(report.unacknowledged for report in reports) else EXIT_OK


def unused_acknowledgements(reports: Sequence[PlanReport], acknowledgements: Sequence[Acknowledgement]) -> list[Acknowledgement]:
    used = {id(risk.acknowledgement) for report in reports for risk in report.acknowledged}
    return [a for a in acknowledgements if id(a) not in used and a.source != "--acknowledge"]


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


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m review.plan_risk", description=DESCRIPTION)
    parser.add_argument("plans", nargs="+", metavar="[NAME=]PLAN", help="`terraform show -json` output or a saved plan")
    parser.add_argument(
        "--stack-dir", type=Path, default=None, help="initialized stack folder for saved plans (default: the plan's)"
    )
    parser.add_argument(
        "--acknowledgements",
        type=Path,
        default=ACKNOWLEDGEMENTS_FILE,
        help="acknowledged dangerous changes (default: %(default)s; a missing file acknowledges nothing)",
    )
    parser.add_argument("--acknowledge", action="append", default=[], metavar="ADDRESS", help="acknowledge ADDRESS in every plan")
    parser.add_argument("--json", action="store_true", help="JSON instead of Markdown")
    parser.add_argument("--output", type=Path, default=None, help="write the report here instead of stdout")
    parser.add_argument("--terraform", default="terraform", help="terraform binary for saved plans (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        acknowledgements = [*load_acknowledgements(args.acknowledgements), *command_line_acknowledgements(args.acknowledge)]
    except AcknowledgementError as error:
        print(f"plan_risk: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    reports = assess_all([plan_source(plan, args.stack_dir) for plan in args.plans], acknowledgements, terraform=args.terraform)
    unused = unused_acknowledgements(reports, acknowledgements)
    text = render_json(reports, unused=unused) if args.json else render_markdown(reports, unused=unused)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    for report in reports:
        if report.error:
            print(f"plan_risk: {report.source.stack}: {report.error}", file=sys.stderr)
    return exit_code(reports)


if __name__ == "__main__":
    sys.exit(main())
