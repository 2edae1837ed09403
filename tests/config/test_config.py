"""The config model and loader: every bad input names its file, field, value and what is allowed."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, environment_files, load_environment, load_environments
from config.loader import CONFIG_DIR
from tests.config.helpers import DEV, copy_example_ca, dev_data, problems_for, write_toml


def test_example_environments_are_valid() -> None:
    configs = load_environments(environment_files())
    assert sorted(c.environment_suffix for c in configs) == sorted(path.stem for path in CONFIG_DIR.glob("*.toml"))


def test_round_trip_writer_reproduces_dev(tmp_path: Path) -> None:
    copy_example_ca(tmp_path)
    rewritten = load_environment(write_toml(tmp_path / "dev.toml", dev_data()))
    paths: Any = {"source": True, "dms": {"target_ca_certificate_file"}}  # resolved against each file's folder
    assert rewritten.model_dump(exclude=paths) == load_environment(DEV).model_dump(exclude=paths)


def test_one_subnet_is_rejected_with_the_field_and_rule(tmp_path: Path) -> None:
    data = dev_data()
    data["network"]["aurora_subnets"] = {"subnet-0a1b2c3d4e5f60011": "eu-west-1a"}
    [problem] = problems_for(tmp_path, data)
    assert problem.startswith(f"{tmp_path / 'env.toml'}: network.aurora_subnets: need at least 2 subnets in different AZs")
    assert "subnet-0a1b2c3d4e5f60011" in problem


def test_two_subnets_in_one_zone_are_rejected(tmp_path: Path) -> None:
    data = dev_data()
    data["network"]["dms_subnets"] = {"subnet-0a1b2c3d4e5f60021": "eu-west-1a", "subnet-0a1b2c3d4e5f60022": "eu-west-1a"}
    [problem] = problems_for(tmp_path, data)
    assert "network.dms_subnets: need at least 2 subnets in different AZs" in problem


def test_every_problem_of_a_file_is_reported_together(tmp_path: Path) -> None:
    data = dev_data()
    data["network"]["vpc_id"] = "vpc-123"
    data["source"]["credentials_secret_arn"] = "my-secret"
    data["aurora"]["reader_count"] = 0
    data["aurora"]["backup_retention_days"] = 0
    data["aurora"]["engine_version"] = "12.4"
    data["regoin"] = "eu-west-1"
    del data["state_backend"]
    problems = problems_for(tmp_path, data)
    fields = [line.split(": ")[1] for line in problems]
    assert sorted(fields) == sorted(
        [
            "network.vpc_id",
            "source.credentials_secret_arn",
            "aurora.reader_count",
            "aurora.backup_retention_days",
            "aurora.engine_version",
            "regoin",
            "state_backend",
        ]
    )
    by_field = dict(zip(fields, problems, strict=True))
    assert "shaped like 'vpc-0123456789abcdef0', got 'vpc-123'" in by_field["network.vpc_id"]
    assert "major version 12 is not supported (supported majors: 14, 15, 16)" in by_field["aurora.engine_version"]
    assert "unknown key (allowed here: " in by_field["regoin"] and "aws_region" in by_field["regoin"]
    assert by_field["state_backend"].endswith("state_backend: required field is missing")


def test_unknown_key_in_a_section_lists_that_sections_keys(tmp_path: Path) -> None:
    data = dev_data()
    data["aurora"]["reader_cuont"] = 3
    [problem] = problems_for(tmp_path, data)
    assert "aurora.reader_cuont: unknown key (allowed here:" in problem
    assert "reader_count" in problem


@pytest.mark.parametrize(
    ("section", "key", "bad", "expected"),
    [
        ("source", "ssl_mode", "none", "source.ssl_mode"),
        ("network", "application_cidr_blocks", ["0.0.0.0/0"], "open to the whole internet"),
        ("network", "vpc_cidr_block", "10.0.0.1/8", "expected an IPv4 CIDR block"),
        ("aurora", "master_username", "postgres", "non-default master username"),
        ("aurora", "performance_insights_retention_days", 10, "multiple of 31"),
        ("aurora", "log_retention_days", 10, "allowed CloudWatch retention values"),
        ("dms", "engine_version", "3.4.7", "unknown DMS engine version"),
        ("dms", "engine_version", "3.5.4", "AWS stopped creating replication instances with DMS 3.5.4 after 2026-09-15"),
        ("network", "vpc_cidr_block", "10.10.0.0", "with its prefix length"),
        ("source", "cidr_block", "192.168.10.0", "with its prefix length"),
        ("network", "application_cidr_blocks", ["2001:db8::/32"], "expected an IPv4 CIDR block"),
        ("network", "secrets_manager_endpoint", "vpc-0a1b2c3d4e5f60001", "vpce-0123456789abcdef0"),
        ("state_backend", "key_prefix", "/aurora-migration", "state_backend.key_prefix"),
        ("state_backend", "key_prefix", "aurora-migration/", "state_backend.key_prefix"),
        ("state_backend", "key_prefix", "teams//aurora", "state_backend.key_prefix"),
        ("dms", "migration_type", "full-load-only", "dms.migration_type"),
        ("dms", "include", [], "dms.include"),
        ("state_backend", "kms_key_id", "alias-without-arn", "state_backend.kms_key_id"),
        # Rules the construct props once checked a second time; the config model is now their only guard.
        ("aurora", "reader_count", 0, "aurora.reader_count"),
        ("aurora", "engine_version", "12.9", "major version 12 is not supported"),
        ("aurora", "backup_retention_days", 0, "aurora.backup_retention_days"),
        ("aurora", "instance_class", "db.z9.huge", "the connections alarm needs the class's memory"),
        ("aurora", "log_min_duration_statement_ms", -1, "aurora.log_min_duration_statement_ms"),
        ("network", "aurora_subnets", {"subnet-0a1b2c3d4e5f60001": "eu-west-1a"}, "need at least 2 subnets in different AZs"),
        ("network", "dms_subnets", {"subnet-0a1b2c3d4e5f60001": "eu-west-1a"}, "need at least 2 subnets in different AZs"),
        ("dms", "service_roles", "maybe", "dms.service_roles"),
        ("dms", "lob_max_size_kb", 0, "dms.lob_max_size_kb"),
        ("dms", "replication_instance_class", "c5.2xlarge", "shaped like 'dms.c5.2xlarge'"),
        ("dms", "engine_version", "3.6", "shaped like '3.6.1'"),
        ("dms", "target_user", "superuser", "dms.target_user"),
        ("dms", "target_username", "pg_dms", "a role name PostgreSQL or Aurora reserves"),
        ("dms", "target_username", "rds_dms", "a role name PostgreSQL or Aurora reserves"),
        ("dms", "target_username", "public", "a role name PostgreSQL or Aurora reserves"),
        ("dms", "target_username", "DMS-Target", "dms.target_username"),
        ("dms", "target_password_version", 0, "dms.target_password_version"),
        ("dms", "secrets_manager_endpoint_override", "maybe", "dms.secrets_manager_endpoint_override"),
    ],
)
def test_bad_value_names_field(tmp_path: Path, section: str, key: str, bad: Any, expected: str) -> None:
    data = dev_data()
    data[section][key] = bad
    problems = problems_for(tmp_path, data, today=dt.date(2026, 11, 29))
    assert len(problems) == 1 and expected in problems[0], problems
    if isinstance(bad, str):
        assert repr(bad) in problems[0], "the message shows the bad value"


def test_a_certificate_file_that_only_looks_like_pem_is_refused(tmp_path: Path) -> None:
    data = dev_data()
    data["source"]["ca_certificate_file"] = "fake.pem"
    (tmp_path / "fake.pem").write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    [problem] = problems_for(tmp_path, data)
    assert "source.ca_certificate_file" in problem and "not a readable PEM certificate bundle" in problem


def test_a_dms_engine_that_cannot_write_to_the_aurora_major_is_refused(tmp_path: Path) -> None:
    data = dev_data()
    data["aurora"]["engine_version"] = "16.4"
    data["dms"]["engine_version"] = "3.5.2"
    [problem] = problems_for(tmp_path, data, today=dt.date(2025, 1, 1))  # before 3.5.2's creation deadline
    assert "dms.engine_version: DMS 3.5.2 cannot write to PostgreSQL 16" in problem
    assert problem.endswith("got '3.5.2' (aurora.engine_version '16.4')")
    data["dms"]["engine_version"] = "3.5.3"
    path = write_toml(tmp_path / "env.toml", data)
    assert load_environment(path, today=dt.date(2025, 1, 1)).dms.engine_version == "3.5.3"


def test_cross_field_errors_name_fields_and_values_not_the_whole_table(tmp_path: Path) -> None:
    data = dev_data()
    data["aws_region"] = "us-east-1"
    data["dms"]["engine_version"] = "3.5.4"
    problems = problems_for(tmp_path, data, today=dt.date(2026, 11, 29))
    assert len(problems) == 3, problems  # two subnet maps in the wrong region, and the engine deadline
    for problem in problems:
        assert "environment_suffix" not in problem and "'network':" not in problem, problem


def test_the_dedicated_dms_target_user_is_a_second_role_that_applies_no_ddl(tmp_path: Path) -> None:
    data = dev_data()
    data["aurora"]["master_username"] = "migration_owner"
    data["dms"]["target_username"] = "migration_owner"
    data["dms"]["capture_ddl"] = True
    problems = [problem.split(": ", 1)[1] for problem in problems_for(tmp_path, data)]  # without the file name
    assert problems == [
        "dms.target_username: must differ from aurora.master_username (the dedicated user is a second role), "
        "got 'migration_owner'",
        'dms.target_user: "dedicated" cannot apply the DDL that dms.capture_ddl captures (ALTER TABLE needs the '
        'table\'s owner, the master user); set dms.target_user = "master" or dms.capture_ddl = false, got "dedicated"',
    ]
    data["dms"]["target_user"] = "master"  # the master user applies DDL and needs no second role
    config = load_environment(write_toml(tmp_path / "env.toml", data))
    assert config.dms.target_user == "master" and config.dms.capture_ddl


def test_two_environments_of_one_account_cannot_both_create_the_dms_service_roles(tmp_path: Path) -> None:
    for name in ("dev", "staging"):
        data = dev_data()
        data["environment_suffix"] = name
        if name == "staging":  # one VPC, one Secrets Manager endpoint: only the roles rule is under test here
            data["network"]["secrets_manager_endpoint"] = "lookup"
        copy_example_ca(tmp_path)
        write_toml(tmp_path / f"{name}.toml", data)
    with pytest.raises(ConfigError) as caught:
        load_environments(environment_files(tmp_path))
    [problem] = caught.value.problems
    assert "dms.service_roles" in problem and "111111111111" in problem and "dev.toml" in problem and "staging.toml" in problem
    data["dms"]["service_roles"] = "existing"
    write_toml(tmp_path / "staging.toml", data)
    assert len(load_environments(environment_files(tmp_path))) == 2


def test_zone_outside_region_is_rejected(tmp_path: Path) -> None:
    data = dev_data()
    data["aws_region"] = "us-east-1"
    problems = problems_for(tmp_path, data)
    assert [p.split(": ")[1] for p in problems] == ["network.aurora_subnets", "network.dms_subnets"]
    assert all("are not in aws_region 'us-east-1'" in problem for problem in problems)


def test_verify_full_needs_a_ca_certificate(tmp_path: Path) -> None:
    data = dev_data()
    del data["source"]["ca_certificate_file"]
    [problem] = problems_for(tmp_path, data)
    assert "ssl_mode 'verify-full' needs ca_certificate_file" in problem


def test_private_key_is_refused_as_ca_certificate(tmp_path: Path) -> None:
    data = dev_data()
    data["source"]["ca_certificate_file"] = "key.pem"
    (tmp_path / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n")
    [problem] = problems_for(tmp_path, data)
    assert "contains a private key" in problem


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("environment_suffix = \n")
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    assert str(caught.value).startswith(f"{path}: not valid TOML")


def test_ephemeral_environment_copies_the_base_under_a_new_suffix_and_uses_its_service_roles() -> None:
    configs = load_environments(environment_files(), ephemeral_suffix="pr123", ephemeral_base="dev")
    by_suffix = {c.environment_suffix: c for c in configs}
    assert by_suffix["dev"].dms.service_roles == "create"
    assert by_suffix["pr123"].dms.service_roles == "existing", "dms-vpc-role belongs to dev; a PR stack must not recreate it"
    differing: Any = {
        "environment_suffix": True,
        "dms": {"service_roles", "multi_az", "replication_instance_class"},
        "network": {"secrets_manager_endpoint"},
        "aurora": {
            "secret_recovery_window_days",
            "instance_class",
            "serverless_min_capacity_acu",
            "serverless_max_capacity_acu",
            "reader_count",
            "deletion_protection",
            "auto_scaling",
        },
    }
    assert by_suffix["pr123"].model_dump(exclude=differing) == by_suffix["dev"].model_dump(exclude=differing)
    assert by_suffix["pr123"].stack_name == "aurora-migration-pr123"


def test_a_short_lived_stack_shares_its_base_s_secrets_manager_endpoint_and_frees_its_secret_names_at_once() -> None:
    """One private-DNS endpoint per VPC (terraform-provider-aws #17535); deleted secrets hold their names."""
    by_suffix = {c.environment_suffix: c for c in load_environments(environment_files(), ephemeral_suffix="pr9")}
    assert by_suffix["dev"].network.secrets_manager_endpoint == "create"
    assert by_suffix["pr9"].network.secrets_manager_endpoint == "lookup"
    assert by_suffix["pr9"].aurora.secret_recovery_window_days == 0
    from_prod = {
        c.environment_suffix: c for c in load_environments(environment_files(), ephemeral_suffix="pr9", ephemeral_base="prod")
    }
    assert from_prod["pr9"].network.secrets_manager_endpoint == from_prod["prod"].network.secrets_manager_endpoint, "an id stays"
    assert from_prod["pr9"].aurora.secret_recovery_window_days == 0 != from_prod["prod"].aurora.secret_recovery_window_days


def test_two_environment_files_creating_a_secrets_manager_endpoint_in_one_vpc_are_refused(tmp_path: Path) -> None:
    copy_example_ca(tmp_path)
    first = write_toml(tmp_path / "dev.toml", dev_data())
    second_data = dev_data() | {"environment_suffix": "qa"}
    second = write_toml(tmp_path / "qa.toml", second_data)
    with pytest.raises(ConfigError) as caught:
        load_environments([first, second])
    [problem] = [line for line in caught.value.problems if "secrets_manager_endpoint" in line]
    assert problem.startswith(f"{first}, {second}: network.secrets_manager_endpoint: more than one environment in VPC ")
    assert "vpc-0a1b2c3d4e5f60001 (eu-west-1) says 'create'" in problem and "'lookup'" in problem
    second_data["network"] = {**second_data["network"], "secrets_manager_endpoint": "lookup"}
    write_toml(second, second_data)
    problems = _problems_of(first, second)
    assert not [line for line in problems if "secrets_manager_endpoint" in line], problems
    other_vpc = dev_data() | {"environment_suffix": "qa"}
    other_vpc["network"] = {**other_vpc["network"], "vpc_id": "vpc-0a1b2c3d4e5f60099"}
    write_toml(second, other_vpc)
    assert not [line for line in _problems_of(first, second) if "secrets_manager_endpoint" in line]


def _problems_of(*paths: Path) -> list[str]:
    try:
        load_environments(list(paths))
    except ConfigError as error:
        return list(error.problems)
    return []


def test_ephemeral_suffix_is_validated_and_must_be_new() -> None:
    with pytest.raises(ConfigError) as bad_shape:
        load_environments(environment_files(), ephemeral_suffix="PR_1")
    assert "as ENVIRONMENT_SUFFIX=PR_1" in str(bad_shape.value) and "environment_suffix" in str(bad_shape.value)
    with pytest.raises(ConfigError) as duplicate:
        load_environments(environment_files(), ephemeral_suffix="prod")
    assert "environment_suffix 'prod' is used by more than one environment" in str(duplicate.value)


def test_defaults_are_the_documented_product_defaults() -> None:
    config = load_environment(DEV)
    assert config.aurora.engine_version.startswith("15.")
    assert config.dms.replication_instance_class == "dms.c5.2xlarge"
    assert config.dms.migration_type == "full-load-and-cdc"
    assert config.aurora.performance_insights_retention_days == 7
    assert config.monitoring.aurora_cpu_percent == 80
    assert config.monitoring.dms_cdc_latency_seconds == 300
    assert (config.dms.target_user, config.dms.target_username, config.dms.target_password_version) == (
        "dedicated",
        "dms_target",
        1,
    )


def test_dms_engine_deadlines_warn_within_90_days_and_refuse_after() -> None:
    from contract.dms_engines import engine_problems, engine_warnings

    assert engine_warnings("3.6.1", today=dt.date(2027, 1, 30)) == [
        "DMS 3.6.1: AWS creates new replication instances with it only until 2027-04-30 (90 days); "
        "plan the move to a newer engine"
    ]
    assert engine_warnings("3.6.1", today=dt.date(2027, 1, 29)) == []
    assert engine_problems("3.6.1", target_major=16, today=dt.date(2027, 4, 30)) == []
    [refused] = engine_problems("3.6.1", target_major=16, today=dt.date(2027, 5, 1))
    assert "after 2027-04-30" in refused


def test_the_dms_engine_table_names_its_sources_and_date() -> None:
    import contract.dms_engines as table

    assert "release notes" in (table.__doc__ or "") and "Targets for AWS DMS" in (table.__doc__ or "")
    assert dt.date(2026, 11, 29) == table.TABLE_DATE
    assert table.known_engine(table.DEFAULT_DMS_ENGINE_VERSION) is not None
    assert [e.version for e in table.DMS_ENGINES] == sorted(
        (e.version for e in table.DMS_ENGINES), key=table.parse_engine_version, reverse=True
    )
    assert table.oldest_engine_for_source(17).version == "3.6.1"  # type: ignore[union-attr]
    assert table.oldest_engine_for_source(16).version == "3.5.3"  # type: ignore[union-attr]


def test_stack_name_command_names_the_environment_or_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """The Makefile's deploy/diff/destroy take the stack name from here, never from a second spelling of it."""
    from config.__main__ import main as config_cli

    assert config_cli(["stack-name", "prod"]) == 0
    assert capsys.readouterr().out.strip() == "aurora-migration-prod"
    assert config_cli(["stack-name", "nowhere"]) == 2
    assert "nowhere: no such environment" in capsys.readouterr().err
    assert config_cli([]) == 2
    capsys.readouterr()
    assert config_cli(["role-arn", "prod", "plan"]) == 0
    assert capsys.readouterr().out == "arn:aws:iam::333333333333:role/aurora-migration-plan\n"
    assert config_cli(["role-arn", "prod", "deploy"]) == 0
    assert capsys.readouterr().out == "arn:aws:iam::333333333333:role/aurora-migration-deploy\n"
    assert config_cli(["role-arn", "dev", "deploy"]) == 0
    assert capsys.readouterr().out == "\n", "no deploy role: an empty line, so the workflow deploys nothing"
    assert config_cli(["role-arn", "dev", "apply"]) == 2
    assert "invalid choice: 'apply'" in capsys.readouterr().err


def test_the_workflow_matrix_is_every_valid_environment_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`make environments` (the workflows' matrix) lists config/*.toml at run time: a new file is a new leg."""
    from config.__main__ import environment_names
    from config.__main__ import main as config_cli

    assert config_cli(["environments"]) == 0
    assert json.loads(capsys.readouterr().out) == sorted(path.stem for path in CONFIG_DIR.glob("*.toml"))
    assert config_cli(["environments", "--role", "deploy"]) == 0
    assert json.loads(capsys.readouterr().out) == ["prod"], "only prod names a deploy role"
    copy_example_ca(tmp_path)
    for path in CONFIG_DIR.glob("*.toml"):
        shutil.copyfile(path, tmp_path / path.name)
    data = dev_data()
    data["environment_suffix"], data["dms"] = "qa", {**data["dms"], "service_roles": "existing"}
    data["network"]["secrets_manager_endpoint"] = "lookup"  # dev's VPC holds dev's endpoint (one per VPC)
    write_toml(tmp_path / "qa.toml", data)
    assert environment_names(tmp_path) == sorted([*(path.stem for path in CONFIG_DIR.glob("*.toml")), "qa"])
    assert environment_names(tmp_path, role="plan", only="qa") == ["qa"]
    with pytest.raises(ConfigError, match="nowhere: no such environment"):
        environment_names(tmp_path, only="nowhere")
    (tmp_path / "broken.toml").write_text("environment_suffix = 1\n")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        environment_names(tmp_path)


def test_a_deploy_role_with_path_session_name_and_external_id_is_accepted(tmp_path: Path) -> None:
    data = dev_data()
    role = "arn:aws:iam::111111111111:role/platform/ci/aurora-migration-deploy"
    data["deployment"] = {"role_arn": role, "session_name": "ci-plan-dev", "external_id": "aurora-migration-7f3c"}
    copy_example_ca(tmp_path)
    config = load_environment(write_toml(tmp_path / "env.toml", data))
    assert config.deployment.role_arn == role
    assert config.deployment.role_account_id == "111111111111"
    assert (config.deployment.session_name, config.deployment.external_id) == ("ci-plan-dev", "aurora-migration-7f3c")


def test_without_a_deploy_role_terraform_deploys_with_the_callers_credentials() -> None:
    by_suffix = {c.environment_suffix: c for c in load_environments(environment_files())}
    assert by_suffix["dev"].deployment.role_arn is None and by_suffix["dev"].deployment.role_account_id is None
    assert by_suffix["prod"].deployment.role_account_id == "333333333333", "prod is the cross-account example"


def test_every_environment_names_a_read_only_plan_role_in_its_own_account() -> None:
    """The pull-request and drift workflows plan every config/*.toml with its plan role, never the deploy role."""
    for config in load_environments(environment_files()):
        deployment = config.deployment
        assert deployment.plan_role_arn is not None, f"{config.environment_suffix}: no deployment.plan_role_arn"
        assert deployment.plan_role_arn != deployment.role_arn
        assert deployment.plan_role_account_id in config.allowed_account_ids


def test_a_plan_role_alone_takes_a_session_name_and_an_external_id(tmp_path: Path) -> None:
    data = dev_data()
    plan_role = "arn:aws:iam::111111111111:role/aurora-migration-plan"
    data["deployment"] = {"plan_role_arn": plan_role, "session_name": "ci-dev", "external_id": "aurora-migration-7f3c"}
    copy_example_ca(tmp_path)
    config = load_environment(write_toml(tmp_path / "env.toml", data))
    assert (config.deployment.role_arn, config.deployment.plan_role_arn) == (None, plan_role)
    assert config.deployment.plan_role_account_id == "111111111111"


@pytest.mark.parametrize(
    ("deployment", "expected"),
    [
        ({"role_arn": "arn:aws:iam::1111:role/deploy"}, "deployment.role_arn: expected something shaped like"),
        ({"role_arn": "arn:aws:iam::111111111111:user/deploy"}, "deployment.role_arn: expected something shaped like"),
        ({"role_arn": "arn:aws:sts::111111111111:assumed-role/deploy/ci"}, "deployment.role_arn: expected"),
        ({"role_arn": "arn:aws:iam::111111111111:role//deploy"}, "deployment.role_arn: expected"),
        ({"role_arn": "arn:aws:iam::111111111111:role/" + "r" * 65}, "deployment.role_arn: expected"),
        ({"role_arn": "arn:aws:iam::111111111111:role/deploy", "session_name": "ci plan"}, "deployment.session_name"),
        ({"role_arn": "arn:aws:iam::111111111111:role/deploy", "external_id": "x"}, "deployment.external_id"),
        ({"session_name": "ci-plan"}, "session_name without a role: set deployment.role_arn or plan_role_arn too"),
        ({"plan_role_arn": "arn:aws:iam::111111111111:user/plan"}, "deployment.plan_role_arn: expected something shaped"),
        (
            {"role_arn": "arn:aws:iam::111111111111:role/deploy", "plan_role_arn": "arn:aws:iam::111111111111:role/deploy"},
            "deployment.plan_role_arn is role_arn: plans need a read-only role of their own",
        ),
        ({"role_ARN": "arn:aws:iam::111111111111:role/deploy"}, "deployment.role_ARN: unknown key"),
        (
            {"role_arn": "arn:aws:iam::222222222222:role/deploy"},
            "deployment.role_arn: account 222222222222 is not in allowed_account_ids ['111111111111']",
        ),
        (
            {"plan_role_arn": "arn:aws:iam::222222222222:role/plan"},
            "deployment.plan_role_arn: account 222222222222 is not in allowed_account_ids ['111111111111']",
        ),
    ],
)
def test_a_bad_deploy_role_names_the_field(tmp_path: Path, deployment: dict[str, str], expected: str) -> None:
    data = dev_data()
    data["deployment"] = deployment
    problems = problems_for(tmp_path, data)
    assert len(problems) == 1 and expected in problems[0], problems
