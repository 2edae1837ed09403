"""Reader auto scaling, Serverless v2 and the major-upgrade switch: config rules, AWS enums, synthesized JSON."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import botocore.session
import pytest
from botocore.model import StructureShape

from config import EnvironmentConfig, load_environment
from contract.aurora import (
    AUTO_SCALED_INSTANCE_PREFIX,
    READER_SCALING_DIMENSION,
    READER_SCALING_METRICS,
    READER_SCALING_POLICY_TYPE,
    READER_SCALING_SERVICE_NAMESPACE,
    SERVERLESS_MAX_ACU,
    SERVERLESS_MIN_ACU,
)
from contract.naming import Naming
from modules.reader_scaling import ReaderAutoScaling, ReaderAutoScalingProps
from tests.config.helpers import copy_example_ca, dev_data, problems_for, write_toml
from tests.helpers import Document, only_resource, resources, synth_scope
from tests.modules.test_aurora import synth_cluster


def _autoscaling_model() -> Any:
    return botocore.session.get_session().get_service_model("application-autoscaling")


def test_reader_scaling_values_are_in_the_application_autoscaling_model() -> None:
    model = _autoscaling_model()
    assert READER_SCALING_SERVICE_NAMESPACE in model.shape_for("ServiceNamespace").enum
    assert READER_SCALING_DIMENSION in model.shape_for("ScalableDimension").enum
    assert READER_SCALING_POLICY_TYPE in model.shape_for("PolicyType").enum
    metric_types = model.shape_for("MetricType").enum
    assert READER_SCALING_METRICS == {
        "cpu": "RDSReaderAverageCPUUtilization",
        "connections": "RDSReaderAverageDatabaseConnections",
    }
    assert set(READER_SCALING_METRICS.values()) <= set(metric_types)
    resource_id_doc = model.operation_model("RegisterScalableTarget").input_shape.members["ResourceId"].documentation
    assert "cluster:my-db-cluster" in resource_id_doc, "Aurora's ResourceId is cluster:<cluster id>"


def test_serverless_capacity_range_is_the_rds_models() -> None:
    shape = botocore.session.get_session().get_service_model("rds").shape_for("ServerlessV2ScalingConfiguration")
    assert isinstance(shape, StructureShape)
    assert "half-step increments" in shape.members["MinCapacity"].documentation
    assert "the smallest value that you can use is 0.5" in shape.members["MinCapacity"].documentation
    assert "The largest value that you can use is 256" in shape.members["MaxCapacity"].documentation
    assert (SERVERLESS_MIN_ACU, SERVERLESS_MAX_ACU) == (0.5, 256.0)


# --- config ---------------------------------------------------------------------------------------------------


def _with_aurora(**aurora: Any) -> dict[str, Any]:
    data = dev_data()
    data["aurora"].update(aurora)
    return data


def _problems(tmp_path: Any, data: dict[str, Any]) -> list[str]:
    """The problems without the file name in front."""
    return [problem.split(".toml: ", 1)[1] for problem in problems_for(tmp_path, data)]


def test_auto_scaling_is_off_by_default_and_in_dev(environments: dict[str, EnvironmentConfig]) -> None:
    assert environments["dev"].aurora.auto_scaling.enabled is False
    assert environments["staging"].aurora.auto_scaling.enabled is True


def test_auto_scaling_rules_are_reported_together(tmp_path: Any) -> None:
    data = _with_aurora(reader_count=3, auto_scaling={"enabled": True, "max_readers": 2, "metric": "cpu", "target_value": 150})
    problems = _problems(tmp_path, data)
    assert any(p.startswith("aurora.auto_scaling.max_readers: at least aurora.reader_count (3") for p in problems), problems
    assert any(p.startswith("aurora.auto_scaling.target_value: a CPU percent") for p in problems), problems


@pytest.mark.parametrize(
    ("scaling", "expected"),
    [
        ({"max_readers": 16}, "aurora.auto_scaling.max_readers: Input should be less than or equal to 15"),
        ({"metric": "memory"}, "aurora.auto_scaling.metric: Input should be 'cpu' or 'connections'"),
        ({"target_value": 0}, "aurora.auto_scaling.target_value: Input should be greater than 0"),
        ({"scale_in_cooldown_seconds": -1}, "aurora.auto_scaling.scale_in_cooldown_seconds: Input should be greater"),
        ({"min_readers": 1}, "aurora.auto_scaling.min_readers: unknown key"),
    ],
)
def test_auto_scaling_fields_name_the_field(tmp_path: Any, scaling: dict[str, Any], expected: str) -> None:
    problems = _problems(tmp_path, _with_aurora(auto_scaling={"enabled": True, **scaling}))
    assert any(p.startswith(expected) for p in problems), problems


def test_a_connections_target_is_not_a_percent(tmp_path: Any) -> None:
    copy_example_ca(tmp_path)
    data = _with_aurora(auto_scaling={"enabled": True, "metric": "connections", "target_value": 400})
    assert load_environment(write_toml(tmp_path / "env.toml", data)).aurora.auto_scaling.target_value == 400


@pytest.mark.parametrize(
    ("aurora", "expected"),
    [
        ({"instance_class": "db.serverless"}, "aurora.serverless_min_capacity_acu: required with instance_class 'db.serverless'"),
        ({"instance_class": "db.serverless"}, "aurora.serverless_max_capacity_acu: required with instance_class 'db.serverless'"),
        (
            {"serverless_min_capacity_acu": 0.5, "serverless_max_capacity_acu": 8},
            "aurora.serverless_min_capacity_acu: only with instance_class 'db.serverless' (not 'db.r6g.large'), got 0.5",
        ),
        (
            {"instance_class": "db.serverless", "serverless_min_capacity_acu": 0.75, "serverless_max_capacity_acu": 8},
            "aurora.serverless_min_capacity_acu: allowed: 0.5 to 256 ACUs in steps of 0.5, got 0.75",
        ),
        (
            {"instance_class": "db.serverless", "serverless_min_capacity_acu": 1, "serverless_max_capacity_acu": 300},
            "aurora.serverless_max_capacity_acu: allowed: 0.5 to 256 ACUs in steps of 0.5, got 300",
        ),
        (
            {"instance_class": "db.serverless", "serverless_min_capacity_acu": 0.5, "serverless_max_capacity_acu": 0.5},
            "aurora.serverless_max_capacity_acu: at least 1 ACU, got 0.5",
        ),
        (
            {"instance_class": "db.serverless", "serverless_min_capacity_acu": 16, "serverless_max_capacity_acu": 8},
            "aurora.serverless_min_capacity_acu: above serverless_max_capacity_acu 8",
        ),
        (
            {"instance_class": "db.serverless", "engine_version": "14.2", "serverless_min_capacity_acu": 1,
             "serverless_max_capacity_acu": 8},
            # Aurora PostgreSQL 14 began at 14.3 (contract/aurora.py, released minors): refused before the Serverless rule.
            "aurora.engine_version: not a released Aurora PostgreSQL 14 minor",
        ),
        (
            {"instance_class": "db.serverless", "serverless_min_capacity_acu": 1, "serverless_max_capacity_acu": 8,
             "auto_scaling": {"enabled": True}},
            "aurora.auto_scaling.enabled: Aurora Auto Scaling does not support Serverless v2",
        ),
    ],
)  # fmt: skip
def test_serverless_rules(tmp_path: Any, aurora: dict[str, Any], expected: str) -> None:
    problems = _problems(tmp_path, _with_aurora(**aurora))
    assert any(p.startswith(expected) for p in problems), problems


# --- synthesized JSON -------------------------------------------------------------------------------------------


def _scaling_props(**changes: Any) -> ReaderAutoScalingProps:
    base = ReaderAutoScalingProps(
        naming=Naming(prefix="aurora-migration", suffix="unit"),
        cluster_identifier="aurora-migration-cluster-unit",
        min_readers=2,
        max_readers=5,
        predefined_metric="RDSReaderAverageDatabaseConnections",
        target_value=500,
        scale_in_cooldown_seconds=600,
        scale_out_cooldown_seconds=120,
        readers=(),
    )
    return dataclasses.replace(base, **changes)


def test_the_scalable_target_is_the_clusters_reader_count_from_reader_count_up() -> None:
    document = synth_scope(lambda stack: ReaderAutoScaling(stack, "reader-scaling", props=_scaling_props()))
    target = only_resource(document, "aws_appautoscaling_target")
    assert target["service_namespace"] == "rds"
    assert target["scalable_dimension"] == "rds:cluster:ReadReplicaCount"
    assert target["resource_id"] == "cluster:aurora-migration-cluster-unit"
    assert (target["min_capacity"], target["max_capacity"]) == (2, 5)
    policy = only_resource(document, "aws_appautoscaling_policy")
    assert policy["name"] == "aurora-migration-aurora-readers-unit"
    assert policy["policy_type"] == "TargetTrackingScaling"
    for key in ("resource_id", "scalable_dimension", "service_namespace"):
        assert policy[key].startswith("${aws_appautoscaling_target.") and policy[key].endswith(f".{key}}}")
    assert policy["target_tracking_scaling_policy_configuration"] == {
        "target_value": 500,
        "predefined_metric_specification": {"predefined_metric_type": "RDSReaderAverageDatabaseConnections"},
        "scale_in_cooldown": 600,
        "scale_out_cooldown": 120,
        "disable_scale_in": False,
    }


def test_stacks_scale_readers_only_where_configured(
    synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    assert not resources(synthesized["dev"], "aws_appautoscaling_target")
    assert not resources(synthesized["dev"], "aws_appautoscaling_policy")
    for suffix in ("staging", "prod"):
        aurora = environments[suffix].aurora
        document = synthesized[suffix]
        target = only_resource(document, "aws_appautoscaling_target")
        cluster_key = next(iter(resources(document, "aws_rds_cluster")))
        assert target["resource_id"] == f"cluster:${{aws_rds_cluster.{cluster_key}.cluster_identifier}}"
        assert target["min_capacity"] == aurora.reader_count >= 1, "the failover design needs Terraform's readers"
        assert target["max_capacity"] == aurora.auto_scaling.max_readers
        readers = sorted(k for k in resources(document, "aws_rds_cluster_instance") if not k.startswith("aurora_instance-1_"))
        assert sorted(target["depends_on"]) == [f"aws_rds_cluster_instance.{k}" for k in readers]
        config = only_resource(document, "aws_appautoscaling_policy")["target_tracking_scaling_policy_configuration"]
        assert config["predefined_metric_specification"]["predefined_metric_type"] == "RDSReaderAverageCPUUtilization"
        assert config["target_value"] == aurora.auto_scaling.target_value


def test_auto_scaled_replicas_are_named_by_aws_not_by_the_stack(synthesized: dict[str, Document]) -> None:
    for document in synthesized.values():
        for instance in resources(document, "aws_rds_cluster_instance").values():
            assert not instance["identifier"].startswith(AUTO_SCALED_INSTANCE_PREFIX)


def test_serverless_v2_sets_the_capacity_range_and_the_instance_class() -> None:
    document = synth_cluster(instance_class="db.serverless", serverless_capacity_acu=(0.5, 16.0))
    cluster = only_resource(document, "aws_rds_cluster")
    assert cluster["serverlessv2_scaling_configuration"] == {"min_capacity": 0.5, "max_capacity": 16}
    assert cluster["engine_mode"] == "provisioned"
    assert {i["instance_class"] for i in resources(document, "aws_rds_cluster_instance").values()} == {"db.serverless"}


def test_provisioned_clusters_have_no_serverless_capacity(synthesized: dict[str, Document]) -> None:
    for document in synthesized.values():
        assert "serverlessv2_scaling_configuration" not in only_resource(document, "aws_rds_cluster")


def test_the_aws_contract_gate_checks_the_scaling_resources(synthesized: dict[str, Document]) -> None:
    from review.aws_contract import api_model
    from review.aws_contract.core import Stack

    document = copy.deepcopy(synthesized["staging"])
    assert not list(api_model.check(Stack(name="staging", document=document)))
    policy = only_resource(document, "aws_appautoscaling_policy")
    policy["target_tracking_scaling_policy_configuration"]["predefined_metric_specification"]["predefined_metric_type"] = (
        "RDSReaderAverageCPU"
    )
    only_resource(document, "aws_appautoscaling_target")["scalable_dimension"] = "rds:cluster:ReaderCount"
    found = {(v.attribute, v.rule.split(":")[0]) for v in api_model.check(Stack(name="staging", document=document))}
    assert found == {
        (
            "target_tracking_scaling_policy_configuration.predefined_metric_specification.predefined_metric_type",
            "enum MetricType",
        ),
        ("scalable_dimension", "enum ScalableDimension"),
    }
