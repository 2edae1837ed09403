"""DMS facts the config, the constructs and the operations tools share (sources named at each value)."""

from __future__ import annotations

from typing import Literal, get_args

# botocore `dms` model, enum MigrationTypeValue.
MigrationType = Literal["full-load", "cdc", "full-load-and-cdc"]
MIGRATION_TYPES: tuple[MigrationType, ...] = get_args(MigrationType)

# botocore `dms` model, enum DmsSslModeValue, without `none`: the source connection must use TLS.
SourceSslMode = Literal["verify-full", "verify-ca", "require"]
SOURCE_SSL_MODES: tuple[SourceSslMode, ...] = get_args(SourceSslMode)
# The target endpoint verifies Aurora's certificate and host name against the RDS CA bundle of the region, imported
# as a DMS certificate (DMS user guide, "Using SSL with AWS DMS": verify-full "verifies that the server hostname
# matches the hostname on the certificate"; the certificate comes from ImportCertificate). `require` would encrypt
# without checking who answers.
TARGET_SSL_MODE = "verify-full"
# Triggers and foreign keys on the target must not fire while DMS applies rows the source already checked. Setting
# session_replication_role needs a superuser, or (PostgreSQL 15) `GRANT SET ON PARAMETER`: `cutover target-user`.
TARGET_AFTER_CONNECT_SCRIPT = "SET session_replication_role = replica"

# The logical decoding plugin every PostgreSQL 9.4+ ships; pglogical needs an extension on the source.
# The API spells it with a hyphen: botocore `dms` model, enum PluginNameValue (no-preference | test-decoding | pglogical).
SOURCE_PLUGIN = "test-decoding"

# Full load writes into tables created on Aurora beforehand (runbook): DMS neither drops nor truncates them.
TARGET_TABLE_PREP_MODE = "DO_NOTHING"

# Who the target endpoint logs in as: a `dedicated` least-privilege user (created by `cutover target-user`, its
# password in its own secret) or the Aurora `master` user (the credentials secret).
TargetUserMode = Literal["dedicated", "master"]

# `create` the account-wide DMS service roles, or use `existing` ones.
ServiceRolesMode = Literal["create", "existing"]
# Names DMS requires exactly (DMS user guide, "Creating the IAM roles to use with AWS DMS").
VPC_MANAGEMENT_ROLE = "dms-vpc-role"
CLOUDWATCH_LOGS_ROLE = "dms-cloudwatch-logs-role"


def cdc_latency_metric(side: str) -> str:
    """`source` -> `CDCLatencySource`: the AWS/DMS task metric of one side of CDC latency (DMS user guide,
    "Replication task metrics")."""
    return f"CDCLatency{side.title()}"
