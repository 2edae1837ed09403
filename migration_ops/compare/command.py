"""Data comparison of source and target: every row of every table in scope, by hash buckets of its key.

    python -m migration_ops.compare (--env ENV | --config PATH) [--suffix S]
        [--dsn-env VAR] [--from-secret [--region R] [--endpoint-url URL]] --target-dsn-env VAR
        [--tables SCHEMA.TABLE ...] [--chunk-rows N] [--time-budget-seconds S] [--statement-timeout S]
        [--recheck-delay-seconds S] [--allow-incomplete] [--json]

The source is reached like preflight reaches it (migration_ops/cli/); the
target's libpq URI comes from the variable named by --target-dsn-env (never
from the command line). Tables: the ordinary tables of `dms.include` minus
`dms.exclude` (migration_ops/scope.py); a partitioned table is compared as its
leaf partitions, each under its own name on the target. --tables (repeatable)
narrows that; a table it names that is not in the scope or not on the source
fails. An empty scope fails; the same database on both sides cannot be compared.

Per table, source and target at the same time, each on its own connection: one
sequential scan of ONLY the table (no inheritance children) puts every row in a
bucket by a hash of its primary key (about --chunk-rows rows per bucket, the
same buckets on both sides; without a key, by the row's own hash: the rows are
compared as a multiset) and digests each bucket as its row count and the exact
sums of two 64-bit hashes of the rows' text over the columns both sides have.
No ordering is involved, so collations cannot matter; text is hashed over its
UTF-8 bytes when the two server encodings differ; the settings that change how
values print are pinned on both sides, and row_security is off (a table the
user cannot fully read fails instead of comparing fewer rows). The buckets that
differ are rechecked after --recheck-delay-seconds: only their rows, narrowed
to the exact keys changed, missing on or extra on the target. Each table's write
counters on the source, before and after, tell whether the source changed during
the run: a FAIL says so (rerun with writes frozen) or that it is conclusive.

Results: PASS equal; FAIL a difference (rows, columns, table missing, a table
that cannot be fully read, a --tables name not compared, an empty scope); WARN
equal but collations or encodings differ (no data difference), or not completely
compared (the time budget ran out, a statement timed out, a server stopped
answering). Exit 0: everything compared and equal. Exit 1: a difference, or
anything not completely compared (unless --allow-incomplete: an incomplete
comparison proves nothing about the rest). Exit 2: the command could not run
(configuration, connection, the same database on both sides).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from config.model import DmsConfig
from migration_ops import cli
from migration_ops.compare.engine import (
    DEFAULT_CHUNK_ROWS,
    DEFAULT_RECHECK_DELAY_SECONDS,
    DEFAULT_STATEMENT_TIMEOUT_SECONDS,
    Budget,
    EngineOptions,
    compare_all,
    open_connection,
)
from migration_ops.compare.report import TableReport, parent_result, render_reports
from migration_ops.compare.sessions import Side, SideError, UnansweredError, database_identity, refuse_same_database, run_bounded
from migration_ops.compare.tables import Scope, Table, describe_rules, parse_table, read_scope
from migration_ops.postgres import (
    DatabaseConnectionError,
    SourceConnectionError,
    TargetConnectionError,
    describe_dsn,
    dsn_from_env,
)
from migration_ops.results import CheckResult, Status, failed
from plumbing.exit_codes import ExitCode
from plumbing.text import first_line

DEFAULT_TIME_BUDGET_SECONDS = 3600.0
COMMAND_HELP = cli.CommandHelp(
    succeeded="every table in scope was compared completely and is equal",
    failed="a difference, or a table not completely compared (time budget, statement timeout, no key; unless --allow-incomplete)",
    could_not_run="compare could not run: usage or configuration errors, a side cannot be reached (one line on stderr)",
    credentials=(cli.SOURCE_CREDENTIALS, cli.SECRET_CREDENTIALS, cli.target_credentials("--target-dsn-env"), cli.AWS_CREDENTIALS),
    needs_aws=False,
    aws="Only --from-secret calls AWS (Secrets Manager: source.credentials_secret_arn).",
)
CHUNK_ROWS = cli.bounded_int(minimum=1, maximum=cli.BIGINT_MAX)
TIME_BUDGET_SECONDS = cli.finite_float(strictly_above=0)
RECHECK_DELAY_SECONDS = cli.finite_float(minimum=0, maximum=3600)
CATALOG_READ_SECONDS = 5.0
"""The least time the catalog reads before the comparison get, even from a budget nearly spent."""


@dataclass(frozen=True, kw_only=True)
class CompareOptions:
    environment: cli.EnvironmentOptions
    source: cli.SourceOptions
    aws: cli.AwsOptions
    target_dsn_env: str
    tables: tuple[Table, ...] = ()
    """--tables: only these tables of the scope; empty: the whole scope."""
    engine: EngineOptions = field(default_factory=EngineOptions)
    time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS
    allow_incomplete: bool = False
    json: bool = False

    def __post_init__(self) -> None:
        CHUNK_ROWS.check("--chunk-rows", self.engine.chunk_rows)
        cli.STATEMENT_TIMEOUT.check("--statement-timeout", self.engine.statement_timeout_seconds)
        RECHECK_DELAY_SECONDS.check("--recheck-delay-seconds", self.engine.recheck_delay_seconds)
        TIME_BUDGET_SECONDS.check("--time-budget-seconds", self.time_budget_seconds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m migration_ops.compare", **cli.help_options(__doc__.split("\n\n")[0], COMMAND_HELP)
    )
    cli.add_environment_arguments(parser)
    cli.add_source_arguments(parser)
    cli.add_aws_arguments(parser, endpoint_help="Secrets Manager endpoint (an emulator)")
    parser.add_argument("--target-dsn-env", metavar="VAR", required=True, help="variable holding the TARGET libpq URI")
    parser.add_argument(
        "--tables",
        nargs="+",
        action="extend",
        type=parse_table,
        metavar="SCHEMA.TABLE",
        help="compare only these tables of the scope (repeatable: the lists add up)",
    )
    parser.add_argument(
        "--chunk-rows",
        type=CHUNK_ROWS,
        default=DEFAULT_CHUNK_ROWS,
        metavar="N",
        help=f"rows per hash bucket, about (default {DEFAULT_CHUNK_ROWS})",
    )
    parser.add_argument(
        "--time-budget-seconds",
        type=TIME_BUDGET_SECONDS,
        default=DEFAULT_TIME_BUDGET_SECONDS,
        metavar="S",
        help=f"stop comparing after this long; the rest is reported as not compared (default {DEFAULT_TIME_BUDGET_SECONDS:g})",
    )
    parser.add_argument(
        "--statement-timeout",
        dest="statement_timeout_seconds",
        type=cli.STATEMENT_TIMEOUT,
        default=DEFAULT_STATEMENT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"limit of each query (default {DEFAULT_STATEMENT_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument(
        "--recheck-delay-seconds",
        type=RECHECK_DELAY_SECONDS,
        default=DEFAULT_RECHECK_DELAY_SECONDS,
        metavar="S",
        help=f"pause before rechecking the rows of differing buckets (default {DEFAULT_RECHECK_DELAY_SECONDS:g})",
    )
    parser.add_argument(
        "--allow-incomplete", action="store_true", help="exit 0 when nothing differs even if not everything was compared"
    )
    cli.add_json_argument(parser)
    return parser


def parse_args(argv: Sequence[str] | None) -> CompareOptions:
    return cli.options_from(build_parser().parse_args(argv), CompareOptions)


def run_compare(options: CompareOptions, *, budget: Budget | None = None) -> int:
    budget = budget or Budget(options.time_budget_seconds)
    config = cli.load_config(options.environment)
    source_dsn = cli.source_dsn(options.source, config, options.aws)
    try:
        target_dsn = dsn_from_env(options.target_dsn_env)
    except DatabaseConnectionError as error:
        raise TargetConnectionError(f"target: {error}") from None
    engine = options.engine
    started = time.monotonic()
    with (
        open_connection("source", source_dsn, engine.statement_timeout_seconds) as source,
        open_connection("target", target_dsn, engine.statement_timeout_seconds) as target,
    ):
        sides = Side(role="source", conn=source), Side(role="target", conn=target)
        limit = min(engine.statement_timeout_seconds, max(budget.remaining(), CATALOG_READ_SECONDS))
        identities = _bounded([(sides[0], database_identity), (sides[1], database_identity)], limit)
        refuse_same_database(identities[0], identities[1])
        (scope,) = _bounded([(sides[0], lambda conn: read_scope(conn, config.dms, options.tables))], limit)
        progress = None if options.json else _progress
        reports = compare_all(source=source, target=target, scope=scope, options=engine, budget=budget, progress=progress)
    others = _scope_results(scope, config.dms, identities[0][0])
    results = others + [report.result() for report in reports]
    complete = all(report.incomplete is None for report in reports)
    failing = any(result.status is Status.FAIL for result in results)
    code = ExitCode.FAILED if failing or not (complete or options.allow_incomplete) else ExitCode.OK
    if options.json:
        print(
            cli.render_json(
                results,
                environment=config.environment_suffix,
                stack=config.stack_name,
                source=describe_dsn(source_dsn),
                target=describe_dsn(target_dsn),
                chunk_rows=engine.chunk_rows,
                time_budget_seconds=budget.seconds,
                recheck_delay_seconds=engine.recheck_delay_seconds,
                hashing=reports.hashing,
                source_changed=reports.source_changed,
                seconds=round(time.monotonic() - started, 3),
                complete=complete,
                tables=[report.as_dict() for report in reports],
            )
        )
    else:
        print(
            f"compare {config.stack_name}: source {describe_dsn(source_dsn)}, target {describe_dsn(target_dsn)}, "
            f"buckets of about {engine.chunk_rows} rows ({reports.hashing}), time budget {budget.seconds:g} s"
        )
        print(render_reports(reports, others))
        print(cli.render_summary(results) + ("" if complete else "; INCOMPLETE: not every table was compared completely"))
    return code


def _bounded(calls: list[tuple[Side, Callable[[Any], Any]]], limit_seconds: float) -> list[Any]:
    """Catalog reads before the comparison; a failure cannot be a result yet: exit 2."""
    try:
        return run_bounded(calls, limit_seconds)
    except (UnansweredError, SideError) as error:
        role = getattr(error, "role", "source")
        raise (TargetConnectionError if role == "target" else SourceConnectionError)(first_line(error)) from None


def _scope_results(scope: Scope, dms: DmsConfig, database: str) -> list[CheckResult]:
    """The partitioned parents (SKIP), the --tables names not compared and an empty scope (FAIL)."""
    results = [parent_result(parent, leaves) for parent, leaves in scope.parents.items()]
    results += [failed(table.qualified, reason, fix="name tables of the task's scope") for table, reason in scope.refused.items()]
    if scope.empty:
        results.append(
            failed(
                "scope",
                f"nothing to compare: no table of database {database} on the source matches the task's scope "
                f"({describe_rules(dms)})",
                fix="check --env/--config (dms.include, dms.exclude) and that --dsn-env names the source database",
            )
        )
    return results


def _progress(report: TableReport) -> None:
    print(f"{report.status.label} {report.table.qualified} ({report.seconds:.1f} s)", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(lambda: run_compare(parse_args(argv)))
