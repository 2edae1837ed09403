"""The core every operations command shares: preflight, verify and cutover.

One place for which environment a command is about (`--env`/`--config`,
`--suffix`), how its config is loaded, how the source database is reached
(`--dsn-env`, `--from-secret`), where the deployed stack's outputs come
from (`--outputs FILE`, else `terraform output -json` in `--workdir`, by
default cdktf.out/stacks/<stack>), how results are shown (a table, one line
per check as it finishes, or `--json`), and what the exit code means:

    0  nothing failed (warnings are allowed unless --strict)
    1  a check failed, or warned with --strict
    2  the command could not run: usage, configuration, outputs, connection or AWS errors
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from config import ConfigError, EnvironmentConfig, find_environment, load_environment
from contract.layout import stack_directory
from contract.outputs import Output
from migration_ops.postgres import dsn_from_config, dsn_from_env, secret_credentials, with_credentials
from migration_ops.results import CheckResult, Status, counts, worst

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 2
TERRAFORM_OUTPUT_TIMEOUT_SECONDS = 120


class UsageError(Exception):
    """Bad arguments, config or outputs: exit 2 with this message."""


# --- arguments --------------------------------------------------------------------------------


def add_environment_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """--env / --config (one of them), and --suffix for a short-lived stack."""
    which = parser.add_mutually_exclusive_group(required=required)
    which.add_argument("--env", help="environment in config/ (file stem or environment_suffix), e.g. dev")
    which.add_argument("--config", type=Path, help="path of an environment TOML file")
    parser.add_argument("--suffix", help="a short-lived stack deployed with ENVIRONMENT_SUFFIX=<suffix> from this config")


def add_output_arguments(parser: argparse.ArgumentParser) -> argparse._MutuallyExclusiveGroup:
    """--outputs FILE or --workdir DIR; returns the group so a command can add another alternative."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--outputs", type=Path, help="JSON from `terraform output -json` or `cdktf deploy --outputs-file`")
    source.add_argument("--workdir", type=Path, help="run `terraform output -json` here (default cdktf.out/stacks/<stack>)")
    return source


def add_aws_arguments(parser: argparse.ArgumentParser, *, endpoint_help: str = "AWS API endpoint (an emulator)") -> None:
    parser.add_argument("--region", help="AWS region (default: aws_region of the config)")
    parser.add_argument("--endpoint-url", help=endpoint_help)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """How to reach the SOURCE database: --dsn-env VAR, --from-secret."""
    parser.add_argument("--dsn-env", metavar="VAR", help="variable holding the SOURCE libpq URI (default: from config)")
    parser.add_argument("--from-secret", action="store_true", help="source user/password from source.credentials_secret_arn")


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the results as one JSON document")


# --- configuration ----------------------------------------------------------------------------


def load_config(args: argparse.Namespace) -> EnvironmentConfig:
    """The environment named by --env (file stem in config/, else environment_suffix) or the file --config.

    --suffix replaces environment_suffix, as ENVIRONMENT_SUFFIX does at synth. Raises ConfigError or UsageError.
    """
    overrides = {"environment_suffix": args.suffix} if getattr(args, "suffix", None) else None
    if args.config is not None:
        return load_environment(args.config, overrides=overrides)
    if args.env is None:
        raise UsageError("give --env or --config")
    try:
        return find_environment(args.env, overrides=overrides)
    except ConfigError as error:
        raise UsageError(f"--env {error}") from None


def optional_config(args: argparse.Namespace) -> EnvironmentConfig | None:
    """The config when --env or --config was given, else None."""
    if args.env is None and args.config is None:
        return None
    return load_config(args)


def source_dsn(args: argparse.Namespace, config: EnvironmentConfig) -> str:
    """The source's libpq URI: $VAR of --dsn-env, else host/port/database/TLS from the config (user and password
    from PGUSER/PGPASSWORD); with --from-secret, user and password from the secret DMS reads. Raises SourceConnectionError.
    """
    dsn = dsn_from_env(args.dsn_env) if args.dsn_env else dsn_from_config(config.source)
    if args.from_secret:
        region = args.region or config.aws_region
        credentials = secret_credentials(config.source.credentials_secret_arn, region=region, endpoint_url=args.endpoint_url)
        dsn = with_credentials(dsn, credentials)
    return dsn


# --- stack outputs ----------------------------------------------------------------------------


def stack_outputs(args: argparse.Namespace, stack_name: str | None) -> dict[str, Any]:
    """`{name: value}` of the deployed stack: from --outputs, else `terraform output -json` in its folder."""
    if args.outputs is not None:
        return read_outputs_file(args.outputs, stack_name)
    workdir: Path | None = args.workdir
    if workdir is None:
        if stack_name is None:
            raise UsageError("cannot find the stack's outputs: give --env or --config (or --outputs / --workdir)")
        workdir = stack_directory(stack_name)
    return terraform_outputs(workdir, stack_name)


def read_outputs_file(path: Path, stack_name: str | None) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"--outputs {path}: file not found") from None
    except ValueError as error:
        raise UsageError(f"--outputs {path}: not JSON ({error})") from None
    return normalize_outputs(document, stack_name, source=f"--outputs {path}")


def terraform_outputs(workdir: Path, stack_name: str | None) -> dict[str, Any]:
    if not workdir.is_dir():
        raise UsageError(f"--workdir {workdir}: not a directory (deploy first, or give --outputs)")
    terraform = shutil.which("terraform")
    if terraform is None:
        raise UsageError("terraform is not on PATH (needed to read outputs from --workdir; or give --outputs)")
    try:
        completed = subprocess.run(
            [terraform, "output", "-json", "-no-color"],
            cwd=workdir,
            capture_output=True,
            text=True,
            check=False,
            timeout=TERRAFORM_OUTPUT_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise UsageError(f"terraform output -json in {workdir} timed out") from None
    if completed.returncode != 0:
        raise UsageError(
            f"terraform output -json in {workdir} failed: {completed.stderr.strip()[-500:]}\n"
            f"hint: the stack must be deployed and its folder initialized: run `make deploy ENV=<env>` "
            f"(or `terraform init` in {workdir}), or pass --outputs with a saved `terraform output -json`"
        )
    try:
        document = json.loads(completed.stdout or "{}")
    except ValueError as error:
        raise UsageError(f"terraform output -json in {workdir}: not JSON ({error})") from None
    return normalize_outputs(document, stack_name, source=f"terraform output -json in {workdir}")


def normalize_outputs(document: Any, stack_name: str | None, *, source: str = "outputs") -> dict[str, Any]:
    """Plain `{name: value}` from `terraform output -json` or a cdktf outputs file (`{stack: {name: value}}`).

    Without a stack name, a cdktf outputs file must hold exactly one stack.
    """
    if not isinstance(document, Mapping):
        raise UsageError(f"{source}: expected a JSON object")
    if all(isinstance(item, Mapping) and "value" in item for item in document.values()):
        return {name: item["value"] for name, item in document.items()}
    stacks = {name: item for name, item in document.items() if isinstance(item, Mapping)}
    if stack_name is not None and stack_name in stacks:
        return dict(stacks[stack_name])
    if stack_name is None and len(stacks) == 1 == len(document):
        return dict(next(iter(stacks.values())))
    wanted = f"with stack {stack_name!r}" if stack_name else "with exactly one stack (or give --env)"
    raise UsageError(f"{source}: neither `terraform output -json` nor a cdktf outputs file {wanted}")


def required_output(outputs: Mapping[str, Any], name: Output) -> str:
    value = outputs.get(name)
    if not isinstance(value, str) or not value:
        raise UsageError(f"the stack's outputs have no {name} output")
    return value


# --- results ----------------------------------------------------------------------------------


def render_table(results: Sequence[CheckResult]) -> str:
    """STATUS / CHECK / EVIDENCE columns; a `fix:` line under every result that is not PASS and has one."""
    width = max((len(result.name) for result in results), default=5)
    lines = [f"{'STATUS':<6}  {'CHECK':<{width}}  EVIDENCE"]
    for result in results:
        lines.append(f"{result.status.label:<6}  {result.name:<{width}}  {result.evidence}")
        if result.fix and result.status is not Status.PASS:
            lines.append(f"{'':<6}  {'':<{width}}  fix: {result.fix}")
    return "\n".join(lines)


def render_line(result: CheckResult) -> str:
    """One result as it finishes: `FAIL name: evidence`, then `  fix: ...` when there is one."""
    return result.line() + (f"\n  fix: {result.fix}" if result.fix and result.status is not Status.PASS else "")


def render_summary(results: Iterable[CheckResult]) -> str:
    count = counts(results)
    return f"summary: {count['pass']} passed, {count['warn']} warnings, {count['fail']} failed, {count['skip']} skipped"


def render_json(results: Sequence[CheckResult], **header: Any) -> str:
    """`{...header, "results": [...], "summary": {"pass": n, "warn": n, "fail": n, "skip": n}}`."""
    document = {**header, "results": [result.as_dict() for result in results], "summary": counts(results)}
    return json.dumps(document, indent=2, default=str)


def exit_code(results: Iterable[CheckResult], *, strict: bool = False) -> int:
    """0 nothing failed; 1 a check failed, or warned with `strict`. (2, could not run, comes from `run`.)"""
    status = worst(results)
    if status is Status.FAIL or (strict and status is Status.WARN):
        return EXIT_FAILED
    return EXIT_OK


def run(body: Callable[[], int], *errors: type[Exception]) -> int:
    """`body()`, or exit 2 with a one-line message on a ConfigError, UsageError or one of `errors`."""
    handled: tuple[type[Exception], ...] = (UsageError, *errors)
    try:
        return body()
    except ConfigError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
    except handled as error:
        print(f"error: {error}", file=sys.stderr)
    return EXIT_ERROR
