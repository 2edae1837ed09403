"""The stack's outputs: names and meanings, shared by the stack that emits them and the tools that read them."""

from __future__ import annotations

from enum import StrEnum


class Output(StrEnum):
    CLUSTER_ENDPOINT = "cluster_endpoint"
    READER_ENDPOINT = "reader_endpoint"
    SECRET_ARN = "secret_arn"
    CLUSTER_ID = "cluster_id"
    INSTANCE_IDS = "instance_ids"
    AURORA_SECURITY_GROUP_ID = "aurora_security_group_id"
    DMS_SECURITY_GROUP_ID = "dms_security_group_id"
    DATABASE_KMS_KEY_ARN = "database_kms_key_arn"
    DMS_TASK_ARN = "dms_task_arn"
    DMS_REPLICATION_INSTANCE_ARN = "dms_replication_instance_arn"
    DMS_SOURCE_ENDPOINT_ARN = "dms_source_endpoint_arn"
    DMS_TARGET_ENDPOINT_ARN = "dms_target_endpoint_arn"
    ALARM_TOPIC_ARN = "alarm_topic_arn"
    DASHBOARD_NAME = "dashboard_name"
    DMS_TARGET_SECRET_ARN = "dms_target_secret_arn"
    APP_SECRET_ARN = "app_secret_arn"


# Emitted only by some stacks: `dms_target_secret_arn` exists when `dms.target_user` is "dedicated".
CONDITIONAL_OUTPUTS: frozenset[Output] = frozenset({Output.DMS_TARGET_SECRET_ARN})


OUTPUT_DESCRIPTIONS: dict[Output, str] = {
    Output.CLUSTER_ENDPOINT: "Writer endpoint of the Aurora cluster (applications point here at cutover)",
    Output.READER_ENDPOINT: "Reader endpoint of the Aurora cluster",
    Output.SECRET_ARN: "Secrets Manager secret of the Aurora master user (username, password, engine, port, host): DMS "
    "set-up and operators only, never applications",
    Output.CLUSTER_ID: "Aurora cluster identifier",
    Output.INSTANCE_IDS: "Aurora instance identifiers; the first is created as the writer",
    Output.AURORA_SECURITY_GROUP_ID: "Security group of Aurora (add application rules here)",
    Output.DMS_SECURITY_GROUP_ID: "Security group of the DMS replication instance "
    "(an existing Secrets Manager endpoint must admit it on 443)",
    Output.DATABASE_KMS_KEY_ARN: "CMK of the cluster, Performance Insights, secret and logs",
    Output.DMS_TASK_ARN: "DMS replication task (full load and CDC); started by the operator, see the runbook",
    Output.DMS_REPLICATION_INSTANCE_ARN: "DMS replication instance",
    Output.DMS_SOURCE_ENDPOINT_ARN: "DMS source endpoint (on-premises PostgreSQL)",
    Output.DMS_TARGET_ENDPOINT_ARN: "DMS target endpoint (Aurora writer)",
    Output.ALARM_TOPIC_ARN: "SNS topic every alarm and event subscription notifies",
    Output.DASHBOARD_NAME: "CloudWatch dashboard of the migration",
    Output.DMS_TARGET_SECRET_ARN: "Secrets Manager secret of the DMS target user (username, password, engine, port, host, "
    "dbname); the role itself is created by `cutover target-user`",
    Output.APP_SECRET_ARN: "Secrets Manager secret of the application's database user (username, password, engine, port, "
    "host, dbname): what applications read at cutover; the role is created on Aurora by the runbook's SQL",
}
