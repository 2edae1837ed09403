"""No uncaught exception leaves an operations command with exit 1 or a traceback: each exits 2 with one line.

For each of the four commands an internal function is made to raise an error nobody anticipated (a bug, or a
psycopg or botocore error no command turned into an OpsError); the CLI core prints only its type and the first
line of its message, since a library's message can carry a connection string.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from botocore.exceptions import EndpointConnectionError

from migration_ops.compare import command as compare
from migration_ops.cutover import command as cutover
from migration_ops.preflight import command as preflight
from migration_ops.verify import command as verify
from plumbing.exit_codes import ExitCode
from plumbing.text import first_line
from plumbing.tool import run_tool
from tests.conftest import REPO_ROOT

SECRET = "s3cr3t"
UNEXPECTED = (
    RuntimeError(f"boom\npostgresql://migrator:{SECRET}@db.example.com/orders"),
    KeyError("region"),
    psycopg.OperationalError(f"server closed the connection unexpectedly\npassword={SECRET}"),
    EndpointConnectionError(endpoint_url="https://dms.eu-west-1.amazonaws.com/"),
)
TASK_ARN = "arn:aws:dms:eu-west-1:111111111111:task:ABCDEF"


def _raising(error: Exception) -> Callable[..., Any]:
    def raise_it(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    return raise_it


def _outputs(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"aurora-migration-dev": {"dms_task_arn": TASK_ARN}}))
    return path


# (command, the internal function that raises, argv): each reaches that function without a server or AWS.
CASES: dict[str, tuple[Callable[[list[str]], int], str, Callable[[Path], list[str]]]] = {
    "preflight": (
        preflight.main,
        "migration_ops.preflight.command.connect",
        lambda _: ["--env", "dev", "--dsn-env", "ERRORS_SOURCE_DSN"],
    ),
    "verify": (
        verify.main,
        "migration_ops.verify.command.aws_clients",
        lambda tmp: ["--env", "dev", "--outputs", str(_outputs(tmp))],
    ),
    "cutover": (
        cutover.main,
        "migration_ops.cutover.dms_task.task_status",
        lambda _: ["status", "--task-arn", TASK_ARN, "--region", "eu-west-1"],
    ),
    "compare": (
        compare.main,
        "migration_ops.compare.command.open_connection",
        lambda _: ["--env", "dev", "--dsn-env", "ERRORS_SOURCE_DSN", "--target-dsn-env", "ERRORS_TARGET_DSN"],
    ),
}


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERRORS_SOURCE_DSN", "postgresql://migrator@127.0.0.1:1/orders")
    monkeypatch.setenv("ERRORS_TARGET_DSN", "postgresql://migrator@127.0.0.1:1/orders")
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("error", UNEXPECTED, ids=lambda error: type(error).__name__)
@pytest.mark.parametrize("command", list(CASES))
def test_an_unexpected_error_exits_2_with_one_line(
    command: str, error: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main, target, argv = CASES[command]
    monkeypatch.setattr(target, _raising(error))
    assert main(argv(tmp_path)) == ExitCode.ERROR
    captured = capsys.readouterr()
    assert captured.err == f"error: unexpected {type(error).__name__}: {first_line(error)}\n"
    assert "Traceback" not in captured.err
    assert SECRET not in captured.err + captured.out


_PROCESS = """
import sys
from importlib import import_module

def boom(*args, **kwargs):
    raise RuntimeError("boom\\nsecond line")

module, _, name = sys.argv[1].rpartition(".")
setattr(import_module(module), name, boom)
sys.exit(import_module("migration_ops.{command}.command").main(sys.argv[2:]))
"""


@pytest.mark.parametrize("command", list(CASES))
def test_the_process_exits_2_without_a_traceback(command: str, tmp_path: Path) -> None:
    """The same in a real process, as an operator runs it: the exit status and everything on stderr."""
    _, target, argv = CASES[command]
    env = {
        "PATH": "/usr/bin:/bin",
        "ERRORS_SOURCE_DSN": "postgresql://migrator@127.0.0.1:1/orders",
        "ERRORS_TARGET_DSN": "postgresql://migrator@127.0.0.1:1/orders",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    process = [sys.executable, "-c", _PROCESS.format(command=command), target, *argv(tmp_path)]
    completed = run_tool(process, cwd=REPO_ROOT, env=env, timeout_seconds=120)
    assert completed.returncode == ExitCode.ERROR
    assert completed.stderr == "error: unexpected RuntimeError: boom\n"
