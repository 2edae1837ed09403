"""`cutover analyze`: VACUUM (ANALYZE) every migrated table on Aurora after the full load, timed per table.

Partitioned tables get `ANALYZE` alone, after their partitions: they hold no rows, so there is nothing to vacuum
(VACUUM of a partitioned table would vacuum every partition a second time), but the planner keeps statistics for
the whole partitioned table that only an ANALYZE of it gathers, and autovacuum never analyzes a partitioned table
(PostgreSQL 15, "Routine Vacuuming": "Partitioned tables are not processed by autovacuum").

DMS's full load writes every row without leaving planner statistics or a visibility map behind; until autovacuum
gets to the tables, the first queries after the switch plan on no statistics. This runs `VACUUM (ANALYZE)` on each
table in turn, one statement per table, and reports the seconds each took. A table that fails is FAIL; the others
still run.

PostgreSQL facts (PostgreSQL 15 documentation, "VACUUM"):
- "VACUUM cannot be executed inside a transaction block": the connection must be in autocommit mode.
- "To vacuum a table, one must ordinarily be the table's owner or a superuser. However, database owners are
  allowed to vacuum all tables in their databases" (PostgreSQL 17 adds the MAINTAIN privilege and the pg_maintain
  role). "VACUUM will skip over any tables that the calling user does not have permission to vacuum": the skip is
  a WARNING (`skipping "t" --- only table or database owner can vacuum it`), not an error, so the WARNINGs of each
  statement are collected (psycopg notice handler, severity_nonlocalized) and a skip makes the table FAIL.
- VACUUM takes a SHARE UPDATE EXCLUSIVE lock: it runs beside DMS's inserts and updates ("Explicit Locking").
- On Aurora the master user is no superuser (rds_superuser), but it owns the database created with the cluster
  and the tables it created from the schema dump (runbook, "Create the schema on Aurora"); connect as it.
- A hot standby (Aurora's reader endpoint) or a read-only session refuses VACUUM: checked once up front.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.errors import Diagnostic

from migration_ops import cli
from migration_ops.errors import OpsError
from migration_ops.postgres import DatabaseConnectionError, connect, describe_dsn, dsn_from_env
from migration_ops.results import CheckResult, Status
from plumbing.exit_codes import ExitCode
from plumbing.text import first_line, human_duration

FIX_PERMISSION = (
    "connect as the database's owner or the table's owner (on Aurora: the master user, who owns the database and "
    "the tables created from the schema dump), or `ALTER TABLE ... OWNER TO` that user; PostgreSQL 17 and later: "
    "GRANT MAINTAIN ON TABLE ... TO it"
)
FIX_MISSING = "create the table on Aurora (runbook: create the schema on Aurora), or drop it from the task's scope"
FIX_TIMEOUT = "the statement was cancelled (statement_timeout or an operator): run `cutover analyze` again"
FIX_CONNECTION = "the connection was lost: run `cutover analyze` again"
SKIP_MARKER = "skipping"
"""VACUUM's WARNING for a table it did not process (no permission); English server messages (lc_messages)."""

Table = tuple[str, str]
VACUUM_ANALYZE = "VACUUM (ANALYZE)"
ANALYZE = "ANALYZE"


class AnalyzeError(OpsError):
    """VACUUM cannot run at all on this connection (a transaction, a standby, a read-only session): exit 2."""


@dataclass(frozen=True, kw_only=True)
class TableAnalyze:
    schema: str
    name: str
    seconds: float
    statement: str = "VACUUM (ANALYZE)"
    """What ran: `VACUUM (ANALYZE)`, or `ANALYZE` for a partitioned table."""
    error: str = ""
    """Why the table was not vacuumed and analyzed; empty when it was."""
    fix: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    """Other WARNINGs the statement raised (the table was processed)."""

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def status(self) -> Status:
        if self.error:
            return Status.FAIL
        return Status.WARN if self.warnings else Status.PASS

    def result(self) -> CheckResult:
        if self.error:
            evidence = f"{self.error} (after {self.seconds:.1f} s)"
        else:
            evidence = f"{self.statement} in {self.seconds:.1f} s" + "".join(f"; WARNING: {text}" for text in self.warnings)
        return CheckResult(name=self.qualified, status=self.status, evidence=evidence, fix=self.fix)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "name": self.name,
            "status": self.status.value,
            "seconds": round(self.seconds, 3),
            "statement": self.statement,
            "error": self.error,
            "fix": self.fix,
            "warnings": list(self.warnings),
        }


def _refusal(conn: psycopg.Connection[Any]) -> str | None:
    """Why VACUUM cannot run in this session at all, or None."""
    if not conn.autocommit:
        return "VACUUM cannot run inside a transaction block: the connection must be in autocommit mode"
    row = conn.execute("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')").fetchone()
    if row is not None and row[0]:
        return "the target is a read-only replica (the reader endpoint?): connect to the cluster (writer) endpoint"
    if row is not None and row[1] == "on":
        return "the session is read-only (default_transaction_read_only): connect without it"
    return None


def _failure(error: psycopg.Error) -> tuple[str, str]:
    """(evidence, fix) of a VACUUM that raised."""
    message = first_line(error)
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return f"permission denied: {message}", FIX_PERMISSION
    if isinstance(error, psycopg.errors.UndefinedTable):
        return f"no such table on the target: {message}", FIX_MISSING
    if isinstance(error, psycopg.errors.QueryCanceled):
        return f"cancelled: {message}", FIX_TIMEOUT
    return message, ""


def analyze_tables(
    conn: psycopg.Connection[Any],
    tables: Sequence[Table],
    *,
    analyze_only: Sequence[Table] = (),
    on_table: Callable[[TableAnalyze], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[TableAnalyze]:
    """`VACUUM (ANALYZE)` each (schema, name) of `tables` in order, then `ANALYZE` each of `analyze_only` (the
    partitioned tables); one result per table, `on_table` after each.

    Raises AnalyzeError when the session cannot vacuum at all (checked before the first table).
    """
    try:
        refusal = _refusal(conn)
    except psycopg.Error as error:
        raise AnalyzeError(f"cannot read the session's state: {first_line(error)}") from None
    if refusal is not None:
        raise AnalyzeError(refusal)
    heard: list[str] = []  # the current statement's WARNINGs, read in the handler: a Diagnostic is only valid there

    def listen(notice: Diagnostic) -> None:
        if notice.severity_nonlocalized == "WARNING":
            heard.append(str(notice.message_primary or ""))

    conn.add_notice_handler(listen)
    results: list[TableAnalyze] = []
    try:
        work = [(table, VACUUM_ANALYZE) for table in tables] + [(table, ANALYZE) for table in analyze_only]
        for (schema, name), statement in work:
            heard.clear()
            started = clock()
            if conn.broken or conn.closed:
                outcome = TableAnalyze(
                    schema=schema, name=name, seconds=0.0, statement=statement, error="not run", fix=FIX_CONNECTION
                )
            else:
                outcome = _vacuum(conn, schema=schema, name=name, statement=statement, heard=heard, started=started, clock=clock)
            results.append(outcome)
            if on_table is not None:
                on_table(outcome)
    finally:
        conn.remove_notice_handler(listen)
    return results


def _vacuum(
    conn: psycopg.Connection[Any],
    *,
    schema: str,
    name: str,
    statement: str,
    heard: list[str],
    started: float,
    clock: Callable[[], float],
) -> TableAnalyze:
    done = functools.partial(TableAnalyze, schema=schema, name=name, statement=statement)
    try:
        conn.execute(sql.SQL(statement + " {}").format(sql.Identifier(schema, name)))
    except psycopg.Error as error:
        evidence, fix = _failure(error)
        if conn.broken or conn.closed:
            fix = FIX_CONNECTION
        return done(seconds=clock() - started, error=evidence, fix=fix)
    seconds = clock() - started
    warnings = list(heard)
    skipped = [text for text in warnings if SKIP_MARKER in text]
    if skipped:
        what = "analyzed" if statement == ANALYZE else "vacuumed"
        return done(seconds=seconds, error=f"not {what}: {skipped[0]}", fix=FIX_PERMISSION)
    return done(seconds=seconds, warnings=tuple(warnings))


# --- command line -----------------------------------------------------------------------------


COMMAND_HELP = cli.CommandHelp(
    succeeded="every migrated table was vacuumed and analyzed",
    failed="a table was not (no permission, missing, cancelled); the others still ran",
    credentials=(cli.SOURCE_CREDENTIALS, cli.SECRET_CREDENTIALS, cli.target_credentials("--target-dsn-env"), cli.AWS_CREDENTIALS),
    needs_aws=False,
    aws="Only --from-secret calls AWS (Secrets Manager: source.credentials_secret_arn); the scope is read on the source.",
)


@dataclass(frozen=True, kw_only=True)
class AnalyzeOptions:
    """--target-dsn-env (named as its dest: `cli.options_from` builds it)."""

    target_dsn_env: str
    """The variable holding the TARGET (Aurora writer) libpq URI, as the master user."""


def add_analyze_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """--target-dsn-env VAR (required); returns `parser`."""
    parser.add_argument(
        "--target-dsn-env", metavar="VAR", required=True,
        help="variable holding the TARGET (Aurora writer endpoint) libpq URI, as the master user",
    )  # fmt: skip
    return parser


def _progress(outcome: TableAnalyze) -> None:
    print(f"{outcome.status.label} {outcome.qualified} ({outcome.seconds:.1f} s)", file=sys.stderr, flush=True)


def run_analyze(
    options: AnalyzeOptions, tables: Sequence[Table], *, analyze_only: Sequence[Table] = (), json_output: bool = False
) -> int:
    """VACUUM (ANALYZE) `tables` (then ANALYZE `analyze_only`) on the target and print one line per table; 0 all done,
    1 a table failed, 2 could not run."""
    if not tables:
        print("error: no tables to analyze (is the task's scope empty?)", file=sys.stderr)
        return ExitCode.ERROR
    started = time.monotonic()
    try:
        dsn = dsn_from_env(options.target_dsn_env)
        with connect(dsn, read_only=False) as target:
            outcomes = analyze_tables(target, tables, analyze_only=analyze_only, on_table=None if json_output else _progress)
    except (DatabaseConnectionError, AnalyzeError) as error:
        print(f"error: target: {error}", file=sys.stderr)
        return ExitCode.ERROR
    results = [outcome.result() for outcome in outcomes]
    seconds = time.monotonic() - started
    if json_output:
        document = {"target": describe_dsn(dsn), "seconds": round(seconds, 3), "tables": [o.as_dict() for o in outcomes]}
        print(json.dumps({**document, "results": [result.as_dict() for result in results]}, indent=2))
    else:
        parents = f" and ANALYZE of {len(analyze_only)} partitioned tables" if analyze_only else ""
        print(f"VACUUM (ANALYZE) of {len(tables)} tables{parents} on {describe_dsn(dsn)} in {human_duration(seconds)}")
        print(cli.render_table(results))
        print(cli.render_summary(results))
    return ExitCode(cli.exit_code(results))
