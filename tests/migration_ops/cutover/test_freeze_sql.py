"""The generated freeze, run whole with psql, closes every write path for the app role; the rollback restores exactly.

A real PostgreSQL 15 (conftest); `{p}` in SQL is the test's role prefix.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from migration_ops.cutover.freeze_sql import FreezeRefusedError, FreezeScript, freeze_script
from migration_ops.cutover.write_paths_report import (
    COLUMN_PRIVILEGES,
    DEFINER_FUNCTIONS,
    FOREIGN_KEYS,
    PARENT_TABLES,
    RULES,
    SESSIONS,
    TRIGGERS,
    VIEWS,
    WRITE_PRIVILEGES,
)
from migration_ops.results import Status
from tests.migration_ops.cutover.conftest import Scenario, not_passing, subscription, wait_for
from tests.ops.pg_server import find_binary

pytestmark = pytest.mark.postgres

EVERY_PATH_SQL = """
CREATE ROLE {p}_helper LOGIN;
CREATE ROLE {p}_delegate NOLOGIN;
GRANT DELETE ON public.ledger TO {p}_app;
GRANT INSERT ON public.ledger TO {p}_app WITH GRANT OPTION;
GRANT SELECT ON public.ledger TO {p}_helper;
SET ROLE {p}_app;
GRANT INSERT ON public.ledger TO {p}_helper;
RESET ROLE;
GRANT TRUNCATE ON public.ledger TO PUBLIC;
GRANT UPDATE (balance) ON public.accounts TO {p}_app;
GRANT UPDATE (note) ON public.accounts TO {p}_delegate WITH GRANT OPTION;
SET ROLE {p}_delegate;
GRANT UPDATE (note) ON public.accounts TO {p}_app;
RESET ROLE;

CREATE FUNCTION public.credit(account int, amount numeric) RETURNS void LANGUAGE sql SECURITY DEFINER
    AS 'UPDATE public.accounts SET balance = balance + amount WHERE id = account';
ALTER FUNCTION public.credit(int, numeric) OWNER TO {p}_owner;

CREATE FUNCTION other.copy_to_ledger() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    AS $$ BEGIN INSERT INTO public.ledger VALUES (NEW.id, NEW.line); RETURN NEW; END $$;
ALTER FUNCTION other.copy_to_ledger() OWNER TO {p}_owner;
CREATE TRIGGER copy_to_ledger AFTER INSERT ON other.audit FOR EACH ROW EXECUTE FUNCTION other.copy_to_ledger();

CREATE TABLE other.inbox (id int, line text);
ALTER TABLE other.inbox OWNER TO {p}_owner;
CREATE RULE to_ledger AS ON INSERT TO other.inbox DO ALSO INSERT INTO public.ledger VALUES (NEW.id, NEW.line);
GRANT INSERT ON other.inbox TO {p}_app;

CREATE VIEW other.rich AS SELECT id, balance FROM public.accounts WHERE balance > 50;
ALTER VIEW other.rich OWNER TO {p}_owner;
GRANT SELECT, UPDATE ON other.rich TO {p}_app;

CREATE TABLE other.events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE public.events_2024 PARTITION OF other.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
GRANT INSERT ON other.events TO {p}_app;

CREATE TABLE other.regions (id int PRIMARY KEY);
INSERT INTO other.regions VALUES (1);
CREATE TABLE public.stores (id int, region int REFERENCES other.regions ON DELETE CASCADE);
ALTER TABLE public.stores OWNER TO {p}_owner;
INSERT INTO public.stores VALUES (1, 1);
GRANT SELECT, DELETE ON other.regions TO {p}_app;

CREATE FUNCTION other.on_ddl() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER
    AS $$ BEGIN INSERT INTO public.ledger VALUES (0, tg_tag); END $$;
CREATE EVENT TRIGGER {p}_on_ddl ON ddl_command_end EXECUTE FUNCTION other.on_ddl();
GRANT CREATE ON SCHEMA other TO {p}_app;
"""

# Each write path of EVERY_PATH_SQL, as the app role.
WRITES = (
    "DELETE FROM public.ledger",
    "INSERT INTO public.ledger VALUES (9, 'grant option')",
    "TRUNCATE public.ledger",
    "UPDATE public.accounts SET balance = 0",
    "UPDATE public.accounts SET note = 'delegated column grant'",
    "SELECT public.credit(1, 5)",
    "INSERT INTO other.audit VALUES (9, 'definer trigger')",
    "INSERT INTO other.inbox VALUES (9, 'rule')",
    "UPDATE other.rich SET balance = 0",
    "INSERT INTO other.events VALUES (9, '2024-06-01')",
    "DELETE FROM other.regions",
)

ACL_SQL = """
SELECT 'relation ' || format('%%I.%%I', n.nspname, c.relname), a.grantor::regrole::text, a.grantee, a.privilege_type,
       a.is_grantable
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL aclexplode(coalesce(c.relacl,
                                         acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))) a
 WHERE n.nspname IN ('public', 'other')
UNION ALL
SELECT 'column ' || format('%%I.%%I.%%I', n.nspname, c.relname, t.attname), a.grantor::regrole::text, a.grantee,
       a.privilege_type, a.is_grantable
  FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL aclexplode(t.attacl) a
 WHERE n.nspname IN ('public', 'other')
UNION ALL
SELECT 'routine ' || p.oid::regprocedure::text, a.grantor::regrole::text, a.grantee, a.privilege_type, a.is_grantable
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
 WHERE n.nspname IN ('public', 'other')
UNION ALL
SELECT 'event trigger ' || evtname, evtenabled::text, 0, '', false FROM pg_event_trigger
UNION ALL
SELECT 'subscription ' || subname, subenabled::text, 0, '', false FROM pg_subscription
UNION ALL
SELECT 'role ' || rolname, rolcanlogin::text, 0, '', false FROM pg_roles WHERE rolname LIKE %s
"""


def acl_state(scenario: Scenario) -> set[tuple[object, ...]]:
    """Every grant on the scenario's objects (default ACLs spelled out), LOGIN of its roles, subscription and
    event trigger states: what the rollback must give back exactly."""
    with scenario.connect() as conn:
        return set(conn.execute(ACL_SQL, (f"{scenario.prefix}\\_%",)).fetchall())


def generate(scenario: Scenario, *app_roles: str, **kwargs: bool) -> FreezeScript:
    with scenario.connect() as conn:
        return freeze_script(conn, scenario.tables(conn), app_roles=app_roles or [scenario.app], dms_users=[scenario.dms],
                             **kwargs)  # fmt: skip


def psql(
    scenario: Scenario, script: str, tmp_path: Path, name: str, database: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `script` saved as a file the way the runbook does: psql -v ON_ERROR_STOP=1 -f."""
    path = tmp_path / name
    path.write_text(script)
    command = [str(find_binary("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(scenario.server.port),
               "-U", "postgres", "-d", database or scenario.database, "-f", str(path)]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def refused_as(scenario: Scenario, role: str, statement: str) -> None:
    """`statement` as `role` (SET ROLE from a superuser session: the privileges are the role's) is refused."""
    with scenario.connect() as conn:
        conn.execute(f"SET ROLE {role}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def statements(lines: tuple[str, ...]) -> list[str]:
    return [line for line in lines if not line.startswith("--")]


def test_the_freeze_closes_every_path_and_the_rollback_restores_exactly(scenario: Scenario, tmp_path: Path) -> None:
    scenario.run(EVERY_PATH_SQL)
    before = acl_state(scenario)
    open_paths = not_passing(scenario.checks())
    expected = {WRITE_PRIVILEGES, COLUMN_PRIVILEGES, DEFINER_FUNCTIONS, TRIGGERS, RULES, VIEWS, PARENT_TABLES, FOREIGN_KEYS}
    assert set(open_paths) == expected, open_paths
    assert scenario.role("helper") in open_paths[WRITE_PRIVILEGES]

    script = generate(scenario)
    frozen_sql = " ".join(statements(script.freeze))
    assert " LOGIN;" not in frozen_sql.replace(" NOLOGIN;", "")
    assert "GRANT " not in frozen_sql
    assert "ENABLE" not in frozen_sql

    with scenario.connect() as conn:
        ledger = conn.execute("SELECT count(*) FROM public.ledger").fetchone()
    app_session = scenario.connect(scenario.app)
    ran = psql(scenario, script.freeze_text(), tmp_path, "freeze.sql")
    assert ran.returncode == 0, ran.stderr
    with pytest.raises(psycopg.OperationalError):
        app_session.execute("SELECT 1")  # terminated
    app_session.close()

    assert not_passing(scenario.checks()) == {}
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        scenario.connect(scenario.app)
    for statement in WRITES:
        refused_as(scenario, scenario.app, statement)
    refused_as(scenario, scenario.role("helper"), "INSERT INTO public.ledger VALUES (9, 'passed on')")
    with scenario.connect() as conn:
        conn.execute(f"SET ROLE {scenario.app}")
        conn.execute("CREATE TABLE other.scratch (id int)")  # DDL still works, the event trigger no longer writes
    with scenario.connect() as conn:
        assert conn.execute("SELECT count(*) FROM public.ledger").fetchone() == ledger  # not even the freeze's REVOKEs

    with scenario.connect() as conn:
        conn.execute("DROP TABLE other.scratch")
        conn.execute(script.rollback_text())  # the rollback as one psycopg call: no psql needed either
    assert acl_state(scenario) == before
    assert set(not_passing(scenario.checks())) == expected
    with scenario.connect(scenario.app) as app:
        app.execute("SELECT public.credit(1, 1)")


def test_the_freeze_disables_subscriptions_and_the_rollback_enables_them(scenario: Scenario, tmp_path: Path) -> None:
    with subscription(scenario) as sub:
        script = generate(scenario)
        assert f'ALTER SUBSCRIPTION "{sub}" DISABLE;' in script.freeze
        assert psql(scenario, script.freeze_text(), tmp_path, "freeze.sql").returncode == 0
        wait_for(lambda: not_passing(scenario.checks()) == {}, "the apply worker to exit")
        assert psql(scenario, script.rollback_text(), tmp_path, "rollback.sql").returncode == 0
        with scenario.connect() as conn:
            assert conn.execute("SELECT subenabled FROM pg_subscription WHERE subname = %s", (sub,)).fetchone() == (True,)


def test_the_freeze_runs_only_on_the_database_it_was_read_from(scenario: Scenario, tmp_path: Path) -> None:
    script = generate(scenario)
    other = f"{scenario.database}_other"
    with scenario.connect() as conn:
        conn.execute(f"CREATE DATABASE {other} STRATEGY WAL_LOG")
    try:
        ran = psql(scenario, script.freeze_text(), tmp_path, "freeze.sql", database=other)
    finally:
        with scenario.connect() as conn:
            conn.execute(f"DROP DATABASE {other}")
    assert ran.returncode != 0
    assert f"this script was generated for database {scenario.database}, not {other}" in ran.stderr
    with scenario.connect(scenario.app):  # nothing was applied
        pass


def test_the_header_names_the_database_read_the_time_and_the_roles(scenario: Scenario) -> None:
    script = generate(scenario)
    assert script.database == scenario.database
    assert abs(script.read_at - datetime.now(UTC)) < timedelta(minutes=1)
    header = script.freeze_text().splitlines()[:2]
    assert header[0].startswith(f"-- write freeze for database {scenario.database}, read from the server at ")
    assert header[0].endswith(" UTC as postgres")
    assert header[1] == f"-- app roles: {scenario.app}; DMS users (kept): {scenario.dms}"
    assert script.rollback_text().startswith(f"-- rollback of the write freeze for database {scenario.database}")
    assert "psql -v ON_ERROR_STOP=1" in script.freeze_text()


def test_refuses_dms_users_superusers_unknown_roles_and_itself(scenario: Scenario) -> None:
    scenario.run("CREATE ROLE {p}_su LOGIN SUPERUSER")
    cases = {
        scenario.dms: "is a DMS user",
        scenario.role("su"): "is a superuser",
        scenario.role("ghost"): "no such role on the source",
        "postgres": "is a superuser",
    }
    for role, reason in cases.items():
        with pytest.raises(FreezeRefusedError, match=reason):
            generate(scenario, scenario.app, role)
    scenario.run("CREATE ROLE {p}_operator LOGIN IN ROLE pg_read_all_stats")
    with psycopg.connect(scenario.dsn(scenario.role("operator")), autocommit=True) as conn, pytest.raises(
        FreezeRefusedError, match="the role reading the source"
    ):  # fmt: skip
        freeze_script(conn, scenario.tables(conn), app_roles=[scenario.role("operator")], dms_users=[scenario.dms])


def test_other_superusers_are_printed_commented_unless_asked(scenario: Scenario, tmp_path: Path) -> None:
    su = scenario.role("su")
    scenario.run("CREATE ROLE {p}_su LOGIN SUPERUSER")
    script = generate(scenario)
    assert f'-- ALTER ROLE "{su}" NOLOGIN;' in script.freeze
    assert any("connection limits do not apply to superusers" in line for line in script.freeze)
    assert f'ALTER ROLE "{su}" NOLOGIN;' not in script.freeze
    assert psql(scenario, script.freeze_text(), tmp_path, "freeze.sql").returncode == 0
    assert scenario.checks()[SESSIONS].status is Status.PASS
    with scenario.connect(su):
        pass

    script = generate(scenario, freeze_superusers=True)
    assert f'ALTER ROLE "{su}" NOLOGIN;' in script.freeze
    assert psql(scenario, script.freeze_text(), tmp_path, "freeze.sql").returncode == 0
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        scenario.connect(su)
    assert not_passing(scenario.checks()) == {}
    assert psql(scenario, script.rollback_text(), tmp_path, "rollback.sql").returncode == 0
    with scenario.connect(su):
        pass


def test_what_the_operator_must_decide_is_listed(scenario: Scenario) -> None:
    scenario.run("GRANT INSERT ON public.ledger TO {p}_app; ALTER TABLE public.ledger OWNER TO {p}_app")
    with scenario.connect(scenario.app) as app:
        app.execute("BEGIN; INSERT INTO public.ledger VALUES (1, 'x'); PREPARE TRANSACTION 'it''s pending'")
    text = generate(scenario).freeze_text()
    assert "--   COMMIT PREPARED 'it''s pending';  or  ROLLBACK PREPARED 'it''s pending';" in text
    assert f"public.ledger ({scenario.app})" in text


def test_names_from_the_catalog_cannot_break_out_of_a_comment(scenario: Scenario, tmp_path: Path) -> None:
    """A prepared transaction's gid and an app role's table name are the app's to choose, and the freeze file is run
    by a superuser: a newline in them must not end the comment that quotes them."""
    injected = "DROP TABLE public.accounts; --"
    scenario.run("GRANT CREATE ON SCHEMA other, public TO {p}_app; GRANT INSERT ON public.ledger TO {p}_app")
    with scenario.connect(scenario.app) as app:
        app.execute(sql.SQL("CREATE TABLE public.{} (id int)").format(sql.Identifier(f"x\n{injected}")))
        app.execute("BEGIN; INSERT INTO public.ledger VALUES (1, 'x')")
        app.execute(sql.SQL("PREPARE TRANSACTION {}").format(sql.Literal(f"gid\n{injected}")))
    script = generate(scenario)
    assert not [line for line in script.freeze_text().splitlines() if line.startswith("DROP")]
    assert "gid\\x0aDROP TABLE" in script.freeze_text()
    assert psql(scenario, script.freeze_text(), tmp_path, "freeze.sql").returncode == 0
    with scenario.connect() as conn:
        assert conn.execute("SELECT to_regclass('public.accounts') IS NOT NULL").fetchone() == (True,)
