"""`python -m config` and `config.loader.resolve_environment`: ENV, SUFFIX and the config folder as synth reads them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from config.__main__ import main as config_cli
from config.loader import CONFIG_DIR, ConfigError, Selection, resolve_environment, synthesized_environments


@pytest.fixture(autouse=True)
def _no_selection_from_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENVIRONMENT_SUFFIX", "ENVIRONMENT_BASE", "AURORA_MIGRATION_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture()
def qa_folder(tmp_path: Path) -> Path:
    """A config folder of its own: qa.toml (dev's content under the suffix qa) and the certificates it names."""
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR / "certs", folder / "certs")
    text = (CONFIG_DIR / "dev.toml").read_text().replace('environment_suffix = "dev"', 'environment_suffix = "qa"')
    (folder / "qa.toml").write_text(text)
    return folder


def test_a_short_lived_stack_is_the_one_synth_writes() -> None:
    synth = synthesized_environments(Selection(suffix="pr42", base="dev"))
    assert resolve_environment("dev", suffix="pr42") == synth[-1]
    assert resolve_environment("pr42", selection=Selection(suffix="pr42", base="dev")) == synth[-1]
    assert resolve_environment("dev", selection=Selection(suffix="pr42")) == synth[0], "the base stays itself"


def test_the_base_may_be_a_file_stem_or_an_environment_suffix(qa_folder: Path) -> None:
    (qa_folder / "qa.toml").rename(qa_folder / "quality.toml")
    by_stem = resolve_environment("quality", suffix="pr1", selection=Selection(config_dir=qa_folder))
    by_suffix = resolve_environment("qa", suffix="pr1", selection=Selection(config_dir=qa_folder))
    assert by_stem == by_suffix and by_stem.stack_name == "aurora-migration-pr1"


def test_the_selection_is_read_from_the_process_environment(qa_folder: Path) -> None:
    environ = {"AURORA_MIGRATION_CONFIG_DIR": str(qa_folder), "ENVIRONMENT_SUFFIX": "pr9", "ENVIRONMENT_BASE": "qa"}
    assert Selection.from_environ(environ) == Selection(config_dir=qa_folder, suffix="pr9", base="qa")
    assert Selection.from_environ({"ENVIRONMENT_SUFFIX": ""}) == Selection()


def test_an_unknown_environment_says_how_to_name_a_short_lived_stack() -> None:
    with pytest.raises(ConfigError, match=r"pr42: no such environment \(known: dev, prod, staging\); .*SUFFIX=pr42"):
        resolve_environment("pr42")
    with pytest.raises(ConfigError, match="base environment 'nowhere' not found"):
        resolve_environment("nowhere", suffix="pr42")


def test_stack_name_and_role_arn_take_the_suffix(capsys: pytest.CaptureFixture[str]) -> None:
    """make's STACK_NAME and role-arn with SUFFIX: `python -m config stack-name dev --suffix pr42`."""
    assert config_cli(["stack-name", "dev", "--suffix", "pr42"]) == 0
    assert capsys.readouterr().out == "aurora-migration-pr42\n"
    assert config_cli(["role-arn", "prod", "plan", "--suffix", "pr42"]) == 0
    assert capsys.readouterr().out == "arn:aws:iam::333333333333:role/aurora-migration-plan\n"
    assert config_cli(["stack-name", "dev", "--suffix", "staging"]) == 2
    assert "environment_suffix 'staging' is used by more than one environment" in capsys.readouterr().err


def test_stack_name_follows_synths_variables(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ENVIRONMENT_SUFFIX", "pr42")
    monkeypatch.setenv("ENVIRONMENT_BASE", "dev")
    assert config_cli(["stack-name", "pr42"]) == 0
    assert capsys.readouterr().out == "aurora-migration-pr42\n"


def test_every_subcommand_reads_aurora_migration_config_dir(
    qa_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AURORA_MIGRATION_CONFIG_DIR", str(qa_folder))
    assert config_cli(["stack-name", "qa"]) == 0
    assert capsys.readouterr().out == "aurora-migration-qa\n"
    assert config_cli(["stack-name", "qa", "--suffix", "pr3"]) == 0
    assert capsys.readouterr().out == "aurora-migration-pr3\n"
    assert config_cli(["environments"]) == 0
    assert json.loads(capsys.readouterr().out) == ["qa"]
    assert config_cli(["role-arn", "dev", "plan"]) == 2
    assert "dev: no such environment (known: qa)" in capsys.readouterr().err
