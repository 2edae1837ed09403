"""The two sessions of a comparison: how they are opened and pinned, and how their queries run side by side.

Each side's query runs in a worker thread of its own (psycopg releases the GIL while it waits on the socket), so
source and target work at the same time. The caller waits at most until the query's limit (the lower of
--statement-timeout and what is left of the time budget, also set as the server's statement_timeout) plus a grace:
a server that stops answering (its statement_timeout cannot fire) is cancelled, its socket shut down, its
connection closed and marked abandoned, and `UnansweredError` raised; no later query is sent to it. The workers
are daemon threads, so a worker stuck on a dead socket never holds up the process's exit. TCP keepalives and
tcp_user_timeout end a connection whose peer vanished from the network.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from migration_ops.errors import OpsError
from migration_ops.postgres import DatabaseConnectionError, SourceConnectionError, TargetConnectionError, connect

SESSION_SETTINGS = (
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("bytea_output", "hex"),
    ("extra_float_digits", "1"),
    ("lc_monetary", "C"),
    ("client_encoding", "UTF8"),
    # A query that row-level security would filter fails instead of silently reading fewer rows.
    ("row_security", "off"),
    # The digest's row-hash subquery is an optimization fence; a parallel plan would ship every row's text
    # to the leader. One process per side is also the lighter load on a production source.
    ("max_parallel_workers_per_gather", "0"),
)
"""Settings that change the text form of values or what a query sees: the same on both sides."""

KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}
"""libpq TCP settings: a peer that vanished from the network ends the connection within about a minute."""

GRACE_SECONDS = 2.0
"""How long past a query's limit the caller still waits for its answer before abandoning the server."""
CANCEL_TIMEOUT_SECONDS = 2.0

Job = Callable[[psycopg.Connection[Any]], Any]


class Budget:
    """A deadline `seconds` from now on `clock`."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._deadline = clock() + seconds

    def remaining(self) -> float:
        return self._deadline - self._clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


class BudgetExhaustedError(Exception):
    """The time budget ran out; the engine turns it into an incomplete report (running out of time is a result)."""


class UnansweredError(Exception):
    """A server did not answer within a query's limit: its connection was cancelled, closed and abandoned."""

    def __init__(self, role: str, seconds: float) -> None:
        super().__init__(f"the {role} did not answer within {seconds:g} s: the query was cancelled and the connection closed")
        self.role = role


class SideError(Exception):
    """A query of one side failed; `cause` is psycopg's error."""

    def __init__(self, role: str, cause: psycopg.Error) -> None:
        super().__init__(f"{role}: {cause}")
        self.role = role
        self.cause = cause


class SameDatabaseError(OpsError):
    """The source and the target are one database: comparing it with itself proves nothing."""


@dataclass(kw_only=True)
class Side:
    role: str
    conn: psycopg.Connection[Any]
    abandoned: str | None = None
    """Why this side's connection was given up; None while it is usable."""

    def abandon(self, reason: str, *, worker_done: threading.Event | None = None) -> None:
        """Cancel whatever runs, cut the socket so a worker blocked on it fails at once, and close the connection
        once that worker has let go of it: closing a connection under a thread still inside libpq frees memory the
        thread is using (it crashed the process)."""
        self.abandoned = reason
        with contextlib.suppress(Exception):  # a server that does not answer does not answer the cancel either
            self.conn.cancel_safe(timeout=CANCEL_TIMEOUT_SECONDS)
        _cut_socket(self.conn)
        if worker_done is None or worker_done.wait(CANCEL_TIMEOUT_SECONDS):
            self.conn.close()


def _cut_socket(conn: psycopg.Connection[Any]) -> None:
    """shutdown(2) the connection's socket through a duplicate descriptor: libpq's own descriptor stays valid (no
    other file can take its number), but every wait on it returns at once and the connection fails."""
    with contextlib.suppress(OSError, psycopg.Error), socket.socket(fileno=os.dup(conn.pgconn.socket)) as duplicate:
        duplicate.shutdown(socket.SHUT_RDWR)


@dataclass(kw_only=True)
class _Call:
    side: Side
    job: Job
    result: Any = None
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.done = threading.Event()

    def run(self, timeout_ms: int) -> None:
        try:
            self.side.conn.execute("SELECT set_config('statement_timeout', %s, false)", (str(timeout_ms),))
            self.result = self.job(self.side.conn)
        except BaseException as error:  # handed to the waiting caller
            self.error = error
        finally:
            self.done.set()


def run_bounded(calls: Sequence[tuple[Side, Job]], limit_seconds: float) -> list[Any]:
    """Each job on its side's connection at the same time, each under statement_timeout `limit_seconds`.

    Returns the results in order. Raises UnansweredError when a side has not answered `GRACE_SECONDS` after the
    limit, SideError when a job failed (the other side's query is cancelled rather than waited for).
    """
    for side, _ in calls:
        if side.abandoned:
            raise UnansweredError(side.role, 0)
    timeout_ms = max(1, int(limit_seconds * 1000))
    pending = [_Call(side=side, job=job) for side, job in calls]
    for call in pending:
        threading.Thread(target=call.run, args=(timeout_ms,), daemon=True, name=f"compare-{call.side.role}").start()
    deadline = time.monotonic() + limit_seconds + GRACE_SECONDS
    for call in pending:
        call.done.wait(max(0.0, deadline - time.monotonic()))
        if call.error is not None:
            _cancel_unfinished(pending, deadline)
            break
    unanswered = [call for call in pending if not call.done.is_set()]
    for call in unanswered:
        call.side.abandon(f"the {call.side.role} stopped answering", worker_done=call.done)
    if unanswered:
        raise UnansweredError(unanswered[0].side.role, round(limit_seconds, 1))
    for call in pending:
        if isinstance(call.error, psycopg.Error):
            raise SideError(call.side.role, call.error) from None
        if call.error is not None:
            raise call.error
    return [call.result for call in pending]


def _cancel_unfinished(pending: Sequence[_Call], deadline: float) -> None:
    """One side failed: no use waiting for the other's answer; cancel it, and wait until it has stopped."""
    for call in pending:
        if not call.done.is_set():
            with contextlib.suppress(Exception):
                call.side.conn.cancel_safe(timeout=CANCEL_TIMEOUT_SECONDS)
    for call in pending:
        call.done.wait(max(0.0, deadline - time.monotonic()))


class Pair:
    """The source and the target side, each query bounded by --statement-timeout and the time budget."""

    def __init__(
        self,
        source: psycopg.Connection[Any],
        target: psycopg.Connection[Any],
        *,
        statement_timeout_seconds: float,
        budget: Budget,
    ) -> None:
        self.source = Side(role="source", conn=source)
        self.target = Side(role="target", conn=target)
        self.statement_timeout_seconds = statement_timeout_seconds
        self.budget = budget

    @property
    def abandoned(self) -> str | None:
        return self.source.abandoned or self.target.abandoned

    def limit(self) -> float:
        """The next query's limit; raises BudgetExhaustedError when nothing is left."""
        remaining = self.budget.remaining()
        if remaining <= 0:
            raise BudgetExhaustedError
        return min(self.statement_timeout_seconds, remaining)

    def both(self, on_source: Job, on_target: Job) -> tuple[Any, Any]:
        source, target = run_bounded([(self.source, on_source), (self.target, on_target)], self.limit())
        return source, target

    def on_source(self, job: Job) -> Any:
        return run_bounded([(self.source, job)], self.limit())[0]

    def pause(self, seconds: float) -> None:
        """Sleep `seconds`, or until the budget runs out (then BudgetExhaustedError)."""
        remaining = self.budget.remaining()
        time.sleep(max(0.0, min(seconds, remaining)))
        if seconds >= remaining:
            raise BudgetExhaustedError


def open_connection(role: str, dsn: str, statement_timeout_seconds: float) -> psycopg.Connection[Any]:
    """A read-only autocommit session with keepalives and the pinned settings; a connection error names the side."""
    error_type = TargetConnectionError if role == "target" else SourceConnectionError
    try:
        conn = connect(dsn, read_only=True, statement_timeout_seconds=statement_timeout_seconds, params=KEEPALIVES)
        for name, value in SESSION_SETTINGS:
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
    except DatabaseConnectionError as error:
        raise error_type(f"{role}: {error}") from None
    except psycopg.Error as error:
        raise error_type(f"{role}: cannot prepare the session: {str(error).strip().splitlines()[0]}") from None
    return conn


_IDENTITY_SQL = """
SELECT current_database(), (SELECT oid FROM pg_database WHERE datname = current_database()),
       (SELECT system_identifier FROM pg_control_system())
"""


def database_identity(conn: psycopg.Connection[Any]) -> tuple[str, int, int | None]:
    """(database name, its oid, the cluster's system_identifier or None when this user may not read it)."""
    try:
        row = conn.execute(_IDENTITY_SQL).fetchone()
    except psycopg.errors.InsufficientPrivilege:
        row = conn.execute(_IDENTITY_SQL.replace("(SELECT system_identifier FROM pg_control_system())", "NULL")).fetchone()
    assert row is not None
    return str(row[0]), int(row[1]), None if row[2] is None else int(row[2])


def refuse_same_database(source: tuple[str, int, int | None], target: tuple[str, int, int | None]) -> None:
    """Raise SameDatabaseError when both identities name the same database of the same cluster."""
    if source[2] is not None and source == target:
        raise SameDatabaseError(
            f"the source and the target are the same database ({source[0]}, oid {source[1]}, system identifier "
            f"{source[2]}): comparing a database with itself proves nothing; check --dsn-env and --target-dsn-env"
        )
