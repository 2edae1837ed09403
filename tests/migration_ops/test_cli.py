"""The operations CLI core (migration_ops/cli/): config, stack outputs, rendering, exit codes."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, EnvironmentConfig
from contract.layout import stack_directory
from contract.outputs import Output
from migration_ops import cli
from migration_ops.cli import AwsOptions, EnvironmentOptions, OutputOptions, SourceOptions
from migration_ops.errors import OpsError, UsageError
from migration_ops.results import CheckResult, Status, counts, failed, passed, skipped, warned, worst
from plumbing.exit_codes import ExitCode
from tests.migration_ops.helpers import needs_terraform, write_state

STACK = "aurora-migration-dev"
TASK_ARN = "arn:aws:dms:eu-west-1:111111111111:task:ABCDEF"
TERRAFORM_DOCUMENT = {
    "dms_task_arn": {"sensitive": False, "type": "string", "value": TASK_ARN},
    "instance_ids": {"sensitive": False, "type": ["list", "string"], "value": ["db-1", "db-2"]},
}
PLAIN = {"dms_task_arn": TASK_ARN, "instance_ids": ["db-1", "db-2"]}


# --- stack outputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "stack_name"),
    [
        (TERRAFORM_DOCUMENT, STACK),  # terraform output -json
        (TERRAFORM_DOCUMENT, None),
        ({STACK: PLAIN}, STACK),  # cdktf deploy --outputs-file
        ({STACK: PLAIN, "aurora-migration-prod": {"dms_task_arn": "other"}}, STACK),
        ({STACK: PLAIN}, None),  # one stack: no name needed
    ],
)
def test_outputs_file_shapes(tmp_path: Path, document: dict[str, Any], stack_name: str | None) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(document))
    assert cli.read_outputs_file(path, stack_name) == PLAIN


def test_an_empty_terraform_output_is_no_outputs() -> None:
    assert cli.normalize_outputs({}, STACK) == {}


@pytest.mark.parametrize(
    ("content", "stack_name", "message"),
    [
        (None, STACK, "file not found"),
        ("{not json", STACK, "not JSON"),
        ("[1, 2]", STACK, "expected a JSON object"),
        (json.dumps({"aurora-migration-prod": PLAIN}), STACK, "cdktf outputs file with stack 'aurora-migration-dev'"),
        (json.dumps({STACK: PLAIN, "aurora-migration-prod": PLAIN}), None, "with exactly one stack (or give --env)"),
        (json.dumps({"dms_task_arn": TASK_ARN}), STACK, "neither `terraform output -json` nor"),
    ],
)
def test_bad_outputs_files_are_usage_errors(tmp_path: Path, content: str | None, stack_name: str | None, message: str) -> None:
    path = tmp_path / "outputs.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match="--outputs") as raised:
        cli.read_outputs_file(path, stack_name)
    assert message in str(raised.value)


@needs_terraform
def test_outputs_from_terraform_in_the_stack_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --outputs or --workdir: `terraform output -json` in cdktf.out/stacks/<stack>, relative to the cwd."""
    monkeypatch.chdir(tmp_path)
    write_state(tmp_path / stack_directory(STACK), PLAIN)
    assert cli.stack_outputs(OutputOptions(), STACK) == PLAIN
    elsewhere = write_state(tmp_path / "elsewhere", {"dms_task_arn": "from-workdir"})
    assert cli.stack_outputs(OutputOptions(workdir=elsewhere), STACK) == {"dms_task_arn": "from-workdir"}


def test_missing_stack_folder_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match=r"cdktf.out/stacks/aurora-migration-dev: not a directory \(deploy first"):
        cli.stack_outputs(OutputOptions(), STACK)
    with pytest.raises(UsageError, match="give --env or --config"):
        cli.stack_outputs(OutputOptions(), None)


def test_required_output() -> None:
    assert cli.required_output(PLAIN, Output.DMS_TASK_ARN) == TASK_ARN
    with pytest.raises(UsageError, match="no secret_arn output"):
        cli.required_output(PLAIN, Output.SECRET_ARN)


# --- configuration ----------------------------------------------------------------------------


def test_each_option_group_reads_the_arguments_it_adds() -> None:
    parser = argparse.ArgumentParser()
    cli.add_environment_arguments(parser)
    cli.add_output_arguments(parser)
    cli.add_aws_arguments(parser)
    cli.add_source_arguments(parser)
    given = ["--env", "dev", "--suffix", "pr42", "--workdir", "stacks/x", "--region", "eu-west-1", "--endpoint-url", "http://e"]
    args = parser.parse_args([*given, "--dsn-env", "SOURCE_DSN", "--from-secret"])
    assert cli.options_from(args, EnvironmentOptions) == EnvironmentOptions(env="dev", suffix="pr42")
    assert cli.options_from(args, OutputOptions) == OutputOptions(workdir=Path("stacks/x"))
    assert cli.options_from(args, AwsOptions) == AwsOptions(region="eu-west-1", endpoint_url="http://e")
    assert cli.options_from(args, SourceOptions) == SourceOptions(dsn_env="SOURCE_DSN", from_secret=True)
    assert cli.options_from(parser.parse_args(["--config", "a.toml"]), EnvironmentOptions).given
    assert not cli.options_from(parser.parse_args(["--env", "dev"]), OutputOptions).given


@dataclass(frozen=True, kw_only=True)
class _Group:
    region: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Options:
    aws: _Group
    names: tuple[str, ...] = ()
    skip: frozenset[str] = frozenset()
    reason: str = ""
    limit: int = 5
    note: str | None = "kept"
    unset: str = "default"

    def __post_init__(self) -> None:
        if self.limit > 10:
            raise UsageError("--limit must be <= 10")


@dataclass(frozen=True, kw_only=True)
class _Required:
    needed: str


def test_options_from_builds_fields_by_dest_and_groups_by_type() -> None:
    parser = argparse.ArgumentParser()
    cli.add_aws_arguments(parser)
    parser.add_argument("--name", dest="names", action="append", default=[])
    parser.add_argument("--skip", action="append", default=[])
    parser.add_argument("--reason")
    parser.add_argument("--limit", type=cli.bounded_int(minimum=0))
    parser.add_argument("--note")
    options = cli.options_from(parser.parse_args(["--region", "r", "--name", "a", "--name", "b", "--skip", "x"]), _Options)
    assert options == _Options(aws=_Group(region="r"), names=("a", "b"), skip=frozenset({"x"}), note=None)
    # None leaves the default of a field that cannot hold it (reason, limit), and is kept where it can (note)
    assert (options.reason, options.limit, options.note, options.unset) == ("", 5, None, "default")
    with pytest.raises(UsageError, match="--limit must be <= 10"):
        cli.options_from(parser.parse_args(["--limit", "11"]), _Options)
    with pytest.raises(TypeError, match="no argument has this dest"):
        cli.options_from(argparse.Namespace(), _Required)


@pytest.mark.parametrize(
    ("kind", "text", "value", "message"),
    [
        (cli.finite_float(minimum=0), "0", 0.0, None),
        (cli.finite_float(minimum=0), "2.5", 2.5, None),
        (cli.finite_float(minimum=0), "-0.1", None, "must be a finite number >= 0: -0.1"),
        (cli.finite_float(minimum=0), "nan", None, "must be a finite number >= 0: nan"),
        (cli.finite_float(minimum=0), "inf", None, "must be a finite number >= 0: inf"),
        (cli.finite_float(strictly_above=0), "0", None, "must be a finite number greater than 0: 0"),
        (cli.finite_float(strictly_above=0, maximum=10), "11", None, "must be a finite number greater than 0 and <= 10: 11"),
        (cli.finite_float(minimum=0), "ten", None, "not a number: ten"),
        (cli.bounded_int(minimum=1), "1", 1, None),
        (cli.bounded_int(minimum=1), "0", None, "must be an integer >= 1: 0"),
        (cli.bounded_int(minimum=1, maximum=60), "61", None, "must be an integer from 1 to 60: 61"),
        (cli.bounded_int(minimum=1), "1.5", None, "not an integer: 1.5"),
        (cli.bounded_int(minimum=1), "nan", None, "not an integer: nan"),
    ],
)
def test_numeric_types(kind: cli.FiniteFloat | cli.BoundedInt, text: str, value: float | None, message: str | None) -> None:
    if message is None:
        assert kind(text) == value
        kind.check("--flag", kind(text))
        return
    with pytest.raises(argparse.ArgumentTypeError) as raised:
        kind(text)
    assert str(raised.value) == message
    if message.startswith("must"):
        with pytest.raises(UsageError, match=r"^--flag must be "):
            kind.check("--flag", float(text))


def test_config_by_file_stem_suffix_or_path(dev_config: EnvironmentConfig, dev_config_path: Path) -> None:
    assert cli.load_config(EnvironmentOptions(env="dev")) == dev_config
    assert cli.load_config(EnvironmentOptions(env=dev_config.environment_suffix)) == dev_config
    assert cli.load_config(EnvironmentOptions(config=dev_config_path)) == dev_config
    short_lived = cli.load_config(EnvironmentOptions(env="dev", suffix="pr42"))
    assert (short_lived.environment_suffix, short_lived.stack_name) == ("pr42", "aurora-migration-pr42")
    assert cli.optional_config(EnvironmentOptions()) is None


def test_config_problems() -> None:
    with pytest.raises(UsageError, match=r"--env nowhere: no such environment \(known: .*dev"):
        cli.load_config(EnvironmentOptions(env="nowhere"))
    with pytest.raises(ConfigError, match="file not found"):
        cli.load_config(EnvironmentOptions(config=Path("/nonexistent/env.toml")))


# --- results, rendering, exit codes -----------------------------------------------------------

RESULTS = [
    passed("alpha", "all good"),
    warned("beta.longer-name", "something odd", fix="look at it"),
    failed("gamma", "broken", fix="repair it"),
    skipped("delta", "skipped: --skip"),
]


def test_status_order_and_counts() -> None:
    assert [worst(RESULTS[:n]) for n in range(5)] == [Status.PASS, Status.PASS, Status.WARN, Status.FAIL, Status.FAIL]
    assert worst([passed("a", ""), skipped("b", "")]) is Status.SKIP
    assert counts(RESULTS) == {"pass": 1, "warn": 1, "fail": 1, "skip": 1}


@pytest.mark.parametrize(
    ("statuses", "strict", "code"),
    [
        ((), False, 0),
        ((Status.PASS, Status.SKIP), True, 0),
        ((Status.PASS, Status.WARN), False, 0),
        ((Status.PASS, Status.WARN), True, 1),
        ((Status.WARN, Status.FAIL), False, 1),
        ((Status.FAIL,), True, 1),
    ],
)
def test_exit_code(statuses: tuple[Status, ...], strict: bool, code: int) -> None:
    results = [CheckResult(name=f"c{n}", status=status, evidence="") for n, status in enumerate(statuses)]
    assert cli.exit_code(results, strict=strict) == code


def test_errors_exit_2_with_one_message(capsys: pytest.CaptureFixture[str]) -> None:
    class ToolError(OpsError):
        pass

    class SurpriseError(Exception):
        pass

    def raising(error: Exception) -> int:
        raise error

    assert cli.run(lambda: raising(ConfigError(problems=("a.toml: x: bad", "a.toml: y: bad")))) == ExitCode.ERROR
    assert capsys.readouterr().err == "configuration error:\na.toml: x: bad\na.toml: y: bad\n"
    assert cli.run(lambda: raising(UsageError("give --env"))) == ExitCode.ERROR
    assert capsys.readouterr().err == "error: give --env\n"
    assert cli.run(lambda: raising(ToolError("cannot connect"))) == ExitCode.ERROR  # every OpsError, none listed
    assert capsys.readouterr().err == "error: cannot connect\n"
    # anything else is still exit 2 and one line: its type and only the first line of its message
    assert cli.run(lambda: raising(SurpriseError("bug\npostgresql://user:secret@host/db"))) == ExitCode.ERROR
    assert capsys.readouterr().err == "error: unexpected SurpriseError: bug\n"
    assert cli.run(lambda: raising(KeyError("region"))) == ExitCode.ERROR
    assert capsys.readouterr().err == "error: unexpected KeyError: 'region'\n"
    assert cli.run(lambda: raising(RuntimeError())) == ExitCode.ERROR
    assert capsys.readouterr().err == "error: unexpected RuntimeError\n"
    assert cli.run(lambda: 1) == 1


def test_table() -> None:
    assert cli.render_table(RESULTS).splitlines() == [
        "STATUS  CHECK             EVIDENCE",
        "PASS    alpha             all good",
        "WARN    beta.longer-name  something odd",
        "                          fix: look at it",
        "FAIL    gamma             broken",
        "                          fix: repair it",
        "SKIP    delta             skipped: --skip",
    ]
    assert cli.render_summary(RESULTS) == "summary: 1 passed, 1 warnings, 1 failed, 1 skipped"


def test_lines_keep_the_form_the_integration_tests_parse() -> None:
    assert [cli.render_line(result) for result in RESULTS] == [
        "PASS alpha: all good",
        "WARN beta.longer-name: something odd\n  fix: look at it",
        "FAIL gamma: broken\n  fix: repair it",
        "SKIP delta: skipped: --skip",
    ]


def test_json() -> None:
    document = json.loads(cli.render_json(RESULTS, environment="dev", stack=STACK))
    assert document == {
        "environment": "dev",
        "stack": STACK,
        "results": [
            {"name": "alpha", "status": "pass", "evidence": "all good", "fix": ""},
            {"name": "beta.longer-name", "status": "warn", "evidence": "something odd", "fix": "look at it"},
            {"name": "gamma", "status": "fail", "evidence": "broken", "fix": "repair it"},
            {"name": "delta", "status": "skip", "evidence": "skipped: --skip", "fix": ""},
        ],
        "summary": {"pass": 1, "warn": 1, "fail": 1, "skip": 1},
    }
