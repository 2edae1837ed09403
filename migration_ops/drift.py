"""What changed outside Terraform: a refresh-only plan of one stack synthesized for planning, as its plan role.

    python -m migration_ops.drift --stack-dir DIR [--output DIR] [--plugin-dir DIR]

`make drift ENV=...` runs it on `cdktf.plan/stacks/<stack>` (AURORA_MIGRATION_ROLE=plan: the provider and the
state backend assume `deployment.plan_role_arn`). Exit 0: no drift; 1: drift, described in
`<output>/<stack>.drift.md` (the body of the drift issue) and `.drift.txt` (`terraform show`); 2: it could not run.

The plan role has no `secretsmanager:GetSecretValue`, and the AWS provider 5.100 refreshes an
`aws_secretsmanager_secret_version` written through `secret_string_wo` with GetSecretValue
(terraform-provider-aws #42383; 6.26.0 lists the versions instead). So the plan runs in a scratch copy: the
remote state is pulled (read-only), those write-only versions are left out of the copy, and the refresh-only
plan reads everything else against a local backend. The report lists what was not refreshed. Nothing is ever
written to the remote state, and the state lock is never taken.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.layout import STACK_FILE
from plumbing.exit_codes import ExitCode
from plumbing.tool import ToolError, ToolRun, run_tool

WRITE_ONLY_SECRET_VERSION = "aws_secretsmanager_secret_version"
BACKEND_OVERRIDE_FILE = "backend_override.tf.json"
LOCAL_STATE_FILE = "terraform.tfstate"
PLAN_FILE = "drift.tfplan"
TERRAFORM_TIMEOUT_SECONDS = 1200
# A GitHub issue body holds 65536 characters; the plan text is cut to leave room for the rest.
ISSUE_BODY_LIMIT = 60000
# `terraform plan -detailed-exitcode`: 0 no changes, 1 error, 2 changes.
_NO_CHANGES, _CHANGES = 0, 2


class DriftError(Exception):
    """The drift check could not run (one line)."""


@dataclass(frozen=True, kw_only=True)
class DriftOptions:
    stack_dir: Path
    """A synthesized stack (its cdk.tf.json), synthesized for planning."""
    output: Path
    """Where the report files go."""
    terraform: str = "terraform"
    plugin_dir: Path | None = None
    """Providers from here instead of the registry (the second init uses the first one's download otherwise)."""
    env: Mapping[str, str] | None = None
    """Environment of terraform (None: this process's)."""


@dataclass(frozen=True, kw_only=True)
class Drift:
    stack: str
    drifted: tuple[str, ...]
    """`<address> (<actions>)` of every resource that changed outside Terraform."""
    not_refreshed: tuple[str, ...]
    plan_text: str


def without_write_only_secret_versions(state: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The state minus every managed secret version written through `secret_string_wo`, and their addresses."""
    resources = state.get("resources")
    if not isinstance(resources, list) or not all(isinstance(item, dict) for item in resources):
        raise DriftError("the state has no list of resources: not a Terraform state (format version 4)")
    kept: list[dict[str, Any]] = []
    removed: list[str] = []
    for resource in resources:
        instances = resource.get("instances")
        write_only = (
            resource.get("mode") == "managed"
            and resource.get("type") == WRITE_ONLY_SECRET_VERSION
            and isinstance(instances, list)
            and bool(instances)
            and all(
                isinstance(instance, dict) and (instance.get("attributes") or {}).get("has_secret_string_wo") is True
                for instance in instances
            )
        )
        if write_only:
            module = resource.get("module")
            removed.append(f"{module + '.' if module else ''}{resource['type']}.{resource.get('name')}")
        else:
            kept.append(resource)
    return {**state, "resources": kept}, removed


def issue_body(drift: Drift, *, run_url: str | None) -> str:
    """Markdown for the drift issue: what drifted, what was not refreshed, the plan text (cut to fit)."""
    lines = [
        f"`terraform plan -refresh-only` of `{drift.stack}` (as its plan role) found "
        f"{len(drift.drifted)} resource(s) changed outside Terraform" + (f" ([run]({run_url}))." if run_url else "."),
        "",
        *[f"- `{item}`" for item in drift.drifted],
        "",
        "Bring them back with a deploy, or make the configuration say what is there now. This issue is updated "
        "by every drift run while it is open and is never closed automatically.",
    ]
    if drift.not_refreshed:
        lines += [
            "",
            "Not refreshed (write-only secret versions: the AWS provider 5.100 would read their value): "
            + ", ".join(f"`{item}`" for item in drift.not_refreshed)
            + ".",
        ]
    head = "\n".join(lines) + "\n\n<details><summary>terraform show</summary>\n\n```\n"
    foot = "\n```\n\n</details>\n"
    room = ISSUE_BODY_LIMIT - len(head) - len(foot)
    text = drift.plan_text.strip()
    if len(text) > room:
        marker = "\n… cut here: the whole text is in the run."
        text = text[: max(room - len(marker), 0)] + marker
    return head + text + foot


def _terraform(options: DriftOptions, cwd: Path, *args: str) -> ToolRun:
    try:
        return run_tool([options.terraform, *args], cwd=cwd, env=options.env, timeout_seconds=TERRAFORM_TIMEOUT_SECONDS)
    except ToolError as error:
        raise DriftError(str(error)) from None


def _one_line(ran: ToolRun, doing: str) -> str:
    return f"{doing}: {' '.join(ran.failure().split())}"


def _init(options: DriftOptions, cwd: Path, plugin_dir: Path | None) -> None:
    plugins = [f"-plugin-dir={plugin_dir}"] if plugin_dir is not None else []
    ran = _terraform(options, cwd, "init", "-input=false", "-no-color", "-reconfigure", *plugins)
    if not ran.ok:
        raise DriftError(_one_line(ran, f"terraform init in {cwd}"))


def check_drift(options: DriftOptions) -> Drift | None:
    """None when nothing drifted; raises DriftError when the check cannot run."""
    stack_dir = options.stack_dir
    if not (stack_dir / STACK_FILE).is_file():
        raise DriftError(f"{stack_dir / STACK_FILE}: no synthesized stack (run `make plan-synth`)")
    _init(options, stack_dir, options.plugin_dir)
    pulled = _terraform(options, stack_dir, "state", "pull")
    if not pulled.ok:
        raise DriftError(_one_line(pulled, "terraform state pull"))
    if not pulled.stdout.strip():
        raise DriftError(f"{stack_dir.name}: the remote state is empty (nothing deployed yet)")
    try:
        state = json.loads(pulled.stdout)
    except json.JSONDecodeError as error:
        raise DriftError(f"terraform state pull printed no JSON: {error}") from None
    if not isinstance(state, dict):
        raise DriftError("terraform state pull printed no JSON object")
    copy, not_refreshed = without_write_only_secret_versions(state)

    with tempfile.TemporaryDirectory(prefix=f"{stack_dir.name}.drift-") as scratch:
        work = Path(scratch)
        shutil.copyfile(stack_dir / STACK_FILE, work / STACK_FILE)
        lock = stack_dir / ".terraform.lock.hcl"
        if lock.is_file():
            shutil.copyfile(lock, work / lock.name)
        # An override file's backend replaces the stack's: the copy of the state, read and written here only.
        (work / BACKEND_OVERRIDE_FILE).write_text(json.dumps({"terraform": {"backend": {"local": {"path": LOCAL_STATE_FILE}}}}))
        (work / LOCAL_STATE_FILE).write_text(json.dumps(copy))
        _init(options, work, options.plugin_dir or stack_dir / ".terraform" / "providers")
        planned = _terraform(
            options, work, "plan", "-refresh-only", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false",
            f"-out={PLAN_FILE}",
        )  # fmt: skip
        if planned.returncode == _NO_CHANGES:
            return None
        if planned.returncode != _CHANGES:
            raise DriftError(_one_line(planned, "terraform plan -refresh-only"))
        shown = _terraform(options, work, "show", "-json", PLAN_FILE)
        text = _terraform(options, work, "show", "-no-color", PLAN_FILE)
        for ran in (shown, text):
            if not ran.ok:
                raise DriftError(_one_line(ran, "terraform show"))
        try:
            drifts = json.loads(shown.stdout).get("resource_drift") or []
        except (json.JSONDecodeError, AttributeError):
            raise DriftError("terraform show -json printed no plan object") from None
    drifted = tuple(
        f"{item.get('address')} ({', '.join((item.get('change') or {}).get('actions') or [])})"
        for item in drifts
        if isinstance(item, dict)
    )
    return Drift(stack=stack_dir.name, drifted=drifted, not_refreshed=tuple(not_refreshed), plan_text=text.stdout)


def _run_url(env: Mapping[str, str]) -> str | None:
    parts = [env.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    return f"{parts[0]}/{parts[1]}/actions/runs/{parts[2]}" if all(parts) else None


def report_paths(output: Path, stack: str) -> tuple[Path, Path]:
    """`<output>/<stack>.drift.md` (the issue body) and `.drift.txt` (the plan text)."""
    return output / f"{stack}.drift.md", output / f"{stack}.drift.txt"


def run(options: DriftOptions) -> ExitCode:
    stack = options.stack_dir.name
    for stale in report_paths(options.output, stack):
        stale.unlink(missing_ok=True)
    try:
        drift = check_drift(options)
    except DriftError as error:
        print(f"drift: {stack}: {error}", file=sys.stderr)
        return ExitCode.ERROR
    if drift is None:
        print(f"no drift in {stack}")
        return ExitCode.OK
    body_path, text_path = report_paths(options.output, stack)
    options.output.mkdir(parents=True, exist_ok=True)
    body_path.write_text(issue_body(drift, run_url=_run_url(os.environ)))
    text_path.write_text(drift.plan_text)
    print(f"drift in {stack}: {len(drift.drifted)} resource(s) changed outside Terraform (report: {body_path})")
    return ExitCode.FAILED


def parse_args(argv: Sequence[str]) -> DriftOptions:
    parser = argparse.ArgumentParser(prog="python -m migration_ops.drift", description=__doc__.splitlines()[0])
    parser.add_argument("--stack-dir", type=Path, required=True, help="stack synthesized for planning")
    parser.add_argument("--output", type=Path, default=Path("plans"), help="where the report goes (default: plans)")
    parser.add_argument("--plugin-dir", type=Path, help="provider mirror (TF_PLUGIN_MIRROR)")
    parser.add_argument("--terraform", default="terraform", help="terraform executable")
    args = parser.parse_args(argv)
    return DriftOptions(stack_dir=args.stack_dir, output=args.output, terraform=args.terraform, plugin_dir=args.plugin_dir)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:  # argparse: usage errors are exit 2 already, --help is 0
        return int(exit_.code or 0)
    return int(run(options))


if __name__ == "__main__":
    sys.exit(main())
