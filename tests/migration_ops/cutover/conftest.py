"""A throw-away PostgreSQL 15 per test module (`write_freeze_server`) and a fresh database per test for the
write-freeze tests (`scenario`).

`scenario` builds the plain cutover source every write-path test starts from, with every path closed:
  public.accounts, public.ledger   in scope, owned by the NOLOGIN role <p>_owner; the app and DMS roles may SELECT
  other.audit                      out of scope; the app writes it (a normal out-of-scope table, no path)
  <p>_app   LOGIN, the application role          <p>_dms   LOGIN REPLICATION, the DMS user (exempt)
Roles are cluster-wide, so every role a test makes is named <p>_... and dropped with the database.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql

from migration_ops.catalog import TableOid
from migration_ops.results import CheckResult, Status
from tests.migration_ops.pg_server import PgServer, running_server

SETTINGS = {
    "wal_level": "logical",
    "max_replication_slots": "4",
    "max_wal_senders": "4",
    "max_prepared_transactions": "2",
}
_COUNTER = itertools.count()


# Not named `pg`: the shared session server of tests/migration_ops/conftest.py (issue #22) has that name, and a
# fixture here would shadow it for every test in this folder.
@pytest.fixture(scope="module")
def write_freeze_server() -> Iterator[PgServer]:
    with running_server(SETTINGS) as server:
        yield server


@dataclass(frozen=True)
class Scenario:
    server: PgServer
    database: str
    prefix: str

    def role(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    @property
    def app(self) -> str:
        return self.role("app")

    @property
    def dms(self) -> str:
        return self.role("dms")

    @property
    def owner(self) -> str:
        return self.role("owner")

    def dsn(self, user: str = "postgres", database: str | None = None) -> str:
        return self.server.dsn(database or self.database, user)

    def connect(self, user: str = "postgres", **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn(user), autocommit=True, **kwargs)

    def run(self, script: str, user: str = "postgres") -> None:
        """Run `script` ({p} stands for the role prefix) on the scenario database and disconnect."""
        with self.connect(user) as conn:
            conn.execute(script.replace("{p}", self.prefix))

    def refused(self, statement: str, user: str) -> str:
        """The error `statement` run as `user` raises (the test fails when it succeeds)."""
        with self.connect(user) as conn, pytest.raises(psycopg.Error) as caught:
            conn.execute(statement.replace("{p}", self.prefix))
        return str(caught.value)

    def tables(self, conn: psycopg.Connection[Any]) -> list[TableOid]:
        """The scope: every table and partitioned table in schema public."""
        rows = conn.execute(
            "SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 2, 3"
        ).fetchall()
        return [TableOid(oid=oid, schema=schema, name=name) for oid, schema, name in rows]

    def checks(self, user: str = "postgres", *, settle: bool = True, **kwargs: Any) -> dict[str, CheckResult]:
        """write_path_checks as `user`; with `settle`, first wait (2 s at most) until the sessions the test closed
        are gone from pg_stat_activity: a backend leaves it a moment after its client disconnects."""
        from migration_ops.cutover.write_paths import write_path_checks

        with self.connect(user) as conn:
            deadline = time.monotonic() + 2
            while settle and time.monotonic() < deadline and _other_clients(conn):
                time.sleep(0.02)
            results = write_path_checks(conn, self.tables(conn), dms_users=[self.dms], **kwargs)
        return {result.name: result for result in results}


def _other_clients(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND backend_type IN ('client backend', 'walsender')"
    ).fetchone()
    return bool(row and row[0])


def not_passing(results: dict[str, CheckResult]) -> dict[str, str]:
    return {
        name: f"{result.status.label} {result.evidence}" for name, result in results.items() if result.status is not Status.PASS
    }


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def subscription(scenario: Scenario) -> Iterator[str]:
    """An enabled subscription in the scenario database to publication `feed` of a second database on the same server
    (its slot made by hand: CREATE SUBSCRIPTION cannot create one on its own server). Yields its name."""
    publisher = f"{scenario.database}_pub"
    sub = scenario.role("sub")
    with scenario.connect() as admin:
        admin.execute(f"CREATE DATABASE {publisher} STRATEGY WAL_LOG")
    try:
        with psycopg.connect(scenario.dsn(database=publisher), autocommit=True) as pub:
            pub.execute("CREATE TABLE public.ledger (id int, line text); CREATE PUBLICATION feed FOR TABLE public.ledger")
            pub.execute(f"SELECT pg_create_logical_replication_slot('{publisher}', 'pgoutput')")
        conninfo = f"host=127.0.0.1 port={scenario.server.port} dbname={publisher} user=postgres"
        scenario.run(
            f"CREATE SUBSCRIPTION {sub} CONNECTION '{conninfo}' PUBLICATION feed"
            f" WITH (create_slot = false, slot_name = '{publisher}', copy_data = false)"
        )
        yield sub
    finally:
        _drop_subscription(scenario, sub, publisher)


def _drop_subscription(scenario: Scenario, sub: str, publisher: str) -> None:
    with scenario.connect() as conn:
        if conn.execute("SELECT 1 FROM pg_subscription WHERE subname = %s", (sub,)).fetchone():
            conn.execute(f"ALTER SUBSCRIPTION {sub} DISABLE")
            conn.execute(f"ALTER SUBSCRIPTION {sub} SET (slot_name = NONE)")
            conn.execute(f"DROP SUBSCRIPTION {sub}")

        def slot_idle() -> bool:
            row = conn.execute("SELECT bool_or(active) FROM pg_replication_slots WHERE slot_name = %s", (publisher,)).fetchone()
            return not (row and row[0])

        wait_for(slot_idle, "the slot to be released")
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s", (publisher,))
        conn.execute(f"DROP DATABASE IF EXISTS {publisher} WITH (FORCE)")


BASE_SQL = """
CREATE ROLE {p}_owner NOLOGIN;
CREATE ROLE {p}_app LOGIN;
CREATE ROLE {p}_dms LOGIN REPLICATION;
"""

SCHEMA_SQL = """
CREATE TABLE public.accounts (id int PRIMARY KEY, balance numeric, note text);
CREATE TABLE public.ledger (id int, line text);
INSERT INTO public.accounts VALUES (1, 100, 'first'), (2, 200, 'second');
CREATE SCHEMA other;
CREATE TABLE other.audit (id int, line text);
ALTER TABLE public.accounts OWNER TO {p}_owner;
ALTER TABLE public.ledger OWNER TO {p}_owner;
ALTER TABLE other.audit OWNER TO {p}_owner;
ALTER SCHEMA other OWNER TO {p}_owner;
GRANT USAGE ON SCHEMA other TO {p}_app;
GRANT SELECT ON public.accounts, public.ledger TO {p}_app, {p}_dms;
GRANT SELECT, INSERT, UPDATE, DELETE ON other.audit TO {p}_app;
"""


@pytest.fixture
def scenario(write_freeze_server: PgServer) -> Iterator[Scenario]:
    pg = write_freeze_server
    number = next(_COUNTER)
    found = Scenario(server=pg, database=f"wp_{number}", prefix=f"wp{number}")
    with psycopg.connect(pg.dsn(), autocommit=True) as admin:
        admin.execute(BASE_SQL.replace("{p}", found.prefix))
        admin.execute(f"CREATE DATABASE {found.database} STRATEGY WAL_LOG")
    found.run(SCHEMA_SQL)
    try:
        yield found
    finally:
        drop_scenario(pg, found)


def drop_scenario(pg: PgServer, found: Scenario) -> None:
    with psycopg.connect(pg.dsn(), autocommit=True) as admin:
        for (gid,) in admin.execute("SELECT gid FROM pg_prepared_xacts WHERE database = %s", (found.database,)).fetchall():
            with psycopg.connect(pg.dsn(found.database), autocommit=True) as conn:
                conn.execute(sql.SQL("ROLLBACK PREPARED {}").format(sql.Literal(gid)))
        admin.execute(f"DROP DATABASE IF EXISTS {found.database} WITH (FORCE)")
        roles = [row[0] for row in admin.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (f"{found.prefix}\\_%",))]
        for role in roles:
            admin.execute(f'DROP OWNED BY "{role}" CASCADE')
        for role in roles:
            admin.execute(f'DROP ROLE "{role}"')
