"""The typed model of one environment's configuration.

Every field is either required or has a documented default; the README's
configuration reference is generated from the same field descriptions
(`python -m docgen.reference`). Models are frozen and reject unknown keys so
a typo in a TOML file is an error, not a silently ignored setting.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from cryptography import x509
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contract.aurora import (
    INSTANCE_MEMORY_GIB,
    MAX_AURORA_READERS,
    PGAUDIT_LOG_CLASSES,
    PGAUDIT_OBJECT_AUDIT_ROLE,
    POSTGRES_PORT,
    SERVERLESS_ACU_STEP,
    SERVERLESS_INSTANCE_CLASS,
    SERVERLESS_MAX_ACU,
    SERVERLESS_MIN_ACU,
    SERVERLESS_V2_FIRST_MINOR,
    SUPPORTED_AURORA_MAJORS,
    engine_major,
)
from contract.aws_limits import (
    CLOUDWATCH_RETENTION_DAYS,
    PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    PERFORMANCE_INSIGHTS_RETENTION_RULE,
)
from contract.dms import MigrationType, ServiceRolesMode, SourceSslMode
from contract.dms_engines import DEFAULT_DMS_ENGINE_VERSION, engine_problems
from contract.naming import Naming

RESERVED_MASTER_USERNAMES = frozenset({"postgres", "admin", "administrator", "root", "rdsadmin", "master"})


def _shape(pattern: str, example: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"expected something shaped like {example!r}")
        return value

    return AfterValidator(check)


def _cidr(value: str) -> str:
    # Terraform's cidr_ipv4 / security group rules need an explicit prefix; Python would read "10.0.0.1" as a /32.
    if "/" not in value:
        raise ValueError("expected an IPv4 CIDR block with its prefix length, like '10.20.0.0/16'")
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"expected an IPv4 CIDR block like '10.20.0.0/16' ({error})") from None
    if network.version != 4:
        raise ValueError("expected an IPv4 CIDR block (these fields become IPv4 security group rules)")
    if network.prefixlen == 0:
        raise ValueError("a CIDR block open to the whole internet is not allowed")
    return value


Region = Annotated[str, _shape(r"[a-z]{2}(-gov)?-[a-z]+-\d", "eu-west-1")]
AvailabilityZone = Annotated[str, _shape(r"[a-z]{2}(-gov)?-[a-z]+-\d[a-z]", "eu-west-1a")]
AccountId = Annotated[str, _shape(r"\d{12}", "123456789012")]
VpcId = Annotated[str, _shape(r"vpc-([0-9a-f]{8}|[0-9a-f]{17})", "vpc-0123456789abcdef0")]
SubnetId = Annotated[str, _shape(r"subnet-([0-9a-f]{8}|[0-9a-f]{17})", "subnet-0123456789abcdef0")]
SecurityGroupId = Annotated[str, _shape(r"sg-([0-9a-f]{8}|[0-9a-f]{17})", "sg-0123456789abcdef0")]
VPC_ENDPOINT_ID = re.compile(r"vpce-([0-9a-f]{8}|[0-9a-f]{17})")
# The S3 backend refuses keys (and so prefixes) with a leading or trailing "/" or an empty segment.
StateKeyPrefix = Annotated[str, _shape(r"[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*", "teams/db/aurora-migration")]
SecretArn = Annotated[
    str,
    _shape(
        r"arn:aws(-[a-z]+)*:secretsmanager:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]+",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:onprem/source-AbCdEf",
    ),
]
KmsKeyArn = Annotated[
    str,
    _shape(
        r"arn:aws(-[a-z]+)*:kms:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:(key/[0-9a-f-]{36}|alias/[A-Za-z0-9/_-]+)",
        "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
    ),
]
Cidr = Annotated[str, AfterValidator(_cidr)]


def _cloudwatch_retention(days: int) -> int:
    if days not in CLOUDWATCH_RETENTION_DAYS:
        raise ValueError(f"allowed CloudWatch retention values: {', '.join(map(str, CLOUDWATCH_RETENTION_DAYS))}")
    return days


LogRetentionDays = Annotated[int, AfterValidator(_cloudwatch_retention)]
Hostname = Annotated[
    str,
    _shape(
        r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*", "pg.corp.example.com"
    ),
]
PgIdentifier = Annotated[str, _shape(r"[a-z_][a-z0-9_]{0,62}", "app_db")]
# Names used in DMS selection rules: identifiers, or % / _ wildcards.
SelectionName = Annotated[str, _shape(r"[A-Za-z0-9_%$-]{1,63}", "public")]
DayTimeWindow = Annotated[str, _shape(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", "03:00-04:00")]
WeeklyWindow = Annotated[
    str,
    _shape(
        r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d",
        "sun:04:30-sun:05:30",
    ),
]
Email = Annotated[str, _shape(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "dba-oncall@example.com")]
HttpsUrl = Annotated[str, _shape(r"https://[^\s]+", "https://events.pagerduty.com/integration/abc/enqueue")]
DmsInstanceClass = Annotated[str, _shape(r"dms\.[a-z0-9]+\.[a-z0-9]+", "dms.c5.2xlarge")]
DmsEngineVersion = Annotated[str, _shape(r"\d+\.\d+\.\d+", DEFAULT_DMS_ENGINE_VERSION)]
BucketName = Annotated[str, _shape(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "acme-terraform-state-eu-west-1")]
# An IAM role ARN: optional path (`/` separated, each segment non-empty), then the role name (1-64 characters).
IAM_ROLE_ARN = re.compile(r"arn:aws(-[a-z]+)*:iam::(?P<account>\d{12}):role/([A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}")
IamRoleArn = Annotated[str, _shape(IAM_ROLE_ARN.pattern, "arn:aws:iam::123456789012:role/aurora-migration-deploy")]
# STS RoleSessionName and ExternalId: the characters and lengths AssumeRole accepts.
SessionName = Annotated[str, _shape(r"[A-Za-z0-9_+=,.@-]{2,64}", "aurora-migration-prod")]
ExternalId = Annotated[str, _shape(r"[A-Za-z0-9_+=,.@:/-]{2,1224}", "aurora-migration-7f3c")]


class StrictModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


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
        "subnets (private DNS, 443 from the DMS group only), or the id of an existing Secrets Manager endpoint "
        "(`vpce-...`) whose security group admits 443 from the DMS group (output `dms_security_group_id`)."
    )

    @field_validator("secrets_manager_endpoint")
    @classmethod
    def _create_or_endpoint_id(cls, value: str) -> str:
        if value != "create" and not VPC_ENDPOINT_ID.fullmatch(value):
            raise ValueError("expected 'create' or an interface endpoint id shaped like 'vpce-0123456789abcdef0'")
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
        if path is None:
            return None
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

    @model_validator(mode="after")
    def _verify_modes_need_a_ca(self) -> SourceDatabaseConfig:
        if self.ssl_mode.startswith("verify") and self.ca_certificate_file is None:
            raise ValueError(f"ssl_mode {self.ssl_mode!r} needs ca_certificate_file (or use ssl_mode 'require')")
        return self


class ReaderAutoScalingConfig(StrictModel):
    """Aurora Auto Scaling of the readers (Application Auto Scaling, target tracking); off by default. Readers it
    adds (`application-autoscaling-*`) are not in Terraform: runbook, "Reader auto scaling"."""

    enabled: bool = Field(default=False, description="Let Application Auto Scaling add and remove readers.")
    max_readers: int = Field(
        default=4,
        ge=1,
        le=MAX_AURORA_READERS,
        description="Most readers auto scaling may run, Terraform's included (at least `aurora.reader_count`, at most 15); "
        "the minimum is `aurora.reader_count`.",
    )
    metric: Literal["cpu", "connections"] = Field(
        default="cpu",
        description="What it tracks: `cpu` (RDSReaderAverageCPUUtilization) or `connections` "
        "(RDSReaderAverageDatabaseConnections), averaged over the readers.",
    )
    target_value: float = Field(
        default=70, gt=0, description="Target of the metric: CPU percent (at most 100) or connections per reader."
    )
    scale_in_cooldown_seconds: int = Field(
        default=300, ge=0, le=86400, description="Wait after removing a reader before removing another (AWS default 300)."
    )
    scale_out_cooldown_seconds: int = Field(
        default=300, ge=0, le=86400, description="Wait after adding a reader before adding another (AWS default 300)."
    )


class AuroraConfig(StrictModel):
    """The target Aurora PostgreSQL cluster."""

    engine_version: str = Field(
        default="15.12",
        description="Aurora PostgreSQL `major.minor` a new cluster is created with; AWS upgrades minors after that and "
        "the cluster ignores this value once created (README, Versions), except during a major upgrade "
        "(`allow_major_version_upgrade`). The parameter group family follows the major.",
    )
    allow_major_version_upgrade: bool = Field(
        default=False,
        description="Set only for the apply that moves `engine_version` to a new major (runbook, Major version upgrades): "
        "the cluster is upgraded in place (same cluster, new-family parameter groups); set it back to false afterwards. "
        "A plan refuses a major change without it, and it left on once the cluster runs the configured version.",
    )
    instance_class: str = Field(
        default="db.r6g.large",
        description="Instance class of the writer and every reader; `db.serverless` selects Aurora Serverless v2.",
    )
    serverless_min_capacity_acu: float | None = Field(
        default=None,
        description="Serverless v2 only (and then required): least capacity of each instance, in ACUs (0.5-256, steps of 0.5).",
    )
    serverless_max_capacity_acu: float | None = Field(
        default=None,
        description="Serverless v2 only (and then required): most capacity of each instance, in ACUs (1-256, steps of 0.5; "
        "above 128 needs a recent Aurora version).",
    )
    reader_count: int = Field(
        default=2, ge=1, le=MAX_AURORA_READERS, description="Readers besides the writer (1-15) that Terraform manages."
    )
    auto_scaling: ReaderAutoScalingConfig = Field(default_factory=ReaderAutoScalingConfig)
    master_username: PgIdentifier = Field(
        default="migration_admin", description="Master user name (not a default like `postgres`)."
    )
    master_password_version: int = Field(
        default=1, ge=1, description="Bump to rotate: a new random password is written to the cluster and the secret."
    )
    database_name: PgIdentifier = Field(default="app", description="Database created in the cluster (DMS target database).")
    secret_recovery_window_days: int = Field(
        default=7,
        ge=0,
        le=30,
        description="Days a deleted credentials secret can be restored (0 = delete at once, for short-lived environments).",
    )
    backup_retention_days: int = Field(default=7, ge=7, le=35, description="Automated backup retention (7-35).")
    preferred_backup_window: DayTimeWindow = Field(default="03:00-04:00", description="Daily backup window, UTC.")
    preferred_maintenance_window: WeeklyWindow = Field(
        default="sun:04:30-sun:05:30", description="Weekly maintenance window, UTC."
    )
    deletion_protection: bool = Field(default=True, description="Block cluster deletion (keep on for production).")
    skip_final_snapshot: bool = Field(
        default=False, description="Skip the final snapshot on destroy (short-lived environments only)."
    )
    performance_insights_retention_days: int = Field(
        default=7, description=f"Performance Insights retention: {PERFORMANCE_INSIGHTS_RETENTION_RULE}."
    )
    monitoring_interval_seconds: Literal[1, 5, 10, 15, 30, 60] = Field(default=60, description="Enhanced monitoring interval.")
    log_retention_days: LogRetentionDays = Field(
        default=30, description="Retention of the PostgreSQL log group (a CloudWatch value)."
    )
    log_min_duration_statement_ms: int = Field(default=1000, ge=0, description="Log statements slower than this (ms).")

    @field_validator("engine_version")
    @classmethod
    def _supported_version(cls, version: str) -> str:
        match = re.fullmatch(r"(\d+)\.(\d+)", version)
        if not match:
            raise ValueError("expected 'major.minor', e.g. '15.12'")
        if int(match.group(1)) not in SUPPORTED_AURORA_MAJORS:
            allowed = ", ".join(str(m) for m in SUPPORTED_AURORA_MAJORS)
            raise ValueError(f"major version {match.group(1)} is not supported (supported majors: {allowed})")
        return version

    @field_validator("secret_recovery_window_days")
    @classmethod
    def _recovery_window(cls, days: int) -> int:
        if days != 0 and not 7 <= days <= 30:
            raise ValueError("allowed: 0 (delete at once) or 7-30")
        return days

    @field_validator("instance_class")
    @classmethod
    def _instance_class_shape(cls, value: str) -> str:
        if value == SERVERLESS_INSTANCE_CLASS:
            return value
        if not re.fullmatch(r"db\.[a-z0-9]+\.[a-z0-9]+", value):
            raise ValueError(f"expected an RDS instance class like 'db.r6g.large', or {SERVERLESS_INSTANCE_CLASS!r}")
        if value not in INSTANCE_MEMORY_GIB:
            raise ValueError(
                "the connections alarm needs the class's memory; known classes: " + ", ".join(sorted(INSTANCE_MEMORY_GIB))
            )
        return value

    @field_validator("serverless_min_capacity_acu", "serverless_max_capacity_acu")
    @classmethod
    def _acu_steps(cls, acu: float | None) -> float | None:
        if acu is not None and (acu % SERVERLESS_ACU_STEP or not SERVERLESS_MIN_ACU <= acu <= SERVERLESS_MAX_ACU):
            raise ValueError(
                f"allowed: {SERVERLESS_MIN_ACU:g} to {SERVERLESS_MAX_ACU:g} ACUs in steps of {SERVERLESS_ACU_STEP:g}"
            )
        return acu

    @field_validator("master_username")
    @classmethod
    def _not_a_default_username(cls, value: str) -> str:
        if value in RESERVED_MASTER_USERNAMES:
            raise ValueError(f"choose a non-default master username (not one of {sorted(RESERVED_MASTER_USERNAMES)})")
        return value

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi_retention(cls, days: int) -> int:
        if days not in PERFORMANCE_INSIGHTS_RETENTION_DAYS:
            raise ValueError(f"allowed: {PERFORMANCE_INSIGHTS_RETENTION_RULE}")
        return days

    @property
    def engine_major(self) -> int:
        return engine_major(self.engine_version)

    @property
    def serverless(self) -> bool:
        return self.instance_class == SERVERLESS_INSTANCE_CLASS

    def problems(self) -> list[str]:
        """Rules across the fields of `[aurora]`, one line each (EnvironmentConfig reports them with the others)."""
        problems = []
        capacity = {"serverless_min_capacity_acu": self.serverless_min_capacity_acu,
                    "serverless_max_capacity_acu": self.serverless_max_capacity_acu}  # fmt: skip
        if self.serverless:
            first = SERVERLESS_V2_FIRST_MINOR[self.engine_major]
            if int(self.engine_version.split(".")[1]) < first:
                problems.append(
                    f"aurora.instance_class: {SERVERLESS_INSTANCE_CLASS} needs Aurora PostgreSQL "
                    f"{self.engine_major}.{first} or later, got engine_version {self.engine_version!r}"
                )
            problems += [
                f"aurora.{name}: required with instance_class {SERVERLESS_INSTANCE_CLASS!r}"
                for name, acu in capacity.items()
                if acu is None
            ]
            low, high = capacity.values()
            if high is not None and high < 1:
                problems.append(f"aurora.serverless_max_capacity_acu: at least 1 ACU, got {high!r}")
            if low is not None and high is not None and low > high:
                problems.append(f"aurora.serverless_min_capacity_acu: above serverless_max_capacity_acu {high!r}, got {low!r}")
        else:
            problems += [
                f"aurora.{name}: only with instance_class {SERVERLESS_INSTANCE_CLASS!r} "
                f"(not {self.instance_class!r}), got {acu!r}"
                for name, acu in capacity.items()
                if acu is not None
            ]
        scaling = self.auto_scaling
        if scaling.enabled:
            if scaling.max_readers < self.reader_count:
                problems.append(
                    f"aurora.auto_scaling.max_readers: at least aurora.reader_count ({self.reader_count}, the minimum), "
                    f"got {scaling.max_readers}"
                )
            if scaling.metric == "cpu" and scaling.target_value > 100:
                problems.append(f"aurora.auto_scaling.target_value: a CPU percent (at most 100), got {scaling.target_value!r}")
            if self.serverless:
                # Aurora user guide, "Requirements and limitations for Aurora Serverless v2": "Aurora Auto Scaling isn't
                # supported" (Serverless v2 readers scale their capacity instead).
                problems.append(
                    "aurora.auto_scaling.enabled: Aurora Auto Scaling does not support Serverless v2 "
                    f"(instance_class {SERVERLESS_INSTANCE_CLASS!r}), got true"
                )
        return problems


class TableSelection(StrictModel):
    """One DMS selection rule; `%` is the wildcard."""

    schema_name: SelectionName = Field(description="Schema name or pattern.")
    table_name: SelectionName = Field(default="%", description="Table name or pattern.")


class DmsConfig(StrictModel):
    """The DMS replication instance, endpoints and task."""

    replication_instance_class: DmsInstanceClass = Field(default="dms.c5.2xlarge", description="Replication instance class.")
    allocated_storage_gib: int = Field(default=100, ge=5, le=6144, description="Replication instance storage (GiB).")
    engine_version: DmsEngineVersion = Field(
        default=DEFAULT_DMS_ENGINE_VERSION,
        description="DMS engine a new replication instance is created with; refused once AWS no longer creates "
        "instances with it or when it cannot write to the Aurora major (table: contract/dms_engines.py).",
    )
    multi_az: bool = Field(default=True, description="Multi-AZ replication instance.")
    preferred_maintenance_window: WeeklyWindow = Field(
        default="sat:04:00-sat:05:00", description="Weekly maintenance window, UTC."
    )
    service_roles: ServiceRolesMode = Field(
        default="create",
        description="`create` the account-wide `dms-vpc-role`/`dms-cloudwatch-logs-role`, or use `existing` ones.",
    )
    migration_type: MigrationType = Field(default="full-load-and-cdc", description="Replication task type.")
    include: tuple[TableSelection, ...] = Field(
        default=(TableSelection(schema_name="public"),),
        min_length=1,
        description="Tables to migrate (selection rules, in order). Default: everything in `public`.",
    )
    exclude: tuple[TableSelection, ...] = Field(default=(), description="Tables to leave out.")
    lob_max_size_kb: int = Field(
        default=32, ge=1, le=102400, description="Limited-LOB-mode size; larger values fail the task instead of being truncated."
    )
    heartbeat_frequency_minutes: int = Field(
        default=5, ge=1, le=60, description="Source heartbeat (keeps the slot from holding WAL)."
    )
    control_schema: PgIdentifier = Field(default="dms_control", description="Target schema for DMS control tables.")
    source_schema: PgIdentifier = Field(
        default="dms_control",
        description="Schema on the SOURCE where DMS writes its heartbeat table (and, with `capture_ddl`, its DDL capture "
        "artifacts); a superuser creates it and gives the migration user CREATE and USAGE on it (runbook, step 1).",
    )
    capture_ddl: bool = Field(
        default=False,
        description="Let DMS capture DDL on the source (an event trigger, a function and a table in `source_schema`, "
        "which need a superuser migration user). Off: no DDL on migrated tables from start to cutover (runbook DDL freeze).",
    )
    task_log_retention_days: LogRetentionDays = Field(default=30, description="Retention of the DMS task log group.")


class MonitoringConfig(StrictModel):
    """Alarm thresholds and who gets paged."""

    alarm_email_addresses: tuple[Email, ...] = Field(default=(), description="E-mail subscriptions of the alarm topic.")
    alarm_https_endpoints: tuple[HttpsUrl, ...] = Field(default=(), description="HTTPS subscriptions (pager webhooks).")
    period_seconds: Literal[60, 300] = Field(default=60, description="Alarm evaluation period.")
    evaluation_periods: int = Field(default=5, ge=1, le=60, description="Consecutive breaching periods before an alarm fires.")
    aurora_cpu_percent: float = Field(default=80, gt=0, le=100, description="Aurora instance CPU alarm threshold.")
    aurora_freeable_memory_mib: int = Field(default=512, ge=1, description="Alarm when an instance has less memory free.")
    aurora_replica_lag_ms: int = Field(default=2000, ge=1, description="Alarm when a reader lags the writer by more (ms).")
    aurora_connections_percent: float = Field(
        default=80, gt=0, le=100, description="Alarm at this share of the instance class's default max_connections."
    )
    aurora_free_local_storage_mib: int = Field(
        default=5120, ge=1, description="Alarm when an instance has less local storage free."
    )
    aurora_deadlocks_per_second: float = Field(default=0, ge=0, description="Alarm when the deadlock rate exceeds this.")
    aurora_max_used_transaction_ids: int = Field(
        default=1_000_000_000,
        ge=100_000_000,
        le=2_000_000_000,
        description="Alarm when the writer's oldest unvacuumed transaction ID is older than this (MaximumUsedTransactionIDs; "
        "writes stop near 2.1 billion).",
    )
    aurora_disk_queue_depth: float = Field(
        default=100, gt=0, description="Alarm when more I/O requests than this wait for an instance's disk (DiskQueueDepth)."
    )
    aurora_read_latency_ms: float = Field(
        default=50, gt=0, le=10_000, description="Alarm when an instance's average disk read latency exceeds this (ms)."
    )
    aurora_write_latency_ms: float = Field(
        default=50, gt=0, le=10_000, description="Alarm when an instance's average disk write latency exceeds this (ms)."
    )
    aurora_swap_usage_mib: int = Field(
        default=256, ge=1, description="Alarm when an instance swaps more than this (published for some classes only)."
    )
    aurora_acu_utilization_percent: float = Field(
        default=90,
        gt=0,
        le=100,
        description='Serverless v2 (`aurora.instance_class = "db.serverless"`): alarm when an instance uses more than '
        "this share of the maximum ACU (replaces the free-memory alarm).",
    )
    dms_cdc_latency_seconds: int = Field(default=300, ge=1, description="CDCLatencySource / CDCLatencyTarget alarm threshold.")
    dms_cpu_percent: float = Field(default=80, gt=0, le=100, description="Replication instance CPU alarm threshold.")
    dms_free_storage_gib: int = Field(default=10, ge=1, description="Alarm when the replication instance has less storage free.")
    dms_freeable_memory_mib: int = Field(
        default=1024, ge=1, description="Alarm when the replication instance has less memory free."
    )
    dms_swap_usage_mib: int = Field(default=512, ge=1, description="Alarm when the replication instance swaps more than this.")
    dms_cdc_incoming_changes: int = Field(
        default=1_000_000, ge=1, description="Alarm when more change events than this wait to be applied (CDCIncomingChanges)."
    )
    dms_cdc_changes_on_disk: int = Field(
        default=100_000,
        ge=1,
        description="Alarm when more rows than this wait on the replication instance's disk (CDCChangesDiskSource / "
        "CDCChangesDiskTarget).",
    )
    dms_validation_failed_rows: int = Field(
        default=0, ge=0, description="Alarm when more rows than this failed DMS validation (0: any failed row pages)."
    )


def _pgaudit_class(value: str) -> str:
    if value.removeprefix("-") not in PGAUDIT_LOG_CLASSES or value in ("-all", "-none"):
        raise ValueError(
            f"allowed pgAudit classes: {', '.join(PGAUDIT_LOG_CLASSES)}; '-' before one subtracts it from 'all' ('-misc')"
        )
    return value


PgauditClass = Annotated[str, AfterValidator(_pgaudit_class)]


class ObservabilityConfig(StrictModel):
    """What the database logs for tuning and audit (parameter groups; runbook, "Database observability")."""

    log_temp_files_kb: int = Field(
        default=10240,
        ge=-1,
        le=2147483647,
        description="Log each temporary file at least this large (kB; 0 logs all, -1 none). Temp files fill the "
        "instance's local storage (the free-local-storage alarm); 10 MiB skips small work_mem spills.",
    )
    log_autovacuum_min_duration_ms: int = Field(
        default=10000,
        ge=-1,
        le=2147483647,
        description="Log autovacuum runs that take at least this long (ms; 0 logs all, -1 none). 10 s is Aurora's "
        "default, stated here; AWS suggests 1000-5000 while tuning autovacuum.",
    )
    auto_explain_min_duration_ms: int | None = Field(
        default=None,
        ge=-1,
        le=2147483647,
        description="Preload auto_explain and log the plan of statements at least this slow (ms; -1 loads it but logs "
        "nothing). Unset: not loaded. Turning it on or off needs a reboot; changing the value does not.",
    )
    pgaudit_log: tuple[PgauditClass, ...] = Field(
        default=(),
        description='Preload pgAudit and log these statement classes (`pgaudit.log`), e.g. `["ddl", "role"]`; '
        '`["none"]` loads it and logs nothing. Empty: not loaded. read/write/all log every statement DMS applies.',
    )
    pgaudit_object_audit: bool = Field(
        default=False,
        description=f"Object audit: set `pgaudit.role` to `{PGAUDIT_OBJECT_AUDIT_ROLE}` (the only role Aurora accepts); "
        "statements on what that role is granted are logged. Needs `pgaudit_log`.",
    )

    @field_validator("pgaudit_log")
    @classmethod
    def _pgaudit_classes_combine(cls, classes: tuple[str, ...]) -> tuple[str, ...]:
        problems = []
        if len(set(classes)) != len(classes):
            problems.append("a class is listed twice")
        if "none" in classes and len(classes) > 1:
            problems.append("'none' logs nothing and cannot be combined with other classes")
        if any(c.startswith("-") for c in classes) and "all" not in classes:
            problems.append("a '-class' subtracts from 'all', which is missing")
        if problems:
            raise ValueError("\n".join(problems))
        return classes

    @field_validator("pgaudit_object_audit")
    @classmethod
    def _object_audit_needs_pgaudit(cls, on: bool, info: ValidationInfo) -> bool:
        if on and info.data.get("pgaudit_log") == ():
            raise ValueError("needs pgAudit loaded: set pgaudit_log too (['none'] for object audit only)")
        return on


class StateBackendConfig(StrictModel):
    """Remote Terraform state in S3; the key carries the environment suffix."""

    bucket: BucketName = Field(description="Existing S3 bucket for Terraform state.")
    region: Region | None = Field(default=None, description="Region of the bucket (default: `aws_region`).")
    kms_key_id: KmsKeyArn | None = Field(default=None, description="CMK for state encryption (default: S3 default encryption).")
    key_prefix: StateKeyPrefix = Field(
        default="aurora-migration",
        description="State key is `<key_prefix>/<suffix>/terraform.tfstate` (no leading or trailing `/`).",
    )


class DeploymentConfig(StrictModel):
    """Who Terraform acts as: a role in the environment's own account, assumed for the provider and the state."""

    role_arn: IamRoleArn | None = Field(
        default=None,
        description="IAM role the AWS provider and the S3 state backend assume (`assume_role`), so one pipeline identity "
        "can plan every environment in its own account. Unset: the caller's credentials as they are. Must be in "
        "`allowed_account_ids` when both are set.",
    )
    session_name: SessionName | None = Field(
        default=None, description="Role session name seen in CloudTrail (default: the stack name). Needs `role_arn`."
    )
    external_id: ExternalId | None = Field(
        default=None, description="External ID the role's trust policy requires, if any. Needs `role_arn`."
    )

    @model_validator(mode="after")
    def _role_first(self) -> DeploymentConfig:
        orphans = [name for name in ("session_name", "external_id") if getattr(self, name) is not None]
        if orphans and self.role_arn is None:
            raise ValueError(f"{' and '.join(orphans)} without role_arn: set deployment.role_arn too")
        return self

    @property
    def role_account_id(self) -> str | None:
        match = IAM_ROLE_ARN.fullmatch(self.role_arn) if self.role_arn else None
        return match.group("account") if match else None


class EnvironmentConfig(StrictModel):
    """One deployable environment: one file under config/, one stack."""

    environment_suffix: Annotated[str, _shape(r"[a-z][a-z0-9]{1,11}", "dev")] = Field(
        description="Short environment name (2-12 lowercase letters/digits); ends every physical name."
    )
    name_prefix: Annotated[str, _shape(r"[a-z][a-z0-9-]{1,20}", "aurora-migration")] = Field(
        default="aurora-migration", description="Start of every physical name: `<prefix>-<purpose>-<suffix>`."
    )
    aws_region: Region = Field(description="Region of the stack.")
    allowed_account_ids: tuple[AccountId, ...] = Field(
        default=(), description="If set, Terraform refuses to run against any other account."
    )
    repository: str = Field(default="aurora-migration-iac", description="Value of the `repository` default tag.")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags on every resource.")
    network: NetworkConfig
    source: SourceDatabaseConfig
    aurora: AuroraConfig = Field(default_factory=AuroraConfig)
    dms: DmsConfig = Field(default_factory=DmsConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)
    state_backend: StateBackendConfig
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig)

    @model_validator(mode="after")
    def _cross_field_rules(self, info: ValidationInfo) -> EnvironmentConfig:
        problems = []
        for field_name, subnets in (("aurora_subnets", self.network.aurora_subnets), ("dms_subnets", self.network.dms_subnets)):
            foreign = sorted({zone for zone in subnets.values() if not zone.startswith(self.aws_region)})
            if foreign:
                problems.append(f"network.{field_name}: availability zones {foreign} are not in aws_region {self.aws_region!r}")
        problems += self.aurora.problems()
        role_account = self.deployment.role_account_id
        if role_account is not None and self.allowed_account_ids and role_account not in self.allowed_account_ids:
            problems.append(
                f"deployment.role_arn: account {role_account} is not in allowed_account_ids "
                f"{list(self.allowed_account_ids)}, got {self.deployment.role_arn!r}"
            )
        today = (info.context or {}).get("today") or dt.date.today()
        problems += [
            f"dms.engine_version: {problem}, got {self.dms.engine_version!r} (aurora.engine_version "
            f"{self.aurora.engine_version!r})"
            for problem in engine_problems(self.dms.engine_version, target_major=self.aurora.engine_major, today=today)
        ]
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def stack_name(self) -> str:
        return Naming(prefix=self.name_prefix, suffix=self.environment_suffix).stack_name
