"""The reviewed stateless list: resource types whose replacement or destruction loses no data, each with why.

A delete or replace of any type not here (and not an exception of STATEFUL's `names`) is dangerous (stateful.py):
the gate fails closed on a type nobody reviewed. Adding a type here is a reviewed claim, so each says why losing it
loses nothing that cannot be recreated from the configuration.
"""

from __future__ import annotations

STATELESS: dict[str, str] = {
    "aws_appautoscaling_policy": "a scaling rule, recreated from the configuration; the readers it adds share the "
    "cluster's storage",
    "aws_appautoscaling_target": "the readers' registration with Application Auto Scaling, recreated from the configuration",
    "aws_cloudwatch_dashboard": "a view over metrics CloudWatch keeps itself",
    "aws_cloudwatch_event_rule": "event routing, recreated from the configuration (events meanwhile are not delivered)",
    "aws_cloudwatch_event_target": "event routing, recreated from the configuration",
    "aws_cloudwatch_metric_alarm": "an alarm definition: the metrics stay in CloudWatch (only the alarm's state history goes)",
    "aws_db_event_subscription": "notification routing, recreated from the configuration",
    "aws_db_parameter_group": "settings, recreated from the configuration (RDS refuses to delete a group in use)",
    "aws_db_subnet_group": "network placement, recreated from the configuration (RDS refuses to delete a group in use)",
    "aws_dms_certificate": "the source's CA certificate, recreated from config/certs/ (the endpoint's update is judged "
    "on its own)",
    "aws_dms_event_subscription": "notification routing, recreated from the configuration",
    "aws_dms_replication_subnet_group": "network placement, recreated from the configuration (DMS refuses to delete a "
    "group in use)",
    "aws_iam_role": "a role of this stack, recreated with its name and policies from the configuration (the "
    "account-wide DMS roles are stateful, stateful.py)",
    "aws_iam_role_policy": "permissions, recreated from the configuration",
    "aws_iam_role_policy_attachment": "an attachment of a policy, recreated from the configuration",
    "aws_rds_cluster_parameter_group": "settings, recreated from the configuration (RDS refuses to delete a group in use)",
    "aws_secretsmanager_secret_version": "a value written again from the configuration (the secret itself is stateful)",
    "aws_security_group": "firewall rules, recreated from the configuration",
    "aws_sns_topic_policy": "the topic's access policy, recreated from the configuration",
    "aws_sns_topic_subscription": "a subscription, recreated from the configuration (an e-mail endpoint must confirm again)",
    "aws_vpc_endpoint": "a network path to Secrets Manager, recreated from the configuration (DMS cannot read its "
    "credentials meanwhile)",
    "aws_vpc_security_group_egress_rule": "a firewall rule, recreated from the configuration",
    "aws_vpc_security_group_ingress_rule": "a firewall rule, recreated from the configuration",
    "terraform_data": "Terraform's built-in value holder: nothing in AWS",
}
