"""Aurora PostgreSQL facts the config, the constructs and the operations tools share."""

from __future__ import annotations

POSTGRES_PORT = 5432
# `engine` of the cluster and its instances, and the DMS target endpoint's `engine_name`.
AURORA_ENGINE = "aurora-postgresql"
# `engine` field of the credentials secret: the value Secrets Manager's PostgreSQL rotation templates expect.
SECRET_ENGINE = "postgres"
SUPPORTED_AURORA_MAJORS = (14, 15, 16)

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


# pgAudit session-audit classes for `pgaudit.log` (pgAudit README, "pgaudit.log"; the AWS Aurora user guide,
# "Reference for the pgAudit extension", lists all of them but misc_set, which pgAudit has had since 1.4 (PostgreSQL
# 12), older than every supported major). pgAudit also accepts a class prefixed with "-" to subtract it.
PGAUDIT_LOG_CLASSES = ("read", "write", "function", "role", "ddl", "misc", "misc_set", "all", "none")
# `pgaudit.role`: the only value Aurora accepts (Aurora user guide, "Auditing database objects"); an operator
# creates the role and grants it the privileges to audit (docs/runbook.md, "Database observability").
PGAUDIT_OBJECT_AUDIT_ROLE = "rds_pgaudit"
