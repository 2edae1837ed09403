"""Data comparison of source and target: row counts and checksums over primary-key chunks, per table.

    python -m migration_ops.compare (--env ENV | --config PATH) [--suffix S]
        [--dsn-env VAR] [--from-secret [--region R] [--endpoint-url URL]] --target-dsn-env VAR
        [--tables SCHEMA.TABLE ...] [--chunk-rows N] [--time-budget-seconds S] [--statement-timeout S]
        [--max-rows-without-key N] [--allow-incomplete] [--json]

The source is reached like preflight reaches it (migration_ops/cli/); the
target's libpq URI comes from the variable named by --target-dsn-env (never
from the command line). Tables: the ordinary tables of `dms.include` minus
`dms.exclude` (migration_ops/scope.py); a partitioned table is compared as its
leaf partitions, each under its own name on the target. --tables narrows that.

Per table, in one REPEATABLE READ, read-only transaction on each side: the row
counts, then the rows in chunks of --chunk-rows keys in primary-key order.
Chunk boundaries are every N-th key of the SOURCE (keyset pagination); the
first chunk is open below and the last open above, so every target row falls
into exactly one chunk. Each side digests a chunk as its row count and the
exact sums of the two 64-bit halves of md5(ROW(columns)::text) over its rows,
the columns being those both sides have, in the source's column order: equal
digests mean equal rows, whatever order each side puts them in (a text key the
two sides' collations sort differently can only make a row near a boundary
look missing in one chunk and extra in the next, never hide a difference).
Session settings that change how values print (TimeZone, DateStyle,
IntervalStyle, bytea_output, extra_float_digits, lc_monetary) are pinned on
both sides. A differing chunk is named by its key range (the WHERE clause to
look at it); for small chunks the differing keys are listed too. A table without a primary key is compared as a
whole when it has at most --max-rows-without-key rows, else by row count only.

Results: PASS equal; FAIL a difference (rows, a chunk, columns, table missing);
WARN not completely compared (the time budget ran out, a statement timed out,
a table without a key too large to digest, a query error); SKIP a partitioned
parent (compared as its partitions). Exit 0: everything compared and equal.
Exit 1: a difference, or anything not completely compared (unless
--allow-incomplete: an incomplete comparison proves nothing about the rest).
Exit 2: the command could not run (configuration, connection).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from migration_ops import cli
from migration_ops.compare.engine import (
    DEFAULT_CHUNK_ROWS,
    DEFAULT_MAX_ROWS_WITHOUT_KEY,
    DEFAULT_STATEMENT_TIMEOUT_SECONDS,
    Budget,
    EngineOptions,
    compare_all,
    open_connection,
)
from migration_ops.compare.report import TableReport, parent_result, render_reports
from migration_ops.compare.tables import Table, parse_table, read_scope
from migration_ops.postgres import DatabaseConnectionError, TargetConnectionError, describe_dsn, dsn_from_env

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
MAX_ROWS_WITHOUT_KEY = cli.bounded_int(minimum=1, maximum=cli.BIGINT_MAX)


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
        MAX_ROWS_WITHOUT_KEY.check("--max-rows-without-key", self.engine.max_rows_without_key)
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
        "--tables", nargs="+", type=parse_table, metavar="SCHEMA.TABLE", help="compare only these tables of the scope"
    )
    parser.add_argument(
        "--chunk-rows",
        type=CHUNK_ROWS,
        default=DEFAULT_CHUNK_ROWS,
        metavar="N",
        help=f"keys per chunk (default {DEFAULT_CHUNK_ROWS})",
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
        "--max-rows-without-key",
        type=MAX_ROWS_WITHOUT_KEY,
        default=DEFAULT_MAX_ROWS_WITHOUT_KEY,
        metavar="N",
        help=f"digest a table without a primary key whole up to this many rows (default {DEFAULT_MAX_ROWS_WITHOUT_KEY})",
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
        scope = read_scope(source, config.dms, options.tables)
        progress = None if options.json else _progress
        reports = compare_all(source=source, target=target, scope=scope, options=engine, budget=budget, progress=progress)
    parents = [parent_result(parent, leaves) for parent, leaves in scope.parents.items()]
    results = parents + [report.result() for report in reports]
    complete = all(report.incomplete is None for report in reports)
    code = cli.exit_code(results, strict=not options.allow_incomplete)
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
                seconds=round(time.monotonic() - started, 3),
                complete=complete,
                tables=[report.as_dict() for report in reports],
            )
        )
    else:
        print(
            f"compare {config.stack_name}: source {describe_dsn(source_dsn)}, target {describe_dsn(target_dsn)}, "
            f"chunks of {engine.chunk_rows} keys, time budget {budget.seconds:g} s"
        )
        print(render_reports(reports, parents))
        print(cli.render_summary(results) + ("" if complete else "; INCOMPLETE: not every table was compared completely"))
    return code


def _progress(report: TableReport) -> None:
    print(f"{report.status.label} {report.table.qualified} ({report.seconds:.1f} s)", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(lambda: run_compare(parse_args(argv)))
