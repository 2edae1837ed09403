"""Post-deploy verification: does what AWS runs match the environment's config?

    python -m migration_ops.verify (--env ENV | --config PATH) [--suffix S] [--outputs FILE | --workdir DIR]
                                   [--region R] [--endpoint-url URL] [--skip CHECK ...] [--json]

Reads the stack outputs (a `terraform output -json` file, a `cdktf deploy
--outputs-file` file, or `terraform output -json` run in --workdir, by default
cdktf.out/stacks/<stack>), then checks Aurora, DMS, the credentials secret and
the alarms with boto3. One line per check as it finishes: PASS / FAIL / SKIP
and the evidence (--json: one document at the end). Exit 0 when nothing
failed, 1 when a check failed, 2 on a usage, configuration, outputs or
connection problem.

With --endpoint-url (an emulator), DMS test-connection is skipped: it needs the
real source database and Aurora reachable from the replication instance.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from migration_ops import aws, cli
from migration_ops.errors import UsageError
from migration_ops.verify.checks import CHECKS, iter_checks
from migration_ops.verify.context import AwsClients, VerifyContext

COMMAND_HELP = cli.CommandHelp(
    succeeded="no check failed (skipped checks are allowed)",
    failed="a check failed",
    could_not_run="verify could not run: usage or configuration errors, no stack outputs, AWS cannot be reached (one "
    "line on stderr)",
    credentials=(cli.AWS_CREDENTIALS,),
    needs_aws=True,
    aws="RDS (the Aurora cluster and instances), DMS (the task, instance, endpoints, test-connection), Secrets Manager "
    "(the keys of the credentials secret, never the password) and CloudWatch (the alarms); --endpoint-url for an emulator.",
)
CONNECTION_TIMEOUT = cli.finite_float(strictly_above=0)


@dataclass(frozen=True, kw_only=True)
class VerifyOptions:
    environment: cli.EnvironmentOptions
    outputs: cli.OutputOptions
    aws: cli.AwsOptions
    skip: frozenset[str] = frozenset()
    connection_timeout_seconds: float = 600.0
    json: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(self.skip - set(CHECKS))
        if unknown:
            raise UsageError(f"--skip: unknown checks {', '.join(unknown)} (known: {', '.join(CHECKS)})")
        CONNECTION_TIMEOUT.check("--connection-timeout", self.connection_timeout_seconds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m migration_ops.verify", **cli.help_options(__doc__.split("\n\n")[0], COMMAND_HELP)
    )
    cli.add_environment_arguments(parser)
    cli.add_output_arguments(parser)
    cli.add_aws_arguments(parser, endpoint_help="AWS API endpoint of an emulator; skips checks that need a real network path")
    parser.add_argument(
        "--skip", action="append", default=[], metavar="CHECK", help=f"skip a check (repeatable): {', '.join(CHECKS)}"
    )
    parser.add_argument(
        "--connection-timeout",
        dest="connection_timeout_seconds",
        type=CONNECTION_TIMEOUT,
        default=600.0,
        metavar="SECONDS",
        help="seconds to wait for DMS test-connection (default 600)",
    )
    cli.add_json_argument(parser)
    return parser


def parse_args(argv: Sequence[str] | None) -> VerifyOptions:
    return cli.options_from(build_parser().parse_args(argv), VerifyOptions)


def aws_clients(*, region: str, endpoint_url: str | None) -> AwsClients:
    session, settings = aws.session(region), aws.client_settings()
    return AwsClients(
        rds=session.client("rds", endpoint_url=endpoint_url, config=settings),
        dms=session.client("dms", endpoint_url=endpoint_url, config=settings),
        secretsmanager=session.client("secretsmanager", endpoint_url=endpoint_url, config=settings),
        cloudwatch=session.client("cloudwatch", endpoint_url=endpoint_url, config=settings),
    )


def run_verify(options: VerifyOptions) -> int:
    config = cli.load_config(options.environment)
    outputs = cli.stack_outputs(options.outputs, config.stack_name)
    region = options.aws.region_of(config)
    endpoint_url = options.aws.endpoint_url
    context = VerifyContext(
        outputs=outputs,
        config=config,
        aws=aws_clients(region=region, endpoint_url=endpoint_url),
        emulated=endpoint_url is not None,
        connection_timeout_seconds=options.connection_timeout_seconds,
    )
    if not options.json:
        target = f"{config.stack_name} in {region}" + (f" via {endpoint_url}" if endpoint_url else "")
        print(f"verify {target}", flush=True)
    results = []
    for result in iter_checks(context, skip=options.skip):
        results.append(result)
        if not options.json:
            print(cli.render_line(result), flush=True)
    if options.json:
        print(cli.render_json(results, environment=config.environment_suffix, stack=config.stack_name, region=region))
    else:
        print(cli.render_summary(results))
    return cli.exit_code(results)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(lambda: run_verify(parse_args(argv)))
