"""Preflight of the on-premises PostgreSQL source before DMS replicates it.

    python -m migration_ops.preflight (--env ENV | --config PATH) [--suffix S]
        [--dsn-env VAR] [--from-secret [--region R] [--endpoint-url URL]]
        [--json] [--strict] [--statement-timeout SECONDS] [--lob-scan-seconds SECONDS]

Connection: the libpq URI in $VAR with --dsn-env, else host/port/database/TLS
from the config and user/password from PGUSER/PGPASSWORD; --from-secret takes
username/password from the secret `source.credentials_secret_arn` instead (and
the password is checked against DMS's rules). The session is read-only; the LOB
size scan stays within --lob-scan-seconds, sampling large tables. Exit 0 when
nothing failed (warnings allowed), 1 when a check failed or, with --strict,
warned, 2 on a configuration or connection error.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg.conninfo import conninfo_to_dict

from migration_ops import cli
from migration_ops.postgres import connect, describe_dsn
from migration_ops.preflight.checks import build_context, run_checks
from migration_ops.preflight.context import DEFAULT_LOB_SCAN_SECONDS


@dataclass(frozen=True, kw_only=True)
class PreflightOptions:
    environment: cli.EnvironmentOptions
    source: cli.SourceOptions
    aws: cli.AwsOptions
    json: bool
    strict: bool
    statement_timeout_seconds: float
    lob_scan_seconds: float


def parse_args(argv: Sequence[str] | None) -> PreflightOptions:
    parser = argparse.ArgumentParser(prog="python -m migration_ops.preflight", description=__doc__.split("\n\n")[0])
    cli.add_environment_arguments(parser)
    cli.add_source_arguments(parser)
    cli.add_aws_arguments(parser, endpoint_help="Secrets Manager endpoint (an emulator)")
    cli.add_json_argument(parser)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a check warns")
    parser.add_argument(
        "--statement-timeout", type=float, default=300.0, metavar="SECONDS", help="limit of each query (default 300)"
    )
    parser.add_argument(
        "--lob-scan-seconds",
        type=float,
        default=DEFAULT_LOB_SCAN_SECONDS,
        metavar="SECONDS",
        help=f"time budget of the LOB size scan; tables over 1 GiB are sampled (default {DEFAULT_LOB_SCAN_SECONDS:.0f}; "
        "0: read every value, no budget)",
    )
    args = parser.parse_args(argv)
    return PreflightOptions(
        environment=cli.option_group(cli.EnvironmentOptions, args),
        source=cli.option_group(cli.SourceOptions, args),
        aws=cli.option_group(cli.AwsOptions, args),
        json=args.json,
        strict=args.strict,
        statement_timeout_seconds=args.statement_timeout,
        lob_scan_seconds=args.lob_scan_seconds,
    )


def run_preflight(options: PreflightOptions) -> int:
    config = cli.load_config(options.environment)
    dsn = cli.source_dsn(options.source, config, options.aws)
    password = conninfo_to_dict(dsn).get("password") if options.source.from_secret else None
    with connect(dsn, read_only=True, statement_timeout_seconds=options.statement_timeout_seconds) as conn:
        context = build_context(
            conn,
            config.dms,
            target_major=config.aurora.engine_major,
            secret_password=None if password is None else str(password),
            lob_scan_seconds=options.lob_scan_seconds,
        )
        results = run_checks(context)
    target = describe_dsn(dsn)
    if options.json:
        print(cli.render_json(results, environment=config.environment_suffix, stack=config.stack_name, source=target))
    else:
        print(f"preflight {config.stack_name}: source {target}, migration_type {config.dms.migration_type}")
        print(cli.render_table(results))
        print(cli.render_summary(results))
    return cli.exit_code(results, strict=options.strict)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(lambda: run_preflight(parse_args(argv)))
