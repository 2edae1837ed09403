"""Security group rules that open one TCP port, to or from a peer: every rule of the stack (PostgreSQL or HTTPS).

The peer is another security group (`peer_group_id`) or a CIDR block (`peer_cidr`).
"""

from __future__ import annotations

from typing import Literal

from constructs import Construct

from modules.aws import VpcSecurityGroupEgressRule, VpcSecurityGroupIngressRule


def tcp_rule(
    scope: Construct,
    id_: str,
    *,
    direction: Literal["ingress", "egress"],
    security_group_id: str,
    port: int,
    description: str,
    peer_group_id: str | None = None,
    peer_cidr: str | None = None,
) -> VpcSecurityGroupIngressRule | VpcSecurityGroupEgressRule:
    """`security_group_id` admits `port` from the peer (ingress) or may reach the peer on it (egress)."""
    rule: type[VpcSecurityGroupIngressRule] | type[VpcSecurityGroupEgressRule] = (
        VpcSecurityGroupIngressRule if direction == "ingress" else VpcSecurityGroupEgressRule
    )
    return rule(
        scope,
        id_,
        security_group_id=security_group_id,
        referenced_security_group_id=peer_group_id,
        cidr_ipv4=peer_cidr,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
    )
