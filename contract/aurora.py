"""Aurora PostgreSQL facts the config, the constructs and the operations tools share."""

from __future__ import annotations

POSTGRES_PORT = 5432
# `engine` of the cluster and its instances, and the DMS target endpoint's `engine_name`.
AURORA_ENGINE = "aurora-postgresql"
# `engine` field of the credentials secret: the value Secrets Manager's PostgreSQL rotation templates expect.
SECRET_ENGINE = "postgres"
SUPPORTED_AURORA_MAJORS = (14, 15, 16)
# Released Aurora PostgreSQL minors of each supported major, read 2026-11-29 from the Aurora PostgreSQL release notes
# ("Amazon Aurora PostgreSQL updates", AuroraPostgreSQL.Updates; the newest row of each major, 16.10 / 15.14 / 14.19,
# from the "Aurora PostgreSQL now supports 17.6, 16.10, 15.14, 14.19" announcement). Aurora skipped some community
# minors (14.14, 15.9, 15.11, 16.5, 16.7). A minor released after AURORA_MINORS_DATE is refused until it is added
# here; which ones a region still creates: `aws rds describe-db-engine-versions --engine aurora-postgresql`.
AURORA_MINORS_DATE = "2026-11-29"
AURORA_MINORS_SOURCE = "Aurora PostgreSQL release notes, 'Amazon Aurora PostgreSQL updates'"
AURORA_RELEASED_MINORS: dict[int, tuple[int, ...]] = {
    14: (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 17, 18, 19),
    15: (2, 3, 4, 5, 6, 7, 8, 10, 12, 13, 14),
    16: (1, 2, 3, 4, 6, 8, 9, 10),
}

MIB = 1024 * 1024
GIB = 1024 * MIB

# Memory of the common Aurora PostgreSQL instance classes, in GiB (Aurora user guide, "DB instance classes"),
# for the default max_connections.
_SIZES_GIB = {"large": 16, "xlarge": 32, "2xlarge": 64, "4xlarge": 128, "8xlarge": 256, "12xlarge": 384, "16xlarge": 512}
INSTANCE_MEMORY_GIB: dict[str, int] = {
    **{f"db.{family}.{size}": gib for family in ("r5", "r6g", "r6i", "r7g", "r7i", "r8g") for size, gib in _SIZES_GIB.items()},
    "db.t3.medium": 4,
    "db.t3.large": 8,
    "db.t4g.medium": 4,
    "db.t4g.large": 8,
}
MAX_CONNECTIONS_CAP = 5000
BYTES_PER_CONNECTION = 9531392


def engine_major(engine_version: str) -> int:
    """`15.12` -> 15."""
    return int(engine_version.split(".", 1)[0])


def parameter_group_family(engine_version: str) -> str:
    """`15.12` -> `aurora-postgresql15`: a major upgrade changes the family here and nowhere else."""
    return f"{AURORA_ENGINE}{engine_major(engine_version)}"


def default_max_connections(instance_class: str) -> int:
    """Aurora PostgreSQL's default: LEAST(DBInstanceClassMemory / 9531392, 5000).

    DBInstanceClassMemory is a little below the nominal memory, so this is an
    upper bound of the real limit: alarms derived from it fire slightly late.
    The config model admits only classes in INSTANCE_MEMORY_GIB.
    """
    return min(INSTANCE_MEMORY_GIB[instance_class] * GIB // BYTES_PER_CONNECTION, MAX_CONNECTIONS_CAP)


# Aurora Serverless v2: the instance class that selects it (Aurora user guide, "Requirements and limitations for
# Aurora Serverless v2": "The --db-instance-class parameter for Aurora Serverless v2 is always db.serverless").
SERVERLESS_INSTANCE_CLASS = "db.serverless"
# Capacity range in ACUs, in 0.5 steps. botocore `rds` ServerlessV2ScalingConfiguration: MinCapacity 0.5 (0 only
# where auto-pause is supported, not offered here), MaxCapacity "256 for recent Aurora versions, or 128 for older
# versions"; provider 5.100 (resource_aws_rds_cluster, serverlessv2_scaling_configuration): max 1-256, min 0-256.
SERVERLESS_MIN_ACU = 0.5
SERVERLESS_MAX_ACU = 256.0
SERVERLESS_ACU_STEP = 0.5
# First minor of each supported major with Aurora Serverless v2 (Aurora user guide, "Supported Regions and DB
# engines for Aurora Serverless v2", Aurora PostgreSQL: 15.2 and higher, 14.3 and higher). The stored copy of the
# guide (2023-06) predates 16; 16.1, the first 16 release, is listed with Serverless v2 in AWS's current table:
# check it with `aws rds describe-orderable-db-instance-options --engine aurora-postgresql --db-instance-class
# db.serverless` before relying on a new minor. Older minors cannot run db.serverless.
SERVERLESS_V2_FIRST_MINOR: dict[int, int] = {14: 3, 15: 2, 16: 1}
# Aurora PostgreSQL's default max_connections of a Serverless v2 instance, by the cluster's maximum ACU (Aurora user
# guide, "Maximum connections for Aurora Serverless v2"): the provisioned formula LEAST(DBInstanceClassMemory /
# 9531392, 5000) evaluated on the memory of the MAXIMUM capacity (about 2 GiB per ACU), as AWS tabulates it. It is
# static: a new maximum takes effect after a reboot. With a minimum of 0.5 ACU it is capped at 2,000.
SERVERLESS_V2_MAX_CONNECTIONS: tuple[tuple[float, int], ...] = ((1, 189), (4, 823), (8, 1669), (16, 3360), (32, 5000))
SERVERLESS_V2_HALF_ACU_CAP = 2000


def serverless_v2_max_connections(max_capacity_acu: float, min_capacity_acu: float) -> int:
    """The default max_connections for the ACU range, from the table above.

    Between two rows the real default is higher than the lower row (it grows with memory), so the row at or below
    `max_capacity_acu` is a lower bound: an alarm derived from it fires early rather than after logins fail.
    """
    value = max((limit for acu, limit in SERVERLESS_V2_MAX_CONNECTIONS if acu <= max_capacity_acu), default=0)
    value = value or SERVERLESS_V2_MAX_CONNECTIONS[0][1]
    return min(value, SERVERLESS_V2_HALF_ACU_CAP) if min_capacity_acu <= SERVERLESS_MIN_ACU else value


# Aurora Auto Scaling of the readers with Application Auto Scaling (Aurora user guide, "Using Amazon Aurora Auto
# Scaling with Aurora Replicas"; values pinned against botocore's `application-autoscaling` model in
# tests/modules/test_reader_scaling.py: ServiceNamespace, ScalableDimension and MetricType enums).
READER_SCALING_SERVICE_NAMESPACE = "rds"
READER_SCALING_DIMENSION = "rds:cluster:ReadReplicaCount"
READER_SCALING_POLICY_TYPE = "TargetTrackingScaling"
# config value -> PredefinedMetricType: average CPUUtilization / DatabaseConnections across the Aurora Replicas.
READER_SCALING_METRICS: dict[str, str] = {
    "cpu": "RDSReaderAverageCPUUtilization",
    "connections": "RDSReaderAverageDatabaseConnections",
}
# "This value must be set to 0-15" (min and max capacity of the scalable target, same guide).
MAX_AURORA_READERS = 15
# Replicas Aurora Auto Scaling adds are not in Terraform's state; their DB instance ids start with this (same guide,
# "DB instance IDs and tagging").
AUTO_SCALED_INSTANCE_PREFIX = "application-autoscaling-"


def reader_scaling_resource_id(cluster_identifier: str) -> str:
    """Application Auto Scaling's ResourceId of an Aurora cluster: `cluster:<DB cluster identifier>`."""
    return f"cluster:{cluster_identifier}"


# pgAudit session-audit classes for `pgaudit.log` (pgAudit README, "pgaudit.log"; the AWS Aurora user guide,
# "Reference for the pgAudit extension", lists all of them but misc_set, which pgAudit has had since 1.4 (PostgreSQL
# 12), older than every supported major). pgAudit also accepts a class prefixed with "-" to subtract it.
PGAUDIT_LOG_CLASSES = ("read", "write", "function", "role", "ddl", "misc", "misc_set", "all", "none")
# `pgaudit.role`: the only value Aurora accepts (Aurora user guide, "Auditing database objects"); an operator
# creates the role and grants it the privileges to audit (docs/runbook.md, "Database observability").
PGAUDIT_OBJECT_AUDIT_ROLE = "rds_pgaudit"
