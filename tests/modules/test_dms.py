"""DMS construct: roles, replication instance, endpoints, task documents, on the synthesized JSON."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from config import EnvironmentConfig
from contract.naming import Naming
from modules.dms import DmsReplication, DmsReplicationProps, SourceEndpointProps, TargetEndpointProps
from modules.dms_documents import TableRule, TaskDocumentsProps, table_mappings, task_settings
from stacks.props import task_documents_props
from tests.environments import ENVIRONMENTS
from tests.helpers import Document, only_resource, resources, synth_props

SOURCE_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:onprem/source-AbCdEf"
TARGET_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:aurora-AbCdEf"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"

BASE_PROPS = DmsReplicationProps(
    naming=Naming(prefix="aurora-migration", suffix="unit"),
    account_id="123456789012",
    partition="aws",
    region="eu-west-1",
    subnet_ids=("subnet-00000000000000001", "subnet-00000000000000002"),
    security_group_id="sg-00000000000000001",
    kms_key_arn=KEY,
    engine_version="3.6.1",
    service_roles="create",
    replication_instance_class="dms.c5.2xlarge",
    allocated_storage_gib=100,
    multi_az=True,
    preferred_maintenance_window="sat:04:00-sat:05:00",
    migration_type="full-load-and-cdc",
    task_log_retention_days=30,
    documents=TaskDocumentsProps(
        include=(TableRule(schema_name="public", table_name="%"),), exclude=(), lob_max_size_kb=32, control_schema="dms_control"
    ),
    source=SourceEndpointProps(
        database_name="orders",
        secret_arn=SOURCE_SECRET,
        secret_kms_key_arn=None,
        ssl_mode="require",
        ca_certificate_pem=None,
        heartbeat_frequency_minutes=5,
        dms_schema="dms_control",
        capture_ddl=False,
    ),
    target=TargetEndpointProps(
        database_name="app", secret_arn=TARGET_SECRET, secret_kms_key_arn=KEY, ca_certificate_pem="-----BEGIN CERTIFICATE-----"
    ),
)


def synth_dms(**changes: Any) -> Document:
    return synth_props(DmsReplication, "dms", BASE_PROPS, **changes)


@pytest.fixture(scope="module")
def created_roles() -> Document:
    return synth_dms()


@pytest.fixture(scope="module")
def existing_roles() -> Document:
    return synth_dms(service_roles="existing")


def test_service_roles_are_created_with_fixed_names_and_a_source_account_condition(created_roles: Document) -> None:
    roles = {role["name"]: role for role in resources(created_roles, "aws_iam_role").values()}
    assert {"dms-vpc-role", "dms-cloudwatch-logs-role", "aurora-migration-dms-secrets-unit"} == set(roles)
    for name in ("dms-vpc-role", "dms-cloudwatch-logs-role"):
        [statement] = json.loads(roles[name]["assume_role_policy"])["Statement"]
        assert statement["Principal"] == {"Service": "dms.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    attachments = {a["policy_arn"] for a in resources(created_roles, "aws_iam_role_policy_attachment").values()}
    assert attachments == {
        "arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole",
        "arn:aws:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole",
    }


def test_subnet_group_and_instance_wait_for_the_role_policies(created_roles: Document) -> None:
    attachment_ids = sorted(
        f"aws_iam_role_policy_attachment.{i}" for i in resources(created_roles, "aws_iam_role_policy_attachment")
    )
    assert sorted(only_resource(created_roles, "aws_dms_replication_subnet_group")["depends_on"]) == attachment_ids
    assert sorted(only_resource(created_roles, "aws_dms_replication_instance")["depends_on"]) == attachment_ids


def test_existing_service_roles_are_looked_up_not_created(existing_roles: Document) -> None:
    created = {role["name"] for role in resources(existing_roles, "aws_iam_role").values()}
    assert created == {"aurora-migration-dms-secrets-unit"}
    looked_up = {role["name"] for role in existing_roles["data"]["aws_iam_role"].values()}
    assert looked_up == {"dms-vpc-role", "dms-cloudwatch-logs-role"}
    assert resources(existing_roles, "aws_iam_role_policy_attachment") == {}
    depends_on = only_resource(existing_roles, "aws_dms_replication_subnet_group")["depends_on"]
    assert sorted(depends_on) == sorted(f"data.aws_iam_role.{i}" for i in existing_roles["data"]["aws_iam_role"])


def test_secrets_role_reads_exactly_the_two_endpoint_secrets(created_roles: Document) -> None:
    role = next(r for r in resources(created_roles, "aws_iam_role").values() if r["name"].endswith("-unit"))
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "dms.eu-west-1.amazonaws.com"}
    policy = json.loads(only_resource(created_roles, "aws_iam_role_policy")["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadEndpointSecrets"]["Action"] == "secretsmanager:GetSecretValue"
    assert by_sid["ReadEndpointSecrets"]["Resource"] == [SOURCE_SECRET, TARGET_SECRET]
    assert by_sid["DecryptEndpointSecrets"]["Action"] == "kms:Decrypt"
    assert by_sid["DecryptEndpointSecrets"]["Resource"] == [KEY]
    assert by_sid["DecryptEndpointSecrets"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}
    }


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_replication_instance_is_private_multi_az_encrypted_and_pinned(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    config = environments[suffix].dms
    instance = only_resource(synthesized[suffix], "aws_dms_replication_instance")
    assert instance["replication_instance_class"] == config.replication_instance_class
    assert instance["allocated_storage"] == config.allocated_storage_gib
    assert instance["engine_version"] == config.engine_version
    assert instance["multi_az"] is True
    assert instance["publicly_accessible"] is False
    assert instance["kms_key_arn"].startswith("${aws_kms_key.")
    assert instance["auto_minor_version_upgrade"] is True
    assert instance["allow_major_version_upgrade"] is False
    assert instance["preferred_maintenance_window"] == config.preferred_maintenance_window
    [group] = instance["vpc_security_group_ids"]
    assert group.startswith("${aws_security_group.network_dms_")
    subnet_group = only_resource(synthesized[suffix], "aws_dms_replication_subnet_group")
    assert subnet_group["subnet_ids"] == list(environments[suffix].network.dms_subnets)


def test_default_replication_instance_class_is_c5_2xlarge(synthesized: dict[str, Document]) -> None:
    assert only_resource(synthesized["staging"], "aws_dms_replication_instance")["replication_instance_class"] == "dms.c5.2xlarge"


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_source_endpoint_uses_tls_with_the_ca_and_secrets_manager(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    document = synthesized[suffix]
    endpoints = {e["endpoint_type"]: e for e in resources(document, "aws_dms_endpoint").values()}
    source, config = endpoints["source"], environments[suffix]
    assert source["engine_name"] == "postgres"
    assert source["ssl_mode"] == "verify-full"
    [(key, certificate)] = [
        (key, c) for key, c in resources(document, "aws_dms_certificate").items() if "-source-ca-" in c["certificate_id"]
    ]
    assert source["certificate_arn"] == f"${{aws_dms_certificate.{key}.certificate_arn}}"
    assert certificate["certificate_pem"] == config.source.ca_certificate_file.read_text()  # type: ignore[union-attr]
    assert source["secrets_manager_arn"] == config.source.credentials_secret_arn
    assert source["secrets_manager_access_role_arn"].startswith("${aws_iam_role.")
    assert source["database_name"] == config.source.database_name
    settings = source["postgres_settings"]
    assert settings["heartbeat_enable"] is True
    assert settings["heartbeat_frequency"] == config.dms.heartbeat_frequency_minutes
    assert settings["fail_tasks_on_lob_truncation"] is True
    assert settings["plugin_name"] == "test-decoding"
    assert settings["heartbeat_schema"] == config.dms.source_schema
    # DDL capture needs a superuser on the source; off by default, with the runbook's DDL freeze instead.
    assert settings["capture_ddls"] is False and "ddl_artifacts_schema" not in settings
    for endpoint in endpoints.values():
        assert not {"password", "username", "server_name"} & set(endpoint)


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_endpoint_settings_use_values_of_the_dms_api_enums(suffix: str, synthesized: dict[str, Document]) -> None:
    """`terraform validate` and moto accept any string here; the DMS API does not (it refused `test_decoding`)."""
    import botocore.session
    from botocore.model import StringShape

    model = botocore.session.get_session().get_service_model("dms")
    plugin_shape, ssl_shape = model.shape_for("PluginNameValue"), model.shape_for("DmsSslModeValue")
    assert isinstance(plugin_shape, StringShape) and isinstance(ssl_shape, StringShape)
    plugins, ssl_modes = plugin_shape.enum, ssl_shape.enum
    for endpoint in resources(synthesized[suffix], "aws_dms_endpoint").values():
        assert endpoint["ssl_mode"] in ssl_modes
        plugin = endpoint["postgres_settings"].get("plugin_name")
        assert plugin is None or plugin in plugins, f"{plugin!r} is not in PluginNameValue {plugins}"


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_engine_versions_drift_with_aws_minor_upgrades_without_a_downgrade_plan(
    suffix: str, synthesized: dict[str, Document]
) -> None:
    """Both are created at the configured version and auto-upgraded by AWS; the 5.x provider would plan a downgrade."""
    instance = only_resource(synthesized[suffix], "aws_dms_replication_instance")
    cluster = only_resource(synthesized[suffix], "aws_rds_cluster")
    assert instance["auto_minor_version_upgrade"] is True
    assert "engine_version" in instance["lifecycle"]["ignore_changes"]
    assert "engine_version" in cluster["lifecycle"]["ignore_changes"]


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_target_endpoint_is_aurora_via_the_dms_target_user_secret(suffix: str, synthesized: dict[str, Document]) -> None:
    """dms.target_user defaults to "dedicated": the endpoint logs in with its own secret, not the master's."""
    document = synthesized[suffix]
    target = next(e for e in resources(document, "aws_dms_endpoint").values() if e["endpoint_type"] == "target")
    assert target["engine_name"] == "aurora-postgresql"
    assert target["ssl_mode"] == "verify-full"
    assert target["secrets_manager_arn"] == "${aws_secretsmanager_secret.dms-target-secret_E531D243.arn}"
    assert target["postgres_settings"] == {"after_connect_script": "SET session_replication_role = replica"}


def test_require_mode_creates_no_source_certificate(created_roles: Document) -> None:
    [certificate] = resources(created_roles, "aws_dms_certificate").values()
    assert certificate["certificate_id"] == "aurora-migration-target-ca-unit", "only Aurora's CA"
    source = next(e for e in resources(created_roles, "aws_dms_endpoint").values() if e["endpoint_type"] == "source")
    assert source["ssl_mode"] == "require" and "certificate_arn" not in source


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_task_is_full_load_and_cdc_and_never_started_by_deploy(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    task = only_resource(synthesized[suffix], "aws_dms_replication_task")
    config = environments[suffix].dms
    assert task["migration_type"] == "full-load-and-cdc"
    assert task["start_replication_task"] is False
    documents = task_documents_props(config)
    assert task["table_mappings"] == table_mappings(documents)
    assert task["replication_task_settings"] == task_settings(documents)


def test_table_mappings_include_then_exclude_in_config_order(synthesized: dict[str, Document]) -> None:
    mappings = json.loads(only_resource(synthesized["prod"], "aws_dms_replication_task")["table_mappings"])
    assert [(r["rule-id"], r["rule-action"], r["object-locator"]) for r in mappings["rules"]] == [
        ("1", "include", {"schema-name": "public", "table-name": "%"}),
        ("2", "exclude", {"schema-name": "public", "table-name": "audit[_]%"}),  # [_]: a literal underscore
    ]


def test_task_settings_stop_on_data_errors_validate_log_and_limit_lobs() -> None:
    settings = json.loads(task_settings(dataclasses.replace(BASE_PROPS.documents, lob_max_size_kb=64)))
    assert settings["TargetMetadata"]["LimitedSizeLobMode"] is True
    assert settings["TargetMetadata"]["FullLobMode"] is False
    assert settings["TargetMetadata"]["LobMaxSize"] == 64
    assert settings["FullLoadSettings"]["TargetTablePrepMode"] == "DO_NOTHING"
    assert settings["ValidationSettings"]["EnableValidation"] is True
    assert settings["ControlTablesSettings"]["ControlSchema"] == "dms_control"
    assert settings["Logging"]["EnableLogging"] is True
    logged = {c["Id"] for c in settings["Logging"]["LogComponents"]}
    assert {"SOURCE_CAPTURE", "SOURCE_UNLOAD", "TARGET_APPLY", "TARGET_LOAD"} <= logged
    errors = settings["ErrorBehavior"]
    policies = {k: v for k, v in errors.items() if k.endswith("Policy")}
    assert policies and set(policies.values()) == {"STOP_TASK"}
    assert errors["FullLoadIgnoreConflicts"] is False


def test_documents_are_canonical_so_plans_show_no_perpetual_diff() -> None:
    props = dataclasses.replace(
        BASE_PROPS.documents,
        include=(TableRule(schema_name="b", table_name="%"), TableRule(schema_name="a", table_name="t%")),
    )
    for document in (task_settings(props), table_mappings(props)):
        assert document == json.dumps(json.loads(document), sort_keys=True, separators=(",", ":"))
    assert task_settings(props) == task_settings(dataclasses.replace(props))


def test_task_log_group_is_precreated_with_retention_and_kms(created_roles: Document) -> None:
    log_group = only_resource(created_roles, "aws_cloudwatch_log_group")
    assert log_group["name"] == "dms-tasks-aurora-migration-replication-unit"
    assert log_group["retention_in_days"] == 30
    assert log_group["kms_key_id"] == KEY


def test_ddl_capture_puts_its_artifacts_in_the_source_schema() -> None:
    source = dataclasses.replace(BASE_PROPS.source, capture_ddl=True, dms_schema="dms_source")
    endpoint = next(e for e in resources(synth_dms(source=source), "aws_dms_endpoint").values() if e["endpoint_type"] == "source")
    settings = endpoint["postgres_settings"]
    assert settings["capture_ddls"] is True
    assert settings["ddl_artifacts_schema"] == settings["heartbeat_schema"] == "dms_source"


def test_secrets_role_may_describe_the_secrets_keys_as_the_dms_guide_documents(created_roles: Document) -> None:
    """DMS user guide, "Using secrets to access AWS Database Migration Service endpoints": the example secret access
    policy grants kms:Decrypt and kms:DescribeKey on the secret's key."""
    policy = json.loads(only_resource(created_roles, "aws_iam_role_policy")["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["DescribeEndpointSecretKeys"] == {
        "Sid": "DescribeEndpointSecretKeys",
        "Effect": "Allow",
        "Action": "kms:DescribeKey",
        "Resource": [KEY],
    }
    assert set(by_sid) == {"ReadEndpointSecrets", "DecryptEndpointSecrets", "DescribeEndpointSecretKeys"}


def test_without_the_override_the_endpoints_have_no_extra_connection_attributes(created_roles: Document) -> None:
    for endpoint in resources(created_roles, "aws_dms_endpoint").values():
        assert "extra_connection_attributes" not in endpoint, endpoint["endpoint_type"]


def test_the_override_names_the_vpc_endpoint_on_both_endpoints() -> None:
    """DMS user guide, same page, "To use secrets manager with a replication instance in a private subnet"."""
    dns = "vpce-1234a5678b9012c-12345678.secretsmanager.eu-west-1.vpce.amazonaws.com"
    document = synth_dms(secrets_manager_endpoint_override=dns)
    endpoints = {endpoint["endpoint_type"]: endpoint for endpoint in resources(document, "aws_dms_endpoint").values()}
    assert set(endpoints) == {"source", "target"}
    for kind, endpoint in endpoints.items():
        assert endpoint["extra_connection_attributes"] == f"secretsManagerEndpointOverride={dns}", kind
        assert endpoint["secrets_manager_arn"] in (SOURCE_SECRET, TARGET_SECRET)


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_environments_leave_the_override_off_by_default(suffix: str, synthesized: dict[str, Document]) -> None:
    for endpoint in resources(synthesized[suffix], "aws_dms_endpoint").values():
        assert "extra_connection_attributes" not in endpoint


def test_the_target_endpoint_verifies_aurora_s_certificate_with_the_imported_rds_ca_bundle(
    synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    """DMS user guide, "Using SSL with AWS DMS": verify-full checks the CA and the host name; the CA is a DMS certificate."""
    for suffix, document in synthesized.items():
        target = next(e for e in resources(document, "aws_dms_endpoint").values() if e["endpoint_type"] == "target")
        assert target["ssl_mode"] == "verify-full"
        certificates = resources(document, "aws_dms_certificate")
        [(key, ca)] = [(k, v) for k, v in certificates.items() if v["certificate_id"].endswith(f"-target-ca-{suffix}")]
        assert target["certificate_arn"] == f"${{aws_dms_certificate.{key}.certificate_arn}}"
        assert ca["certificate_pem"] == environments[suffix].dms.target_ca_certificate_file.read_text()
