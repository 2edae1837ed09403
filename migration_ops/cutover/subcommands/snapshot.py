"""`cutover snapshot`: a manual Aurora cluster snapshot before the cutover, waited for until it is available
(../snapshot.py). The cluster is the stack's `cluster_id` output (found like the task's ARN), or --cluster-id."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from contract.outputs import Output
from migration_ops import aws, cli
from migration_ops.cutover.snapshot import COMMAND_HELP, SnapshotOptions, add_snapshot_arguments, run_snapshot
from migration_ops.cutover.subcommand import add_common_arguments
from migration_ops.errors import UsageError

NAME = "snapshot"
HELP = "take a manual Aurora cluster snapshot and wait until it is available"


@dataclass(frozen=True, kw_only=True)
class SnapshotCommandOptions:
    environment: cli.EnvironmentOptions
    aws: cli.AwsOptions
    outputs: cli.OutputOptions
    snapshot: SnapshotOptions
    cluster_id: str | None = None
    json: bool = False


OPTIONS = SnapshotCommandOptions
__all__ = ["COMMAND_HELP", "HELP", "NAME", "OPTIONS", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    cli.add_output_arguments(parser).add_argument("--cluster-id", help="the Aurora cluster identifier (instead of the outputs)")
    add_snapshot_arguments(parser)


def run(options: SnapshotCommandOptions) -> int:
    config = cli.optional_config(options.environment)
    cluster_id = options.cluster_id
    if cluster_id is None:
        if config is None and not options.outputs.given:
            raise UsageError("give --env or --config (to find the stack's outputs), or --cluster-id")
        outputs = cli.stack_outputs(options.outputs, config.stack_name if config else None)
        cluster_id = cli.required_output(outputs, Output.CLUSTER_ID)
    session = aws.session(options.aws.region or (config.aws_region if config else None))
    if session.region_name is None:
        raise UsageError("no AWS region: give --region (or --env)")
    rds = session.client("rds", endpoint_url=options.aws.endpoint_url, config=aws.client_settings())
    return run_snapshot(options.snapshot, rds, cluster_id=cluster_id, json_output=options.json)
