"""The task a subcommand drives: its ARN (from --task-arn or the stack's outputs) and the AWS clients to reach it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from config import EnvironmentConfig
from contract.outputs import Output
from migration_ops import aws, cli
from migration_ops.cutover.audit import require_identity
from migration_ops.cutover.record_model import Operator, operator_identity
from migration_ops.cutover.subcommand import TaskOptions
from migration_ops.errors import UsageError
from migration_ops.postgres import secret_credentials
from migration_ops.results import CheckResult

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dms import DatabaseMigrationServiceClient


def find_task_arn(options: TaskOptions, config: EnvironmentConfig | None) -> str:
    """--task-arn, else the stack's dms_task_arn output (--outputs, --workdir or cdktf.out/stacks/<stack>)."""
    if options.task_arn:
        return options.task_arn
    if config is None and not options.outputs.given:
        raise UsageError("give --env or --config (to find the stack's outputs), or --task-arn")
    outputs = cli.stack_outputs(options.outputs, config.stack_name if config else None)
    return cli.required_output(outputs, Output.DMS_TASK_ARN)


@dataclass(frozen=True, kw_only=True)
class Task:
    arn: str
    dms: DatabaseMigrationServiceClient
    session: boto3.session.Session
    endpoint_url: str | None

    def cloudwatch(self) -> CloudWatchClient:
        return self.session.client("cloudwatch", endpoint_url=self.endpoint_url, config=aws.client_settings())

    def operator(self) -> Operator:
        """The OS user and the AWS caller identity (STS GetCallerIdentity). Raises AuditError when STS cannot say
        who is acting (audit.require_identity says why that refuses)."""
        sts = self.session.client("sts", endpoint_url=self.endpoint_url, config=aws.client_settings())
        return require_identity(operator_identity(sts))


def open_task(options: TaskOptions, config: EnvironmentConfig | None) -> Task:
    """The task's ARN and a DMS client in --region, else the config's region. Raises UsageError."""
    arn = find_task_arn(options, config)
    session = aws.session(options.aws.region or (config.aws_region if config else None))
    if session.region_name is None:
        raise UsageError("no AWS region: give --region (or --env)")
    dms = session.client("dms", endpoint_url=options.aws.endpoint_url, config=aws.client_settings())
    return Task(arn=arn, dms=dms, session=session, endpoint_url=options.aws.endpoint_url)


def dms_users(given: Sequence[str], config: EnvironmentConfig, aws_options: cli.AwsOptions) -> list[str]:
    """--dms-user, else the username in the secret the DMS source endpoint reads. Raises DatabaseConnectionError."""
    if given:
        return list(given)
    credentials = secret_credentials(
        config.source.credentials_secret_arn, region=aws_options.region_of(config), endpoint_url=aws_options.endpoint_url
    )
    return [credentials.username]


def report(results: list[CheckResult], *, json: bool, **header: Any) -> None:
    """The results as one JSON document (--json) or as the table."""
    print(cli.render_json(results, **header) if json else cli.render_table(results))
