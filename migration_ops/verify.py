"""Post-deploy verification: does what AWS runs match the environment's config?

    python -m migration_ops.verify --env dev [--outputs FILE | --workdir DIR]
                                   [--region R] [--endpoint-url URL] [--skip CHECK ...]

Reads the stack outputs (a `terraform output -json` file, a `cdktf deploy
--outputs-file` file, or `terraform output -json` run in --workdir, by default
cdktf.out/stacks/<stack>), then checks Aurora, DMS, the credentials secret and
the alarms with boto3. One line per check: PASS / FAIL / SKIP and the
evidence. Exit 0 when nothing failed, 1 when a check failed, 2 on a usage,
configuration, outputs or connection problem.

With --endpoint-url (an emulator), DMS test-connection is skipped: it needs the
real source database and Aurora reachable from the replication instance.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from config import ConfigError, EnvironmentConfig, environment_files, load_environment
from migration_ops.verify_checks import (
    CHECKS,
    AwsClients,
    CheckResult,
    Expectations,
    Status,
    VerifyAbortedError,
    VerifyContext,
    iter_checks,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
TERRAFORM_OUTPUT_TIMEOUT_SECONDS = 120


class UsageError(Exception):
    """Bad arguments, config, or outputs: exit 2 with this message."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m migration_ops.verify", description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--env", help="environment in config/ (file stem or environment_suffix), e.g. dev")
    which.add_argument("--config", type=Path, help="path of an environment TOML file")
    parser.add_argument("--suffix", help="verify a short-lived stack deployed with ENVIRONMENT_SUFFIX=<suffix> from this config")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--outputs", type=Path, help="JSON from `terraform output -json` or `cdktf deploy --outputs-file`")
    source.add_argument("--workdir", type=Path, help="run `terraform output -json` here (default cdktf.out/stacks/<stack>)")
    parser.add_argument("--region", help="AWS region (default: aws_region of the config)")
    parser.add_argument("--endpoint-url", help="AWS API endpoint of an emulator; skips checks that need a real network path")
    parser.add_argument(
        "--skip", action="append", default=[], metavar="CHECK", help=f"skip a check (repeatable): {', '.join(CHECKS)}"
    )
    parser.add_argument(
        "--connection-timeout", type=float, default=600.0, help="seconds to wait for DMS test-connection (default 600)"
    )
    return parser.parse_args(argv)


def load_config(args: argparse.Namespace) -> EnvironmentConfig:
    overrides = {"environment_suffix": args.suffix} if args.suffix else None
    if args.config is not None:
        return load_environment(args.config, overrides=overrides)
    files = environment_files()
    by_stem = {path.stem: path for path in files}
    if args.env in by_stem:
        return load_environment(by_stem[args.env], overrides=overrides)
    for path in files:
        config = load_environment(path)
        if config.environment_suffix == args.env:
            return load_environment(path, overrides=overrides) if overrides else config
    raise UsageError(f"--env {args.env}: no such environment (known: {', '.join(sorted(by_stem)) or 'none'})")


def read_outputs(args: argparse.Namespace, stack_name: str) -> dict[str, Any]:
    if args.outputs is not None:
        try:
            document = json.loads(args.outputs.read_text())
        except FileNotFoundError:
            raise UsageError(f"--outputs {args.outputs}: file not found") from None
        except ValueError as error:
            raise UsageError(f"--outputs {args.outputs}: not JSON ({error})") from None
        return normalize_outputs(document, stack_name)
    workdir: Path = args.workdir or Path("cdktf.out") / "stacks" / stack_name
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
    return normalize_outputs(json.loads(completed.stdout or "{}"), stack_name)


def normalize_outputs(document: Any, stack_name: str) -> dict[str, Any]:
    """Plain `{name: value}` from either `terraform output -json` or a cdktf outputs file."""
    if not isinstance(document, Mapping):
        raise UsageError("outputs: expected a JSON object")
    if isinstance(document.get(stack_name), Mapping):  # cdktf deploy --outputs-file: {stack: {name: value}}
        return dict(document[stack_name])
    if all(isinstance(item, Mapping) and "value" in item for item in document.values()):
        return {name: item["value"] for name, item in document.items()}
    raise UsageError(f"outputs: neither `terraform output -json` nor a cdktf outputs file with stack {stack_name!r}")


def expectations(config: EnvironmentConfig) -> Expectations:
    return Expectations(
        stack_name=config.stack_name,
        environment_suffix=config.environment_suffix,
        engine_version=config.aurora.engine_version,
        reader_count=config.aurora.reader_count,
        performance_insights_retention_days=config.aurora.performance_insights_retention_days,
        replication_instance_class=config.dms.replication_instance_class,
        multi_az=config.dms.multi_az,
        migration_type=config.dms.migration_type,
        master_username=config.aurora.master_username,
    )


def aws_clients(*, region: str, endpoint_url: str | None) -> AwsClients:
    session = boto3.session.Session(region_name=region)
    settings = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60)
    return AwsClients(
        rds=session.client("rds", endpoint_url=endpoint_url, config=settings),
        dms=session.client("dms", endpoint_url=endpoint_url, config=settings),
        secretsmanager=session.client("secretsmanager", endpoint_url=endpoint_url, config=settings),
        cloudwatch=session.client("cloudwatch", endpoint_url=endpoint_url, config=settings),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        unknown = sorted(set(args.skip) - set(CHECKS))
        if unknown:
            raise UsageError(f"--skip: unknown checks {', '.join(unknown)} (known: {', '.join(CHECKS)})")
        config = load_config(args)
        outputs = read_outputs(args, config.stack_name)
    except ConfigError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE

    region = args.region or config.aws_region
    context = VerifyContext(
        outputs=outputs,
        expect=expectations(config),
        aws=aws_clients(region=region, endpoint_url=args.endpoint_url),
        emulated=args.endpoint_url is not None,
        connection_timeout_seconds=args.connection_timeout,
    )
    target = f"{config.stack_name} in {region}" + (f" via {args.endpoint_url}" if args.endpoint_url else "")
    print(f"verify {target}", flush=True)
    results: list[CheckResult] = []
    try:
        for result in iter_checks(context, skip=frozenset(args.skip)):
            results.append(result)
            print(result.line(), flush=True)
    except VerifyAbortedError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    counts = {status: sum(1 for result in results if result.status is status) for status in Status}
    print(f"summary: {counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped")
    return EXIT_FAILED if counts[Status.FAIL] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
