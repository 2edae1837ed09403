"""Configuration AWS or the operator refuses is refused at synth: one line naming file, field, value, allowed (#26 box 10)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, environment_files, load_environment, load_environments
from tests.config.helpers import copy_example_ca, dev_data, problems_for, write_toml

TODAY = dt.date(2026, 11, 29)


@pytest.mark.parametrize(
    ("section", "key", "bad", "expected"),
    [
        # strict types: TOML types its values, nothing is coerced
        ("aurora", "reader_count", "2", 'expected an integer, written without quotes (2, not "2")'),
        ("aurora", "reader_count", True, "expected an integer"),
        ("aurora", "deletion_protection", "off", "expected true or false, written without quotes"),
        ("aurora", "deletion_protection", 1, "expected true or false"),
        ("monitoring", "aurora_cpu_percent", "80", "expected a number"),
        ("aurora", "reader_count", 2.0, "expected an integer"),
        # dated lists in contract/
        ("dms", "replication_instance_class", "dms.c5.3xlarge", "not a DMS replication instance class"),
        ("dms", "replication_instance_class", "dms.m5.large", "contract/dms_instance_classes.py"),
        ("aurora", "engine_version", "15.9", "not a released Aurora PostgreSQL 15 minor"),
        ("aurora", "engine_version", "16.99", "released: 16.1, 16.2"),
        (None, "aws_region", "eu-west-9", "not an AWS region (botocore endpoints.json"),
        (None, "aws_region", "us-mars-1", "not an AWS region"),
        ("state_backend", "region", "us-east-7", "state_backend.region: not an AWS region"),
        # tags (botocore rds Tag)
        ("tags", "aws:owner", "dba", "the prefixes aws: and rds: are reserved for AWS"),
        ("tags", "rds:team", "dba", "reserved for AWS"),
        ("tags", "k" * 129, "v", "1 to 128 characters, got 129"),
        ("tags", "owner", "v" * 257, "1 to 256 characters, got 257"),
        ("tags", "owner", "dba;oncall", "not ';'"),
        ("tags", "cost#center", "x", "not '#'"),
        (None, "repository", "team/repo!", "tag value: only Unicode letters"),
        # windows (botocore rds PreferredBackupWindow / PreferredMaintenanceWindow, dms PreferredMaintenanceWindow)
        ("aurora", "preferred_backup_window", "03:00-03:29", "at least 30 minutes"),
        ("aurora", "preferred_maintenance_window", "sun:04:30-sun:04:45", "at least 30 minutes"),
        ("dms", "preferred_maintenance_window", "sat:23:50-sun:00:10", "at least 30 minutes"),
        ("aurora", "preferred_backup_window", "04:00-05:00", "overlaps preferred_maintenance_window 'sun:04:30-sun:05:30'"),
        ("aurora", "preferred_backup_window", "23:40-04:40", "overlaps preferred_maintenance_window"),
        # names AWS refuses
        (None, "name_prefix", "aurora-", "no hyphen at the end"),
        (None, "name_prefix", "aurora--migration", "single hyphens"),
        (None, "name_prefix", "-aurora", "first a letter"),
    ],
)
def test_a_refused_value_is_one_line_with_file_field_value_and_allowed(
    tmp_path: Path, section: str | None, key: str, bad: Any, expected: str
) -> None:
    data = dev_data()
    if section is None:
        data[key] = bad
    else:
        data.setdefault(section, {})[key] = bad
    problems = problems_for(tmp_path, data, today=TODAY)
    assert len(problems) == 1 and expected in problems[0], problems
    assert problems[0].startswith(f"{tmp_path / 'env.toml'}: "), problems[0]
    field = key if section is None else f"{section}.{key}" if section != "tags" else "tags"
    assert f": {field}" in problems[0], problems[0]
    if isinstance(bad, str) and section != "tags":
        assert repr(bad) in problems[0], "the message shows the bad value"


@pytest.mark.parametrize(
    ("exclude", "refused"),
    [
        ([{"schema_name": "public"}], True),  # equal to the include
        ([{"schema_name": "%", "table_name": "%"}], True),  # covers everything
        ([{"schema_name": "pub%"}], True),  # a pattern that matches the one schema the include names
        ([{"schema_name": "other%"}], False),
        ([{"schema_name": "public", "table_name": "audit%"}], False),
    ],
)
def test_an_exclude_that_covers_every_include_is_refused(tmp_path: Path, exclude: list[dict[str, str]], refused: bool) -> None:
    data = dev_data()
    data["dms"]["exclude"] = exclude
    copy_example_ca(tmp_path)
    path = write_toml(tmp_path / "env.toml", data)
    if not refused:
        assert load_environment(path, today=TODAY).dms.exclude
        return
    with pytest.raises(ConfigError) as caught:
        load_environment(path, today=TODAY)
    [problem] = caught.value.problems
    assert "dms.exclude: leaves out every include (public.%), so the task migrates nothing" in problem


def test_a_literal_include_covered_by_an_exclude_pattern_is_refused(tmp_path: Path) -> None:
    data = dev_data()
    data["dms"]["include"] = [{"schema_name": "sales", "table_name": "orders"}]
    data["dms"]["exclude"] = [{"schema_name": "sales", "table_name": "order%"}]
    [problem] = problems_for(tmp_path, data, today=TODAY)
    assert "dms.exclude: leaves out every include (sales.orders)" in problem


def test_cross_field_rules_run_even_when_another_field_has_an_error(tmp_path: Path) -> None:
    data = dev_data()
    data["aurora"]["reader_count"] = "2"  # a field error in [aurora]
    data["aurora"]["preferred_backup_window"] = "05:00-06:00"  # and a rule across two other [aurora] fields
    data["aws_region"] = "us-east-1"  # a rule across sections
    data["network"]["vpc_id"] = "vpc-1"  # a field error in [network], not in the fields the zone rule reads
    data["dms"]["exclude"] = [{"schema_name": "public"}]
    fields = sorted(line.split(": ")[1] for line in problems_for(tmp_path, data, today=TODAY))
    assert fields == [
        "aurora.preferred_backup_window",
        "aurora.reader_count",
        "dms.exclude",
        "network.aurora_subnets",
        "network.dms_subnets",
        "network.vpc_id",
    ]


def test_a_rule_whose_field_is_wrong_is_not_run_on_a_guess(tmp_path: Path) -> None:
    data = dev_data()
    data["aurora"]["preferred_backup_window"] = "5am"  # wrong itself: the overlap rule cannot be decided
    [problem] = problems_for(tmp_path, data, today=TODAY)
    assert "aurora.preferred_backup_window: expected something shaped like '03:00-04:00', got '5am'" in problem


def test_a_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes('environment_suffix = "d\xe9v"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    assert caught.value.problems == (f"{path}: not UTF-8 text (byte 24); TOML files are UTF-8",)


def test_a_folder_named_like_an_environment_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "dev.toml").mkdir()
    with pytest.raises(ConfigError) as caught:
        load_environments(environment_files(tmp_path))
    assert caught.value.problems == (f"{tmp_path / 'dev.toml'}: a folder, not an environment file",)


def test_two_files_of_one_environment_name_both(tmp_path: Path) -> None:
    copy_example_ca(tmp_path)
    write_toml(tmp_path / "dev.toml", dev_data())
    write_toml(tmp_path / "dev.TOML", dev_data())
    with pytest.raises(ConfigError) as caught:
        load_environments(environment_files(tmp_path))
    problems = caught.value.problems
    assert any("dev.TOML" in p and "dev.toml" in p and "two files for one environment 'dev'" in p for p in problems)
    assert any("environment_suffix 'dev' is used by more than one environment" in p and "dev.TOML" in p for p in problems)


def test_two_files_with_one_environment_suffix_name_both(tmp_path: Path) -> None:
    copy_example_ca(tmp_path)
    for name in ("dev", "dev-copy"):
        data = dev_data()
        data["dms"]["service_roles"] = "create" if name == "dev" else "existing"
        if name != "dev":  # one VPC, one Secrets Manager endpoint: only the suffix rule is under test here
            data["network"]["secrets_manager_endpoint"] = "lookup"
        write_toml(tmp_path / f"{name}.toml", data)
    with pytest.raises(ConfigError) as caught:
        load_environments(environment_files(tmp_path))
    [problem] = caught.value.problems
    assert "dev.toml" in problem and "dev-copy.toml" in problem and "environment_suffix 'dev'" in problem


def test_a_config_folder_that_does_not_exist_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        environment_files(tmp_path / "nowhere")
    assert caught.value.problems == (f"{tmp_path / 'nowhere'}: config folder not found (or not a folder)",)


def test_a_toml_date_is_refused_by_name(tmp_path: Path) -> None:
    data_path = tmp_path / "env.toml"
    copy_example_ca(tmp_path)
    write_toml(data_path, dev_data())
    data_path.write_text(data_path.read_text().replace('environment_suffix = "dev"', "environment_suffix = 2026-01-01"))
    with pytest.raises(ConfigError) as caught:
        load_environment(data_path)
    assert caught.value.problems == (
        f"{data_path}: environment_suffix: a TOML date or time, which no field takes, got 2026-01-01",
    )
