"""Security groups of Aurora and DMS, with every rule described and nothing open to the internet.

Both groups live in one construct because their rules reference each other
(Aurora admits DMS; DMS may reach Aurora), which stand-alone rule resources
express without a dependency cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from contract.naming import Naming
from modules.aws import SecurityGroup
from modules.moved import moved_from
from modules.port_rules import tcp_rule


@dataclass(frozen=True, kw_only=True)
class MigrationNetworkProps:
    naming: Naming
    vpc_id: str
    database_port: int
    """Port Aurora listens on: DMS and applications may reach it there."""
    source_cidr_block: str
    """The on-premises source as seen from the VPC: the only place DMS may reach on `source_port`."""
    source_port: int
    application_security_group_ids: tuple[str, ...]
    """Security groups admitted to Aurora; each is a rule of its own, keyed by the group id."""
    application_cidr_blocks: tuple[str, ...]
    """Networks admitted to Aurora; each is a rule of its own, keyed by the CIDR block."""


class MigrationNetwork(Construct):
    """Exposes `aurora_security_group_id` and `dms_security_group_id`."""

    def __init__(self, scope: Construct, id_: str, *, props: MigrationNetworkProps) -> None:
        super().__init__(scope, id_)
        naming = props.naming
        self.aurora_security_group = SecurityGroup(
            self,
            "aurora",
            name=naming.name("aurora"),
            description="Aurora PostgreSQL: PostgreSQL from DMS and listed applications only",
            vpc_id=props.vpc_id,
            tags={"Name": naming.name("aurora")},
        )
        self.dms_security_group = SecurityGroup(
            self,
            "dms",
            name=naming.name("dms"),
            description="DMS replication instance: reaches the source, Aurora and the Secrets Manager endpoint only",
            vpc_id=props.vpc_id,
            tags={"Name": naming.name("dms")},
        )
        aurora_id = self.aurora_security_group.id
        dms_id = self.dms_security_group.id
        port = props.database_port

        tcp_rule(
            self,
            "aurora-from-dms",
            direction="ingress",
            security_group_id=aurora_id,
            port=port,
            peer_group_id=dms_id,
            description="PostgreSQL from the DMS replication instance (migration target writes)",
        )
        for former_position, group_id in enumerate(props.application_security_group_ids):
            rule = tcp_rule(
                self,
                f"aurora-from-{group_id}",
                direction="ingress",
                security_group_id=aurora_id,
                port=port,
                peer_group_id=group_id,
                description=f"PostgreSQL from application security group {group_id}",
            )
            moved_from(rule, f"aurora-from-application-group-{former_position}")
        for former_position, cidr in enumerate(props.application_cidr_blocks):
            rule = tcp_rule(
                self,
                f"aurora-from-{cidr.replace('.', '-').replace('/', '-')}",
                direction="ingress",
                security_group_id=aurora_id,
                port=port,
                peer_cidr=cidr,
                description=f"PostgreSQL from application network {cidr}",
            )
            moved_from(rule, f"aurora-from-application-cidr-{former_position}")

        tcp_rule(
            self,
            "dms-to-source",
            direction="egress",
            security_group_id=dms_id,
            port=props.source_port,
            peer_cidr=props.source_cidr_block,
            description="PostgreSQL to the on-premises source database",
        )
        tcp_rule(
            self,
            "dms-to-aurora",
            direction="egress",
            security_group_id=dms_id,
            port=port,
            peer_group_id=aurora_id,
            description="PostgreSQL to the Aurora target cluster",
        )

    @property
    def aurora_security_group_id(self) -> str:
        return self.aurora_security_group.id

    @property
    def dms_security_group_id(self) -> str:
        return self.dms_security_group.id
