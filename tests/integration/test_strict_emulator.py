"""The stricter emulator refuses what AWS's API models refuse, for JSON- and query-protocol services and for Terraform.

The deploy tests already run every request of both stacks through it; these
show that it can fail: a planted invalid value is refused with the operation,
member and value named.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.integration import moto_contract
from tests.integration.harness import Account, LocalAws, Toolchain, run, subprocess_env

pytestmark = pytest.mark.integration
REGION = "eu-west-1"


@pytest.fixture(scope="module")
def account(local_aws: LocalAws) -> Account:
    return local_aws.account("444444444444")


def test_a_json_protocol_request_with_an_invalid_enum_is_refused(local_aws: LocalAws, account: Account) -> None:
    dms = local_aws.client("dms", REGION, account)
    with pytest.raises(ClientError) as refused:
        dms.create_endpoint(
            EndpointIdentifier="planted-source",
            EndpointType="source",
            EngineName="postgres",
            PostgreSQLSettings={"PluginName": "test_decoding"},
        )
    message = str(refused.value)
    assert "ValidationException" in message
    assert "CreateEndpoint.PostgreSQLSettings.PluginName = 'test_decoding': enum PluginNameValue" in message
    assert dms.describe_endpoints()["Endpoints"] == [], "moto must not have created it"


def test_a_query_protocol_request_with_an_invalid_value_is_refused(local_aws: LocalAws, account: Account) -> None:
    cloudwatch = local_aws.client("cloudwatch", REGION, account)
    with pytest.raises(ClientError) as refused:
        cloudwatch.put_metric_alarm(
            AlarmName="planted",
            MetricName="CPUUtilization",
            Namespace="AWS/RDS",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=80,
            ComparisonOperator="GreaterThan",
        )
    assert "PutMetricAlarm.ComparisonOperator = 'GreaterThan': enum ComparisonOperator" in str(refused.value)
    assert any("PutMetricAlarm.ComparisonOperator" in line for line in moto_contract.REFUSED)


def test_terraform_fails_on_a_value_the_api_model_refuses(
    local_aws: LocalAws, account: Account, toolchain: Toolchain, tmp_path: Path
) -> None:
    """The defect this gate exists for: `test_decoding` passed terraform validate and moto, and AWS refused it."""
    endpoints = {service: local_aws.url for service in ("dms", "sts", "iam")}
    stack = {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}},
        "provider": {
            "aws": {
                "region": REGION,
                "endpoints": [endpoints],
                "skip_credentials_validation": True,
                "skip_metadata_api_check": "true",
                "skip_region_validation": True,
            }
        },
        "resource": {
            "aws_dms_endpoint": {
                "planted": {
                    "endpoint_id": "planted-terraform",
                    "endpoint_type": "source",
                    "engine_name": "postgres",
                    "server_name": "pg.example.com",
                    "port": 5432,
                    "database_name": "orders",
                    "username": "dms",
                    "password": "not-a-real-password",
                    "ssl_mode": "require",
                    "postgres_settings": [{"plugin_name": "test_decoding"}],
                }
            }
        },
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(stack))
    env = subprocess_env(toolchain, account)
    init = run((str(toolchain.terraform), "init", "-input=false", "-no-color"), cwd=tmp_path, env=env)
    assert init.returncode == 0, init.tail()
    applied = run((str(toolchain.terraform), "apply", "-auto-approve", "-input=false", "-no-color"), cwd=tmp_path, env=env)
    assert applied.returncode != 0, "the emulator accepted a plugin name AWS refuses"
    assert "CreateEndpoint.PostgreSQLSettings.PluginName = 'test_decoding'" in applied.output, applied.tail()
