"""`terraform validate` of synthesized stacks against the local AWS provider mirror, offline.

Each stack file is copied alone into a fresh directory, initialized with
`-plugin-dir=<mirror>` (terraform links the provider from the mirror, nothing
is downloaded or copied, so no plugin cache is needed) and validated with
`-json`. Stacks run concurrently: validate is mostly the provider binary
loading its schema.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.layout import STACK_FILE
from plumbing.tool import ToolError, run_tool, tail

MIRROR_ENV_VAR = "TF_PLUGIN_MIRROR"
REGISTRY_DIR = "registry.terraform.io"
AWS_PROVIDER_DIR = Path(REGISTRY_DIR) / "hashicorp" / "aws"
MAX_MIRROR_DEPTH = 3
SKIPPED_ROOTS = ("/proc", "/sys", "/dev")


@dataclass(frozen=True)
class Toolchain:
    terraform: Path
    mirror: Path


def _subdirectories(directory: Path) -> list[Path]:
    try:
        return sorted(child for child in directory.iterdir() if child.is_dir() and not child.is_symlink())
    except OSError:
        return []


def _mirror_candidates() -> list[Path]:
    """`registry.terraform.io` at depth 1, 2 then 3 under / (like `find / -maxdepth 3`), skipping /proc, /sys, /dev."""
    root = Path("/")
    tops = [top for top in _subdirectories(root) if str(top) not in SKIPPED_ROOTS]
    seconds = [child for top in tops for child in _subdirectories(top) if child.name != ".terraform"]
    return [parent / REGISTRY_DIR for parent in (root, *tops, *seconds)]


def find_plugin_mirror(environ: Mapping[str, str] = os.environ) -> Path | None:
    """$TF_PLUGIN_MIRROR, else the parent of the shallowest `registry.terraform.io` under / that holds hashicorp/aws."""
    configured = environ.get(MIRROR_ENV_VAR)
    if configured:
        path = Path(configured)
        return path if (path / AWS_PROVIDER_DIR).is_dir() else None
    for candidate in _mirror_candidates():
        if (candidate.parent / AWS_PROVIDER_DIR).is_dir():
            return candidate.parent
    return None


def locate(environ: Mapping[str, str] = os.environ) -> Toolchain | str:
    """The terraform binary and provider mirror, or a sentence naming what is missing."""
    terraform = shutil.which("terraform", path=environ.get("PATH", os.defpath))
    mirror = find_plugin_mirror(environ)
    missing = []
    if terraform is None:
        missing.append("no `terraform` on PATH")
    if mirror is None:
        where = environ.get(MIRROR_ENV_VAR)
        missing.append(
            f"{MIRROR_ENV_VAR}={where} has no {AWS_PROVIDER_DIR}"
            if where
            else f"no provider mirror ({AWS_PROVIDER_DIR} at depth <= {MAX_MIRROR_DEPTH} under /; set {MIRROR_ENV_VAR})"
        )
    if terraform is None or mirror is None:
        return "; ".join(missing)
    return Toolchain(terraform=Path(terraform), mirror=mirror)


@dataclass
class Validation:
    label: str
    valid: bool
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def errors(self) -> list[dict[str, Any]]:
        return [diagnostic for diagnostic in self.diagnostics if diagnostic.get("severity") == "error"]

    def describe(self) -> str:
        """Terraform's diagnostics, one per line: severity, summary, detail and the resource address."""
        if not self.diagnostics:
            return f"{self.label}: valid" if self.valid else f"{self.label}: invalid, without diagnostics"
        return "\n".join(f"{self.label}: {describe_diagnostic(diagnostic)}" for diagnostic in self.diagnostics)


def diagnostic_address(diagnostic: Mapping[str, Any]) -> str | None:
    """`address` when terraform gives one, else the block the error is in (`resource.aws_rds_cluster.x`)."""
    address = diagnostic.get("address")
    if isinstance(address, str) and address:
        return address
    context = (diagnostic.get("snippet") or {}).get("context")
    return context if isinstance(context, str) and context else None


def describe_diagnostic(diagnostic: Mapping[str, Any]) -> str:
    text = f"{diagnostic.get('severity', 'error')}: {diagnostic.get('summary', '')}"
    if diagnostic.get("detail"):
        text += f" - {diagnostic['detail']}"
    address = diagnostic_address(diagnostic)
    if address:
        text += f" (at {address})"
    start = (diagnostic.get("range") or {}).get("start")
    if start:
        text += f" [{diagnostic['range'].get('filename', STACK_FILE)}:{start.get('line')}:{start.get('column')}]"
    return text


def offline_environment(cli_config: Path, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """`environ` for a terraform run that reads only `cli_config` (and no TF_CLI_ARGS*), asks nothing, phones no one."""
    env = {key: value for key, value in environ.items() if not key.startswith("TF_CLI_ARGS")}
    env.update(TF_CLI_CONFIG_FILE=str(cli_config), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_INPUT="0")
    return env


def _environment(cli_config: Path) -> dict[str, str]:
    env = offline_environment(cli_config)
    # Short-lived Go processes (terraform and the provider it starts): less garbage collection cut
    # validate's CPU time by about a quarter for ~10% more memory (~0.5 GB per stack).
    env.setdefault("GOGC", "400")
    return env


def _failed(label: str, summary: str, detail: str) -> Validation:
    return Validation(label, False, [{"severity": "error", "summary": summary, "detail": detail}])


def validate(toolchain: Toolchain, stack_file: Path, workdir: Path, *, label: str, timeout_seconds: float = 300) -> Validation:
    """init + validate one stack file in `workdir` (created; must not exist or be empty)."""
    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(stack_file, workdir / STACK_FILE)
    cli_config = workdir.parent / f".{workdir.name}.tfrc"
    cli_config.write_text("# empty: no credentials, no registry mirror config; the plugin dir is given to init\n")
    env = _environment(cli_config)
    init_command: list[str | Path] = [
        toolchain.terraform,
        "init",
        "-backend=false",
        f"-plugin-dir={toolchain.mirror}",
        "-input=false",
        "-no-color",
    ]
    try:
        init = run_tool(init_command, cwd=workdir, env=env, timeout_seconds=timeout_seconds)
        if init.returncode != 0:
            return _failed(label, "terraform init failed", tail(init.stderr or init.stdout))
        checked = run_tool(
            [toolchain.terraform, "validate", "-json", "-no-color"], cwd=workdir, env=env, timeout_seconds=timeout_seconds
        )
    except ToolError as error:
        return _failed(label, "terraform could not run", str(error))
    try:
        report = json.loads(checked.stdout)
    except ValueError:
        detail = f"exit {checked.returncode}: {tail(checked.stderr or checked.stdout)}"
        return _failed(label, "terraform validate printed no JSON", detail)
    return Validation(
        label=label,
        valid=bool(report.get("valid")) and checked.returncode == 0,
        diagnostics=list(report.get("diagnostics", [])),
        seconds=time.perf_counter() - started,
    )


def validate_many(
    toolchain: Toolchain, stack_files: Mapping[str, Path], workroot: Path, *, max_workers: int | None = None
) -> dict[str, Validation]:
    """Validate every labelled stack file concurrently, each in its own directory under `workroot`."""
    workers = max_workers or min(len(stack_files), max(2, os.cpu_count() or 2)) or 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="terraform-validate") as pool:
        futures = {
            label: pool.submit(validate, toolchain, path, workroot / f"stack-{index}", label=label)
            for index, (label, path) in enumerate(stack_files.items())
        }
        return {label: future.result() for label, future in futures.items()}
