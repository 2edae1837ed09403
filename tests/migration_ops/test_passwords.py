"""No operations command ever prints a password (#24 box 9).

Each command gets connection strings that carry a planted password, malformed the ways libpq's parse errors (or
its misreading of the string) would echo it: an unencoded @ or / in the password, a bad %-escape, an unclosed IPv6
bracket (libpq quotes the whole URI), a key/value password with an unquoted space or an unterminated quote; and
a well-formed one whose server refuses the connection. The password is planted in PGPASSWORD too. Each run is
checked for the password's two halves (either half alone would be a leak) on stdout, stderr (with and without
--json) and in every file the command wrote (its audit log); in-process for every case, and as real processes
(`python -m`) for one case per command.

AWS: moto in-process (tests/migration_ops/dms_fake.py) for the cutover subcommands that drive the task; in the
real processes the same fake is set up in the child before it runs the module as `__main__`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest
from moto import mock_aws
from psycopg.conninfo import conninfo_to_dict

from migration_ops.compare import command as compare
from migration_ops.cutover import analyze
from migration_ops.cutover import command as cutover
from migration_ops.cutover.analyze import AnalyzeOptions
from migration_ops.postgres import Credentials, describe_dsn, dsn_problem, redact
from migration_ops.preflight import command as preflight
from migration_ops.verify import command as verify
from migration_ops.verify.checks import CHECKS
from plumbing.exit_codes import ExitCode
from tests.conftest import REPO_ROOT
from tests.migration_ops.dms_fake import REGION, ModelAnswers, moto_task
from tests.migration_ops.pg_server import PgServer

LEFT, RIGHT = "Plant3dLeftHalf", "Plant3dRightHalf"
HALVES = (LEFT, RIGHT)
PASSWORD = f"{LEFT}@{RIGHT}"
DSNS = {
    "unencoded-at": f"postgresql://migrator:{LEFT}@{RIGHT}@127.0.0.1:1/orders",
    "unencoded-slash": f"postgresql://migrator:{LEFT}/{RIGHT}@127.0.0.1:1/orders",
    "bad-escape": f"postgresql://migrator:{LEFT}%zz{RIGHT}@127.0.0.1:1/orders",
    "unclosed-ipv6": f"postgresql://migrator:{LEFT}{RIGHT}@[::1/orders",
    "key-value-space": f"host=127.0.0.1 port=1 user=migrator password={LEFT} {RIGHT}",
    "key-value-quote": f"host=127.0.0.1 port=1 user=migrator password='{LEFT}{RIGHT}",
    "well-formed": f"postgresql://migrator:{LEFT}%40{RIGHT}@127.0.0.1:1/orders",
}
UNPARSEABLE = "an unparseable connection string (from $"
TASK = ["--env", "dev", "--task-arn", "{arn}", "--region", REGION]


@dataclass(frozen=True)
class Case:
    main: Callable[[Sequence[str] | None], int]
    module: str
    argv: tuple[str, ...]
    dms: bool = False
    """Runs against the moto task ({arn} in argv is its ARN)."""


CASES = {
    "preflight": Case(preflight.main, "migration_ops.preflight", ("--env", "dev", "--dsn-env", "SOURCE_DSN")),
    "compare": Case(
        compare.main, "migration_ops.compare", ("--env", "dev", "--dsn-env", "SOURCE_DSN", "--target-dsn-env", "TARGET_DSN")
    ),
    "cutover freeze-sql": Case(
        cutover.main,
        "migration_ops.cutover",
        ("freeze-sql", "--env", "dev", "--app-role", "app", "--dms-user", "migrator", "--dsn-env", "SOURCE_DSN"),
    ),
    "cutover sequences": Case(
        cutover.main,
        "migration_ops.cutover",
        ("sequences", "--env", "dev", "--dsn-env", "SOURCE_DSN", "--apply-dsn-env", "TARGET_DSN"),
    ),
    "cutover stop --check": Case(
        cutover.main,
        "migration_ops.cutover",
        ("stop", "--check", *TASK, "--dms-user", "migrator", "--dsn-env", "SOURCE_DSN", "--sample-seconds", "0"),
        dms=True,
    ),
    "cutover stop": Case(
        cutover.main,
        "migration_ops.cutover",
        (
            "stop",
            *TASK,
            "--dms-user",
            "migrator",
            "--dsn-env",
            "SOURCE_DSN",
            "--sample-seconds",
            "0",
            "--audit-log",
            "audit.jsonl",
        ),
        dms=True,
    ),
    "cutover reload": Case(
        cutover.main,
        "migration_ops.cutover",
        ("reload", *TASK, "--truncate-target-dsn-env", "TARGET_DSN", "--yes-truncate", "--audit-log", "audit.jsonl"),
        dms=True,
    ),
}
if "analyze" in {command.NAME for command in cutover.SUBCOMMANDS}:  # wired by another branch: then through the CLI too
    CASES["cutover analyze"] = Case(
        cutover.main, "migration_ops.cutover", ("analyze", "--env", "dev", "--target-dsn-env", "TARGET_DSN")
    )


def assert_no_password(*texts: str, directory: Path | None = None) -> None:
    written = {path: path.read_bytes().decode(errors="replace") for path in (directory or Path("/nonexistent")).rglob("*")
               if path.is_file()}  # fmt: skip
    for half in HALVES:
        for text in texts:
            assert half not in text, text
        for path, content in written.items():
            assert half not in content, f"{path}: {content}"


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str], None]:
    """Work in tmp_path (every file a command writes lands there) with PGPASSWORD planted; returns how to set
    SOURCE_DSN and TARGET_DSN."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)

    def plant(dsn: str) -> None:
        monkeypatch.setenv("SOURCE_DSN", dsn)
        monkeypatch.setenv("TARGET_DSN", dsn)

    return plant


@contextmanager
def _task(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_task(monkeypatch) as arn:
        ModelAnswers().install(monkeypatch)
        yield arn


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
@pytest.mark.parametrize("form", list(DSNS))
@pytest.mark.parametrize("name", list(CASES))
def test_no_command_prints_a_planted_password(
    *,
    name: str,
    form: str,
    as_json: bool,
    planted: Callable[[str], None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = CASES[name]
    planted(DSNS[form])
    with _task(monkeypatch) if case.dms else nullcontext("") as arn:
        code = case.main([argument.format(arn=arn) for argument in case.argv] + (["--json"] if as_json else []))
    captured = capsys.readouterr()
    assert code in (ExitCode.FAILED, ExitCode.ERROR), captured
    assert "Traceback" not in captured.err
    assert_no_password(captured.out, captured.err, directory=tmp_path)
    said = captured.out + captured.err
    assert (UNPARSEABLE in said) if form != "well-formed" else ("migrator@127.0.0.1:1/orders" in said), said


@pytest.mark.parametrize("form", ["unencoded-at", "well-formed"])
def test_secret_credentials_on_a_planted_dsn(
    form: str, planted: Callable[[str], None], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--from-secret: the secret's password joins the DSN's; neither is printed."""
    planted(DSNS[form])
    secret = Credentials(username="migrator", password=f"{RIGHT}/{LEFT}")
    monkeypatch.setattr("migration_ops.cli.secret_credentials", lambda *_args, **_kwargs: secret)
    assert preflight.main(["--env", "dev", "--dsn-env", "SOURCE_DSN", "--from-secret", "--json"]) == ExitCode.ERROR
    captured = capsys.readouterr()
    assert_no_password(captured.out, captured.err)
    assert ("cannot use " + UNPARSEABLE if form != "well-formed" else "cannot connect to migrator@127.0.0.1:1") in captured.err


def test_verify_never_prints_the_secrets_password(
    tmp_path: Path, planted: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    """verify reads no DSN, but the credentials secret it checks holds the password; PGPASSWORD is planted too."""
    planted(DSNS["unencoded-at"])
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="eu-west-1")
        document = {"username": "postgres", "password": PASSWORD, "engine": "postgres", "host": "h", "port": 5432}
        arn = secrets.create_secret(Name="aurora-migration-dev", SecretString=json.dumps(document))["ARN"]
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps({"aurora-migration-dev": {"secret_arn": arn}}))
        for extra in ([], ["--json"]):
            code = verify.main(["--env", "dev", "--outputs", str(outputs), "--connection-timeout", "1", *extra])
            captured = capsys.readouterr()
            assert code == ExitCode.FAILED and "secret.credentials" in captured.out
            assert_no_password(captured.out, captured.err, directory=tmp_path)


@pytest.mark.parametrize("form", list(DSNS))
def test_analyze_never_prints_a_planted_password(
    form: str, planted: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    planted(DSNS[form])
    for as_json in (False, True):
        assert analyze.run_analyze(AnalyzeOptions(target_dsn_env="TARGET_DSN"), [("public", "t")], json_output=as_json) == 2
        captured = capsys.readouterr()
        assert_no_password(captured.out, captured.err)
        assert (UNPARSEABLE in captured.err) is (form != "well-formed")


# --- the other side, once the first connected: the target's DSN is the planted one ----------------


@pytest.mark.postgres
@pytest.mark.parametrize("form", ["unencoded-at", "bad-escape", "key-value-space"])
def test_the_second_connection_never_prints_a_planted_password(
    form: str, pg: PgServer, planted: Callable[[str], None], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    planted(DSNS[form])
    monkeypatch.setenv("SOURCE_DSN", pg.dsn("clean"))
    assert compare.main(["--env", "dev", "--dsn-env", "SOURCE_DSN", "--target-dsn-env", "TARGET_DSN", "--json"]) == 2
    sequences = ["sequences", "--env", "dev", "--dsn-env", "SOURCE_DSN", "--apply-dsn-env", "TARGET_DSN"]
    assert cutover.main(sequences) == 2
    captured = capsys.readouterr()
    assert_no_password(captured.out, captured.err)
    assert captured.err.count("target: cannot connect to " + UNPARSEABLE + "TARGET_DSN)") == 1, captured.err
    assert captured.err.count("cannot connect to " + UNPARSEABLE + "TARGET_DSN)") == 2, captured.err


# --- as an operator runs them ------------------------------------------------------------------------

_CHILD = """
import runpy, sys
import pytest
from tests.migration_ops.dms_fake import ModelAnswers, moto_task

module, argv = sys.argv[1], sys.argv[2:]
patch = pytest.MonkeyPatch()
with moto_task(patch) as arn:
    ModelAnswers().install(patch)
    sys.argv = [module, *(argument.format(arn=arn) for argument in argv)]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
"""
FORMS = list(DSNS)


@pytest.mark.parametrize("name", [*CASES, "verify"])
def test_the_real_process_never_prints_a_planted_password(name: str, tmp_path: Path) -> None:
    form = FORMS[[*CASES, "verify"].index(name) % len(FORMS)]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO_ROOT),
        "PGPASSWORD": PASSWORD,
        "SOURCE_DSN": DSNS[form],
        "TARGET_DSN": DSNS[form],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    if name == "verify":
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps({"aurora-migration-dev": {"secret_arn": "arn:aws:secretsmanager:eu-west-1:1:secret:x"}}))
        command = ["-m", "migration_ops.verify", "--env", "dev", "--outputs", str(outputs), "--json"]
        command += [
            "--endpoint-url",
            "http://127.0.0.1:1",
            *[f"--skip={check}" for check in CHECKS if check != "secret.credentials"],
        ]
    else:
        case = CASES[name]
        argv = [*case.argv, "--json"]
        command = ["-c", _CHILD, case.module, *argv] if case.dms else ["-m", case.module, *argv]
    completed = subprocess.run(
        [sys.executable, *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode in (ExitCode.FAILED, ExitCode.ERROR), completed
    assert "Traceback" not in completed.stderr, completed.stderr
    assert_no_password(completed.stdout, completed.stderr, directory=tmp_path)


# --- the pieces -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", list(DSNS))
def test_describe_and_redact(form: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    dsn = DSNS[form]
    description, problem = describe_dsn(dsn), dsn_problem(dsn)
    assert all(half not in description + (problem or "") for half in HALVES)
    assert (problem is None) is (form == "well-formed")
    assert description == ("migrator@127.0.0.1:1/orders" if problem is None else "an unparseable connection string")
    # what libpq makes of it (its parse error, or the user, host, port and database it misreads), scrubbed
    try:
        libpq_said = str(conninfo_to_dict(dsn))
    except psycopg.Error as error:
        libpq_said = str(error)
    assert all(half not in redact(libpq_said, dsn) for half in HALVES), redact(libpq_said, dsn)


def test_redact_scrubs_what_this_process_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from migration_ops import postgres

    monkeypatch.setenv("PLANTED_DSN", DSNS["unencoded-slash"])
    monkeypatch.setenv("PGPASSWORD", "an-env-password")
    postgres.forget_secrets()
    postgres.dsn_from_env("PLANTED_DSN")
    text = f"x {LEFT} y {RIGHT} z an-env-password {LEFT}/{RIGHT}"
    assert postgres.redact(text) == "x [redacted] y [redacted] z [redacted] [redacted]"
    assert describe_dsn(DSNS["unencoded-slash"]) == "an unparseable connection string (from $PLANTED_DSN)"
    postgres.forget_secrets()
    assert LEFT in postgres.redact_known(text)


def test_the_cli_core_scrubs_every_message(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from migration_ops import cli, postgres
    from migration_ops.errors import OpsError

    monkeypatch.setenv("PLANTED_DSN", DSNS["bad-escape"])

    def leaky() -> int:
        dsn = postgres.dsn_from_env("PLANTED_DSN")
        raise OpsError(f"somebody quoted {dsn} and {LEFT}%zz{RIGHT}")

    assert cli.run(leaky) == ExitCode.ERROR
    assert_no_password(capsys.readouterr().err)
