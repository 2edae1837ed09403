"""Preflight of the on-premises PostgreSQL source before DMS replicates it.

    python -m migration_ops.preflight (--env ENV | --config PATH)
        [--dsn-env VAR] [--from-secret [--region R] [--endpoint-url URL]]
        [--json] [--strict] [--statement-timeout SECONDS]

Connection: the libpq URI in $VAR with --dsn-env, else host/port/database/TLS
from the config and user/password from PGUSER/PGPASSWORD; --from-secret takes
username/password from the secret `source.credentials_secret_arn` instead. The
session is read-only. Exit 0 when nothing failed (warnings allowed), 1 on
warnings with --strict, 2 on any failure, configuration or connection error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from config import ConfigError, EnvironmentConfig
from migration_ops.ops_config import UsageError, load_config
from migration_ops.preflight_checks import CheckResult, Status, build_context, run_checks, worst
from migration_ops.source_db import (
    SourceConnectionError,
    connect,
    describe_dsn,
    dsn_from_config,
    dsn_from_env,
    secret_credentials,
    with_credentials,
)

EXIT_OK = 0
EXIT_WARNINGS = 1
EXIT_FAILED = 2


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m migration_ops.preflight", description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--env", help="environment in config/ (file stem or environment_suffix), e.g. dev")
    which.add_argument("--config", type=Path, help="path of an environment TOML file")
    parser.add_argument("--dsn-env", metavar="VAR", help="environment variable holding the source's libpq URI")
    parser.add_argument("--from-secret", action="store_true", help="user/password from source.credentials_secret_arn")
    parser.add_argument("--region", help="region of the secret (default: aws_region of the config)")
    parser.add_argument("--endpoint-url", help="Secrets Manager endpoint (an emulator)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a check warns")
    parser.add_argument(
        "--statement-timeout", type=float, default=300.0, metavar="SECONDS", help="limit of each query (default 300)"
    )
    return parser.parse_args(argv)


def source_dsn(args: argparse.Namespace, config: EnvironmentConfig) -> str:
    dsn = dsn_from_env(args.dsn_env) if args.dsn_env else dsn_from_config(config.source)
    if args.from_secret:
        credentials = secret_credentials(
            config.source.credentials_secret_arn, region=args.region or config.aws_region, endpoint_url=args.endpoint_url
        )
        dsn = with_credentials(dsn, credentials)
    return dsn


def render_table(results: Sequence[CheckResult]) -> str:
    width = max((len(result.name) for result in results), default=5)
    lines = [f"{'STATUS':<6}  {'CHECK':<{width}}  EVIDENCE"]
    for result in results:
        lines.append(f"{result.status.value.upper():<6}  {result.name:<{width}}  {result.evidence}")
        if result.fix and result.status is not Status.PASS:
            lines.append(f"{'':<6}  {'':<{width}}  fix: {result.fix}")
    return "\n".join(lines)


def summary(results: Sequence[CheckResult]) -> dict[str, int]:
    return {status.value: sum(1 for result in results if result.status is status) for status in Status}


def exit_code(results: Sequence[CheckResult], *, strict: bool) -> int:
    status = worst(results)
    if status is Status.FAIL:
        return EXIT_FAILED
    return EXIT_WARNINGS if strict and status is Status.WARN else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(env=args.env, config_path=args.config)
        dsn = source_dsn(args, config)
        with connect(dsn, read_only=True, statement_timeout_seconds=args.statement_timeout) as conn:
            results = run_checks(build_context(conn, config.dms))
    except ConfigError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
        return EXIT_FAILED
    except (UsageError, SourceConnectionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    target = describe_dsn(dsn)
    counts = summary(results)
    if args.json:
        document = {"environment": config.environment_suffix, "source": target, "results": [r.as_dict() for r in results]}
        print(json.dumps({**document, "summary": counts}, indent=2))
    else:
        print(f"preflight {config.stack_name}: source {target}, migration_type {config.dms.migration_type}")
        print(render_table(results))
        print(f"summary: {counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed")
    return exit_code(results, strict=args.strict)


if __name__ == "__main__":
    sys.exit(main())
