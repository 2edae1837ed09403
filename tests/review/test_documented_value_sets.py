"""The contract gate's documented value sets: arguments botocore models only as plain strings or integers (#26 box 11).

Each rule of docs/gates.md, "Documented value sets", fails on a bad value planted in a copy of the dev stack.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from review.aws_contract import documented
from review.aws_contract.core import Stack
from tests.helpers import Document


def _first(document: Document, resource_type: str) -> dict[str, Any]:
    bodies = document["resource"][resource_type]
    return bodies[sorted(bodies)[0]]  # type: ignore[no-any-return]


# (resource type, {attribute: bad value}, the rule's words)
PLANTED: dict[str, tuple[str, dict[str, Any], str]] = {
    "engine mode": ("aws_rds_cluster", {"engine_mode": "parallelquery"}, "provisioned or serverless"),
    "cluster port": ("aws_rds_cluster", {"port": 80}, "1150-65535"),
    "storage type": ("aws_rds_cluster", {"storage_type": "gp3"}, "aurora or aurora-iopt1"),
    "cluster network type": ("aws_rds_cluster", {"network_type": "IPV6"}, "IPV4 or DUAL"),
    "cluster PI retention": ("aws_rds_cluster", {"performance_insights_retention_period": 30}, "multiple of 31"),
    "advanced insights": (
        "aws_rds_cluster",
        {"database_insights_mode": "advanced", "performance_insights_retention_period": 731},
        "advanced needs performance_insights_retention_period 465",
    ),
    "DMS storage": ("aws_dms_replication_instance", {"allocated_storage": 4}, "5-6144 GiB"),
    "DMS network type": ("aws_dms_replication_instance", {"network_type": "IPV6"}, "IPV4 or DUAL"),
    "missing data": ("aws_cloudwatch_metric_alarm", {"treat_missing_data": "notbreaching"}, "breaching, notBreaching"),
    "evaluation periods": ("aws_cloudwatch_metric_alarm", {"evaluation_periods": 0}, "1-86400"),
    "one day": ("aws_cloudwatch_metric_alarm", {"period": 3600, "evaluation_periods": 25}, "at most 86,400 seconds"),
    "M out of N": ("aws_cloudwatch_metric_alarm", {"datapoints_to_alarm": 9, "evaluation_periods": 5}, "at most evaluation"),
    "SNS protocol": ("aws_sns_topic_subscription", {"protocol": "mail"}, "email-json"),
    "ingress protocol": ("aws_vpc_security_group_ingress_rule", {"ip_protocol": "tcpp"}, "tcp, udp, icmp"),
    "egress protocol": ("aws_vpc_security_group_egress_rule", {"ip_protocol": "300"}, "tcp, udp, icmp"),
    "ingress port": ("aws_vpc_security_group_ingress_rule", {"from_port": 70000}, "a port 0-65535"),
    "egress port": ("aws_vpc_security_group_egress_rule", {"to_port": -2}, "a port 0-65535"),
}


@pytest.mark.parametrize("case", PLANTED)
def test_a_bad_documented_value_is_reported(case: str, synthesized: dict[str, Document]) -> None:
    resource_type, values, rule = PLANTED[case]
    document = copy.deepcopy(synthesized["dev"])
    _first(document, resource_type).update(values)
    lines = [violation.line() for violation in documented.check(Stack(name="planted", document=document))]
    assert any(rule in line and "[source: " in line for line in lines), lines


def test_the_stacks_pass_every_documented_rule(synthesized: dict[str, Document]) -> None:
    for name, document in synthesized.items():
        assert [v.line() for v in documented.check(Stack(name=name, document=document))] == []


def test_every_documented_value_set_is_a_plain_member_in_botocore() -> None:
    """Rules here are for what the model does not say: a member that gained an enum belongs in api_model.py."""
    from tests.contract.test_contract import service

    members = {
        ("rds", "CreateDBCluster", "EngineMode"), ("rds", "CreateDBCluster", "Port"),
        ("rds", "CreateDBCluster", "StorageType"), ("rds", "CreateDBCluster", "NetworkType"),
        ("dms", "CreateReplicationInstance", "AllocatedStorage"), ("dms", "CreateReplicationInstance", "NetworkType"),
        ("cloudwatch", "PutMetricAlarm", "TreatMissingData"), ("sns", "Subscribe", "Protocol"),
        ("ec2", "AuthorizeSecurityGroupIngress", "IpProtocol"),
    }  # fmt: skip
    for service_name, operation, member in members:
        shape = service(service_name).operation_model(operation).input_shape
        assert shape is not None
        modelled = shape.members[member]
        ranged = modelled.type_name == "integer" and "min" in modelled.metadata
        assert not getattr(modelled, "enum", None) and not ranged, (service_name, operation, member)
