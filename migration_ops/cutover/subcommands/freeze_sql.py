"""`cutover freeze-sql --app-role ROLE ... [--output FILE]`: write the write-freeze SQL for the application roles and,
separately, its rollback (freeze_sql.py); runs nothing on the source but catalog reads.

With `--output freeze.sql` the freeze goes to that file and the rollback to `freeze.rollback.sql` beside it (or
`--rollback-output FILE`), so the saved freeze file run whole (`psql -v ON_ERROR_STOP=1 -f freeze.sql`) leaves writes
frozen: it holds no rollback statement. Without `--output` the freeze is printed; `--rollback` prints the rollback
instead. An app role the freeze must not freeze (a DMS user, a superuser, the role running it, an unknown role) is
refused: exit 1, nothing written.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from migration_ops import catalog, cli
from migration_ops.cutover.freeze_sql import FreezeRefusedError, FreezeScript, freeze_script
from migration_ops.cutover.subcommand import add_common_arguments, add_dms_user_argument
from migration_ops.cutover.task import dms_users
from migration_ops.errors import UsageError
from migration_ops.postgres import connect
from plumbing.atomic_file import write_whole
from plumbing.exit_codes import ExitCode

NAME = "freeze-sql"
HELP = "write the write-freeze SQL and, separately, its rollback"
COMMAND_HELP = cli.CommandHelp(
    succeeded="the freeze SQL (and, with --output, its rollback beside it) was written; nothing runs on the source but "
    "catalog reads",
    failed="refused: an --app-role the freeze must not freeze (a DMS user, a superuser, the role running it, an unknown "
    "role); nothing written",
    credentials=(cli.SOURCE_CREDENTIALS, cli.SECRET_CREDENTIALS, cli.AWS_CREDENTIALS),
    needs_aws=False,
    aws="Only Secrets Manager, and only to read source.credentials_secret_arn: with --from-secret, and for the DMS "
    "user's name when no --dms-user is given.",
)


@dataclass(frozen=True, kw_only=True)
class FreezeSqlOptions:
    environment: cli.EnvironmentOptions
    aws: cli.AwsOptions
    source: cli.SourceOptions
    app_roles: tuple[str, ...]
    dms_users: tuple[str, ...] = ()
    output: Path | None = None
    rollback_output: Path | None = None
    rollback: bool = False
    freeze_superusers: bool = False
    json: bool = False

    def __post_init__(self) -> None:
        if self.rollback_output is not None and self.output is None:
            raise UsageError("--rollback-output goes with --output")
        if self.rollback and self.output is not None:
            raise UsageError("--rollback prints the rollback instead of the freeze: leave out --output (both files are written)")
        if self.output is not None and self.output.resolve() == self.rollback_path().resolve():
            raise UsageError("--output and --rollback-output must be different files")

    def rollback_path(self) -> Path:
        assert self.output is not None or self.rollback_output is None
        if self.rollback_output is not None:
            return self.rollback_output
        output = self.output or Path("freeze.sql")
        return output.with_name(f"{output.stem}.rollback{output.suffix or '.sql'}")


OPTIONS = FreezeSqlOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    add_dms_user_argument(parser)
    cli.add_source_arguments(parser)
    parser.add_argument(
        "--app-role", dest="app_roles", action="append", required=True, metavar="ROLE", help="an application role (repeatable)"
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the freeze here (the rollback beside it)")
    parser.add_argument("--rollback-output", type=Path, metavar="FILE", help="with --output: write the rollback here")
    parser.add_argument("--rollback", action="store_true", help="print the rollback instead of the freeze")
    parser.add_argument(
        "--freeze-superusers", action="store_true", help="also ALTER ROLE ... NOLOGIN the other superusers (else only listed)"
    )


def _emit(options: FreezeSqlOptions, script: FreezeScript) -> None:
    if options.json:
        print(
            json.dumps(
                {"database": script.database, "freeze": script.freeze_text(), "rollback": script.rollback_text()}, indent=2
            )
        )
    elif options.output is not None:
        rollback = options.rollback_path()
        try:
            for path, text in ((rollback, script.rollback_text()), (options.output, script.freeze_text())):
                path.parent.mkdir(parents=True, exist_ok=True)
                write_whole(path, text)
        except OSError as error:
            raise UsageError(f"--output {options.output}: cannot write ({error.strerror or error})") from None
        print(f"freeze of {', '.join(script.app_roles)} on {script.database}: {options.output}; its rollback: {rollback}")
    else:
        print(script.rollback_text() if options.rollback else script.freeze_text(), end="")


def run(options: FreezeSqlOptions) -> int:
    config = cli.load_config(options.environment)
    users = dms_users(options.dms_users, config, options.aws)
    with connect(cli.source_dsn(options.source, config, options.aws), read_only=True) as source:
        tables = catalog.scoped_tables(source, config.dms)
        try:
            script = freeze_script(
                source, tables, app_roles=options.app_roles, dms_users=users, freeze_superusers=options.freeze_superusers
            )
        except FreezeRefusedError as error:
            print(f"refused: {error}", file=sys.stderr)
            return ExitCode.FAILED
    _emit(options, script)
    return ExitCode.OK
