"""`python -m migration_ops.preflight` end to end: exit codes (migration_ops/cli/), --json, --strict, --from-secret, errors."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from migration_ops.preflight import command as preflight
from plumbing.tool import ToolRun, run_tool
from tests.conftest import REPO_ROOT
from tests.migration_ops.conftest import MIGRATOR
from tests.migration_ops.pg_server import PgServer

pytestmark = pytest.mark.postgres


def run_cli(*args: str, dsn: str | None) -> ToolRun:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    if dsn is not None:
        env["SOURCE_DSN"] = dsn
    return run_tool(
        [sys.executable, "-m", "migration_ops.preflight", "--env", "dev", *args], cwd=REPO_ROOT, env=env, timeout_seconds=60
    )


def test_clean_source_exits_0_and_json_parses(pg: PgServer) -> None:
    completed = run_cli("--dsn-env", "SOURCE_DSN", "--json", "--strict", "--lob-scan-seconds", "0", dsn=pg.dsn("clean", MIGRATOR))
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert (document["environment"], document["stack"]) == ("dev", "aurora-migration-dev")
    assert document["source"] == f"{MIGRATOR}@127.0.0.1:{pg.port}/clean"
    # skipped: the decoding plugin (needs superuser to see) and the secret's password (needs --from-secret)
    assert document["summary"] == {"pass": 25, "warn": 0, "fail": 0, "skip": 2}
    assert {item["status"] for item in document["results"]} == {"pass", "skip"}
    assert set(document["results"][0]) == {"name", "status", "evidence", "fix"}


def test_warnings_exit_0_and_1_with_strict(pg: PgServer) -> None:
    dsn = pg.dsn("warnonly", MIGRATOR)
    relaxed = run_cli("--dsn-env", "SOURCE_DSN", dsn=dsn)
    assert relaxed.returncode == 0, relaxed.stderr
    assert "WARN    sequences" in relaxed.stdout
    assert "public.tickets_id_seq" in relaxed.stdout
    assert "summary: 24 passed, 1 warnings, 0 failed, 2 skipped" in relaxed.stdout
    assert run_cli("--dsn-env", "SOURCE_DSN", "--strict", dsn=dsn).returncode == 1


def test_failures_exit_1_with_fixes_in_the_table(pg: PgServer) -> None:
    """A failed check is exit 1, as in verify; 2 means the preflight could not run at all."""
    completed = run_cli("--dsn-env", "SOURCE_DSN", dsn=pg.dsn("shop", MIGRATOR))
    assert completed.returncode == 1, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[1].split() == ["STATUS", "CHECK", "EVIDENCE"]
    failing = {line.split()[1] for line in lines if line.startswith("FAIL")}
    assert failing == {"heartbeat_schema", "select_privilege", "primary_keys", "lob_without_key", "lob_sizes"}
    assert any(line.strip().startswith("fix: GRANT SELECT") for line in lines)


def test_connection_error_exits_2_without_traceback(pg: PgServer) -> None:
    unreachable = f"postgresql://{MIGRATOR}@127.0.0.1:1/clean?connect_timeout=3"
    completed = run_cli("--dsn-env", "SOURCE_DSN", dsn=unreachable)
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"error: cannot connect to {MIGRATOR}@127.0.0.1:1/clean")
    assert "Traceback" not in completed.stderr
    missing = run_cli("--dsn-env", "NOT_SET_ANYWHERE", dsn=None)
    assert missing.returncode == 2
    assert "environment variable NOT_SET_ANYWHERE is not set" in missing.stderr
    unknown = run_cli("--dsn-env", "SOURCE_DSN", "--env", "nope", dsn=pg.dsn("clean"))
    assert unknown.returncode == 2
    assert "error: --env nope: no such environment" in unknown.stderr


def _secret_config(tmp_path: Path, port: int, password: str) -> Path:
    """dev.toml pointing at a moto secret holding the migration user with `password`."""
    secret = boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
        Name=f"onprem/orders-test/dms-{len(list(tmp_path.iterdir()))}",
        SecretString=json.dumps({"username": MIGRATOR, "password": password, "host": "127.0.0.1", "port": port}),
    )
    dev = (REPO_ROOT / "config" / "dev.toml").read_text()
    config = tmp_path / f"test-{len(list(tmp_path.iterdir()))}.toml"
    config.write_text(
        dev.replace(
            'credentials_secret_arn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:onprem/orders-dev/dms-AbCdEf"',
            f'credentials_secret_arn = "{secret["ARN"]}"',
        ).replace('"certs/', f'"{REPO_ROOT / "config" / "certs"}/')
    )
    return config


def test_from_secret_takes_the_user_from_secrets_manager(
    pg: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("PGUSER", raising=False)
    monkeypatch.setenv("SOURCE_DSN", f"postgresql://127.0.0.1:{pg.port}/clean")  # no user in the DSN
    with mock_aws():
        config = _secret_config(tmp_path, pg.port, "unused-with-trust")
        code = preflight.main(["--config", str(config), "--dsn-env", "SOURCE_DSN", "--from-secret", "--json"])
        out = capsys.readouterr().out
        refused_config = _secret_config(tmp_path, pg.port, "trust;ignores+it")
        refused_code = preflight.main(["--config", str(refused_config), "--dsn-env", "SOURCE_DSN", "--from-secret"])
        refused = capsys.readouterr().out
    assert code == 0
    document = json.loads(out)
    assert document["source"] == f"{MIGRATOR}@127.0.0.1:{pg.port}/clean"
    results = {item["name"]: item for item in document["results"]}
    assert results["replication_privilege"]["evidence"] == f"user {MIGRATOR} has REPLICATION"
    assert results["secret_password"]["status"] == "pass"
    assert "unused-with-trust" not in out
    assert refused_code == 1
    assert "FAIL    secret_password" in refused
    assert "contains at least one character DMS refuses" in refused
    assert "trust;ignores+it" not in refused
