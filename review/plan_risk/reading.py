"""Reading plans: `terraform show -json` output, or a saved binary plan shown through terraform; its shape and stack."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.layout import STACK_FILE
from plumbing.tool import ToolError, run_tool, tail
from review.plan_risk.identity import IdentityError, StackIdentity, plan_identity
from review.plan_risk.schema import PlanShapeError, check_plan_shape

ZIP_MAGIC = b"PK\x03\x04"
# Where a saved plan keeps the root module's configuration files.
PLAN_CONFIG_PREFIX = "tfconfig/m-/"
SHOW_TIMEOUT_SECONDS = 300
MAX_DETAIL_CHARS = 500


class PlanError(Exception):
    """The plan cannot be read or judged (exit 2)."""


@dataclass(frozen=True, kw_only=True)
class PlanSource:
    path: Path
    expected_stack: str | None = None
    """`NAME=` on the command line, or the stack its folder's `cdk.tf.json` names: checked against the plan."""
    stack_dir: Path | None = None

    @property
    def label(self) -> str:
        """How to name the plan before it is read (the stack it is for comes from its content)."""
        return self.expected_stack or str(self.path)


@dataclass(frozen=True, kw_only=True)
class ReadPlan:
    plan: dict[str, Any]
    identity: StackIdentity


def _folder_stack(folder: Path) -> str | None:
    """The cdktf stack name in a stack folder's `cdk.tf.json` (`//.metadata.stackName`), if it has one."""
    try:
        config = json.loads((folder / STACK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    metadata = config.get("//", {}).get("metadata", {}) if isinstance(config, dict) and isinstance(config.get("//"), dict) else {}
    name = metadata.get("stackName") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and name else None


def plan_source(argument: str, stack_dir: Path | None = None) -> PlanSource:
    """`[NAME=]PATH`: NAME, or the stack named by the `cdk.tf.json` of the folder the plan is shown in, is the stack the
    plan must say it is for."""
    name, separator, rest = argument.partition("=")
    if separator and name and "/" not in name and not Path(argument).exists():
        return PlanSource(expected_stack=name, path=Path(rest), stack_dir=stack_dir)
    path = Path(argument)
    return PlanSource(expected_stack=_folder_stack(stack_dir or path.parent), path=path, stack_dir=stack_dir)


def saved_plan_config(path: Path) -> dict[str, Any] | None:
    """The `cdk.tf.json` a saved plan was made from, or None (a JSON plan, or a plan of another kind of configuration)."""
    try:
        if not zipfile.is_zipfile(path):
            return None
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read(PLAN_CONFIG_PREFIX + STACK_FILE))
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        return None
    return config if isinstance(config, dict) else None


def read_plan(source: PlanSource, *, terraform: str = "terraform") -> ReadPlan:
    """The plan as `terraform show -json` prints it, checked against the documented structure, and its stack."""
    try:
        raw = source.path.read_bytes()
    except OSError as error:
        raise PlanError(f"cannot read {source.path}: {error.strerror or error}") from None
    saved_config = None
    if raw.startswith(ZIP_MAGIC):
        text = _show_saved_plan(source, terraform)
        saved_config = saved_plan_config(source.path)
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
    try:
        check_plan_shape(plan)
    except PlanShapeError as error:
        raise PlanError(f"{source.path}: not the documented plan structure (format 1.x): {error}") from None
    if plan.get("errored"):
        raise PlanError(f"{source.path}: the plan is errored (Terraform stopped part-way): it shows only part of the changes")
    try:
        identity = plan_identity(plan, saved_config)
    except IdentityError as error:
        raise PlanError(f"{source.path}: {error}") from None
    if source.expected_stack is not None and source.expected_stack != identity.stack:
        raise PlanError(f"{source.path} is a plan of {identity.stack}, not of {source.expected_stack} as its name or folder says")
    return ReadPlan(plan=plan, identity=identity)


def _show_saved_plan(source: PlanSource, terraform: str) -> str:
    workdir = source.stack_dir or source.path.parent
    command = [terraform, "show", "-json", "-no-color", str(source.path.resolve())]
    try:
        shown = run_tool(command, cwd=workdir, timeout_seconds=SHOW_TIMEOUT_SECONDS)
    except ToolError as error:
        raise PlanError(f"{source.path}: cannot run `{terraform} show -json` in {workdir}: {error}") from None
    if shown.returncode != 0:
        detail = tail(" ".join(shown.stderr.split()), MAX_DETAIL_CHARS)
        raise PlanError(
            f"{source.path}: `terraform show -json` in {workdir} exited {shown.returncode} (is the stack dir "
            f"initialized with the same providers? pass --stack-dir): {detail}"
        )
    return shown.stdout


def stale_plan_warning(source: PlanSource) -> str | None:
    """A saved plan made from another `cdk.tf.json` than the one in its stack folder (synthesized since)."""
    folder = source.stack_dir or source.path.parent
    current = folder / STACK_FILE
    planned = saved_plan_config(source.path)
    try:
        if planned is None or not current.is_file() or planned == json.loads(current.read_text(encoding="utf-8")):
            return None
    except (OSError, ValueError):
        return None
    return f"the plan was made from another `{STACK_FILE}` than `{current}` (synthesized since?): run `terraform plan` again"
