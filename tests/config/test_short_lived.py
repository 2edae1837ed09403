"""Short-lived stacks (ENVIRONMENT_SUFFIX) are cheap by default, and the base file's `[short_lived]` table says otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, EnvironmentConfig, environment_files, load_environments
from config.loader import CONFIG_DIR
from config.short_lived import SHORT_LIVED_MAX_ACU, short_lived_dms_class
from contract.aurora import SERVERLESS_INSTANCE_CLASS, SERVERLESS_MIN_ACU
from contract.dms_instance_classes import DMS_INSTANCE_CLASSES
from tests.config.helpers import copy_example_ca, dev_data, write_toml


def _short_lived(config_dir: Path, *, base: str = "dev", suffix: str = "pr42") -> dict[str, EnvironmentConfig]:
    configs = load_environments(environment_files(config_dir), ephemeral_suffix=suffix, ephemeral_base=base)
    return {config.environment_suffix: config for config in configs}


@pytest.mark.parametrize("base", ["dev", "staging", "prod"])
def test_a_short_lived_stack_is_serverless_with_one_reader_single_az_dms_and_no_deletion_protection(base: str) -> None:
    by_suffix = _short_lived(CONFIG_DIR, base=base)
    aurora, dms = by_suffix["pr42"].aurora, by_suffix["pr42"].dms
    assert (aurora.instance_class, aurora.serverless_min_capacity_acu) == (SERVERLESS_INSTANCE_CLASS, SERVERLESS_MIN_ACU)
    assert aurora.serverless_max_capacity_acu == SHORT_LIVED_MAX_ACU
    assert aurora.reader_count == 1 and not aurora.deletion_protection
    assert not aurora.auto_scaling.enabled, "Aurora Auto Scaling does not support Serverless v2"
    assert not dms.multi_az and dms.replication_instance_class == short_lived_dms_class()
    assert by_suffix[base].aurora.instance_class != SERVERLESS_INSTANCE_CLASS, "the base keeps its own sizes"


def test_the_default_dms_class_is_the_medium_size_of_the_newest_burstable_family_in_the_table() -> None:
    chosen = short_lived_dms_class()
    assert chosen in DMS_INSTANCE_CLASSES and chosen == "dms.t3.medium"
    assert short_lived_dms_class((*DMS_INSTANCE_CLASSES, "dms.t4.medium", "dms.t10.micro")) == "dms.t4.medium"
    with pytest.raises(ValueError, match="no burstable medium class"):
        short_lived_dms_class(("dms.c5.large", "dms.t3.micro"))


def _config_copy(tmp_path: Path, short_lived: dict[str, object]) -> Path:
    for path in CONFIG_DIR.glob("*.toml"):
        shutil.copyfile(path, tmp_path / path.name)
    copy_example_ca(tmp_path)
    data = dev_data()
    data["short_lived"] = short_lived
    write_toml(tmp_path / "dev.toml", data)
    return tmp_path


def test_every_default_is_overridden_by_the_base_file_s_short_lived_table(tmp_path: Path) -> None:
    table: dict[str, object] = {
        "aurora_instance_class": "db.r6g.large",
        "aurora_reader_count": 2,
        "aurora_deletion_protection": True,
        "dms_multi_az": True,
        "dms_replication_instance_class": "dms.c5.large",
    }
    by_suffix = _short_lived(_config_copy(tmp_path, table))
    aurora, dms = by_suffix["pr42"].aurora, by_suffix["pr42"].dms
    assert (aurora.instance_class, aurora.serverless_min_capacity_acu, aurora.serverless_max_capacity_acu) == (
        "db.r6g.large",
        None,
        None,
    )
    assert (aurora.reader_count, aurora.deletion_protection, dms.multi_az) == (2, True, True)
    assert dms.replication_instance_class == "dms.c5.large"
    # Besides the table, only the CA files' folder differs (paths resolve against each file's folder).
    unchanged: Any = {"short_lived": True, "source": {"ca_certificate_file"}, "dms": {"target_ca_certificate_file"}}
    assert by_suffix["dev"].model_dump(exclude=unchanged) == _short_lived(CONFIG_DIR)["dev"].model_dump(exclude=unchanged), (
        "[short_lived] changes only the short-lived stack"
    )


def test_the_capacity_range_is_overridden(tmp_path: Path) -> None:
    table: dict[str, object] = {"aurora_serverless_min_capacity_acu": 1.0, "aurora_serverless_max_capacity_acu": 16.0}
    aurora = _short_lived(_config_copy(tmp_path, table))["pr42"].aurora
    assert (aurora.serverless_min_capacity_acu, aurora.serverless_max_capacity_acu) == (1.0, 16.0)


def _problems(tmp_path: Path, table: dict[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_environments(environment_files(_config_copy(tmp_path, table)))
    return list(caught.value.problems)


def test_an_unknown_key_is_refused_with_the_file_and_the_allowed_keys(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, {"aurora_instance_klass": "db.r6g.large"})
    assert problem.startswith(f"{tmp_path / 'dev.toml'}: short_lived.aurora_instance_klass: unknown key (allowed here: ")
    assert "aurora_instance_class, aurora_reader_count" in problem


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"aurora_instance_class": "db.x9.large"}, "short_lived.aurora_instance_class: the connections alarm needs"),
        ({"aurora_reader_count": 0}, "short_lived.aurora_reader_count: Input should be greater than or equal to 1"),
        ({"dms_multi_az": "false"}, "short_lived.dms_multi_az: expected true or false, written without quotes"),
        ({"dms_replication_instance_class": "dms.t9.medium"}, "short_lived.dms_replication_instance_class: not a DMS"),
        ({"aurora_serverless_min_capacity_acu": 0.3}, "short_lived.aurora_serverless_min_capacity_acu: allowed: 0.5 to 256"),
        ({"aurora_serverless_max_capacity_acu": 0.5}, "short_lived.aurora_serverless_max_capacity_acu: at least 1 ACU"),
        (
            {"aurora_serverless_min_capacity_acu": 8.0},
            "short_lived.aurora_serverless_max_capacity_acu: below aurora_serverless_min_capacity_acu 8.0 (unset: the default)",
        ),
        (
            {"aurora_instance_class": "db.r6g.large", "aurora_serverless_max_capacity_acu": 8.0},
            "short_lived.aurora_serverless_max_capacity_acu: only with aurora_instance_class 'db.serverless' "
            "(not 'db.r6g.large'), got 8.0",
        ),
    ],
)
def test_a_bad_value_names_the_file_and_the_field(tmp_path: Path, table: dict[str, object], expected: str) -> None:
    [problem] = _problems(tmp_path, table)
    assert problem.startswith(f"{tmp_path / 'dev.toml'}: {expected}"), problem


def test_a_rule_across_fields_that_the_short_lived_stack_breaks_names_it(tmp_path: Path) -> None:
    """staging scales its readers up to 4: a provisioned short-lived stack with 5 readers is refused, as such."""
    config_dir = _config_copy(tmp_path, {})
    staging = config_dir / "staging.toml"
    staging.write_text(staging.read_text() + '\n[short_lived]\naurora_instance_class = "db.r6g.large"\naurora_reader_count = 5\n')
    load_environments(environment_files(config_dir))
    with pytest.raises(ConfigError) as caught:
        _short_lived(config_dir, base="staging")
    [problem] = caught.value.problems
    assert problem == (
        f"{staging} (as ENVIRONMENT_SUFFIX=pr42): aurora.auto_scaling.max_readers: at least aurora.reader_count (5, "
        "the minimum), got 4"
    )


def test_an_operations_command_s_suffix_gets_the_same_short_lived_config_as_the_synth() -> None:
    """`short_lived_environment` is what `--suffix` should load (migration_ops/cli), so verify expects what was deployed."""
    from config.loader import short_lived_environment

    assert short_lived_environment(CONFIG_DIR / "dev.toml", suffix="pr42") == _short_lived(CONFIG_DIR)["pr42"]
    with pytest.raises(ConfigError) as caught:
        short_lived_environment(CONFIG_DIR / "dev.toml", suffix="PR_1")
    [problem] = caught.value.problems
    assert "dev.toml (as ENVIRONMENT_SUFFIX=PR_1): environment_suffix: " in problem
