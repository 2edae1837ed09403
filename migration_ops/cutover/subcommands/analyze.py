"""`cutover analyze --target-dsn-env VAR`: VACUUM (ANALYZE) on Aurora of every table the task loads, after the full
load (../analyze.py), and ANALYZE of the partitioned tables above them.

The tables are the ones `cutover reload` would truncate (../migrated.py): the scope read on the SOURCE with the
task's mappings (--dsn-env/--from-secret), partitioned tables as their leaf partitions, intersected with the target.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from migration_ops import cli
from migration_ops.cutover import migrated
from migration_ops.cutover.analyze import COMMAND_HELP, AnalyzeOptions, add_analyze_arguments, run_analyze
from migration_ops.cutover.subcommand import add_common_arguments
from migration_ops.errors import UsageError
from migration_ops.postgres import connect, dsn_from_env
from plumbing.text import listed

NAME = "analyze"
HELP = "VACUUM (ANALYZE) the migrated tables on Aurora after the full load"


@dataclass(frozen=True, kw_only=True)
class AnalyzeCommandOptions:
    environment: cli.EnvironmentOptions
    aws: cli.AwsOptions
    source: cli.SourceOptions
    analyze: AnalyzeOptions
    json: bool = False

    def __post_init__(self) -> None:
        if not self.environment.given:
            raise UsageError("analyze needs --env or --config (its dms.include/exclude define the tables)")


OPTIONS = AnalyzeCommandOptions
__all__ = ["COMMAND_HELP", "HELP", "NAME", "OPTIONS", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    cli.add_source_arguments(parser)
    add_analyze_arguments(parser)


def run(options: AnalyzeCommandOptions) -> int:
    config = cli.load_config(options.environment)
    # The target first: a bad --target-dsn-env fails before anything reaches the source.
    with connect(dsn_from_env(options.analyze.target_dsn_env), read_only=True) as target:
        with connect(cli.source_dsn(options.source, config, options.aws), read_only=True) as source:
            scope = migrated.source_scope(source, config.dms)
        found = migrated.on_target(target, scope)
    if found.missing_on_target:
        missing = [migrated.qualified(table) for table in found.missing_on_target]
        print(f"not on the target, skipped: {listed(missing)}", file=sys.stderr)
    return run_analyze(options.analyze, found.loaded, analyze_only=found.partitioned, json_output=options.json)
