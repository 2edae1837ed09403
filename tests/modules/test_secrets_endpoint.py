"""How DMS in private subnets reaches Secrets Manager: a created interface endpoint, or an existing one checked at plan."""

from __future__ import annotations

from typing import Any

import pytest

from config import EnvironmentConfig
from contract.naming import Naming
from modules.secrets_endpoint import SecretsManagerEndpoint, SecretsManagerEndpointProps
from tests.environments import ENVIRONMENTS
from tests.helpers import Document, only_resource, resources, synth_props

DMS_GROUP = "sg-00000000000000009"
BASE_PROPS = SecretsManagerEndpointProps(
    naming=Naming(prefix="aurora-migration", suffix="unit"),
    region="eu-west-1",
    vpc_id="vpc-00000000000000001",
    vpc_cidr_block="10.10.0.0/16",
    subnets={
        "subnet-00000000000000003": "eu-west-1b",
        "subnet-00000000000000001": "eu-west-1a",
        "subnet-00000000000000002": "eu-west-1a",
    },
    dms_security_group_id=DMS_GROUP,
    endpoint="create",
)


def synth_endpoint(**changes: Any) -> Document:
    return synth_props(SecretsManagerEndpoint, "secrets-manager-endpoint", BASE_PROPS, **changes)


def test_created_endpoint_is_private_dns_in_one_subnet_per_zone_and_admits_only_dms() -> None:
    document = synth_endpoint()
    endpoint = only_resource(document, "aws_vpc_endpoint")
    assert endpoint["service_name"] == "com.amazonaws.eu-west-1.secretsmanager"
    assert endpoint["vpc_endpoint_type"] == "Interface"
    assert endpoint["private_dns_enabled"] is True
    assert endpoint["subnet_ids"] == ["subnet-00000000000000001", "subnet-00000000000000003"], "one subnet per AZ"
    [group_key] = resources(document, "aws_security_group")
    assert endpoint["security_group_ids"] == [f"${{aws_security_group.{group_key}.id}}"]
    ingress = only_resource(document, "aws_vpc_security_group_ingress_rule")
    assert (ingress["referenced_security_group_id"], ingress["from_port"], ingress["to_port"]) == (DMS_GROUP, 443, 443)
    assert "cidr_ipv4" not in ingress
    egress = only_resource(document, "aws_vpc_security_group_egress_rule")
    assert egress["security_group_id"] == DMS_GROUP
    assert egress["referenced_security_group_id"] == f"${{aws_security_group.{group_key}.id}}"
    assert not resources(document, "aws_security_group")[group_key].get("egress"), "the endpoint needs no egress"


def test_an_existing_endpoint_is_checked_at_plan_time_and_dms_may_reach_it_inside_the_vpc() -> None:
    document = synth_endpoint(endpoint="vpce-0123456789abcdef0")
    assert not resources(document, "aws_vpc_endpoint") and not resources(document, "aws_security_group")
    endpoint = document["data"]["aws_vpc_endpoint"]
    [lookup] = endpoint.values()
    assert "aws_network_interfaces" not in document["data"], "the one-per-VPC check belongs to `create`"
    assert lookup["id"] == "vpce-0123456789abcdef0"
    [condition] = lookup["lifecycle"]["postcondition"]
    service = 'self.service_name == "com.amazonaws.eu-west-1.secretsmanager"'
    for clause in (service, "self.private_dns_enabled", 'self.vpc_id == "vpc-00000000000000001"'):
        assert clause in condition["condition"]
    egress = only_resource(document, "aws_vpc_security_group_egress_rule")
    assert (egress["cidr_ipv4"], egress["from_port"]) == ("10.10.0.0/16", 443)


@pytest.mark.parametrize("endpoint", ["create", "vpce-0123456789abcdef0"])
def test_the_vpc_must_resolve_private_dns_names(endpoint: str) -> None:
    [vpc] = synth_endpoint(endpoint=endpoint)["data"]["aws_vpc"].values()
    [condition] = vpc["lifecycle"]["postcondition"]
    assert condition["condition"] == "${self.enable_dns_support && self.enable_dns_hostnames}"


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_every_environment_says_how_dms_reaches_its_secrets(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    document = synthesized[suffix]
    choice = environments[suffix].network.secrets_manager_endpoint
    if choice == "create":
        assert only_resource(document, "aws_vpc_endpoint")["private_dns_enabled"] is True
    else:
        assert [d["id"] for d in document["data"]["aws_vpc_endpoint"].values()] == [choice]
    https = [r for r in resources(document, "aws_vpc_security_group_egress_rule").values() if r["from_port"] == 443]
    assert len(https) == 1, "DMS may send HTTPS to the Secrets Manager endpoint and nowhere else"


def test_create_fails_at_plan_time_when_the_vpc_already_has_a_private_dns_endpoint_besides_its_own() -> None:
    """terraform-provider-aws #17535: a second private-DNS Secrets Manager endpoint in one VPC fails on AWS."""
    document = synth_endpoint()
    [interfaces] = document["data"]["aws_network_interfaces"].values()
    assert interfaces["filter"] == [
        {"name": "vpc-id", "values": ["vpc-00000000000000001"]},
        {"name": "description", "values": ["VPC Endpoint Interface *"]},
    ]
    [interface_key] = document["data"]["aws_network_interface"]
    [(endpoints_key, endpoints)] = document["data"]["aws_vpc_endpoint"].items()
    assert f"data.aws_network_interface.{interface_key} :" in endpoints["for_each"]
    [precondition] = only_resource(document, "aws_vpc_endpoint")["lifecycle"]["precondition"]
    condition = precondition["condition"]
    assert f"data.aws_vpc_endpoint.{endpoints_key} :" in condition
    assert 'e.service_name == "com.amazonaws.eu-west-1.secretsmanager" && e.private_dns_enabled' in condition
    assert 'lookup(e.tags, "Name", "") != "aurora-migration-secretsmanager-endpoint-unit"' in condition, "its own one"
    assert condition.endswith("== 0}")
    assert "network.secrets_manager_endpoint = 'create'" in precondition["error_message"]


def test_lookup_finds_the_vpc_s_endpoint_by_vpc_and_service_and_admits_this_stack_s_dms_group() -> None:
    document = synth_endpoint(endpoint="lookup")
    assert not resources(document, "aws_vpc_endpoint") and not resources(document, "aws_security_group")
    [(key, lookup)] = document["data"]["aws_vpc_endpoint"].items()
    assert (lookup["vpc_id"], lookup["service_name"], lookup["state"]) == (
        "vpc-00000000000000001",
        "com.amazonaws.eu-west-1.secretsmanager",
        "available",
    )
    [condition] = lookup["lifecycle"]["postcondition"]
    assert "self.private_dns_enabled" in condition["condition"]
    endpoint_group = f"${{element(sort(tolist(tolist(data.aws_vpc_endpoint.{key}.security_group_ids))), 0)}}"
    ingress = only_resource(document, "aws_vpc_security_group_ingress_rule")
    assert (ingress["security_group_id"], ingress["referenced_security_group_id"]) == (endpoint_group, DMS_GROUP)
    egress = only_resource(document, "aws_vpc_security_group_egress_rule")
    assert (egress["security_group_id"], egress["referenced_security_group_id"]) == (DMS_GROUP, endpoint_group)
