"""Cutover commands: drive the DMS task, freeze writes, reset sequences on Aurora.

    python -m migration_ops.cutover start  [--resume]
    python -m migration_ops.cutover status [--json]
    python -m migration_ops.cutover stop   [--check] [--force --reason TEXT] [--max-latency-seconds S]
                                           [--window-minutes M] [--sample-seconds S] [--dms-user U ...]
                                           [--dsn-env VAR | --from-secret] [--audit-log FILE]
                                           [--record-dir DIR] [--compare-report FILE]
    python -m migration_ops.cutover pause  [--reason TEXT] [--audit-log FILE]
    python -m migration_ops.cutover reload --truncate-target-dsn-env VAR [--dsn-env VAR | --from-secret]
                                           [--yes-truncate] [--audit-log FILE]
        task: (--env ENV | --config PATH) [--suffix S] [--outputs FILE | --workdir DIR | --task-arn ARN]
              [--region R] [--endpoint-url URL]   (--env/--config optional for start and status)
    python -m migration_ops.cutover freeze-sql (--env ENV | --config PATH) --app-role ROLE ... [--dms-user U ...]
        [--output FILE [--rollback-output FILE] | --rollback] [--freeze-superusers]
    python -m migration_ops.cutover target-user (--env ENV | --config PATH) [--outputs FILE | --workdir DIR]
    python -m migration_ops.cutover sequences (--env ENV | --config PATH)
        [--dsn-env VAR] [--from-secret] [--apply-dsn-env VAR] [--margin N] [--record-dir DIR] [--json]
    python -m migration_ops.cutover snapshot [--env ENV | --config PATH] [--outputs FILE | --workdir DIR | --cluster-id ID]
        [--snapshot-id ID] [--timeout-minutes M] [--region R] [--endpoint-url URL] [--json]
    python -m migration_ops.cutover analyze (--env ENV | --config PATH) --target-dsn-env VAR
        [--dsn-env VAR] [--from-secret] [--json]
    python -m migration_ops.cutover report [RECORD] [--json]

The task is the stack's `dms_task_arn` output, found like verify finds outputs:
`terraform output -json` in cdktf.out/stacks/<stack> (or --workdir), or a saved
--outputs file; --task-arn names it directly.

`start` sends start-replication only to a task that has never run, and
resume-processing (--resume) only to one that has. `stop` is the cutover: it
stops the task only when every gate passes (CDC latency, validation, write
freeze: migration_ops/cutover/gates.py, freeze.py); --force --reason
stops despite failed gates and records the reason. `pause` stops the task for
a change during replication (no gates; continue with `start --resume`).
`reload` truncates the TARGET tables the task loads (scope read on the source) and starts reload-target.
`freeze-sql` writes the write-freeze SQL for the application roles and,
separately, its rollback. `target-user` creates the least-privilege DMS target
user on Aurora from the credentials in its secret (runbook "The DMS target user").
`sequences` reads every sequence in scope from the SOURCE; with
--apply-dsn-env (a variable holding the TARGET's libpq URI) it sets each
target sequence to the source's value + margin and records it in --record-dir. `snapshot` takes a manual
cluster snapshot and waits for it; `analyze` runs VACUUM (ANALYZE) on the migrated tables on Aurora; `report`
prints the cutover record `stop` wrote.

Exit codes: 0 done (stop: the task was stopped, with --force possibly despite
failed gates; stop --check: every gate passes); 1 refused: a gate failed, the
task is in the wrong state for the command, or reload lacks --yes-truncate
(nothing was changed); 2 the command could not run (usage, configuration,
outputs, AWS or database errors).

Each subcommand is a module in subcommands/ (what one is: subcommand.py); `SUBCOMMANDS` lists them in the order
`--help` shows them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from migration_ops import cli
from migration_ops.cutover.subcommand import Invocation, Subcommand
from migration_ops.cutover.subcommands import (
    analyze,
    freeze_sql,
    pause,
    reload,
    report,
    sequences,
    snapshot,
    start,
    status,
    stop,
    target_user,
)

SUBCOMMANDS: tuple[Subcommand, ...] = (
    start, status, stop, pause, reload, freeze_sql, sequences, target_user, snapshot, analyze, report,
)  # fmt: skip


def _overview() -> cli.CommandHelp:
    """The top level's epilog: the exit codes every subcommand shares, and which subcommands call AWS."""
    needing = [command.NAME for command in SUBCOMMANDS if command.COMMAND_HELP.needs_aws]
    not_needing = [command.NAME for command in SUBCOMMANDS if not command.COMMAND_HELP.needs_aws]
    return cli.CommandHelp(
        succeeded="done (each subcommand's --help says what that means for it)",
        failed="refused: a gate failed, the task is in the wrong state for the command, or reload lacks --yes-truncate "
        "(nothing was changed)",
        credentials=(
            cli.SOURCE_CREDENTIALS,
            cli.SECRET_CREDENTIALS,
            cli.target_credentials("--truncate-target-dsn-env (reload) or --apply-dsn-env (sequences)"),
            cli.AWS_CREDENTIALS,
        ),
        needs_aws=bool(needing),
        aws=f"{', '.join(needing)} call AWS; {', '.join(not_needing)} do not, except to read the secret "
        "source.credentials_secret_arn (--from-secret, or the DMS user's name without --dms-user)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m migration_ops.cutover", **cli.help_options(__doc__.split("\n\n")[0], _overview())
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in SUBCOMMANDS:
        description = command.__doc__ or command.HELP
        subparser = commands.add_parser(command.NAME, help=command.HELP, **cli.help_options(description, command.COMMAND_HELP))
        command.add_arguments(subparser)
        subparser.set_defaults(subcommand=command)
    return parser


def parse_args(argv: Sequence[str] | None) -> Invocation:
    args = build_parser().parse_args(argv)
    command: Subcommand = args.subcommand
    return Invocation(command=command, options=cli.options_from(args, command.OPTIONS))


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(lambda: parse_args(argv).run())
