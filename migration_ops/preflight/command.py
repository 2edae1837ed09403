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

COMMAND_HELP = cli.CommandHelp(
    succeeded="no check failed (warnings are allowed, unless --strict)",
    failed="a check failed, or one warned with --strict",
    could_not_run="preflight could not run: usage or configuration errors, the source cannot be reached, the secret "
    "cannot be read (one line on stderr)",
    credentials=(cli.SOURCE_CREDENTIALS, cli.SECRET_CREDENTIALS, cli.AWS_CREDENTIALS),
    needs_aws=False,
    aws="Only --from-secret calls AWS (Secrets Manager: source.credentials_secret_arn).",
)
LOB_SCAN_SECONDS = cli.finite_float(minimum=0)


@dataclass(frozen=True, kw_only=True)
class PreflightOptions:
    environment: cli.EnvironmentOptions
    source: cli.SourceOptions
    aws: cli.AwsOptions
    json: bool = False
    strict: bool = False
    statement_timeout_seconds: float = 300.0
    lob_scan_seconds: float = DEFAULT_LOB_SCAN_SECONDS

    def __post_init__(self) -> None:
        cli.STATEMENT_TIMEOUT.check("--statement-timeout", self.statement_timeout_seconds)
        LOB_SCAN_SECONDS.check("--lob-scan-seconds", self.lob_scan_seconds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m migration_ops.preflight", **cli.help_options(__doc__.split("\n\n")[0], COMMAND_HELP)
    )
    cli.add_environment_arguments(parser)
    cli.add_source_arguments(parser)
    cli.add_aws_arguments(parser, endpoint_help="Secrets Manager endpoint (an emulator)")
    cli.add_json_argument(parser)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a check warns")
    parser.add_argument(
        "--statement-timeout",
        dest="statement_timeout_seconds",
        type=cli.STATEMENT_TIMEOUT,
        default=300.0,
        metavar="SECONDS",
        help="limit of each query (default 300)",
    )
    parser.add_argument(
        "--lob-scan-seconds",
        type=LOB_SCAN_SECONDS,
        default=DEFAULT_LOB_SCAN_SECONDS,
        metavar="SECONDS",
        help=f"time budget of the LOB size scan; tables over 1 GiB are sampled (default {DEFAULT_LOB_SCAN_SECONDS:.0f}; "
        "0: read every value, no budget)",
    )
    return parser


def parse_args(argv: Sequence[str] | None) -> PreflightOptions:
    return cli.options_from(build_parser().parse_args(argv), PreflightOptions)


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
