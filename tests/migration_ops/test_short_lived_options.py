"""Every operations command's --env/--suffix (and AURORA_MIGRATION_CONFIG_DIR) resolve the config synth builds."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from config import EnvironmentConfig
from config.loader import CONFIG_DIR, Selection, synthesized_environments
from migration_ops import cli
from migration_ops.compare.command import parse_args as compare_args
from migration_ops.cutover.command import parse_args as cutover_args
from migration_ops.errors import UsageError
from migration_ops.preflight.command import parse_args as preflight_args
from migration_ops.verify import dms_engines
from migration_ops.verify.command import parse_args as verify_args

SHORT_LIVED = ["--env", "dev", "--suffix", "pr42"]


def _cutover(argv: list[str]) -> Any:
    return cutover_args(argv).options


# Each command: how it parses, what goes before --env (a subcommand) and what it also requires.
COMMANDS: dict[str, tuple[Callable[[list[str]], Any], list[str], list[str]]] = {
    "preflight": (preflight_args, [], []),
    "verify": (verify_args, [], []),
    "compare": (compare_args, [], ["--target-dsn-env", "TARGET_DSN"]),
    "cutover analyze": (_cutover, ["analyze"], ["--target-dsn-env", "T"]),
    "cutover freeze-sql": (_cutover, ["freeze-sql"], ["--app-role", "app"]),
    "cutover reload": (_cutover, ["reload"], ["--truncate-target-dsn-env", "T"]),
    **{
        f"cutover {name}": (_cutover, [name], [])
        for name in ("pause", "sequences", "snapshot", "start", "status", "stop", "target-user")
    },
}


def parsed_environment(command: str, argv: list[str]) -> cli.EnvironmentOptions:
    parse, before, after = COMMANDS[command]
    options = parse([*before, *argv, *after])
    found = getattr(options, "environment", None) or options.task.environment
    assert isinstance(found, cli.EnvironmentOptions)
    return found


@pytest.fixture(scope="module")
def synth_pr42() -> EnvironmentConfig:
    """The short-lived stack exactly as `ENVIRONMENT_SUFFIX=pr42 ENVIRONMENT_BASE=dev make synth` builds it."""
    return synthesized_environments(Selection(suffix="pr42", base="dev"))[-1]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_resolves_the_short_lived_stack_synth_builds(
    command: str, synth_pr42: EnvironmentConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ENVIRONMENT_SUFFIX", "ENVIRONMENT_BASE", "AURORA_MIGRATION_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    config = cli.load_config(parsed_environment(command, SHORT_LIVED))
    assert config == synth_pr42
    assert config.stack_name == "aurora-migration-pr42"
    assert config.dms.service_roles == "existing", "the base's overrides for a short-lived stack apply, not the suffix alone"


def test_synths_own_variables_name_the_stack_too(synth_pr42: EnvironmentConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make verify ENV=pr42 ENVIRONMENT_SUFFIX=pr42 ENVIRONMENT_BASE=dev`: --env pr42 is the stack synth wrote."""
    monkeypatch.setenv("ENVIRONMENT_SUFFIX", "pr42")
    monkeypatch.setenv("ENVIRONMENT_BASE", "dev")
    assert cli.load_config(verify_args(["--env", "pr42"]).environment) == synth_pr42
    monkeypatch.delenv("ENVIRONMENT_SUFFIX")
    with pytest.raises(UsageError, match=r"--env pr42: no such environment .*--env <base> --suffix pr42"):
        cli.load_config(verify_args(["--env", "pr42"]).environment)


def test_a_suffix_another_environment_uses_is_refused_as_synth_refuses_it() -> None:
    with pytest.raises(Exception, match="environment_suffix 'prod' is used by more than one environment"):
        cli.load_config(preflight_args(["--env", "dev", "--suffix", "prod"]).environment)


def test_a_suffix_on_a_config_file_is_its_short_lived_stack(synth_pr42: EnvironmentConfig) -> None:
    environment = verify_args(["--config", str(CONFIG_DIR / "dev.toml"), "--suffix", "pr42"]).environment
    assert cli.load_config(environment) == synth_pr42


def test_the_commands_read_the_config_folder_of_aurora_migration_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR / "certs", folder / "certs")
    (folder / "qa.toml").write_text(
        (CONFIG_DIR / "dev.toml").read_text().replace('environment_suffix = "dev"', 'environment_suffix = "qa"')
    )
    monkeypatch.setenv("AURORA_MIGRATION_CONFIG_DIR", str(folder))
    assert cli.load_config(verify_args(["--env", "qa"]).environment).stack_name == "aurora-migration-qa"
    short_lived = cli.load_config(compare_args(["--env", "qa", "--suffix", "pr7", "--target-dsn-env", "T"]).environment)
    assert short_lived.stack_name == "aurora-migration-pr7"
    with pytest.raises(UsageError, match=r"dev: no such environment \(known: qa\)"):
        cli.load_config(preflight_args(["--env", "dev"]).environment)


def test_the_engine_table_check_resolves_the_short_lived_stack(
    synth_pr42: EnvironmentConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """migration_ops.verify.dms_engines builds its options by hand: it must reach the same config."""
    loaded: list[EnvironmentConfig] = []
    real = cli.load_config

    def recording(environment: cli.EnvironmentOptions) -> EnvironmentConfig:
        loaded.append(real(environment))
        return loaded[-1]

    def no_aws(region: str) -> None:
        raise UsageError(f"no AWS in this test ({region})")

    monkeypatch.setattr(cli, "load_config", recording)
    monkeypatch.setattr("migration_ops.verify.dms_engines.aws.session", no_aws)
    assert dms_engines.main(SHORT_LIVED) == 2
    assert loaded == [synth_pr42]
    assert "no AWS in this test" in capsys.readouterr().err
