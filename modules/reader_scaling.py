"""Aurora Auto Scaling of the readers: an Application Auto Scaling target on the cluster's reader count and one
target-tracking policy.

Sources: Aurora user guide, "Using Amazon Aurora Auto Scaling with Aurora Replicas" (service namespace `rds`,
dimension `rds:cluster:ReadReplicaCount`, resource id `cluster:<cluster id>`, the two predefined reader metrics,
min/max 0-15, default cooldowns 300 s, added replicas named `application-autoscaling-*`, "only scales a DB
cluster if the DB cluster is in the available state"); botocore `application-autoscaling` (the enums, pinned in
tests/modules/test_reader_scaling.py).

The minimum is the number of readers Terraform manages, so auto scaling never removes those (it "only removes
Aurora Replicas that it created") and the failover design always has a reader. Replicas it adds are not in
Terraform's state (runbook, "Reader auto scaling").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from constructs import Construct

from contract.aurora import (
    READER_SCALING_DIMENSION,
    READER_SCALING_POLICY_TYPE,
    READER_SCALING_SERVICE_NAMESPACE,
    reader_scaling_resource_id,
)
from contract.naming import Naming
from modules.aws import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
    AppautoscalingTarget,
)


@dataclass(frozen=True, kw_only=True)
class ReaderAutoScalingProps:
    """Validated by the config model (`aurora.auto_scaling`, `aurora.reader_count`)."""

    naming: Naming
    cluster_identifier: str
    """The cluster's identifier (a token of the cluster resource)."""
    min_readers: int
    """The readers Terraform manages (>= 1)."""
    max_readers: int
    predefined_metric: str
    """Application Auto Scaling MetricType, e.g. `RDSReaderAverageCPUUtilization`."""
    target_value: float
    scale_in_cooldown_seconds: int
    scale_out_cooldown_seconds: int
    readers: Sequence[ITerraformDependable]
    """Terraform's instances: the target is registered once they exist (the cluster must be available)."""


class ReaderAutoScaling(Construct):
    """Exposes `resource_id` and `policy_name`."""

    def __init__(self, scope: Construct, id_: str, *, props: ReaderAutoScalingProps) -> None:
        super().__init__(scope, id_)
        target = AppautoscalingTarget(
            self,
            "target",
            service_namespace=READER_SCALING_SERVICE_NAMESPACE,
            scalable_dimension=READER_SCALING_DIMENSION,
            resource_id=reader_scaling_resource_id(props.cluster_identifier),
            min_capacity=props.min_readers,
            max_capacity=props.max_readers,
            depends_on=list(props.readers),
        )
        self.policy = AppautoscalingPolicy(
            self,
            "policy",
            name=props.naming.name("aurora-readers"),
            policy_type=READER_SCALING_POLICY_TYPE,
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=props.target_value,
                predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                    predefined_metric_type=props.predefined_metric
                ),
                scale_in_cooldown=props.scale_in_cooldown_seconds,
                scale_out_cooldown=props.scale_out_cooldown_seconds,
                disable_scale_in=False,
            ),
        )
        self.resource_id = target.resource_id
        self.policy_name = self.policy.name
