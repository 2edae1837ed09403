"""`cutover target-user` on a real PostgreSQL 15: the DMS target user can do what DMS does there, and nothing more.

Two "Aurora" databases on one throw-away server:
  aurora      the master is a real superuser (as on a self-managed target): the parameter grant works
  aurora_rds  the master is LOGIN CREATEROLE and owns the database and its tables, no superuser (as Aurora's
              rds_superuser master is not): GRANT SET ON PARAMETER is refused, and the command says so
The dedicated users log in with SCRAM passwords (a pg_hba line of their own; everyone else is trusted), so a wrong
password fails as it would on Aurora. The server logs every statement: the password must not be in the log.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from moto import mock_aws

from config import EnvironmentConfig
from config.model import TableSelection
from migration_ops import cli
from migration_ops.cutover.subcommand import Subcommand
from migration_ops.cutover.subcommands import target_user as target_user_subcommand
from migration_ops.cutover.target_user import (
    TargetUserError,
    TargetUserOptions,
    create_target_user,
    login_check,
    target_user,
    verify_target_user,
)
from migration_ops.cutover.target_user_sql import ROLE_COMMENT, Table
from migration_ops.errors import OpsError
from migration_ops.results import CheckResult, Status
from plumbing.exit_codes import ExitCode
from tests.config.helpers import copy_example_ca, dev_data, write_toml
from tests.migration_ops.pg_server import PgServer, running_server

pytestmark = pytest.mark.postgres

DMS_USER = "dms_target"  # in `aurora`, made by create_target_user directly
RDS_DMS_USER = "dms_rds"  # in `aurora_rds`, made through the command's core (target_user)
CLI_DMS_USER = "dms_cli"  # in `aurora`, made through the subcommand as command.py runs it
RDS_MASTER = "app_master"
CONTROL = "dms_control"
PASSWORD = "Fi3rst-Generated-Password-With-40-Chars!"
SECOND_PASSWORD = "Se2cond-Generated-Password-40-Characters"
MASTER_PASSWORD = "Master-Password-Never-Printed-0123456789"
SCRAM_USERS = (DMS_USER, RDS_DMS_USER, CLI_DMS_USER, "dms_foreign")
SCHEMA_SQL = """
CREATE SCHEMA sales;
CREATE SCHEMA other;
CREATE TABLE public.orders (id int PRIMARY KEY, note text);
CREATE TABLE public.order_lines (id int PRIMARY KEY, order_id int REFERENCES public.orders (id));
CREATE TABLE public.payroll (id int PRIMARY KEY, amount numeric);
CREATE TABLE sales.items (id int PRIMARY KEY);
CREATE TABLE other.notes (id int PRIMARY KEY);
INSERT INTO public.orders VALUES (1, 'one'), (2, 'two');
"""
MIGRATED = [
    Table(schema="public", name="order_lines"),
    Table(schema="public", name="orders"),
    Table(schema="sales", name="items"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with running_server({"log_statement": "all", "password_encryption": "scram-sha-256"}) as started:
        hba = started.data_dir / "pg_hba.conf"
        scram = "".join(f"host all {user} 127.0.0.1/32 scram-sha-256\n" for user in SCRAM_USERS)
        hba.write_text(scram + hba.read_text())
        with psycopg.connect(started.dsn(), autocommit=True) as admin:
            admin.execute("SELECT pg_reload_conf()")
            admin.execute("CREATE DATABASE aurora")
            admin.execute(f"CREATE ROLE {RDS_MASTER} LOGIN CREATEROLE")
            admin.execute(f"CREATE DATABASE aurora_rds OWNER {RDS_MASTER}")
            # Aurora lets rds_superuser set session_replication_role; a stand-in for the documented way out.
            admin.execute("CREATE ROLE rds_superuser NOLOGIN")
            admin.execute("GRANT SET ON PARAMETER session_replication_role TO rds_superuser")
        with psycopg.connect(started.dsn("aurora"), autocommit=True) as conn:
            conn.execute(SCHEMA_SQL)
        with psycopg.connect(started.dsn("aurora_rds", RDS_MASTER), autocommit=True) as conn:
            conn.execute(SCHEMA_SQL)
        yield started


@pytest.fixture
def master(server: PgServer) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(server.dsn("aurora"), autocommit=True) as conn:
        yield conn


def _login(server: PgServer, database: str, user: str, password: str) -> psycopg.Connection[Any]:
    return psycopg.connect(f"{server.dsn(database, user)}?password={password}", autocommit=True)


def _by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.name: result for result in results}


def _create(master: psycopg.Connection[Any], *, password: str = PASSWORD, tables: list[Table] = MIGRATED) -> list[CheckResult]:
    created = create_target_user(master, username=DMS_USER, password=password, tables=tables, control_schema=CONTROL)
    return created + verify_target_user(master, username=DMS_USER, tables=tables, control_schema=CONTROL)


def test_the_user_can_do_what_dms_does_on_the_migrated_tables_and_nothing_else(
    server: PgServer, master: psycopg.Connection[Any]
) -> None:
    results = _by_name(_create(master))
    assert {name: result.status for name, result in results.items()} == {
        "target-user.role": Status.PASS,
        "target-user.grants": Status.PASS,
        "target-user.replication-role": Status.PASS,
        "target-user.attributes": Status.PASS,
        "target-user.privileges": Status.PASS,
    }, results
    assert results["target-user.role"].evidence.startswith(f"created {DMS_USER}: LOGIN")
    grants = results["target-user.grants"].evidence
    assert "USAGE on public, sales; SELECT, INSERT, UPDATE, DELETE, TRUNCATE on 3 tables" in grants

    login = login_check(f"{server.dsn('aurora', DMS_USER)}?password={PASSWORD}", username=DMS_USER)
    assert login.status is Status.PASS and "session_replication_role=replica" in login.evidence
    with _login(server, "aurora", DMS_USER, PASSWORD) as dms:
        dms.execute("SET session_replication_role = replica")  # the endpoint's after-connect script
        dms.execute("INSERT INTO public.order_lines VALUES (1, 999)")  # foreign key not checked under replica
        dms.execute("INSERT INTO public.orders VALUES (3, 'three')")
        dms.execute("UPDATE public.orders SET note = 'changed' WHERE id = 1")
        dms.execute("DELETE FROM public.orders WHERE id = 2")
        dms.execute("INSERT INTO sales.items VALUES (1)")
        assert dms.execute("SELECT count(*) FROM public.orders").fetchone() == (2,)
        dms.execute("TRUNCATE public.order_lines, sales.items")
        dms.execute(f"CREATE TABLE {CONTROL}.awsdms_apply_exceptions (task_name varchar(128), error text)")
        dms.execute(f"INSERT INTO {CONTROL}.awsdms_apply_exceptions VALUES ('task', 'error')")
        for refused in (
            "INSERT INTO public.payroll VALUES (1, 100)",  # excluded by the mappings
            "INSERT INTO other.notes VALUES (1)",  # a schema the task does not migrate
            "CREATE TABLE public.made_by_dms (id int)",  # no CREATE on migrated schemas
            "CREATE SCHEMA made_by_dms",  # no CREATE on the database
            "ALTER TABLE public.orders ADD COLUMN extra int",  # not the owner
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                dms.execute(refused)
    role = master.execute(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s",
        (DMS_USER,),
    ).fetchone()
    assert role == (False, False, False, False, False, True)


def test_re_running_is_idempotent_and_sets_the_secrets_new_password(server: PgServer, master: psycopg.Connection[Any]) -> None:
    _create(master)
    again = _by_name(_create(master, password=SECOND_PASSWORD))
    assert all(result.status is Status.PASS for result in again.values()), again
    assert again["target-user.role"].evidence.startswith(f"updated {DMS_USER}: LOGIN")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _login(server, "aurora", DMS_USER, PASSWORD).close()
    with _login(server, "aurora", DMS_USER, SECOND_PASSWORD) as dms:
        dms.execute("SET session_replication_role = replica")
        dms.execute("INSERT INTO public.orders VALUES (10, 'ten')")


def test_grants_on_tables_that_left_the_scope_are_revoked(master: psycopg.Connection[Any]) -> None:
    _create(master)
    narrowed = _by_name(_create(master, tables=[Table(schema="public", name="orders")]))
    assert "revoked from public.order_lines, sales.items, schema sales (no longer in scope)" in (
        narrowed["target-user.grants"].evidence
    )
    held = master.execute(
        "SELECT has_table_privilege(%(u)s, 'public.order_lines', 'INSERT'), has_schema_privilege(%(u)s, 'sales', 'USAGE')",
        {"u": DMS_USER},
    ).fetchone()
    assert held == (False, False)
    _create(master)  # the next tests expect the full scope


def test_a_role_the_command_did_not_create_is_refused_and_left_alone(master: psycopg.Connection[Any]) -> None:
    master.execute("CREATE ROLE dms_foreign LOGIN")
    [refused] = create_target_user(master, username="dms_foreign", password=PASSWORD, tables=MIGRATED, control_schema=CONTROL)
    assert refused.status is Status.FAIL and refused.evidence.startswith("refused: a role dms_foreign exists")
    assert master.execute("SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'dms_foreign'").fetchone() == (True,)
    with pytest.raises(TargetUserError, match="is the user this command connects as"):
        create_target_user(master, username="postgres", password=PASSWORD, tables=MIGRATED, control_schema=CONTROL)


def test_no_tables_yet_warns_with_the_next_step(master: psycopg.Connection[Any]) -> None:
    results = _by_name(_create(master, tables=[]))
    assert results["target-user.grants"].status is Status.WARN
    assert "no table in scope exists on the target yet" in results["target-user.grants"].evidence
    assert "runbook step 5" in results["target-user.grants"].fix
    _create(master)


def test_the_runbooks_drop_removes_the_user_and_its_parameter_privilege(master: psycopg.Connection[Any]) -> None:
    _create(master)
    assert master.execute("SELECT count(*) FROM pg_parameter_acl").fetchone() != (0,)
    master.execute(f"GRANT {DMS_USER} TO CURRENT_USER")  # what a non-superuser master needs for DROP OWNED
    master.execute(f"DROP OWNED BY {DMS_USER}")
    master.execute(f"DROP ROLE {DMS_USER}")
    assert master.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (DMS_USER,)).fetchone() == (0,)
    assert master.execute(f"SELECT count(*) FROM pg_tables WHERE schemaname = '{CONTROL}'").fetchone() == (0,)


# --- the whole command, through the outputs and Secrets Manager ------------------------------------


def _config(base: EnvironmentConfig, **dms: Any) -> EnvironmentConfig:
    scope = {
        "include": (TableSelection(schema_name="public"), TableSelection(schema_name="sales")),
        "exclude": (TableSelection(schema_name="public", table_name="payroll"),),
        "target_username": RDS_DMS_USER,
    }
    return base.model_copy(update={"dms": base.dms.model_copy(update={**scope, **dms})})


def _secret(client: Any, name: str, **values: object) -> str:
    document = {"engine": "postgres", "host": "aurora.cluster-x.eu-west-1.rds.amazonaws.com", "port": 5432, **values}
    return str(client.create_secret(Name=name, SecretString=json.dumps(document))["ARN"])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="eu-west-1")


def _outputs(client: Any, *, password: str = PASSWORD, master: str = RDS_MASTER, username: str = RDS_DMS_USER) -> dict[str, str]:
    return {
        "secret_arn": _secret(client, "credentials", username=master, password=MASTER_PASSWORD, dbname="aurora_rds"),
        "dms_target_secret_arn": _secret(client, "dms-target", username=username, password=password, dbname="aurora_rds"),
    }


@pytest.fixture
def rds_server(server: PgServer, monkeypatch: pytest.MonkeyPatch) -> PgServer:
    """The server, AURORA_DSN naming its database aurora_rds (owned by the RDS-like master, who is no superuser)."""
    monkeypatch.setenv("AURORA_DSN", f"postgresql://127.0.0.1:{server.port}/aurora_rds?sslmode=disable")
    return server


def _run(config: EnvironmentConfig, outputs: dict[str, str], secrets: Any, *, json_output: bool = False) -> int:
    options = TargetUserOptions(environment=cli.EnvironmentOptions(env="dev"), target_dsn_env="AURORA_DSN", json=json_output)
    return cli.run(lambda: target_user(options, config=config, outputs=outputs, secrets=secrets))


def test_a_master_without_superuser_gets_one_clear_refusal_then_the_documented_way_out_works(
    rds_server: PgServer, environments: dict[str, EnvironmentConfig], aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config, outputs = _config(environments["dev"]), _outputs(aws)
    assert _run(config, outputs, aws) == ExitCode.FAILED
    out, err = capsys.readouterr()
    assert err == ""
    refusal = f"GRANT SET ON PARAMETER session_replication_role TO {RDS_DMS_USER} refused"
    assert f"WARN    target-user.replication-role  {refusal}" in out
    [failure] = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert failure.startswith(f"FAIL    target-user.login             {RDS_DMS_USER} cannot run the endpoint's after-connect")
    [fix] = [line for line in out.splitlines() if "fix:" in line]
    assert f"`GRANT rds_superuser TO {RDS_DMS_USER};`" in fix and 'dms.target_user = "master"' in fix
    for passing in ("target-user.role", "target-user.grants", "target-user.attributes", "target-user.privileges"):
        assert f"PASS    {passing}" in out, out

    with psycopg.connect(rds_server.dsn("aurora_rds", RDS_MASTER), autocommit=True) as rds_master:
        rds_master.execute(f"GRANT rds_superuser TO {RDS_DMS_USER}")  # way out 1, as the master user
    assert _run(config, outputs, aws, json_output=True) == ExitCode.OK
    document = json.loads(capsys.readouterr().out)
    statuses = {item["name"]: item["status"] for item in document["results"]}
    assert statuses["target-user.login"] == "pass"
    assert statuses["target-user.attributes"] == "warn"  # a member of rds_superuser: not least privilege, said so

    with psycopg.connect(rds_server.dsn("aurora_rds", RDS_MASTER), autocommit=True) as rds_master:
        for statement in (f"GRANT {RDS_DMS_USER} TO {RDS_MASTER}", f"DROP OWNED BY {RDS_DMS_USER}", f"DROP ROLE {RDS_DMS_USER}"):
            rds_master.execute(statement)  # the runbook's drop, as a master that is no superuser


def test_no_password_reaches_any_output_nor_the_servers_statement_log(
    rds_server: PgServer, environments: dict[str, EnvironmentConfig], aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config, outputs = _config(environments["dev"]), _outputs(aws, password=SECOND_PASSWORD)
    _run(config, outputs, aws)
    _run(config, outputs, aws, json_output=True)
    out, err = capsys.readouterr()
    log = rds_server.log_file.read_text()
    assert "ALTER ROLE" in log or "CREATE ROLE" in log, "the statement log must hold the role statement (as pgAudit would)"
    assert "SCRAM-SHA-256$" in log, "what is logged is the verifier"
    for secret in (PASSWORD, SECOND_PASSWORD, MASTER_PASSWORD):
        assert secret not in out and secret not in err and secret not in log


def test_the_command_refuses_master_mode_and_stops_on_what_it_cannot_read(
    environments: dict[str, EnvironmentConfig], aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    base = environments["dev"]
    assert _run(_config(base, target_user="master"), {}, aws) == ExitCode.FAILED
    assert 'refused: dms.target_user is "master"' in capsys.readouterr().out

    assert _run(_config(base), {"secret_arn": "arn:x"}, aws) == ExitCode.ERROR
    assert "error: cannot read secret arn:x" in capsys.readouterr().err

    outputs = _outputs(aws)
    assert _run(_config(base), {"secret_arn": outputs["secret_arn"]}, aws) == ExitCode.ERROR
    assert capsys.readouterr().err == "error: the stack's outputs have no dms_target_secret_arn output\n"

    assert _run(_config(base, target_username="dms_other"), outputs, aws) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert f"holds user '{RDS_DMS_USER}', dms.target_username is 'dms_other': deploy the config first" in err
    assert PASSWORD not in err and MASTER_PASSWORD not in err


SUBCOMMAND: Subcommand = target_user_subcommand  # mypy checks the module against the protocol command.py lists


def _main(argv: Sequence[str]) -> int:
    """`python -m migration_ops.cutover <argv>` with only this subcommand registered (command.py lists the others)."""
    parser = argparse.ArgumentParser(prog="python -m migration_ops.cutover")
    SUBCOMMAND.add_arguments(parser.add_subparsers(dest="command", required=True).add_parser(SUBCOMMAND.NAME))
    return cli.run(lambda: SUBCOMMAND.run(cli.options_from(parser.parse_args(argv), SUBCOMMAND.OPTIONS)))


def _config_file(folder: Path, **dms: object) -> Path:
    data = dev_data()
    data["dms"].update(
        include=[{"schema_name": "public"}, {"schema_name": "sales"}],
        exclude=[{"schema_name": "public", "table_name": "payroll"}],
        target_username=CLI_DMS_USER,
        **dms,
    )
    copy_example_ca(folder)
    return write_toml(folder / "env.toml", data)


def test_the_subcommand_reads_its_options_the_outputs_and_the_secrets_then_runs(
    server: PgServer, aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AURORA_DSN", f"postgresql://127.0.0.1:{server.port}/aurora?sslmode=disable")
    outputs = tmp_path / "outputs.json"
    arns = _outputs(aws, master="postgres", username=CLI_DMS_USER)
    outputs.write_text(json.dumps({name: {"value": arn} for name, arn in arns.items()}))
    argv = ["target-user", "--config", str(_config_file(tmp_path)), "--outputs", str(outputs), "--target-dsn-env", "AURORA_DSN"]
    assert SUBCOMMAND.NAME == "target-user"
    assert _main([*argv, "--json"]) == ExitCode.OK
    document = json.loads(capsys.readouterr().out)
    assert document["command"] == "target-user" and document["username"] == CLI_DMS_USER
    assert {item["name"]: item["status"] for item in document["results"]} == {
        "target-user.role": "pass",
        "target-user.grants": "pass",
        "target-user.replication-role": "pass",
        "target-user.attributes": "pass",
        "target-user.privileges": "pass",
        "target-user.login": "pass",
    }

    master_mode = _config_file(tmp_path, target_user="master")
    assert _main(["target-user", "--config", str(master_mode)]) == ExitCode.FAILED  # no outputs needed to refuse
    assert 'refused: dms.target_user is "master"' in capsys.readouterr().out
    assert _main(["target-user"]) == ExitCode.ERROR
    assert (
        capsys.readouterr().err == "error: target-user needs --env or --config (its dms section names the user and the tables)\n"
    )


def test_the_errors_are_ops_errors() -> None:
    assert issubclass(TargetUserError, OpsError)


def test_the_role_comment_marks_the_roles_this_command_owns(master: psycopg.Connection[Any]) -> None:
    _create(master)
    comment = master.execute("SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", (DMS_USER,))
    assert comment.fetchone() == (ROLE_COMMENT,)
