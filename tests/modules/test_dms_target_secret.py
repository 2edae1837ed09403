"""The dedicated DMS target user's secret, and what `dms.target_user` changes in the stack, on the synthesized JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from config import EnvironmentConfig
from contract.naming import Naming
from contract.passwords import GENERATED_PASSWORD_EXCLUDED_CHARACTERS, GENERATED_PASSWORD_LENGTH
from modules.dms_target_secret import DmsTargetSecret, DmsTargetSecretProps
from tests.environments import ENVIRONMENTS
from tests.helpers import Document, only_resource, resources, synth_props

KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
SECRET = "aws_secretsmanager_secret"
VERSION = "aws_secretsmanager_secret_version"
GENERATOR = "aws_secretsmanager_random_password"
DEDICATED_SECRET_ARN = "${aws_secretsmanager_secret.dms-target-secret_E531D243.arn}"
CREDENTIALS_SECRET_ARN = "${aws_secretsmanager_secret.credentials_secret_E9FDEF67.arn}"
NEW_ADDRESSES = {f"{SECRET}.dms-target-secret_E531D243", f"{VERSION}.dms-target-secret_value_2974C3C6"}

PROPS = DmsTargetSecretProps(
    naming=Naming(prefix="aurora-migration", suffix="unit"),
    kms_key_arn=KEY,
    username="dms_target",
    password_version=1,
    host="aurora.cluster-abc.eu-west-1.rds.amazonaws.com",
    port=5432,
    database_name="app",
    recovery_window_days=7,
)


def synth_secret(**changes: Any) -> Document:
    return synth_props(DmsTargetSecret, "dms-target-secret", PROPS, **changes)


@pytest.fixture(scope="module")
def unit() -> Document:
    return synth_secret()


def _target_endpoint(document: Document) -> dict[str, Any]:
    endpoint: dict[str, Any] = next(e for e in resources(document, "aws_dms_endpoint").values() if e["endpoint_type"] == "target")
    return endpoint


def _readable_secrets(document: Document) -> list[str]:
    policy = json.loads(only_resource(document, "aws_iam_role_policy")["policy"])
    [statement] = [s for s in policy["Statement"] if s["Sid"] == "ReadEndpointSecrets"]
    resource: list[str] = statement["Resource"]
    return resource


def _addresses(document: Document) -> set[str]:
    return {
        f"{resource_type}.{name}" for kind in ("resource", "data") for resource_type, named in document.get(kind, {}).items()
        for name in named
    }  # fmt: skip


@pytest.fixture(scope="module")
def master_mode(environments: dict[str, EnvironmentConfig], tmp_path_factory: pytest.TempPathFactory) -> Document:
    """dev with `dms.target_user = "master"`: the stack as it was before the dedicated user existed."""
    from stacks.app import build_app

    config = environments["dev"]
    changed = config.model_copy(update={"dms": config.dms.model_copy(update={"target_user": "master"})})
    outdir: Path = tmp_path_factory.mktemp("master-mode")
    build_app([changed], outdir=str(outdir)).synth()
    parsed: Document = json.loads((outdir / "stacks" / config.stack_name / "cdk.tf.json").read_text())
    return parsed


def test_the_secret_is_named_by_the_naming_helper_and_encrypted_with_the_given_key(unit: Document) -> None:
    secret = only_resource(unit, SECRET)
    assert secret["name"] == "aurora-migration-dms-target-unit" == PROPS.naming.dms_target_secret_name
    assert secret["kms_key_id"] == KEY
    assert secret["recovery_window_in_days"] == 7


def test_the_value_has_the_credentials_secret_keys_and_only_an_ephemeral_password(unit: Document) -> None:
    version = only_resource(unit, VERSION)
    assert "secret_string" not in version, "the value must go through the write-only argument only"
    value = version["secret_string_wo"]
    assert set(re.findall(r'"(\w+)" = ', value)) == {"username", "password", "engine", "port", "host", "dbname"}
    assert '"username" = "dms_target"' in value and '"dbname" = "app"' in value and '"engine" = "postgres"' in value
    [generator_name] = unit["ephemeral"][GENERATOR]
    [(local_name, local_value)] = unit["locals"].items()
    assert local_value == f"${{ephemeral.{GENERATOR}.{generator_name}.random_password}}"
    assert f'"password" = local.{local_name}' in value


def test_the_password_follows_the_master_password_rules(unit: Document) -> None:
    [generator] = unit["ephemeral"][GENERATOR].values()
    assert generator == {
        "password_length": GENERATED_PASSWORD_LENGTH,
        "exclude_characters": GENERATED_PASSWORD_EXCLUDED_CHARACTERS,
    }


def test_bumping_the_password_version_rewrites_the_value() -> None:
    first = only_resource(synth_secret(), VERSION)["secret_string_wo_version"]
    second = only_resource(synth_secret(password_version=2), VERSION)["secret_string_wo_version"]
    assert first != second
    assert "ephemeral." not in first and "random_password" not in first, "a version must not derive from the password"


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_dedicated_is_the_default_and_the_endpoint_reads_the_dedicated_secret(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    document, config = synthesized[suffix], environments[suffix]
    assert config.dms.target_user == "dedicated"
    secret = resources(document, SECRET)["dms-target-secret_E531D243"]
    assert secret["name"] == f"aurora-migration-dms-target-{suffix}"
    assert secret["kms_key_id"] == "${aws_kms_key.database-key_C4D88439.arn}"
    assert _target_endpoint(document)["secrets_manager_arn"] == DEDICATED_SECRET_ARN
    assert document["output"]["dms_target_secret_arn"]["value"] == DEDICATED_SECRET_ARN
    assert document["output"]["dms_target_secret_arn"]["description"]


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_the_secrets_role_reads_exactly_the_two_endpoint_secrets_not_the_master_credentials(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    document = synthesized[suffix]
    assert _readable_secrets(document) == [environments[suffix].source.credentials_secret_arn, DEDICATED_SECRET_ARN]


def test_master_mode_reads_the_credentials_secret_and_adds_nothing(
    master_mode: Document, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    assert _target_endpoint(master_mode)["secrets_manager_arn"] == CREDENTIALS_SECRET_ARN
    assert _readable_secrets(master_mode) == [environments["dev"].source.credentials_secret_arn, CREDENTIALS_SECRET_ARN]
    assert "dms_target_secret_arn" not in master_mode["output"]
    assert sorted(master_mode["ephemeral"][GENERATOR]) == ["application_secret_generator", "master_password_generator"]
    assert not any("dms-target" in name for name in master_mode["locals"])
    assert _addresses(synthesized["dev"]) - _addresses(master_mode) == NEW_ADDRESSES
    assert _addresses(master_mode) <= _addresses(synthesized["dev"])


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_applications_get_their_own_user_s_secret_not_the_master_user(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    """#26 box 9: the master secret stays with DMS set-up and operators; applications read `app_secret_arn`."""
    document, config = synthesized[suffix], environments[suffix]
    [(key, secret)] = [(k, v) for k, v in resources(document, SECRET).items() if v["name"] == f"aurora-migration-app-{suffix}"]
    assert secret["kms_key_id"].startswith("${aws_kms_key.database-key")
    assert secret["recovery_window_in_days"] == config.aurora.secret_recovery_window_days
    assert document["output"]["app_secret_arn"]["value"] == f"${{aws_secretsmanager_secret.{key}.arn}}"
    [version] = [v for v in resources(document, VERSION).values() if v["secret_id"] == f"${{aws_secretsmanager_secret.{key}.id}}"]
    value = version["secret_string_wo"]
    assert f'"username" = "{config.aurora.application_username}"' in value and config.aurora.master_username not in value
    [local] = [name for name in document["locals"] if name.startswith("application-secret_password_")]
    assert f'"password" = local.{local},' in value
    assert (
        document["locals"][local]
        == "${ephemeral.aws_secretsmanager_random_password.application_secret_generator.random_password}"
    )
    assert "applications" not in resources(document, SECRET)["credentials_secret_E9FDEF67"]["description"].split("(")[0]
    assert key not in _readable_secrets(document)[0] + _readable_secrets(document)[-1], "DMS does not read it"


def test_the_application_user_is_a_role_of_its_own(tmp_path: Path) -> None:
    from tests.config.helpers import dev_data, problems_for

    data = dev_data()
    data["aurora"]["application_username"] = data["aurora"].get("master_username", "migration_admin")
    data["dms"]["target_username"] = data["aurora"]["application_username"]
    problems = problems_for(tmp_path, data)
    assert any(
        p.endswith(
            "aurora.application_username: must differ from aurora.master_username (applications do not get "
            "the master user), got 'migration_admin'"
        )
        for p in problems
    ), problems
    assert any("dms.target_username: must differ from aurora.application_username" in p for p in problems), problems
    data = dev_data()
    data["aurora"]["application_username"] = "rds_app"
    [problem] = problems_for(tmp_path, data)
    assert "aurora.application_username: a role name PostgreSQL or Aurora reserves" in problem
