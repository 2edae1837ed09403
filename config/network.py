"""Where the databases are: the VPC and its subnets, and the on-premises source database DMS reads from."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from pydantic import Field, ValidationInfo, field_validator, model_validator

from config.fields import (
    VPC_ENDPOINT_ID,
    AvailabilityZone,
    Cidr,
    Hostname,
    KmsKeyArn,
    PgIdentifier,
    SecretArn,
    SecurityGroupId,
    StrictModel,
    SubnetId,
    VpcId,
)
from contract.aurora import POSTGRES_PORT
from contract.dms import SourceSslMode


def ca_bundle_file(path: Path, info: ValidationInfo) -> Path:
    """A PEM CA bundle relative to the config file: readable, certificates only (no private key). DMS imports it."""
    base_dir = Path((info.context or {}).get("config_dir", "."))
    resolved = path if path.is_absolute() else base_dir / path
    if not resolved.is_file():
        raise ValueError(f"file not found: {resolved}")
    text = resolved.read_text(encoding="utf-8", errors="replace")
    if "PRIVATE KEY" in text:
        raise ValueError("the file contains a private key; give only the CA certificate")
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError("expected a PEM file with at least one '-----BEGIN CERTIFICATE-----' block")
    try:
        x509.load_pem_x509_certificates(text.encode())
    except ValueError as error:
        raise ValueError(f"{resolved}: not a readable PEM certificate bundle ({error})") from None
    return resolved


class NetworkConfig(StrictModel):
    """Where the databases live. Subnets map subnet id -> availability zone."""

    vpc_id: VpcId = Field(description="VPC that holds Aurora and the DMS replication instance.")
    vpc_cidr_block: Cidr = Field(
        description="CIDR of that VPC; DMS may reach HTTPS (VPC interface endpoints for Secrets Manager/KMS) only inside it."
    )
    aurora_subnets: dict[SubnetId, AvailabilityZone] = Field(
        description='Private subnets for Aurora, `{ subnet-id = "az" }`; at least 2 AZs. Instances are spread over these AZs.'
    )
    dms_subnets: dict[SubnetId, AvailabilityZone] = Field(
        description="Private subnets for the DMS replication instance, same shape; at least 2 AZs."
    )
    application_security_group_ids: tuple[SecurityGroupId, ...] = Field(
        default=(), description="Security groups of applications allowed to connect to Aurora on 5432."
    )
    application_cidr_blocks: tuple[Cidr, ...] = Field(
        default=(), description="CIDR blocks allowed to connect to Aurora on 5432 (never 0.0.0.0/0)."
    )
    secrets_manager_endpoint: str = Field(
        description="How DMS in private subnets reaches Secrets Manager: `create` an interface endpoint in the DMS "
        "subnets (private DNS, 443 from the DMS group only; one environment per VPC, the plan fails if the VPC already "
        "has one); `lookup` the VPC's Secrets Manager endpoint by VPC and service (another stack's, e.g. the base of "
        "ENVIRONMENT_SUFFIX stacks) and admit the DMS group on its security group; or the id of an existing endpoint "
        "(`vpce-...`) whose security group admits 443 from the DMS group (output `dms_security_group_id`)."
    )

    @field_validator("secrets_manager_endpoint")
    @classmethod
    def _create_lookup_or_endpoint_id(cls, value: str) -> str:
        if value not in ("create", "lookup") and not VPC_ENDPOINT_ID.fullmatch(value):
            raise ValueError("expected 'create', 'lookup' or an interface endpoint id shaped like 'vpce-0123456789abcdef0'")
        return value

    @field_validator("aurora_subnets", "dms_subnets")
    @classmethod
    def _spans_two_zones(cls, subnets: dict[str, str]) -> dict[str, str]:
        zones = set(subnets.values())
        if len(subnets) < 2 or len(zones) < 2:
            raise ValueError("need at least 2 subnets in different AZs")
        return subnets


class SourceDatabaseConfig(StrictModel):
    """The on-premises PostgreSQL database DMS reads from. Credentials live only in Secrets Manager."""

    host: Hostname = Field(
        description="Host name or IP of the on-premises server; must equal `host` in the credentials secret DMS reads."
    )
    port: int = Field(default=POSTGRES_PORT, ge=1, le=65535, description="PostgreSQL port of the source (DMS egress rule).")
    database_name: PgIdentifier = Field(description="Database to migrate.")
    cidr_block: Cidr = Field(description="CIDR of the source server as seen from the VPC (DMS egress is limited to it).")
    credentials_secret_arn: SecretArn = Field(
        description="Existing Secrets Manager secret with `username`, `password`, `host`, `port` of the migration user."
    )
    credentials_kms_key_arn: KmsKeyArn | None = Field(
        default=None, description="CMK that encrypts that secret, if not the AWS-managed key (DMS is allowed to decrypt with it)."
    )
    ssl_mode: SourceSslMode = Field(default="verify-full", description="TLS mode of the source endpoint; `none` is not accepted.")
    ca_certificate_file: Path | None = Field(
        default=None,
        description="PEM CA bundle of the source's server certificate, relative to the config file; needed by verify-*.",
    )

    @field_validator("ca_certificate_file")
    @classmethod
    def _certificate_is_readable(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        return None if path is None else ca_bundle_file(path, info)

    @model_validator(mode="after")
    def _verify_modes_need_a_ca(self) -> SourceDatabaseConfig:
        if self.ssl_mode.startswith("verify") and self.ca_certificate_file is None:
            raise ValueError(f"ssl_mode {self.ssl_mode!r} needs ca_certificate_file (or use ssl_mode 'require')")
        return self
