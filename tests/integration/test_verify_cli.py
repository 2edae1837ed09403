"""`python -m migration_ops.verify` at its edges, against the session's moto: missing outputs, usage and
connection errors, and the DMS test-connection path that only runs against a real account.

Uses its own emulated account, so it neither needs nor disturbs the deployments of test_deploy*.py.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from migration_ops.results import Status
from migration_ops.verify.checks import CHECKS
from migration_ops.verify.dms import check_endpoint_connections
from tests.integration.harness import REPO_ROOT, Account, LocalAws, Ran, check_lines, run, subprocess_env

pytestmark = pytest.mark.integration

ACCOUNT_ID = "999999999999"
DEV_CONFIG = REPO_ROOT / "config" / "dev.toml"


@pytest.fixture(scope="module")
def account(local_aws: LocalAws) -> Account:
    return local_aws.account(ACCOUNT_ID)


def _verify(account: Account, *args: str) -> Ran:
    env = subprocess_env(None, account)
    return run([sys.executable, "-m", "migration_ops.verify", *args], cwd=REPO_ROOT, env=env, timeout=120)


def test_missing_outputs_fail_their_checks_without_crashing(local_aws: LocalAws, account: Account, tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps({"cluster_id": {"value": "aurora-migration-cluster-dev", "type": "string", "sensitive": False}})
    )
    ran = _verify(account, "--config", str(DEV_CONFIG), "--outputs", str(outputs), "--endpoint-url", local_aws.url)
    statuses = check_lines(ran.output)
    assert ran.returncode == 1, ran.output
    assert "Traceback" not in ran.output
    assert set(statuses) == set(CHECKS), ran.output
    # dms.engine-versions reads no output; against moto it is the one documented skip (no DescribeEngineVersions).
    assert statuses.pop("dms.engine-versions") == "SKIP", ran.output
    assert all(status == "FAIL" for status in statuses.values()), ran.output
    assert "FAIL aurora.cluster: cluster aurora-migration-cluster-dev not found" in ran.output
    for name, output in (
        ("dms.task", "dms_task_arn"),
        ("dms.replication-instance", "dms_replication_instance_arn"),
        ("secret.credentials", "secret_arn"),
        ("alarms.dms-cdc-latency", "alarm_topic_arn"),
    ):
        assert f"FAIL {name}: output {output} missing" in ran.output


def test_cdktf_outputs_file_and_skip(local_aws: LocalAws, account: Account, tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"aurora-migration-dev": {"cluster_id": "nope"}}))
    ran = _verify(
        account,
        "--env",
        "dev",
        "--outputs",
        str(outputs),
        "--endpoint-url",
        local_aws.url,
        *[f"--skip={name}" for name in CHECKS],
    )
    assert ran.returncode == 0, ran.output
    assert set(check_lines(ran.output).values()) == {"SKIP"}, ran.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "nowhere", "--outputs", "{outputs}"], "no such environment"),
        (["--env", "dev", "--outputs", "{missing}"], "file not found"),
        (["--env", "dev", "--outputs", "{outputs}", "--skip", "aurora.nothing"], "unknown checks aurora.nothing"),
        (["--env", "dev", "--workdir", "{missing}"], "not a directory"),
        (["--env", "dev", "--outputs", "{outputs}", "--endpoint-url", "{closed}"], "cannot reach AWS"),
        (["--outputs", "{outputs}"], "one of the arguments --env --config is required"),
    ],
)
def test_usage_and_connection_errors_exit_2(account: Account, tmp_path: Path, args: list[str], message: str) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"cluster_id": {"value": "c", "type": "string", "sensitive": False}}))
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    values = {"outputs": str(outputs), "missing": str(tmp_path / "absent"), "closed": closed}
    ran = _verify(account, *[arg.format(**values) for arg in args])
    assert ran.returncode == 2, ran.output
    assert message in ran.output
    assert "Traceback" not in ran.output


def test_connection_check_on_a_real_account_tests_both_endpoints(local_aws: LocalAws, account: Account) -> None:
    """The branch that runs only without --endpoint-url, driven in-process against moto's test-connection."""
    from config import load_environment
    from migration_ops.verify.command import aws_clients
    from migration_ops.verify.context import VerifyContext

    dms = local_aws.client("dms", "eu-west-1", account)
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="connection-check", ReplicationInstanceClass="dms.t3.micro"
    )["ReplicationInstance"]
    endpoints = {
        kind: dms.create_endpoint(EndpointIdentifier=f"connection-check-{kind}", EndpointType=kind, EngineName="postgres")[
            "Endpoint"
        ]["EndpointArn"]
        for kind in ("source", "target")
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in account.credentials.items():
            patch.setenv(key, value)
        context = VerifyContext(
            outputs={
                "dms_replication_instance_arn": instance["ReplicationInstanceArn"],
                "dms_source_endpoint_arn": endpoints["source"],
                "dms_target_endpoint_arn": endpoints["target"],
            },
            config=load_environment(DEV_CONFIG),
            aws=aws_clients(region="eu-west-1", endpoint_url=local_aws.url),
            emulated=False,
            poll_interval_seconds=0.05,
            connection_timeout_seconds=30,
        )
        result = check_endpoint_connections(context)
    assert result.status is Status.PASS, result.line()
    assert result.evidence == "source successful; target successful"
