"""`cutover sequences`: read every sequence the migrated tables use on the SOURCE; with --apply-dsn-env (a variable
holding the TARGET's libpq URI) set each target sequence to the source's value + margin (sequence_reset.py), and
write what was applied to --record-dir for the cutover record (record_sequences.py)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from migration_ops import cli
from migration_ops.cutover.record import DEFAULT_RECORD_DIR, RecordError, ensure_writable
from migration_ops.cutover.record_sequences import SequenceResets, resets_of, write_resets
from migration_ops.cutover.sequence_reset import DEFAULT_MARGIN, apply_sequences, read_sequences
from migration_ops.cutover.subcommand import add_common_arguments
from migration_ops.errors import UsageError
from migration_ops.postgres import connect, describe_dsn, dsn_from_env
from plumbing.exit_codes import ExitCode

NAME = "sequences"
HELP = "read source sequences; --apply-dsn-env resets them"
COMMAND_HELP = cli.CommandHelp(
    succeeded="the sequences were read (and, with --apply-dsn-env, each target sequence set or found ahead)",
    failed="not used",
    credentials=(cli.SOURCE_CREDENTIALS, cli.SECRET_CREDENTIALS, cli.target_credentials("--apply-dsn-env"), cli.AWS_CREDENTIALS),
    needs_aws=False,
    aws="Only --from-secret calls AWS (Secrets Manager: source.credentials_secret_arn).",
)
MARGIN = cli.bounded_int(minimum=0, maximum=cli.BIGINT_MAX)


@dataclass(frozen=True, kw_only=True)
class SequencesOptions:
    environment: cli.EnvironmentOptions
    aws: cli.AwsOptions
    source: cli.SourceOptions
    apply_dsn_env: str | None = None
    margin: int = DEFAULT_MARGIN
    json: bool = False
    record_dir: Path = DEFAULT_RECORD_DIR

    def __post_init__(self) -> None:
        if not self.environment.given:
            raise UsageError("sequences needs --env or --config (its dms.include/exclude define the scope)")
        MARGIN.check("--margin", self.margin)


OPTIONS = SequencesOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    cli.add_source_arguments(parser)
    parser.add_argument("--apply-dsn-env", metavar="VAR", help="variable holding the TARGET libpq URI: apply setval there")
    parser.add_argument(
        "--margin", type=MARGIN, default=DEFAULT_MARGIN, metavar="N", help=f"added to each value (default {DEFAULT_MARGIN})"
    )
    parser.add_argument(
        "--record-dir",
        type=Path,
        default=DEFAULT_RECORD_DIR,
        metavar="DIR",
        help=f"with --apply-dsn-env: where what was applied is written for the cutover record (default {DEFAULT_RECORD_DIR})",
    )


def run(options: SequencesOptions) -> int:
    config = cli.load_config(options.environment)
    with connect(cli.source_dsn(options.source, config, options.aws), read_only=True) as source:
        states = read_sequences(source, config.dms)
    if options.apply_dsn_env is None:
        if options.json:
            print(json.dumps([state.as_dict() for state in states], indent=2))
        else:
            print(f"{len(states)} sequences in scope on the source (nothing applied; give --apply-dsn-env to reset the target)")
            for state in states:
                print(
                    f"  {state.qualified:<50} last_value={state.last_value} is_called={state.is_called} "
                    f"increment_by={state.increment_by} -> target {state.target_value(options.margin)}"
                )
        return ExitCode.OK
    ensure_writable(options.record_dir)  # before the target changes: what is applied must reach the record
    target_dsn = dsn_from_env(options.apply_dsn_env)
    with connect(target_dsn, read_only=False) as target:
        applied = apply_sequences(target, states, margin=options.margin)
    resets = SequenceResets(
        stack=config.stack_name,
        applied_at=datetime.now(UTC),
        target=describe_dsn(target_dsn),
        margin=options.margin,
        sequences=resets_of(applied),
    )
    try:
        recorded = write_resets(options.record_dir, resets)
    except RecordError as error:
        raise RecordError(f"{error} (the target sequences ARE set; run the same command again to record them)") from None
    if options.json:
        print(json.dumps([item.__dict__ for item in applied], indent=2))
    else:
        print(f"{sum(item.changed for item in applied)} of {len(applied)} target sequences set (margin {options.margin})")
        for item in applied:
            action = "set" if item.changed else "already ahead, kept"
            print(
                f"  {item.sequence:<50} source {item.source_last_issued} target {item.target_before} -> "
                f"{item.target_after} ({action})"
            )
    note = f"recorded in {recorded} (`cutover stop` puts it into the cutover record)"
    print(note, file=sys.stderr if options.json else sys.stdout)
    return ExitCode.OK
