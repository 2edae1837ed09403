"""Each environment's stack: backend, provider, tags, names and outputs, checked on the synthesized JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from config import EnvironmentConfig
from tests.environments import ENVIRONMENTS
from tests.helpers import Document

REQUIRED_OUTPUTS = {"cluster_endpoint", "reader_endpoint", "dms_task_arn", "secret_arn"}


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_state_backend_is_s3_keyed_by_suffix_encrypted_and_locked(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    backend = synthesized[suffix]["terraform"]["backend"]["s3"]
    config = environments[suffix].state_backend
    assert backend["key"] == f"aurora-migration/{suffix}/terraform.tfstate"
    assert backend["bucket"] == config.bucket
    assert backend["encrypt"] is True
    assert backend["use_lockfile"] is True
    assert backend.get("kms_key_id") == config.kms_key_id
    assert "endpoints" not in backend, "the emulator switch must never be on by default"


def test_prod_state_is_encrypted_with_its_kms_key(synthesized: dict[str, Document]) -> None:
    assert synthesized["prod"]["terraform"]["backend"]["s3"]["kms_key_id"].startswith("arn:aws:kms:eu-west-1:333333333333:key/")


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_provider_has_region_accounts_and_default_tags(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    [provider] = synthesized[suffix]["provider"]["aws"]
    config = environments[suffix]
    assert provider["region"] == config.aws_region
    assert provider["allowed_account_ids"] == list(config.allowed_account_ids)
    [default_tags] = provider["default_tags"]
    assert default_tags["tags"] == {
        **config.tags,
        "environment": suffix,
        "project": "aurora-migration",
        "managed-by": "cdktf",
        "repository": config.repository,
    }
    assert "endpoints" not in provider


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_outputs_operators_need_are_present_and_described(suffix: str, synthesized: dict[str, Document]) -> None:
    outputs = synthesized[suffix]["output"]
    assert set(outputs) >= REQUIRED_OUTPUTS
    assert {"cluster_id", "instance_ids", "aurora_security_group_id", "dms_replication_instance_arn"} <= set(outputs)
    assert all(output.get("description") for output in outputs.values())


def _physical_names(document: Document) -> list[str]:
    names = []
    for resources in document["resource"].values():
        for resource in resources.values():
            for key in (
                "name",
                "identifier",
                "cluster_identifier",
                "endpoint_id",
                "replication_instance_id",
                "replication_task_id",
                "alarm_name",
            ):
                if isinstance(resource.get(key), str) and "${" not in resource[key]:
                    names.append(resource[key])
    return names


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_physical_names_carry_the_suffix_and_logical_ids_do_not(suffix: str, synthesized: dict[str, Document]) -> None:
    document = synthesized[suffix]
    account_wide_roles = {"dms-vpc-role", "dms-cloudwatch-logs-role"}  # names fixed by AWS
    names = [n for n in _physical_names(document) if n not in account_wide_roles]
    assert names, "no physical names found: the test would prove nothing"
    missing = [n for n in names if not re.search(rf"-{suffix}(/postgresql)?$", n)]
    assert missing == []
    logical_ids = [logical for resources in document["resource"].values() for logical in resources]
    assert [i for i in logical_ids if suffix in i.lower()] == []


def test_same_config_synthesizes_to_the_same_bytes(
    synth_dir: Path, environments: dict[str, EnvironmentConfig], tmp_path: Path
) -> None:
    from stacks.app import build_app

    app = build_app(list(environments.values()), outdir=str(tmp_path))
    app.synth()
    for config in environments.values():
        relative = Path("stacks") / config.stack_name / "cdk.tf.json"
        assert (tmp_path / relative).read_bytes() == (synth_dir / relative).read_bytes(), relative


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_synthesized_json_has_nothing_cdktf_specific_to_terraform(suffix: str, synthesized: dict[str, Document]) -> None:
    def keys(node: Any) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {k for value in node.values() for k in keys(value)}
        if isinstance(node, list):
            return {k for value in node for k in keys(value)}
        return set()

    text = json.dumps(synthesized[suffix])
    assert "TfToken" not in text and "${Token" not in text, "an unresolved cdktf token leaked into the JSON"
    assert synthesized[suffix]["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"
    assert "//" in keys(synthesized[suffix])  # construct paths are kept as Terraform JSON comments only


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_the_stack_declares_the_terraform_it_needs(suffix: str, synthesized: dict[str, Any]) -> None:
    """Ephemeral resources (1.10) and write-only arguments (1.11): older Terraform must refuse the stack up front."""
    document = synthesized[suffix]
    assert document["terraform"]["required_version"] == ">= 1.11.0"
    assert "ephemeral" in document


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_provider_and_state_backend_assume_the_same_deploy_role_or_none(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    [provider] = synthesized[suffix]["provider"]["aws"]
    backend = synthesized[suffix]["terraform"]["backend"]["s3"]
    config = environments[suffix]
    # Terraform 1.10 removed the S3 backend's top-level role arguments: only the nested `assume_role` object works.
    assert {"role_arn", "session_name", "external_id", "assume_role_policy"}.isdisjoint(backend)
    if config.deployment.role_arn is None:
        assert "assume_role" not in provider and "assume_role" not in backend
        return
    expected = {"role_arn": config.deployment.role_arn, "session_name": config.stack_name}
    assert provider["assume_role"] == [expected]
    assert backend["assume_role"] == expected
    assert provider["allowed_account_ids"], "a cross-account environment keeps the account guard"


def test_prod_is_the_example_of_an_environment_in_its_own_account(synthesized: dict[str, Document]) -> None:
    [provider] = synthesized["prod"]["provider"]["aws"]
    assert provider["assume_role"] == [
        {"role_arn": "arn:aws:iam::333333333333:role/aurora-migration-deploy", "session_name": "aurora-migration-prod"}
    ]
    assert provider["allowed_account_ids"] == ["333333333333"]


def _with_deployment(config: EnvironmentConfig, **deployment: str) -> EnvironmentConfig:
    from config.model import DeploymentConfig

    return config.model_copy(update={"deployment": DeploymentConfig.model_validate(deployment)})


def test_session_name_and_external_id_reach_both_assume_role_blocks(
    environments: dict[str, EnvironmentConfig], tmp_path: Path
) -> None:
    from stacks.app import build_app

    role = "arn:aws:iam::111111111111:role/platform/aurora-migration-deploy"
    config = _with_deployment(environments["dev"], role_arn=role, session_name="ci-plan-dev", external_id="aurora-migration-7f3c")
    build_app([config], outdir=str(tmp_path)).synth()
    document = json.loads((tmp_path / "stacks" / config.stack_name / "cdk.tf.json").read_text())
    expected = {"role_arn": role, "session_name": "ci-plan-dev", "external_id": "aurora-migration-7f3c"}
    assert document["provider"]["aws"][0]["assume_role"] == [expected]
    assert document["terraform"]["backend"]["s3"]["assume_role"] == expected


def _without_assume_role(document: Document) -> Document:
    copy: Document = json.loads(json.dumps(document))
    for provider in copy["provider"]["aws"]:
        provider.pop("assume_role", None)
    copy["terraform"]["backend"]["s3"].pop("assume_role", None)
    return copy


def test_a_stack_synthesized_for_planning_assumes_the_plan_role_and_differs_in_nothing_else(
    synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig], tmp_path: Path
) -> None:
    """`make plan` plans exactly what a deploy applies, as the read-only role (AURORA_MIGRATION_ROLE=plan)."""
    from stacks.app import build_app
    from stacks.roles import Purpose

    build_app(list(environments.values()), outdir=str(tmp_path), purpose=Purpose.PLAN).synth()
    for suffix, config in environments.items():
        planned = json.loads((tmp_path / "stacks" / config.stack_name / "cdk.tf.json").read_text())
        expected = {"role_arn": config.deployment.plan_role_arn, "session_name": f"{config.stack_name}-plan"}
        assert planned["provider"]["aws"][0]["assume_role"] == [expected], suffix
        assert planned["terraform"]["backend"]["s3"]["assume_role"] == expected, suffix
        assert _without_assume_role(planned) == _without_assume_role(synthesized[suffix]), suffix


def test_a_plan_role_keeps_the_external_id_and_fits_the_session_name_limit(environments: dict[str, EnvironmentConfig]) -> None:
    from stacks.roles import Purpose, assumed_role

    config = _with_deployment(
        environments["dev"],
        role_arn="arn:aws:iam::111111111111:role/deploy",
        plan_role_arn="arn:aws:iam::111111111111:role/plan",
        session_name="s" * 64,
        external_id="aurora-migration-7f3c",
    )
    plan, deploy = assumed_role(config, Purpose.PLAN), assumed_role(config, Purpose.DEPLOY)
    assert plan is not None and deploy is not None
    assert (plan.role_arn, deploy.role_arn) == ("arn:aws:iam::111111111111:role/plan", "arn:aws:iam::111111111111:role/deploy")
    assert plan.session_name == "s" * 59 + "-plan" and deploy.session_name == "s" * 64
    assert plan.external_id == deploy.external_id == "aurora-migration-7f3c"


def test_planning_refuses_an_environment_whose_only_role_is_the_deploy_role(environments: dict[str, EnvironmentConfig]) -> None:
    from stacks.roles import Purpose, assumed_role, purpose_from, purpose_problems

    deploy_only = _with_deployment(environments["prod"], role_arn="arn:aws:iam::333333333333:role/aurora-migration-deploy")
    [problem] = purpose_problems([deploy_only, environments["dev"]], Purpose.PLAN)
    assert problem.startswith("prod: deployment.plan_role_arn is not set, so a plan would run as the deploy role")
    assert purpose_problems([deploy_only], Purpose.DEPLOY) == []
    with pytest.raises(ValueError, match="plan_role_arn is not set"):
        assumed_role(deploy_only, Purpose.PLAN)
    neither = _with_deployment(environments["dev"])
    assert assumed_role(neither, Purpose.PLAN) is None, "no role at all: the caller's credentials, as for a deploy"
    assert (purpose_from(None), purpose_from(""), purpose_from("plan")) == (Purpose.DEPLOY, Purpose.DEPLOY, Purpose.PLAN)
    with pytest.raises(ValueError, match="AURORA_MIGRATION_ROLE: expected one of"):
        purpose_from("apply")


@pytest.mark.terraform
def test_terraform_init_assumes_the_role_for_the_state(synth_dir: Path, tmp_path: Path) -> None:
    """`terraform validate` runs with -backend=false, so it never reads the backend block; `init` with the backend does.

    STS points at a closed local port: init accepts the `assume_role` object (an unknown argument would fail
    before any request) and then fails to assume exactly the configured role. No AWS access.
    """
    import os

    from plumbing.tool import run_tool
    from review.terraform_validate import locate

    toolchain = locate()
    if isinstance(toolchain, str):
        pytest.skip(toolchain)
    stack = "aurora-migration-prod"
    (tmp_path / "cdk.tf.json").write_bytes((synth_dir / "stacks" / stack / "cdk.tf.json").read_bytes())
    (tmp_path / "cli.tfrc").write_text("# no registry, no credentials\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "TF_CLI_ARGS"))}
    env.update(
        TF_CLI_CONFIG_FILE=str(tmp_path / "cli.tfrc"),
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY="not-a-secret",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL_STS="http://127.0.0.1:9",
        AWS_MAX_ATTEMPTS="1",
    )
    init = [str(toolchain.terraform), "init", "-input=false", "-no-color", f"-plugin-dir={toolchain.mirror}"]
    completed = run_tool(init, cwd=tmp_path, env=env, timeout_seconds=180)
    output = " ".join((completed.stdout + completed.stderr).split())
    assert completed.returncode != 0, output
    assert "IAM Role (arn:aws:iam::333333333333:role/aurora-migration-deploy) cannot be assumed" in output, output
    assert "AssumeRole" in output and "Unsupported argument" not in output, output


@pytest.mark.parametrize("endpoint", ["create", "vpce-0123456789abcdef0"])
def test_secrets_manager_override_names_the_stacks_vpc_endpoint_on_both_dms_endpoints(
    environments: dict[str, EnvironmentConfig], tmp_path: Path, endpoint: str
) -> None:
    """`dms.secrets_manager_endpoint_override`: both DMS endpoints read their secrets through the VPC endpoint the
    stack creates or looks up, by its regional DNS name (its first DNS entry)."""
    from stacks.app import build_app

    base = environments["dev"]
    config = base.model_copy(
        update={
            "dms": base.dms.model_copy(update={"secrets_manager_endpoint_override": True}),
            "network": base.network.model_copy(update={"secrets_manager_endpoint": endpoint}),
        }
    )
    build_app([config], outdir=str(tmp_path)).synth()
    document = json.loads((tmp_path / "stacks" / config.stack_name / "cdk.tf.json").read_text())
    if endpoint == "create":
        [vpce] = document["resource"]["aws_vpc_endpoint"]
        address = f"aws_vpc_endpoint.{vpce}"
    else:
        [vpce] = document["data"]["aws_vpc_endpoint"]
        address = f"data.aws_vpc_endpoint.{vpce}"
    endpoints = document["resource"]["aws_dms_endpoint"].values()
    assert sorted(e["endpoint_type"] for e in endpoints) == ["source", "target"]
    for dms_endpoint in endpoints:
        assert dms_endpoint["extra_connection_attributes"] == (
            f"secretsManagerEndpointOverride=${{{address}.dns_entry[0].dns_name}}"
        )
