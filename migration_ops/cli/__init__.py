"""The core every operations command shares: preflight, verify, cutover and compare.

One place for which environment a command is about (`--env`/`--config`,
`--suffix`), how its config is loaded, how the source database is reached
(`--dsn-env`, `--from-secret`), where the deployed stack's outputs come
from (`--outputs FILE`, else `terraform output -json` in `--workdir`, by
default cdktf.out/stacks/<stack>), how results are shown (a table, one line
per check as it finishes, or `--json`), and what the exit code means:

    0  nothing failed (warnings are allowed unless --strict)
    1  a check failed, or warned with --strict
    2  the command could not run: usage, configuration, outputs, connection or AWS errors (an
       `errors.OpsError` or a `ConfigError`), or anything unexpected (`run` turns it into one line)

Each command's `parse_args(argv)` returns its options: a frozen keyword-only dataclass whose field names are
the arguments' dests, built by `options_from` (an option group such as `EnvironmentOptions` is a field whose type
is that dataclass) and validated in its `__post_init__` (a `UsageError` naming the flag). Nothing below a parser
sees an argparse namespace. Every numeric flag's type is `finite_float` or `bounded_int`: nan, inf and values out
of range are usage errors (exit 2). Every `--help` ends with `CommandHelp.epilog()`: the exit codes, where the
credentials come from and whether AWS is called.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import ConfigError, EnvironmentConfig
from config.loader import resolve_environment, resolve_file
from contract.layout import stack_directory
from contract.outputs import Output
from migration_ops import postgres
from migration_ops.cli.help import (
    AWS_CREDENTIALS,
    COULD_NOT_RUN,
    SECRET_CREDENTIALS,
    SOURCE_CREDENTIALS,
    CommandHelp,
    help_options,
    target_credentials,
)
from migration_ops.cli.options import (
    BIGINT_MAX,
    STATEMENT_TIMEOUT,
    STATEMENT_TIMEOUT_MAX_SECONDS,
    BoundedInt,
    FiniteFloat,
    bounded_int,
    finite_float,
    options_from,
)
from migration_ops.errors import OpsError, UsageError
from migration_ops.postgres import dsn_from_config, dsn_from_env, secret_credentials, with_credentials
from migration_ops.results import CheckResult, Status, counts, worst
from plumbing.exit_codes import ExitCode
from plumbing.text import first_line
from plumbing.tool import ToolError, run_tool, tail

# What the package's rooms (help.py, options.py) add to the core: every command reads them as cli.<name>.
__all__ = [
    "AWS_CREDENTIALS",
    "BIGINT_MAX",
    "COULD_NOT_RUN",
    "SECRET_CREDENTIALS",
    "SOURCE_CREDENTIALS",
    "STATEMENT_TIMEOUT",
    "STATEMENT_TIMEOUT_MAX_SECONDS",
    "BoundedInt",
    "CommandHelp",
    "FiniteFloat",
    "bounded_int",
    "finite_float",
    "help_options",
    "options_from",
    "target_credentials",
]

TERRAFORM_OUTPUT_TIMEOUT_SECONDS = 120
TERRAFORM_STDERR_TAIL = 500


# --- option groups: the arguments, and the typed object each is read into ----------------------


@dataclass(frozen=True, kw_only=True)
class EnvironmentOptions:
    """Which environment: --env (a config/ file stem or environment_suffix) or --config, and --suffix."""

    env: str | None = None
    config: Path | None = None
    suffix: str | None = None

    @property
    def given(self) -> bool:
        return self.env is not None or self.config is not None


@dataclass(frozen=True, kw_only=True)
class OutputOptions:
    """Where the deployed stack's outputs come from: --outputs FILE, else `terraform output -json` in --workdir."""

    outputs: Path | None = None
    workdir: Path | None = None

    @property
    def given(self) -> bool:
        return self.outputs is not None or self.workdir is not None


@dataclass(frozen=True, kw_only=True)
class AwsOptions:
    """--region (else the config's aws_region) and --endpoint-url (an emulator)."""

    region: str | None = None
    endpoint_url: str | None = None

    def region_of(self, config: EnvironmentConfig) -> str:
        return self.region or config.aws_region


@dataclass(frozen=True, kw_only=True)
class SourceOptions:
    """How to reach the SOURCE database: --dsn-env VAR (else the config), --from-secret."""

    dsn_env: str | None = None
    from_secret: bool = False


def add_environment_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """--env / --config (one of them), and --suffix for a short-lived stack."""
    which = parser.add_mutually_exclusive_group(required=required)
    which.add_argument("--env", help="environment in config/ (file stem or environment_suffix), e.g. dev")
    which.add_argument("--config", type=Path, help="path of an environment TOML file")
    parser.add_argument(
        "--suffix", help="the short-lived stack of this suffix on the base --env/--config (synth's ENVIRONMENT_SUFFIX)"
    )


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


def load_config(environment: EnvironmentOptions) -> EnvironmentConfig:
    """The environment named by --env (file stem or environment_suffix in the config folder) or the file --config.

    --suffix makes it the short-lived stack of that suffix on this base, built as synth builds it
    (`config.loader.resolve_environment`: ENVIRONMENT_SUFFIX/ENVIRONMENT_BASE and AURORA_MIGRATION_CONFIG_DIR
    are honoured the same way). Raises ConfigError or UsageError.
    """
    if environment.config is not None:
        return resolve_file(environment.config, suffix=environment.suffix)
    if environment.env is None:
        raise UsageError("give --env or --config")
    try:
        return resolve_environment(environment.env, suffix=environment.suffix)
    except ConfigError as error:
        if len(error.problems) > 1:  # every problem of the files synth reads, one line each
            raise
        raise UsageError(f"--env {error}") from None


def optional_config(environment: EnvironmentOptions) -> EnvironmentConfig | None:
    """The config when --env or --config was given, else None."""
    return load_config(environment) if environment.given else None


def source_dsn(source: SourceOptions, config: EnvironmentConfig, aws: AwsOptions) -> str:
    """The source's libpq URI: $VAR of --dsn-env, else host/port/database/TLS from the config (user and password
    from PGUSER/PGPASSWORD); with --from-secret, user and password from the secret DMS reads.
    Raises DatabaseConnectionError.
    """
    dsn = dsn_from_env(source.dsn_env) if source.dsn_env else dsn_from_config(config.source)
    if source.from_secret:
        credentials = secret_credentials(
            config.source.credentials_secret_arn, region=aws.region_of(config), endpoint_url=aws.endpoint_url
        )
        dsn = with_credentials(dsn, credentials)
    return dsn


# --- stack outputs ----------------------------------------------------------------------------


def stack_outputs(outputs: OutputOptions, stack_name: str | None) -> dict[str, Any]:
    """`{name: value}` of the deployed stack: from --outputs, else `terraform output -json` in its folder."""
    if outputs.outputs is not None:
        return read_outputs_file(outputs.outputs, stack_name)
    workdir = outputs.workdir
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
    if shutil.which("terraform") is None:
        raise UsageError("terraform is not on PATH (needed to read outputs from --workdir; or give --outputs)")
    try:
        completed = run_tool(
            ["terraform", "output", "-json", "-no-color"], cwd=workdir, timeout_seconds=TERRAFORM_OUTPUT_TIMEOUT_SECONDS
        )
    except ToolError as error:  # timed out, or could not start
        raise UsageError(f"terraform output -json in {workdir}: {error}") from None
    if not completed.ok:
        raise UsageError(
            f"terraform output -json in {workdir} failed: {tail(completed.stderr, TERRAFORM_STDERR_TAIL)}\n"
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
    return postgres.redact_known("\n".join(lines))


def render_line(result: CheckResult) -> str:
    """One result as it finishes: `FAIL name: evidence`, then `  fix: ...` when there is one."""
    line = result.line() + (f"\n  fix: {result.fix}" if result.fix and result.status is not Status.PASS else "")
    return postgres.redact_known(line)


def render_summary(results: Iterable[CheckResult]) -> str:
    count = counts(results)
    return f"summary: {count['pass']} passed, {count['warn']} warnings, {count['fail']} failed, {count['skip']} skipped"


def render_json(results: Sequence[CheckResult], **header: Any) -> str:
    """`{...header, "results": [...], "summary": {"pass": n, "warn": n, "fail": n, "skip": n}}`."""
    document = {**header, "results": [result.as_dict() for result in results], "summary": counts(results)}
    return postgres.redact_known(json.dumps(document, indent=2, default=str))


def exit_code(results: Iterable[CheckResult], *, strict: bool = False) -> ExitCode:
    """0 nothing failed; 1 a check failed, or warned with `strict`. (2, could not run, comes from `run`.)"""
    status = worst(results)
    if status is Status.FAIL or (strict and status is Status.WARN):
        return ExitCode.FAILED
    return ExitCode.OK


def run(body: Callable[[], int]) -> int:
    """`body()`; whatever it raises becomes exit 2 and a message on stderr, never a traceback.

    A ConfigError prints `configuration error:` and its problems, one per line; an OpsError `error: <message>`.
    Anything else (a bug, an error of psycopg or botocore that no command turned into an OpsError) prints
    `error: unexpected <type>: <first line>`: only the first line, because a library's message can carry a
    connection string. SystemExit (argparse's usage errors, exit 2) and KeyboardInterrupt pass through.

    Every message goes through `postgres.redact`: no password this command read (a DSN's, a secret's,
    PGPASSWORD), no password setting and no URI user info reaches stderr, whatever raised it.
    """
    postgres.forget_secrets()
    try:
        return body()
    except ConfigError as error:
        _error(f"configuration error:\n{error}")
    except OpsError as error:
        _error(f"error: {error}")
    except Exception as error:
        detail = f": {first_line(error)}" if str(error).strip() else ""
        _error(f"error: unexpected {type(error).__name__}{detail}")
    finally:
        postgres.forget_secrets()
    return ExitCode.ERROR


def _error(message: str) -> None:
    print(postgres.redact(message), file=sys.stderr)
