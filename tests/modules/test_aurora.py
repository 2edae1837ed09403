"""Aurora cluster, parameter groups, instances, KMS, network and credentials secret, on the synthesized JSON."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

import pytest

from config import EnvironmentConfig
from contract.aurora import parameter_group_family
from contract.naming import Naming
from modules import aurora_parameters
from modules.aurora import AuroraCluster, AuroraClusterProps
from modules.aurora_parameters import CLUSTER_DESCRIPTION, INSTANCE_DESCRIPTION, DatabaseObservability, replacement_name
from tests.environments import ENVIRONMENTS
from tests.helpers import Document, only_resource, resources, synth_props

BASE_PROPS = AuroraClusterProps(
    naming=Naming(prefix="aurora-migration", suffix="unit"),
    partition="aws",
    account_id="123456789012",
    engine_version="15.12",
    allow_major_version_upgrade=False,
    instance_class="db.r6g.large",
    serverless_capacity_acu=None,
    reader_count=2,
    subnet_ids=("subnet-00000000000000001", "subnet-00000000000000002"),
    availability_zones=("eu-west-1a", "eu-west-1b"),
    security_group_id="sg-00000000000000001",
    kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
    master_username="migration_admin",
    master_password="${ephemeral.aws_secretsmanager_secret_version.unit.secret_string}",
    master_password_version_id="1",
    database_name="app",
    backup_retention_days=7,
    preferred_backup_window="03:00-04:00",
    preferred_maintenance_window="sun:04:30-sun:05:30",
    deletion_protection=True,
    skip_final_snapshot=False,
    performance_insights_retention_days=7,
    monitoring_interval_seconds=60,
    log_retention_days=30,
    log_min_duration_statement_ms=1000,
    observability=DatabaseObservability(
        log_temp_files_kb=10240,
        log_autovacuum_min_duration_ms=10000,
        auto_explain_min_duration_ms=None,
        pgaudit_log=(),
        pgaudit_object_audit=False,
    ),
)


def synth_cluster(**changes: Any) -> Document:
    return synth_props(AuroraCluster, "aurora", BASE_PROPS, **changes)


@pytest.fixture(scope="module")
def unit() -> Document:
    return synth_cluster()


def instances_in_order(document: Document) -> list[dict[str, Any]]:
    found = resources(document, "aws_rds_cluster_instance")
    return [found[key] for key in sorted(found, key=lambda k: int(re.search(r"instance-(\d+)", k).group(1)))]  # type: ignore[union-attr]


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_cluster_is_encrypted_logged_and_authenticated_by_iam(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    cluster = only_resource(synthesized[suffix], "aws_rds_cluster")
    config = environments[suffix].aurora
    assert cluster["engine"] == "aurora-postgresql"
    assert cluster["engine_version"] == config.engine_version
    assert cluster["storage_encrypted"] is True
    assert cluster["kms_key_id"].startswith("${aws_kms_key.")
    assert cluster["iam_database_authentication_enabled"] is True
    assert cluster["copy_tags_to_snapshot"] is True
    assert cluster["enabled_cloudwatch_logs_exports"] == ["postgresql"]
    assert cluster["port"] == 5432
    assert cluster["master_username"] == config.master_username != "postgres"
    assert cluster["backup_retention_period"] == config.backup_retention_days >= 7
    assert cluster["preferred_backup_window"] == config.preferred_backup_window
    assert cluster["preferred_maintenance_window"] == config.preferred_maintenance_window
    assert "availability_zones" not in cluster, "AZs on the cluster force replacement when AWS adds one"


def test_deletion_protection_and_final_snapshot_follow_the_environment(synthesized: dict[str, Document]) -> None:
    prod = only_resource(synthesized["prod"], "aws_rds_cluster")
    dev = only_resource(synthesized["dev"], "aws_rds_cluster")
    assert prod["deletion_protection"] is True
    assert prod["skip_final_snapshot"] is False
    assert prod["final_snapshot_identifier"] == 'aurora-migration-cluster-final-prod-${formatdate("YYYYMMDDhhmmss", timestamp())}'
    assert prod["backup_retention_period"] == 14
    assert dev["deletion_protection"] is False
    assert dev["skip_final_snapshot"] is True
    assert dev["final_snapshot_identifier"].startswith("aurora-migration-cluster-final-dev-"), "there if turned on later"


@pytest.mark.parametrize("upgrade", [False, True])
def test_the_final_snapshot_name_is_unique_per_creation_and_frozen_after_it(upgrade: bool) -> None:
    """A rebuilt environment's second destroy must not reuse the first one's final snapshot name."""
    cluster = only_resource(
        synth_cluster(engine_version="16.4", allow_major_version_upgrade=True) if upgrade else synth_cluster(),
        "aws_rds_cluster",
    )
    assert cluster["final_snapshot_identifier"].endswith('-${formatdate("YYYYMMDDhhmmss", timestamp())}')
    assert "final_snapshot_identifier" in cluster["lifecycle"]["ignore_changes"], "timestamp() changes every plan"


def _secret_named(document: Document, purpose: str) -> tuple[str, dict[str, Any]]:
    found = [(key, value) for key, value in resources(document, "aws_secretsmanager_secret").items() if purpose in value["name"]]
    assert len(found) == 1, f"expected one secret named *{purpose}*, found {[key for key, _ in found]}"
    return found[0]


def _version_of(document: Document, secret_key: str) -> dict[str, Any]:
    found = [
        value
        for value in resources(document, "aws_secretsmanager_secret_version").values()
        if value["secret_id"] == f"${{aws_secretsmanager_secret.{secret_key}.id}}"
    ]
    assert len(found) == 1
    version: dict[str, Any] = found[0]
    return version


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_the_master_password_secret_is_the_one_source_of_the_password(suffix: str, synthesized: dict[str, Document]) -> None:
    """Generated into its own secret; the cluster is written from a read-back of that secret's exact version."""
    document = synthesized[suffix]
    master_key, master = _secret_named(document, "aurora-master-password")
    assert master["kms_key_id"].startswith("${aws_kms_key.")
    master_version = _version_of(document, master_key)
    generators = document["ephemeral"]["aws_secretsmanager_random_password"]  # the DMS target user has one too
    writes = [f"${{ephemeral.aws_secretsmanager_random_password.{name}.random_password}}" for name in generators]
    assert writes.count(master_version["secret_string_wo"]) == 1, "written straight from one generator"
    assert master_version["secret_string_wo_version"] == 1
    (reader_name, reader) = next(iter(document["ephemeral"]["aws_secretsmanager_secret_version"].items()))
    # Known only when applying: no plan opens the read (the plan role has no secretsmanager:GetSecretValue).
    assert reader["secret_id"] == f"${{terraform.applying ? aws_secretsmanager_secret.{master_key}.id : timestamp()}}"
    version_reference = reader["version_id"]
    assert version_reference.startswith("${aws_secretsmanager_secret_version.") and version_reference.endswith(".version_id}")
    (local_name,) = [
        k
        for k, v in document["locals"].items()
        if v == f"${{ephemeral.aws_secretsmanager_secret_version.{reader_name}.secret_string}}"
    ]

    cluster = only_resource(document, "aws_rds_cluster")
    assert "master_password" not in cluster
    assert "manage_master_user_password" not in cluster
    assert cluster["master_password_wo"] == f"${{local.{local_name}}}"
    assert version_reference.removeprefix("${").removesuffix("}") in cluster["master_password_wo_version"], (
        "a new version of the master password secret must rewrite the cluster's password"
    )


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_the_generated_passwords_fit_rds_and_dms(suffix: str, synthesized: dict[str, Document]) -> None:
    """The master password's, the DMS target user's and the application user's generators follow the same rules."""
    generators = synthesized[suffix]["ephemeral"]["aws_secretsmanager_random_password"].values()
    assert len(generators) == 3
    for generator in generators:
        assert 8 <= generator["password_length"] <= 41, "botocore rds CreateDBCluster.MasterUserPassword: 8 to 41 characters"
        excluded = set(generator["exclude_characters"])
        assert set('/"@ ') <= excluded, "RDS refuses these in a master password"
        assert set("{};+%") <= excluded, "DMS refuses these in PostgreSQL endpoint secrets"
        assert set(".:") <= excluded, "DMS secrets guide (rotation) also excludes these"


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_credentials_secret_holds_the_five_keys_without_the_password_in_json(
    suffix: str, synthesized: dict[str, Document]
) -> None:
    document = synthesized[suffix]
    key, secret = _secret_named(document, "aurora-credentials")
    version = _version_of(document, key)
    assert secret["kms_key_id"].startswith("${aws_kms_key.")
    assert "secret_string" not in version
    value = version["secret_string_wo"]
    keys = re.findall(r'"(\w+)" = ', value)
    assert {"username", "password", "engine", "port", "host"} <= set(keys)
    assert re.search(r'"password" = local\.master-password_current-value_\w+', value)
    assert '"engine" = "postgres"' in value and '"port" = 5432' in value
    assert re.search(r'"host" = aws_rds_cluster\.\w+\.endpoint', value)
    written_from = re.findall(
        r"aws_secretsmanager_secret_version\.[\w-]+\.version_id|aws_rds_cluster\.\w+\.endpoint",
        version["secret_string_wo_version"],
    )
    assert len(written_from) == 2, "rewritten when the password's version or the host changes"


def test_secret_recovery_window_follows_config(synthesized: dict[str, Document]) -> None:
    for purpose in ("aurora-credentials", "aurora-master-password"):
        assert _secret_named(synthesized["dev"], purpose)[1]["recovery_window_in_days"] == 0
        assert _secret_named(synthesized["prod"], purpose)[1]["recovery_window_in_days"] == 7


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_parameter_groups_force_tls_and_log_connections_and_slow_statements(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    document = synthesized[suffix]
    cluster_group = only_resource(document, "aws_rds_cluster_parameter_group")
    instance_group = only_resource(document, "aws_db_parameter_group")
    assert cluster_group["family"] == instance_group["family"] == "aurora-postgresql15"
    parameters = {p["name"]: p for p in cluster_group["parameter"]}
    assert parameters["rds.force_ssl"] == {"name": "rds.force_ssl", "value": "1", "apply_method": "pending-reboot"}
    assert parameters["log_connections"]["value"] == "1"
    assert parameters["log_disconnections"]["value"] == "1"
    assert parameters["log_statement"]["value"] == "ddl"
    assert parameters["log_min_duration_statement"]["value"] == str(environments[suffix].aurora.log_min_duration_statement_ms)
    assert all("apply_method" in p for p in cluster_group["parameter"] + instance_group["parameter"])
    cluster = only_resource(document, "aws_rds_cluster")
    assert cluster["db_cluster_parameter_group_name"].startswith("${aws_rds_cluster_parameter_group.")
    assert cluster_group["lifecycle"] == {"create_before_destroy": True}


def test_parameter_group_family_follows_the_engine_major() -> None:
    assert parameter_group_family("15.12") == "aurora-postgresql15"
    document = synth_cluster(engine_version="16.4")
    groups = [only_resource(document, "aws_rds_cluster_parameter_group"), only_resource(document, "aws_db_parameter_group")]
    assert [g["family"] for g in groups] == ["aurora-postgresql16", "aurora-postgresql16"]
    assert [g["name"] for g in groups] == [
        replacement_name(BASE_PROPS.naming, purpose, family="aurora-postgresql16", description=group["description"])
        for purpose, group in zip(("cluster-pg16", "instance-pg16"), groups, strict=True)
    ]


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_writer_and_readers_span_zones_with_insights_and_monitoring(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    config = environments[suffix]
    instances = instances_in_order(synthesized[suffix])
    assert len(instances) == 1 + config.aurora.reader_count
    zones = [i["availability_zone"] for i in instances]
    assert len(set(zones)) >= 2
    assert set(zones) <= set(config.network.aurora_subnets.values())
    for instance in instances:
        assert instance["publicly_accessible"] is False
        assert instance["instance_class"] == config.aurora.instance_class
        assert instance["performance_insights_enabled"] is True
        assert instance["performance_insights_retention_period"] == 7
        assert instance["performance_insights_kms_key_id"].startswith("${aws_kms_key.")
        assert instance["monitoring_interval"] == config.aurora.monitoring_interval_seconds
        assert instance["monitoring_role_arn"].startswith("${aws_iam_role.")
        assert instance["auto_minor_version_upgrade"] is True
        assert instance["db_parameter_group_name"].startswith("${aws_db_parameter_group.")


def test_failover_prefers_a_reader_in_another_zone_and_readers_wait_for_the_writer(unit: Document) -> None:
    writer, first_reader, second_reader = instances_in_order(unit)
    assert first_reader["availability_zone"] != writer["availability_zone"]
    assert first_reader["promotion_tier"] < min(writer["promotion_tier"], second_reader["promotion_tier"])
    assert "depends_on" not in writer
    for reader in (first_reader, second_reader):
        assert reader["depends_on"] == [f"aws_rds_cluster_instance.{_logical_id(unit, writer)}"]


def _logical_id(document: Document, resource: dict[str, Any]) -> str:
    return str(
        next(
            logical
            for by_type in document["resource"].values()
            for logical, candidate in by_type.items()
            if candidate is resource
        )
    )


def test_log_group_exists_before_the_cluster_exports_to_it(unit: Document) -> None:
    log_group = only_resource(unit, "aws_cloudwatch_log_group")
    cluster = only_resource(unit, "aws_rds_cluster")
    assert log_group["name"] == f"/aws/rds/cluster/{cluster['cluster_identifier']}/postgresql"
    assert log_group["retention_in_days"] == 30
    assert log_group["kms_key_id"] == BASE_PROPS.kms_key_arn
    assert cluster["depends_on"] == [f"aws_cloudwatch_log_group.{_logical_id(unit, log_group)}"]


def test_enhanced_monitoring_role_trusts_rds_monitoring_for_this_account_only(unit: Document) -> None:
    role = only_resource(unit, "aws_iam_role")
    trust = json.loads(role["assume_role_policy"])
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    attachment = only_resource(unit, "aws_iam_role_policy_attachment")
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_kms_key_rotates_and_has_no_wildcard_principal(suffix: str, synthesized: dict[str, Document]) -> None:
    for key in resources(synthesized[suffix], "aws_kms_key").values():
        assert key["enable_key_rotation"] is True
        for statement in json.loads(key["policy"])["Statement"]:
            principal = statement["Principal"]
            assert principal != "*" and "*" not in principal.get("AWS", ""), statement


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_security_group_rules_are_described_and_never_open_to_the_internet(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    document = synthesized[suffix]
    ingress = list(resources(document, "aws_vpc_security_group_ingress_rule").values())
    egress = list(resources(document, "aws_vpc_security_group_egress_rule").values())
    for rule in ingress + egress:
        assert rule.get("description"), rule
        assert rule.get("cidr_ipv4") != "0.0.0.0/0"
    into_aurora = [r for r in ingress if r["security_group_id"].startswith("${aws_security_group.network_aurora")]
    assert {(r["from_port"], r["to_port"]) for r in into_aurora} == {(5432, 5432)}
    from_dms = [r for r in into_aurora if "network_dms" in r.get("referenced_security_group_id", "")]
    assert len(from_dms) == 1
    network = environments[suffix].network
    assert len(into_aurora) == 1 + len(network.application_security_group_ids) + len(network.application_cidr_blocks)
    assert environments[suffix].source.cidr_block in {r.get("cidr_ipv4") for r in egress}
    assert {(r["from_port"], r["to_port"]) for r in egress} == {(5432, 5432), (443, 443)}


def test_props_are_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        AuroraClusterProps("x")  # type: ignore[call-arg,arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        BASE_PROPS.reader_count = 5  # type: ignore[misc]


def _logical_ids(document: Document) -> set[str]:
    return {f"{kind}.{key}" for kind, found in document["resource"].items() for key in found}


def test_the_cluster_ignores_engine_version_and_refuses_another_major_without_the_upgrade_switch(unit: Document) -> None:
    cluster = only_resource(unit, "aws_rds_cluster")
    assert cluster["allow_major_version_upgrade"] is False
    assert cluster["apply_immediately"] is False
    assert "db_instance_parameter_group_name" not in cluster
    assert cluster["lifecycle"]["ignore_changes"] == [
        "engine_version",
        "db_instance_parameter_group_name",
        "final_snapshot_identifier",
    ]
    [postcondition] = cluster["lifecycle"]["postcondition"]
    assert postcondition["condition"] == '${tonumber(split(".", self.engine_version_actual)[0]) == 15}'
    assert "allow_major_version_upgrade" in postcondition["error_message"]


def test_a_major_upgrade_updates_the_same_cluster_in_place_with_new_family_groups_created_first(unit: Document) -> None:
    upgraded = synth_cluster(engine_version="16.4", allow_major_version_upgrade=True)
    assert _logical_ids(upgraded) == _logical_ids(unit), "same addresses: nothing is moved, the cluster keeps its state"
    before, after = only_resource(unit, "aws_rds_cluster"), only_resource(upgraded, "aws_rds_cluster")
    changed = {key for key in set(before) | set(after) if before.get(key) != after.get(key)}
    # None of these forces a new cluster in provider 5.100 (ForceNew: engine, cluster_identifier, kms_key_id, ...).
    assert changed == {
        "engine_version", "allow_major_version_upgrade", "apply_immediately", "db_instance_parameter_group_name", "lifecycle"
    }  # fmt: skip
    assert after["engine_version"] == "16.4"
    assert after["allow_major_version_upgrade"] is True
    assert after["apply_immediately"] is True, "deferred, the instances' new-family groups would be refused"
    instance_group_key = next(iter(resources(upgraded, "aws_db_parameter_group")))
    assert after["db_instance_parameter_group_name"] == f"${{aws_db_parameter_group.{instance_group_key}.name}}"
    assert after["lifecycle"]["ignore_changes"] == ["final_snapshot_identifier"], "the new version must reach the cluster"
    [postcondition] = after["lifecycle"]["postcondition"]
    assert postcondition["condition"] == (
        '${tonumber(split(".", self.engine_version_actual)[0]) < 16 || self.engine_version_actual == self.engine_version}'
    )
    for kind in ("aws_rds_cluster_parameter_group", "aws_db_parameter_group"):
        old, new = only_resource(unit, kind), only_resource(upgraded, kind)
        assert (old["family"], new["family"]) == ("aurora-postgresql15", "aurora-postgresql16")
        assert old["name"] != new["name"] and "-pg16-" in new["name"], "a new name: the new group exists beside the old one"
        assert new["lifecycle"] == {"create_before_destroy": True}


def test_parameter_group_names_carry_a_digest_of_family_and_description(unit: Document) -> None:
    # Pinned: a change of these names replaces both groups (create_before_destroy: a new group, then the old one goes).
    cluster_digest = _digest("aurora-postgresql15", CLUSTER_DESCRIPTION.format(major=15))
    instance_digest = _digest("aurora-postgresql15", INSTANCE_DESCRIPTION.format(major=15))
    cluster_group = only_resource(unit, "aws_rds_cluster_parameter_group")
    assert cluster_group["name"] == f"aurora-migration-cluster-pg15-{cluster_digest}-unit"
    assert only_resource(unit, "aws_db_parameter_group")["name"] == f"aurora-migration-instance-pg15-{instance_digest}-unit"


def _digest(family: str, description: str) -> str:
    return hashlib.sha256(f"{family}\n{description}".encode()).hexdigest()[:8]


def test_a_description_edit_gives_the_replacement_groups_new_names(unit: Document, monkeypatch: pytest.MonkeyPatch) -> None:
    """`description` forces a new group; created before the old one is destroyed, it must not reuse the old name
    (RDS: DBParameterGroupAlreadyExists)."""
    monkeypatch.setattr(aurora_parameters, "CLUSTER_DESCRIPTION", "Aurora PostgreSQL {major} cluster parameters, reworded")
    monkeypatch.setattr(aurora_parameters, "INSTANCE_DESCRIPTION", "Aurora PostgreSQL {major} instance parameters, reworded")
    edited = synth_cluster()
    assert _logical_ids(edited) == _logical_ids(unit)
    for kind in ("aws_rds_cluster_parameter_group", "aws_db_parameter_group"):
        old, new = only_resource(unit, kind), only_resource(edited, kind)
        assert old["description"] != new["description"] and old["family"] == new["family"]
        assert old["name"] != new["name"], f"{kind}: same name, the create-before-destroy replacement would collide"
        assert new["name"].startswith(old["name"].rsplit("-", 2)[0]) and new["name"].endswith("-unit")
        assert new["lifecycle"] == {"create_before_destroy": True}
