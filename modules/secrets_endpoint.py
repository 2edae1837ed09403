"""How the DMS replication instance, in private subnets, reaches Secrets Manager.

DMS reads both endpoints' credentials from Secrets Manager. From engine 3.4.7 on,
a replication instance on a private network needs a Secrets Manager interface
VPC endpoint for that (DMS user guide, "Configuring VPC endpoints for AWS DMS"),
whose security group admits the replication instance (DMS user guide, "Using
secrets to access AWS Database Migration Service endpoints").

A VPC holds one such endpoint: private DNS adds the VPC's one private hosted
zone for `secretsmanager.<region>.amazonaws.com`, and a second private-DNS
endpoint for the service fails ("conflicting DNS domain", terraform-provider-aws
#17535; botocore ec2 `CreateVpcEndpointRequest.PrivateDnsEnabled`). So:

`create`: an interface endpoint in the DMS subnets (one per AZ, as AWS allows)
with private DNS, so `secretsmanager.<region>.amazonaws.com` resolves to it
inside the VPC, and a security group admitting 443 from the DMS group only.
The plan fails when the VPC already has a private-DNS Secrets Manager endpoint
that is not this stack's (see `_refuse_a_second_endpoint`). At most one
environment file per VPC says `create` (config/loader.py).
`lookup`: the VPC's Secrets Manager interface endpoint, found by VPC and service
name (another stack's: short-lived ENVIRONMENT_SUFFIX stacks share their base's);
this stack admits its DMS group on that endpoint's security group with a rule of
its own, destroyed with the stack.
An existing endpoint id: looked up, and the plan fails unless it is a Secrets
Manager endpoint of this VPC with private DNS. Every way the VPC must resolve
private DNS names (enableDnsSupport and enableDnsHostnames), checked at plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import Fn, Postcondition, Precondition, TerraformResourceLifecycle, Token
from constructs import Construct

from contract.naming import Naming
from modules.aws import (
    DataAwsNetworkInterface,
    DataAwsNetworkInterfaces,
    DataAwsNetworkInterfacesFilter,
    DataAwsVpc,
    DataAwsVpcEndpoint,
    SecurityGroup,
    VpcEndpoint,
)
from modules.expressions import hcl_literal
from modules.port_rules import tcp_rule

HTTPS_PORT = 443
CREATE = "create"
LOOKUP = "lookup"
# How EC2 describes the network interfaces it creates for an interface endpoint (DescribeNetworkInterfaces,
# `Description`); the only way to list a VPC's interface endpoints with provider 5.100, which has no plural
# `aws_vpc_endpoints` data source (`terraform providers schema -json`: aws_vpc_endpoint, _associations, _service).
ENDPOINT_INTERFACE_DESCRIPTION = "VPC Endpoint Interface "


@dataclass(frozen=True, kw_only=True)
class SecretsManagerEndpointProps:
    naming: Naming
    """Physical names: the endpoint's security group is `<prefix>-secretsmanager-endpoint-<suffix>`."""
    region: str
    """Region of the endpoint service (`com.amazonaws.<region>.secretsmanager`)."""
    vpc_id: str
    """VPC of the replication instance."""
    vpc_cidr_block: str
    """Where DMS may send HTTPS when the endpoint's own security group is not ours."""
    subnets: Mapping[str, str]
    """DMS subnets, subnet id -> AZ; the created endpoint takes the first subnet of each AZ."""
    dms_security_group_id: str
    """Security group of the replication instance."""
    endpoint: str
    """`create`, `lookup` (the VPC's endpoint, by VPC and service), or the id of an existing Secrets Manager
    interface endpoint."""


class SecretsManagerEndpoint(Construct):
    """Exposes `endpoint_id` and `dns_name`, the endpoint's regional DNS name (its first DNS entry,
    `vpce-<id>.secretsmanager.<region>.vpce.amazonaws.com`): what `secretsManagerEndpointOverride` names."""

    def __init__(self, scope: Construct, id_: str, *, props: SecretsManagerEndpointProps) -> None:
        super().__init__(scope, id_)
        service_name = f"com.amazonaws.{props.region}.secretsmanager"
        DataAwsVpc(
            self,
            "vpc",
            id=props.vpc_id,
            lifecycle=TerraformResourceLifecycle(
                postcondition=[
                    Postcondition(
                        condition="${self.enable_dns_support && self.enable_dns_hostnames}",
                        error_message=f"VPC {props.vpc_id} must have DNS support and DNS hostnames enabled: the "
                        "replication instance finds Secrets Manager through the endpoint's private DNS name.",
                    )
                ]
            ),
        )
        endpoint: VpcEndpoint | DataAwsVpcEndpoint
        if props.endpoint == CREATE:
            endpoint = self._create(props, service_name)
        elif props.endpoint == LOOKUP:
            endpoint = self._lookup(props, service_name)
        else:
            endpoint = self._existing(props, service_name)
        self.endpoint_id: str = endpoint.id
        self.dns_name: str = endpoint.dns_entry.get(0).dns_name

    def _create(self, props: SecretsManagerEndpointProps, service_name: str) -> VpcEndpoint:
        name = props.naming.name("secretsmanager-endpoint")
        group = SecurityGroup(
            self,
            "security-group",
            name=name,
            description="Secrets Manager interface endpoint: HTTPS from the DMS replication instance only",
            vpc_id=props.vpc_id,
            tags={"Name": name},
        )
        self._https_from_dms(
            props,
            group.id,
            ingress_description="HTTPS from the DMS replication instance (endpoint credentials)",
            egress_description="HTTPS to the Secrets Manager interface endpoint (endpoint credentials)",
        )
        first_subnet_per_zone: dict[str, str] = {}
        for subnet, zone in sorted(props.subnets.items()):
            first_subnet_per_zone.setdefault(zone, subnet)
        endpoint = VpcEndpoint(
            self,
            "endpoint",
            vpc_id=props.vpc_id,
            service_name=service_name,
            vpc_endpoint_type="Interface",
            subnet_ids=sorted(first_subnet_per_zone.values()),
            security_group_ids=[group.id],
            private_dns_enabled=True,
            tags={"Name": name},
            lifecycle=TerraformResourceLifecycle(precondition=[self._refuse_a_second_endpoint(props, service_name, name)]),
        )
        return endpoint

    def _refuse_a_second_endpoint(self, props: SecretsManagerEndpointProps, service_name: str, name: str) -> Precondition:
        """A plan-time check: no private-DNS endpoint for the service in the VPC besides the one named `name`.

        Data sources are read during plan (their arguments are literals): the VPC's endpoint network interfaces, each
        interface's description (which names its endpoint), then each endpoint. This stack's own endpoint (tag `Name`)
        is left out, so the plans after the first one pass.
        """
        interfaces = DataAwsNetworkInterfaces(
            self,
            "endpoint-interfaces",
            filter=[
                DataAwsNetworkInterfacesFilter(name="vpc-id", values=[props.vpc_id]),
                DataAwsNetworkInterfacesFilter(name="description", values=[f"{ENDPOINT_INTERFACE_DESCRIPTION}*"]),
            ],
        )
        interface = DataAwsNetworkInterface(self, "endpoint-interface", id="${each.value}")
        interface.add_override("for_each", f"${{toset(data.aws_network_interfaces.{interfaces.friendly_unique_id}.ids)}}")
        endpoints = DataAwsVpcEndpoint(self, "vpc-endpoints", id="${each.value}")
        endpoints.add_override(
            "for_each",
            f"${{toset([for eni in data.aws_network_interface.{interface.friendly_unique_id} : "
            f'trimprefix(eni.description, "{ENDPOINT_INTERFACE_DESCRIPTION}")])}}',
        )
        others = (
            f"[for e in data.aws_vpc_endpoint.{endpoints.friendly_unique_id} : e.id "
            f'if e.service_name == "{hcl_literal(service_name)}" && e.private_dns_enabled '
            f'&& lookup(e.tags, "Name", "") != "{hcl_literal(name)}"]'
        )
        return Precondition(
            condition=f"${{length({others}) == 0}}",
            error_message=f"network.secrets_manager_endpoint = 'create', but VPC {props.vpc_id} already has a "
            f"{service_name} interface endpoint with private DNS (a second one fails: conflicting DNS domain); set "
            "'lookup' or that endpoint's id.",
        )

    def _lookup(self, props: SecretsManagerEndpointProps, service_name: str) -> DataAwsVpcEndpoint:
        """The VPC's endpoint (another stack's); this stack's DMS group gets its own rule on the endpoint's group."""
        endpoint = DataAwsVpcEndpoint(
            self,
            "endpoint",
            vpc_id=props.vpc_id,
            service_name=service_name,
            state="available",
            lifecycle=TerraformResourceLifecycle(
                postcondition=[
                    Postcondition(
                        condition='${self.vpc_endpoint_type == "Interface" && self.private_dns_enabled '
                        "&& length(self.security_group_ids) > 0}",
                        error_message=f"network.secrets_manager_endpoint = 'lookup': the {service_name} endpoint of "
                        f"{props.vpc_id} must be an interface endpoint with private DNS and a security group.",
                    )
                ]
            ),
        )
        endpoint_group = Token.as_string(Fn.element(Fn.sort(Fn.tolist(endpoint.security_group_ids)), 0))
        self._https_from_dms(
            props,
            endpoint_group,
            ingress_description=f"HTTPS from the DMS replication instance of {props.naming.stack_name} (endpoint credentials)",
            egress_description="HTTPS to the VPC's Secrets Manager interface endpoint (endpoint credentials)",
        )
        return endpoint

    def _https_from_dms(
        self, props: SecretsManagerEndpointProps, endpoint_group: str, *, ingress_description: str, egress_description: str
    ) -> None:
        """`endpoint_group` admits HTTPS from the DMS group, which may reach it (ids `from-dms`, `dms-to-endpoint`)."""
        tcp_rule(
            self,
            "from-dms",
            direction="ingress",
            security_group_id=endpoint_group,
            port=HTTPS_PORT,
            peer_group_id=props.dms_security_group_id,
            description=ingress_description,
        )
        self._dms_to_endpoint(props, peer_group_id=endpoint_group, description=egress_description)

    def _dms_to_endpoint(
        self,
        props: SecretsManagerEndpointProps,
        *,
        description: str,
        peer_group_id: str | None = None,
        peer_cidr: str | None = None,
    ) -> None:
        """The DMS group may reach the endpoint on HTTPS: its group, or the VPC when the group is not ours."""
        tcp_rule(
            self,
            "dms-to-endpoint",
            direction="egress",
            security_group_id=props.dms_security_group_id,
            port=HTTPS_PORT,
            peer_group_id=peer_group_id,
            peer_cidr=peer_cidr,
            description=description,
        )

    def _existing(self, props: SecretsManagerEndpointProps, service_name: str) -> DataAwsVpcEndpoint:
        endpoint = DataAwsVpcEndpoint(
            self,
            "endpoint",
            id=props.endpoint,
            lifecycle=TerraformResourceLifecycle(
                postcondition=[
                    Postcondition(
                        condition=f'${{self.service_name == "{hcl_literal(service_name)}" '
                        f'&& self.vpc_id == "{hcl_literal(props.vpc_id)}" && self.private_dns_enabled}}',
                        error_message=f"network.secrets_manager_endpoint {props.endpoint} must be a {service_name} "
                        f"interface endpoint in {props.vpc_id} with private DNS enabled.",
                    )
                ]
            ),
        )
        # The endpoint's security groups are not ours: DMS may send HTTPS inside the VPC, and the runbook
        # asks for an ingress rule from the DMS group on the endpoint's group.
        self._dms_to_endpoint(
            props,
            peer_cidr=props.vpc_cidr_block,
            description="HTTPS to the existing Secrets Manager interface endpoint inside the VPC",
        )
        return endpoint
