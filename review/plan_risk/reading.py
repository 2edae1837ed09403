"""Reading plans: `terraform show -json` output, or a saved binary plan shown through terraform."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.layout import STACK_FILE
from plumbing.tool import ToolError, run_tool, tail

ZIP_MAGIC = b"PK\x03\x04"
# Where a saved plan keeps the root module's configuration files.
PLAN_CONFIG_PREFIX = "tfconfig/m-/"
SHOW_TIMEOUT_SECONDS = 300
MAX_DETAIL_CHARS = 500


class PlanError(Exception):
    """The plan cannot be read (exit 2)."""


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
