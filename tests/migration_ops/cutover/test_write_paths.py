"""Every write path of issue #23 (boxes 1-7) on a real PostgreSQL 15: the write lands while the path is open and the
check FAILs; once the path is closed the write is refused and the check PASSes.

Each test starts from `scenario` (conftest), where every check passes; `{p}` in SQL is the test's role prefix.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from migration_ops.cutover import write_paths
from migration_ops.cutover.write_paths import backend_findings
from migration_ops.cutover.write_paths_report import (
    BACKENDS,
    CHECK_NAMES,
    COLUMN_PRIVILEGES,
    CREATEROLE,
    DEFINER_FUNCTIONS,
    FOREIGN_KEYS,
    PARENT_TABLES,
    PREPARED,
    RULES,
    SESSIONS,
    SUBSCRIPTIONS,
    SUPERUSERS,
    TRIGGERS,
    VIEWS,
    WRITE_PRIVILEGES,
)
from migration_ops.results import Status
from tests.migration_ops.cutover.conftest import Scenario, not_passing, subscription, wait_for

pytestmark = pytest.mark.postgres


def assert_only(scenario: Scenario, *names: str, **kwargs: object) -> dict[str, str]:
    """The checks now: exactly `names` do not pass. Returns their evidence."""
    found = not_passing(scenario.checks(**kwargs))  # type: ignore[arg-type]
    assert set(found) == set(names), found
    return found


def evidence_of(scenario: Scenario, check: str) -> str:
    """The checks now: `check` alone does not pass. Returns its evidence."""
    return assert_only(scenario, check)[check]


def count(scenario: Scenario, table: str) -> int:
    with scenario.connect() as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else -1


def test_the_plain_source_passes_every_check_quickly(scenario: Scenario) -> None:
    started = time.monotonic()
    results = scenario.checks()
    elapsed = time.monotonic() - started
    assert list(results) == list(CHECK_NAMES)
    assert not_passing(results) == {}
    assert elapsed < 2, f"{len(results)} checks took {elapsed:.2f} s"
    assert "the DMS users " + scenario.dms in results[WRITE_PRIVILEGES].evidence


# Box 1: column privileges


def test_column_update_grant_is_a_write_path_has_table_privilege_misses(scenario: Scenario) -> None:
    scenario.run("GRANT UPDATE (balance) ON public.accounts TO {p}_app")
    with scenario.connect(scenario.app) as app:
        assert app.execute("SELECT has_table_privilege('public.accounts', 'UPDATE')").fetchone() == (False,)
        app.execute("UPDATE public.accounts SET balance = 0 WHERE id = 1")
    found = assert_only(scenario, COLUMN_PRIVILEGES)
    assert f"{scenario.app} can write columns balance of public.accounts" in found[COLUMN_PRIVILEGES]

    scenario.run("REVOKE UPDATE (balance) ON public.accounts FROM {p}_app")
    assert "permission denied" in scenario.refused("UPDATE public.accounts SET balance = 1", scenario.app)
    assert_only(scenario)


def test_column_insert_grant_through_a_noinherit_chain(scenario: Scenario) -> None:
    scenario.run("""
        CREATE ROLE {p}_colwriter NOLOGIN;
        GRANT INSERT (id, line) ON public.ledger TO {p}_colwriter;
        ALTER ROLE {p}_app NOINHERIT;
        GRANT {p}_colwriter TO {p}_app;
    """)
    with scenario.connect(scenario.app) as app:
        app.execute(f"SET ROLE {scenario.role('colwriter')}")
        app.execute("INSERT INTO public.ledger (id, line) VALUES (1, 'through the chain')")
    found = assert_only(scenario, COLUMN_PRIVILEGES)
    assert f"columns id, line of public.ledger as {scenario.role('colwriter')}" in found[COLUMN_PRIVILEGES]

    scenario.run("REVOKE {p}_colwriter FROM {p}_app")
    assert_only(scenario)


def test_a_table_revoke_takes_column_grants_of_the_same_grantor_only(scenario: Scenario) -> None:
    """PostgreSQL 15 behaviour the freeze relies on: REVOKE on the table also revokes the column grants, but only the
    ones the revoking grantor made (the owner's, when a superuser revokes); a delegate's column grant survives."""
    scenario.run("""
        CREATE ROLE {p}_delegate NOLOGIN;
        GRANT UPDATE (balance) ON public.accounts TO {p}_app;
        GRANT UPDATE (note) ON public.accounts TO {p}_delegate WITH GRANT OPTION;
        SET ROLE {p}_delegate;
        GRANT UPDATE (note) ON public.accounts TO {p}_app;
        RESET ROLE;
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public.accounts FROM {p}_app;
    """)
    with scenario.connect() as conn:
        acls = dict(conn.execute(
            "SELECT attname::text, attacl::text FROM pg_attribute WHERE attrelid = 'public.accounts'::regclass"
            " AND attacl IS NOT NULL ORDER BY 1").fetchall())  # fmt: skip
    assert "balance" not in acls
    assert f"{scenario.app}=w/{scenario.role('delegate')}" in acls["note"]
    found = assert_only(scenario, COLUMN_PRIVILEGES)
    assert "columns note of public.accounts" in found[COLUMN_PRIVILEGES]


# Box 2: SECURITY DEFINER functions, triggers and rules outside the scope

CREDIT_SQL = """
CREATE FUNCTION public.credit(account int, amount numeric) RETURNS void LANGUAGE sql SECURITY DEFINER
    AS 'UPDATE public.accounts SET balance = balance + amount WHERE id = account';
ALTER FUNCTION public.credit(int, numeric) OWNER TO {p}_owner;
"""


def test_definer_function_executable_through_public(scenario: Scenario) -> None:
    scenario.run(CREDIT_SQL)
    scenario.run("SELECT public.credit(1, 5)", scenario.app)
    found = assert_only(scenario, DEFINER_FUNCTIONS)
    evidence = found[DEFINER_FUNCTIONS]
    assert f"public.credit(account integer, amount numeric) runs as {scenario.owner}" in evidence
    assert f"executable by {scenario.app} (EXECUTE granted to PUBLIC)" in evidence

    scenario.run("REVOKE EXECUTE ON FUNCTION public.credit(int, numeric) FROM PUBLIC")
    assert "permission denied" in scenario.refused("SELECT public.credit(1, 5)", scenario.app)
    assert_only(scenario)


def test_definer_function_of_a_superuser_or_a_createrole_owner(scenario: Scenario) -> None:
    scenario.run("""
        CREATE FUNCTION other.anything() RETURNS void LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
        CREATE ROLE {p}_admin NOLOGIN CREATEROLE;
        CREATE FUNCTION other.grant_me() RETURNS void LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
        ALTER FUNCTION other.grant_me() OWNER TO {p}_admin;
    """)
    evidence = evidence_of(scenario, DEFINER_FUNCTIONS)
    assert "other.anything() runs as postgres, who is a superuser" in evidence
    assert f"other.grant_me() runs as {scenario.role('admin')}, who has CREATEROLE" in evidence

    scenario.run("ALTER FUNCTION other.anything() SECURITY INVOKER; ALTER FUNCTION other.grant_me() SECURITY INVOKER")
    assert_only(scenario)


def test_definer_function_whose_owner_cannot_write_is_no_path(scenario: Scenario) -> None:
    scenario.run("CREATE ROLE {p}_nobody NOLOGIN")
    scenario.run(CREDIT_SQL.replace("OWNER TO {p}_owner", "OWNER TO {p}_nobody"))
    assert "permission denied" in scenario.refused("SELECT public.credit(1, 5)", scenario.app)
    assert_only(scenario)


def test_definer_trigger_on_a_table_outside_the_scope(scenario: Scenario) -> None:
    scenario.run("""
        CREATE FUNCTION other.copy_to_ledger() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
            AS $$ BEGIN INSERT INTO public.ledger VALUES (NEW.id, NEW.line); RETURN NEW; END $$;
        ALTER FUNCTION other.copy_to_ledger() OWNER TO {p}_owner;
        REVOKE EXECUTE ON FUNCTION other.copy_to_ledger() FROM PUBLIC;
        CREATE TRIGGER copy_to_ledger AFTER INSERT ON other.audit FOR EACH ROW EXECUTE FUNCTION other.copy_to_ledger();
    """)
    # EXECUTE is not checked when a trigger fires
    scenario.run("INSERT INTO other.audit VALUES (7, 'lands in the ledger')", scenario.app)
    assert count(scenario, "public.ledger") == 1
    evidence = evidence_of(scenario, TRIGGERS)
    assert f"trigger copy_to_ledger on other.audit runs other.copy_to_ledger() as {scenario.owner}" in evidence
    assert f"fired by {scenario.app}" in evidence

    scenario.run("REVOKE INSERT, UPDATE, DELETE ON other.audit FROM {p}_app")
    assert_only(scenario)


def test_event_trigger_with_a_definer_function(scenario: Scenario) -> None:
    scenario.run("""
        CREATE FUNCTION other.on_ddl() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER
            AS $$ BEGIN INSERT INTO public.ledger VALUES (0, tg_tag); END $$;
        CREATE EVENT TRIGGER {p}_on_ddl ON ddl_command_end EXECUTE FUNCTION other.on_ddl();
        GRANT CREATE ON SCHEMA other TO {p}_app;
    """)
    scenario.run("CREATE TABLE other.scratch (id int)", scenario.app)
    assert count(scenario, "public.ledger WHERE line = 'CREATE TABLE'") == 1
    evidence = evidence_of(scenario, TRIGGERS)
    assert f"event trigger {scenario.role('on_ddl')} (ddl_command_end) runs other.on_ddl() as postgres" in evidence

    scenario.run("ALTER EVENT TRIGGER {p}_on_ddl DISABLE")
    assert_only(scenario)


def test_rule_on_a_table_outside_the_scope_runs_as_its_owner(scenario: Scenario) -> None:
    scenario.run("CREATE RULE to_ledger AS ON INSERT TO other.audit DO ALSO INSERT INTO public.ledger VALUES (NEW.id, NEW.line)")
    scenario.run("INSERT INTO other.audit VALUES (8, 'through the rule')", scenario.app)
    assert count(scenario, "public.ledger") == 1
    evidence = evidence_of(scenario, RULES)
    assert f"other.audit (rule to_ledger writes public.ledger) is writable by {scenario.app}" in evidence

    scenario.run("REVOKE INSERT ON other.audit FROM {p}_app")
    assert_only(scenario)


def test_rule_whose_table_owner_cannot_write_is_no_path(scenario: Scenario) -> None:
    scenario.run("""
        CREATE ROLE {p}_other_owner NOLOGIN;
        CREATE TABLE other.notes (id int, line text);
        ALTER TABLE other.notes OWNER TO {p}_other_owner;
        GRANT INSERT ON other.notes TO {p}_app;
        CREATE RULE to_ledger AS ON INSERT TO other.notes DO ALSO INSERT INTO public.ledger VALUES (NEW.id, NEW.line);
    """)
    assert "permission denied for table ledger" in scenario.refused("INSERT INTO other.notes VALUES (1, 'x')", scenario.app)
    assert_only(scenario)


# Box 3: views


def test_updatable_view_writes_as_its_owner(scenario: Scenario) -> None:
    scenario.run("""
        CREATE VIEW other.rich AS SELECT id, balance FROM public.accounts WHERE balance > 50;
        ALTER VIEW other.rich OWNER TO {p}_owner;
        CREATE VIEW other.richest AS SELECT id, balance FROM other.rich;
        GRANT SELECT, UPDATE ON other.richest TO {p}_app;
    """)
    scenario.run("UPDATE other.richest SET balance = balance - 1", scenario.app)
    evidence = evidence_of(scenario, VIEWS)
    assert f"other.richest (view on other.rich) is writable by {scenario.app}" in evidence

    scenario.run("REVOKE UPDATE ON other.richest FROM {p}_app")
    assert_only(scenario)


def test_security_invoker_view_and_a_read_only_view_are_no_path(scenario: Scenario) -> None:
    scenario.run("""
        CREATE VIEW other.mine WITH (security_invoker) AS SELECT id, balance FROM public.accounts;
        CREATE VIEW other.totals AS SELECT sum(balance) AS total FROM public.accounts;
        GRANT INSERT, UPDATE, DELETE ON other.mine, other.totals TO {p}_app;
    """)
    assert "permission denied for table accounts" in scenario.refused("DELETE FROM other.mine", scenario.app)
    assert "cannot insert into view" in scenario.refused("INSERT INTO other.totals VALUES (1)", scenario.app)
    assert_only(scenario)


def test_rule_on_a_security_invoker_view_still_runs_as_the_owner(scenario: Scenario) -> None:
    scenario.run("""
        CREATE VIEW other.entries WITH (security_invoker) AS SELECT count(*) AS n FROM public.ledger;
        CREATE RULE add_entry AS ON INSERT TO other.entries DO INSTEAD INSERT INTO public.ledger VALUES (NEW.n, 'rule');
        GRANT INSERT ON other.entries TO {p}_app;
    """)
    scenario.run("INSERT INTO other.entries VALUES (3)", scenario.app)
    evidence = evidence_of(scenario, VIEWS)
    assert "other.entries (rule add_entry writes public.ledger)" in evidence

    scenario.run("DROP RULE add_entry ON other.entries")
    assert_only(scenario)


def test_instead_of_trigger_with_a_definer_function(scenario: Scenario) -> None:
    scenario.run("""
        CREATE VIEW other.totals AS SELECT count(*) AS n FROM public.ledger;
        CREATE FUNCTION other.add_entry() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
            AS $$ BEGIN INSERT INTO public.ledger VALUES (NEW.n, 'instead'); RETURN NEW; END $$;
        CREATE TRIGGER add_entry INSTEAD OF INSERT ON other.totals FOR EACH ROW EXECUTE FUNCTION other.add_entry();
        GRANT INSERT ON other.totals TO {p}_app;
    """)
    scenario.run("INSERT INTO other.totals VALUES (4)", scenario.app)
    evidence = evidence_of(scenario, VIEWS)
    assert "trigger add_entry on other.totals runs other.add_entry() as postgres, who is a superuser" in evidence

    scenario.run("ALTER FUNCTION other.add_entry() SECURITY INVOKER")  # now it runs as the app, which may not write
    assert "permission denied for table ledger" in scenario.refused("INSERT INTO other.totals VALUES (5)", scenario.app)
    assert_only(scenario)


# Relations whose writes are checked on themselves only: parents and cascading foreign keys


def test_partition_parent_outside_the_scope(scenario: Scenario) -> None:
    scenario.run("""
        CREATE TABLE other.events (id int, at date) PARTITION BY RANGE (at);
        CREATE TABLE public.events_2024 PARTITION OF other.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        GRANT INSERT, SELECT ON other.events TO {p}_app;
        GRANT USAGE ON SCHEMA other TO {p}_app;
    """)
    scenario.run("INSERT INTO other.events VALUES (1, '2024-06-01')", scenario.app)
    assert count(scenario, "public.events_2024") == 1
    evidence = evidence_of(scenario, PARENT_TABLES)
    assert f"other.events (parent of public.events_2024) is writable by {scenario.app}" in evidence

    scenario.run("REVOKE INSERT ON other.events FROM {p}_app")
    assert_only(scenario)


def test_cascading_foreign_key_from_a_table_outside_the_scope(scenario: Scenario) -> None:
    scenario.run("""
        CREATE TABLE other.regions (id int PRIMARY KEY);
        INSERT INTO other.regions VALUES (1);
        CREATE TABLE public.stores (id int, region int REFERENCES other.regions ON DELETE CASCADE);
        ALTER TABLE public.stores OWNER TO {p}_owner;
        INSERT INTO public.stores VALUES (1, 1);
        GRANT SELECT, DELETE ON other.regions TO {p}_app;
    """)
    scenario.run("DELETE FROM other.regions", scenario.app)
    assert count(scenario, "public.stores") == 0
    evidence = evidence_of(scenario, FOREIGN_KEYS)
    assert "other.regions (foreign key stores_region_fkey of public.stores cascades from it)" in evidence

    scenario.run("REVOKE DELETE ON other.regions FROM {p}_app")
    assert_only(scenario)


# Box 4: roles that can give themselves write rights


def test_pg_has_role_member_follows_noinherit_and_admin(scenario: Scenario) -> None:
    """PostgreSQL 15: has_table_privilege sees neither a NOINHERIT chain nor a membership held for its ADMIN OPTION,
    pg_has_role(..., 'MEMBER') sees both, and SET ROLE along either writes."""
    scenario.run("""
        CREATE ROLE {p}_mid NOLOGIN NOINHERIT;
        CREATE ROLE {p}_writer NOLOGIN;
        GRANT INSERT ON public.ledger TO {p}_writer;
        ALTER ROLE {p}_app NOINHERIT;
        GRANT {p}_mid TO {p}_app;
        GRANT {p}_owner TO {p}_mid;
        CREATE ROLE {p}_admin LOGIN NOINHERIT;
        GRANT {p}_writer TO {p}_admin WITH ADMIN OPTION;
    """)
    with scenario.connect() as conn:
        row = conn.execute(
            "SELECT has_table_privilege(%(app)s, 'public.accounts', 'UPDATE'), pg_has_role(%(app)s, %(owner)s, 'USAGE'),"
            " pg_has_role(%(app)s, %(owner)s, 'MEMBER'), has_table_privilege(%(admin)s, 'public.ledger', 'INSERT'),"
            " pg_has_role(%(admin)s, %(writer)s, 'MEMBER')",
            {"app": scenario.app, "owner": scenario.owner, "admin": scenario.role("admin"), "writer": scenario.role("writer")},
        ).fetchone()
    assert row == (False, False, True, False, True)
    with scenario.connect(scenario.app) as app:
        app.execute(f"SET ROLE {scenario.owner}")
        app.execute("UPDATE public.accounts SET balance = 0")
    with scenario.connect(scenario.role("admin")) as admin:
        admin.execute(f"SET ROLE {scenario.role('writer')}")
        admin.execute("INSERT INTO public.ledger VALUES (1, 'admin option')")
    evidence = evidence_of(scenario, WRITE_PRIVILEGES)
    assert f"{scenario.app} owns public.accounts as {scenario.owner}, owns public.ledger as {scenario.owner}" in evidence
    assert f"{scenario.role('admin')} can write public.ledger as {scenario.role('writer')}" in evidence

    scenario.run("REVOKE {p}_mid FROM {p}_app; ALTER ROLE {p}_admin NOLOGIN")
    assert_only(scenario)


def test_pg_write_all_data_member_inherit_or_not(scenario: Scenario) -> None:
    scenario.run("""
        GRANT pg_write_all_data TO {p}_app;
        CREATE ROLE {p}_batch LOGIN NOINHERIT IN ROLE pg_write_all_data;
    """)
    with scenario.connect(scenario.role("batch")) as batch:
        batch.execute("SET ROLE pg_write_all_data")
        batch.execute("INSERT INTO public.ledger VALUES (2, 'all data')")
    evidence = evidence_of(scenario, WRITE_PRIVILEGES)
    assert f"{scenario.app} (member of pg_write_all_data) can write public.accounts" in evidence
    assert f"{scenario.role('batch')} (member of pg_write_all_data) can write public.accounts as pg_write_all_data" in evidence

    scenario.run("REVOKE pg_write_all_data FROM {p}_app, {p}_batch")
    assert_only(scenario)


def test_createrole_login_grants_itself_an_owner_or_pg_write_all_data(scenario: Scenario) -> None:
    scenario.run("ALTER ROLE {p}_app CREATEROLE")
    evidence = evidence_of(scenario, CREATEROLE)
    assert f"{scenario.app} has CREATEROLE" in evidence
    with scenario.connect(scenario.app) as app:  # PostgreSQL 15: any non-superuser role, owners included
        app.execute(f"GRANT pg_write_all_data, {scenario.owner} TO {scenario.app}")
        app.execute("INSERT INTO public.ledger VALUES (3, 'self-granted')")
        app.execute(f"ALTER ROLE {scenario.owner} LOGIN")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("ALTER ROLE postgres NOLOGIN")

    scenario.run("""
        REVOKE pg_write_all_data, {p}_owner FROM {p}_app;
        ALTER ROLE {p}_owner NOLOGIN;
        ALTER ROLE {p}_app NOCREATEROLE;
    """)
    assert_only(scenario)


def test_createrole_reached_by_set_role(scenario: Scenario) -> None:
    scenario.run("CREATE ROLE {p}_admins NOLOGIN CREATEROLE; GRANT {p}_admins TO {p}_app")
    evidence = evidence_of(scenario, CREATEROLE)
    assert f"{scenario.app} as {scenario.role('admins')} has CREATEROLE" in evidence

    scenario.run("REVOKE {p}_admins FROM {p}_app")
    assert_only(scenario)


# Box 5: subscriptions and backends that are not client sessions


def test_enabled_subscription_and_its_apply_worker(scenario: Scenario) -> None:
    with subscription(scenario) as sub:
        wait_for(lambda: "logical replication worker" in str(scenario.checks()[BACKENDS].evidence), "the apply worker")
        found = assert_only(scenario, SUBSCRIPTIONS, BACKENDS)
        assert f"{sub} (owner postgres, publications feed) is enabled" in found[SUBSCRIPTIONS]
        assert "logical replication worker: applies a subscription's changes" in found[BACKENDS]

        scenario.run(f"ALTER SUBSCRIPTION {sub} DISABLE")
        wait_for(lambda: scenario.checks()[BACKENDS].status is Status.PASS, "the apply worker to exit")
        assert_only(scenario)
        assert f"disabled: {sub}" in scenario.checks()[SUBSCRIPTIONS].evidence


def _parallel_sleep(scenario: Scenario, user: str, seconds: float, pids: list[int]) -> None:
    with scenario.connect(user) as conn:
        pids.append(conn.info.backend_pid)
        conn.execute("SET force_parallel_mode = on; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0")
        conn.execute("SET max_parallel_workers_per_gather = 1")
        conn.execute(f"SELECT pg_sleep({seconds})")


def _with_parallel_worker(scenario: Scenario, user: str) -> dict[str, str]:
    """The checks while `user` runs a query in a parallel worker."""
    pids: list[int] = []
    worker = threading.Thread(target=_parallel_sleep, args=(scenario, user, 1.2, pids))
    worker.start()
    try:
        wait_for(lambda: "parallel worker" in _backend_types(scenario), "the parallel worker")
        return not_passing(scenario.checks(settle=False))
    finally:
        worker.join()


def _backend_types(scenario: Scenario) -> str:
    with scenario.connect() as conn:
        return str(
            conn.execute("SELECT array_agg(backend_type) FROM pg_stat_activity WHERE datname = current_database()").fetchone()
        )


def test_parallel_worker_is_as_good_as_its_leader(scenario: Scenario) -> None:
    found = _with_parallel_worker(scenario, scenario.app)
    assert set(found) == {SESSIONS, BACKENDS}, found
    assert "parallel worker of pid" in found[BACKENDS]
    assert "neither a DMS user's session nor this one" in found[BACKENDS]

    assert _with_parallel_worker(scenario, scenario.dms) == {}


def test_unknown_backend_types_cannot_be_judged() -> None:
    rows = [
        (1, "autovacuum worker", "", "wp", None, False),
        (2, "pg_cron launcher", "postgres", "wp", None, False),
        (3, "parallel worker", "dms", "wp", 10, True),
        (4, "parallel worker", "app", "wp", 11, False),
        (5, "logical replication worker", "postgres", "wp", None, False),
        (6, "", "", "", None, False),
    ]
    found = backend_findings(rows)
    assert found == [
        "pid 2 (postgres, wp) pg_cron launcher: unknown backend type, cannot tell whether it writes",
        "pid 4 (app, wp) parallel worker of pid 11, which is neither a DMS user's session nor this one",
        "pid 5 (postgres, wp) logical replication worker: applies a subscription's changes",
        "pid 6 (no user, no database) backend type hidden from this role (it needs pg_read_all_stats): cannot tell"
        " whether it writes",
    ]
    assert all(reason for reason in write_paths.HARMLESS_BACKENDS.values())


def test_sessions_of_other_roles_and_their_walsenders(scenario: Scenario) -> None:
    with scenario.connect(scenario.app), scenario.connect(scenario.dms):
        found = assert_only(scenario, SESSIONS, settle=False)
    assert f"{scenario.app}@127.0.0.1" in found[SESSIONS]
    assert scenario.dms not in found[SESSIONS]
    scenario.run("ALTER ROLE {p}_app REPLICATION")
    with psycopg.connect(scenario.dsn(scenario.app), autocommit=True, replication="database"):
        assert "walsender" in assert_only(scenario, SESSIONS, settle=False)[SESSIONS]
    wait_for(lambda: scenario.checks()[SESSIONS].status is Status.PASS, "the sessions to end")


# Box 6: prepared transactions


def test_prepared_transaction_commits_after_the_freeze(scenario: Scenario) -> None:
    scenario.run("GRANT INSERT ON public.ledger TO {p}_app")
    scenario.run("BEGIN; INSERT INTO public.ledger VALUES (9, 'prepared'); PREPARE TRANSACTION 'late-write'", scenario.app)
    scenario.run("REVOKE INSERT ON public.ledger FROM {p}_app; ALTER ROLE {p}_app NOLOGIN")
    evidence = evidence_of(scenario, PREPARED)
    assert f"'late-write' (owner {scenario.app}, prepared 20" in evidence

    scenario.run("COMMIT PREPARED 'late-write'")  # the frozen role's row lands anyway
    assert count(scenario, "public.ledger") == 1
    assert_only(scenario)


# Box 7: other superusers


def test_other_superuser_fails_force_warns_never_passes(scenario: Scenario) -> None:
    su = scenario.role("su")
    scenario.run("CREATE ROLE {p}_su LOGIN SUPERUSER")
    assert su in assert_only(scenario, SUPERUSERS)[SUPERUSERS]
    forced = scenario.checks(force_superusers=True)[SUPERUSERS]
    assert forced.status is Status.WARN
    assert "(the stop was forced)" in forced.evidence

    scenario.run(f"ALTER ROLE {su} CONNECTION LIMIT 0; ALTER DATABASE {scenario.database} CONNECTION LIMIT 0")
    with scenario.connect(su) as conn:  # neither limit holds a superuser back
        assert conn.execute("SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user").fetchone() == (0,)
    with pytest.raises(psycopg.OperationalError, match="too many connections"):
        scenario.connect(scenario.app)
    scenario.run(f"ALTER DATABASE {scenario.database} CONNECTION LIMIT -1")
    assert_only(scenario, SUPERUSERS)

    scenario.run("ALTER ROLE {p}_su NOLOGIN")
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        scenario.connect(su)
    assert_only(scenario)
    assert_only(scenario, force_superusers=True)


def test_rds_admin_role_is_named_as_what_it_is(scenario: Scenario) -> None:
    scenario.run("CREATE ROLE rdsadmin LOGIN SUPERUSER")
    try:
        evidence = evidence_of(scenario, SUPERUSERS)
    finally:
        scenario.run("DROP ROLE rdsadmin")
    assert "rdsadmin (on RDS and Aurora AWS's own administration role: it cannot be frozen; stop with --force)" in evidence


# Catalogs the check cannot read


def test_a_catalog_it_cannot_read_fails_with_the_reason(scenario: Scenario) -> None:
    scenario.run("""
        CREATE ROLE {p}_operator LOGIN IN ROLE pg_read_all_stats;
        REVOKE SELECT ON pg_catalog.pg_rewrite FROM PUBLIC;
        REVOKE SELECT ON pg_catalog.pg_prepared_xacts FROM PUBLIC;
    """)
    results = scenario.checks(scenario.role("operator"))
    for name in (WRITE_PRIVILEGES, COLUMN_PRIVILEGES, VIEWS, RULES, PARENT_TABLES, FOREIGN_KEYS, DEFINER_FUNCTIONS, TRIGGERS):
        assert results[name].status is Status.FAIL, name
        assert "permission denied for table pg_rewrite" in results[name].evidence
    assert results[PREPARED].status is Status.FAIL
    assert "permission denied for view pg_prepared_xacts" in results[PREPARED].evidence
    assert results[CREATEROLE].status is Status.PASS
    assert results[SUPERUSERS].status is Status.FAIL  # postgres is another superuser for this operator


def test_backends_hidden_from_the_checking_role_cannot_be_judged(scenario: Scenario) -> None:
    scenario.run("CREATE ROLE {p}_viewer LOGIN")  # without pg_read_all_stats other backends' types read as NULL
    results = scenario.checks(scenario.role("viewer"))
    assert results[BACKENDS].status is Status.FAIL
    assert "backend type hidden from this role (it needs pg_read_all_stats)" in results[BACKENDS].evidence

    scenario.run("GRANT pg_read_all_stats TO {p}_viewer")
    assert scenario.checks(scenario.role("viewer"))[BACKENDS].status is Status.PASS
