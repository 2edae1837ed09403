"""Every numeric flag of every operations command is finite and in range (#23 box 8).

The flags are discovered from the commands' parsers (tests/migration_ops/commands.py), so a new flag is tried
without a change here. Each bad value goes through the command's real `main`: exit 2, one error line naming the
flag (after argparse's usage lines), no traceback, and the command never started.
"""

from __future__ import annotations

import math

import pytest

from migration_ops.cli import AwsOptions, EnvironmentOptions, OutputOptions, SourceOptions
from migration_ops.compare.command import CompareOptions
from migration_ops.compare.engine import EngineOptions
from migration_ops.cutover.subcommand import TaskOptions
from migration_ops.cutover.subcommands.stop import StopOptions
from migration_ops.errors import UsageError
from migration_ops.preflight import command as preflight
from tests.migration_ops.commands import Command, every_command, numeric_flags

BAD_VALUES = ("nan", "inf", "-inf", "-1", "ten")
# What the reply to #23 box 8 lists; discovery must find at least these (it finds new ones by itself).
KNOWN = {
    "preflight": {"--statement-timeout", "--lob-scan-seconds"},
    "verify": {"--connection-timeout"},
    "compare": {"--chunk-rows", "--time-budget-seconds", "--statement-timeout", "--recheck-delay-seconds"},
    "cutover stop": {"--max-latency-seconds", "--window-minutes", "--sample-seconds"},
    "cutover sequences": {"--margin"},
}
CASES = [
    pytest.param(command, flag, value, id=f"{command.name}{flag}={value}")
    for command in every_command()
    for flag in numeric_flags(command.parser)
    for value in BAD_VALUES
]


def test_discovery_finds_every_known_numeric_flag() -> None:
    found = {command.name: set(numeric_flags(command.parser)) for command in every_command()}
    for name, flags in KNOWN.items():
        assert flags <= found[name], name


@pytest.mark.parametrize(("command", "flag", "value"), CASES)
def test_a_bad_number_is_a_usage_error_naming_the_flag(
    command: Command, flag: str, value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("migration_ops.cli.load_config", _must_not_run)
    with pytest.raises(SystemExit) as raised:
        command.main(command.argv(f"{flag}={value}"))
    assert raised.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    errors = [line for line in captured.err.splitlines() if ": error: " in line]
    assert len(errors) == 1, captured.err
    assert f"error: argument {flag}: " in errors[0] and value in errors[0]
    assert captured.err.rstrip("\n").endswith(errors[0]), "the error is the last line, after argparse's usage"


def _must_not_run(*_args: object) -> None:
    raise AssertionError("the command ran despite a bad number")


def test_an_options_object_built_in_code_refuses_the_same() -> None:
    """__post_init__ applies each flag's range too: no caller can hand the gates a nan."""
    task = TaskOptions(environment=EnvironmentOptions(env="dev"), aws=AwsOptions(), outputs=OutputOptions())
    with pytest.raises(UsageError, match=r"^--max-latency-seconds must be a finite number >= 0, not nan$"):
        StopOptions(task=task, source=SourceOptions(), max_latency_seconds=math.nan)
    with pytest.raises(UsageError, match=r"^--window-minutes must be an integer from 1 to 21600, not 0$"):
        StopOptions(task=task, source=SourceOptions(), window_minutes=0)
    with pytest.raises(UsageError, match=r"^--chunk-rows must be an integer from 1 to \d+, not 0$"):
        CompareOptions(
            environment=EnvironmentOptions(env="dev"), source=SourceOptions(), aws=AwsOptions(), target_dsn_env="T",
            engine=EngineOptions(chunk_rows=0),
        )  # fmt: skip
    assert StopOptions(task=task, source=SourceOptions(), sample_seconds=0).sample_seconds == 0


@pytest.mark.parametrize(
    ("flag", "value"), [("--lob-scan-seconds", "0"), ("--lob-scan-seconds", "0.5"), ("--statement-timeout", "1")]
)
def test_a_good_number_is_taken(flag: str, value: str) -> None:
    options = preflight.parse_args(["--env", "dev", flag, value])
    assert float(value) in (options.lob_scan_seconds, options.statement_timeout_seconds)
