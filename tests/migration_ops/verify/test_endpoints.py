"""`verify`'s dms.endpoints check against moto: with `dms.secrets_manager_endpoint_override` both endpoints must carry
the `secretsManagerEndpointOverride` extra connection attribute, and the evidence names the VPC endpoint they use.
(The proof that DMS really reads the secrets that way is dms.connections, DMS test-connection, in a real account.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import EnvironmentConfig
from migration_ops.verify.checks import run_check
from migration_ops.verify.context import AwsClients, VerifyContext
from migration_ops.verify.dms import check_endpoints

REGION = "eu-west-1"
VPCE_DNS = "vpce-1234a5678b9012c-12345678.secretsmanager.eu-west-1.vpce.amazonaws.com"


@pytest.fixture
def dms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("dms", region_name=REGION)


def endpoints(client: Any, *, override: bool) -> dict[str, str]:
    extra = {"ExtraConnectionAttributes": f"secretsManagerEndpointOverride={VPCE_DNS}"} if override else {}
    arns = {}
    for kind, engine in (("source", "postgres"), ("target", "aurora-postgresql")):
        created = client.create_endpoint(
            EndpointIdentifier=f"aurora-migration-{kind}-dev", EndpointType=kind, EngineName=engine, SslMode="require",
            ServerName="db.example.com", Port=5432, DatabaseName="app", Username="u", Password="p", **extra,
        )  # fmt: skip
        arns[f"dms_{kind}_endpoint_arn"] = created["Endpoint"]["EndpointArn"]
    return arns


def context(environments: dict[str, EnvironmentConfig], outputs: dict[str, str], *, override: bool) -> VerifyContext:
    base = environments["dev"]
    config = base.model_copy(update={"dms": base.dms.model_copy(update={"secrets_manager_endpoint_override": override})})
    session = boto3.session.Session(region_name=REGION)
    clients = AwsClients(
        rds=session.client("rds"),
        dms=session.client("dms"),
        secretsmanager=session.client("secretsmanager"),
        cloudwatch=session.client("cloudwatch"),
    )
    return VerifyContext(outputs=outputs, config=config, aws=clients, emulated=True)


def test_the_override_is_required_when_configured(dms: Any, environments: dict[str, EnvironmentConfig]) -> None:
    result = run_check("dms.endpoints", check_endpoints, context(environments, endpoints(dms, override=False), override=True))
    assert result.status.value == "fail"
    assert result.evidence.startswith(
        "source endpoint has no secretsManagerEndpointOverride (dms.secrets_manager_endpoint_override); "
        "target endpoint has no secretsManagerEndpointOverride (dms.secrets_manager_endpoint_override); "
    )


def test_the_evidence_names_the_vpc_endpoint(dms: Any, environments: dict[str, EnvironmentConfig]) -> None:
    result = run_check("dms.endpoints", check_endpoints, context(environments, endpoints(dms, override=True), override=True))
    assert result.status.value == "pass", result.evidence
    assert result.evidence.count(f"secrets via {VPCE_DNS}") == 2
    assert json.dumps(result.as_dict())


def test_without_the_switch_private_dns_is_enough(dms: Any, environments: dict[str, EnvironmentConfig]) -> None:
    result = run_check("dms.endpoints", check_endpoints, context(environments, endpoints(dms, override=False), override=False))
    assert result.status.value == "pass", result.evidence
    assert "secrets via" not in result.evidence
