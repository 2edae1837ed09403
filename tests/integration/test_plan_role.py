"""`make plan` and `make drift` as the read-only plan role, in the emulator: the master password is never read.

dev is applied as its deploy role up to the credentials secret (the cluster, both secrets and what they need),
so the state holds the secret versions a plan could read. Then the stack synthesized for planning is planned as
the plan role, which moto refuses `secretsmanager:GetSecretValue` (a patch on moto's Secrets Manager handler:
the role of the calling session is denied, and every call is recorded):

- with `make plan`'s options the plan succeeds, assumes only the plan role, and calls GetSecretValue never: the
  read of the password secret is deferred to apply (`terraform.applying`), and `-refresh=false` keeps the AWS
  provider 5.100 from reading the write-only secret versions while refreshing them;
- the same plan with refresh is refused exactly there (why `make plan` does not refresh);
- `python -m migration_ops.drift` (`make drift`) runs its refresh-only plan without a single GetSecretValue.

The apply itself reads the password (as the deploy role): the cluster and the credentials secret hold the value
of the password secret.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from migration_ops import drift
from plumbing.exit_codes import ExitCode
from tests.integration.conftest import record
from tests.integration.harness import (
    REPO_ROOT,
    LocalAws,
    Ran,
    Toolchain,
    moto_backend,
    read_config,
    run,
    run_ok,
    seed_environment,
    subprocess_env,
    synthesize_for_emulator,
)

pytestmark = pytest.mark.integration

ACCOUNT = "111111111111"  # config/dev.toml's allowed account
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/aurora-migration-deploy"


@dataclass(kw_only=True)
class Calls:
    assumed_roles: list[str] = field(default_factory=list)
    secret_reads: list[tuple[str | None, str]] = field(default_factory=list)
    """(role of the caller's session, SecretId) of every GetSecretValue moto received."""

    def clear(self) -> None:
        self.assumed_roles.clear()
        self.secret_reads.clear()


@contextmanager
def plan_role_denied_secret_reads(plan_role: str) -> Iterator[Calls]:
    """Record AssumeRole and GetSecretValue calls; refuse GetSecretValue to sessions of `plan_role`."""
    from moto.core.exceptions import JsonRESTError
    from moto.secretsmanager.responses import SecretsManagerResponse
    from moto.sts.models import sts_backends
    from moto.sts.responses import TokenResponse

    calls = Calls()
    get_secret_value, assume_role = SecretsManagerResponse.get_secret_value, TokenResponse.assume_role

    def guarded_get_secret_value(self: SecretsManagerResponse) -> str:
        session = sts_backends[self.get_current_account()]["aws"].get_assumed_role_from_access_key(self.get_access_key())
        role = session.role_arn if session is not None else None
        calls.secret_reads.append((role, str(self._get_param("SecretId"))))
        if role == plan_role:
            raise JsonRESTError(
                "AccessDeniedException",
                f"User: {session.arn if session else role} is not authorized to perform: secretsmanager:GetSecretValue",
            )
        return get_secret_value(self)

    def recorded_assume_role(self: TokenResponse) -> Any:
        calls.assumed_roles.append(str(self._get_param("RoleArn")))
        return assume_role(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SecretsManagerResponse, "get_secret_value", guarded_get_secret_value)
        patch.setattr(TokenResponse, "assume_role", recorded_assume_role)
        yield calls


def make_plan_options() -> list[str]:
    """The options `make plan` gives `terraform plan` (the Makefile's PLAN_OPTIONS)."""
    match = re.search(r"^PLAN_OPTIONS := (.+)$", (REPO_ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    assert match, "the Makefile defines PLAN_OPTIONS"
    return match.group(1).split()


def _timed(label: str, ran: Ran) -> Ran:
    record(f"plan role: {label}", ran.seconds)
    return ran


def _address(document: dict[str, Any], resource_type: str, name_part: str) -> str:
    [name] = [name for name in document["resource"][resource_type] if name_part in name]
    return f"{resource_type}.{name}"


def test_the_plan_role_plans_and_checks_drift_without_reading_the_master_password(
    local_aws: LocalAws, toolchain: Toolchain, tmp_path: Path
) -> None:
    local_aws.reset()
    base = read_config("dev")
    plan_role = base["deployment"]["plan_role_arn"]
    base["deployment"]["role_arn"] = DEPLOY_ROLE  # applied as a deploy role, as the deploy workflow does
    seeded = seed_environment(local_aws, base)
    env = subprocess_env(toolchain, seeded.account)
    for name in ("deploy", "plan"):
        (tmp_path / name).mkdir()

    _, deploy_dir, _ = synthesize_for_emulator(local_aws, seeded.data, tmp_path / "deploy")
    document = json.loads((deploy_dir / "cdk.tf.json").read_text())
    credentials_version = _address(document, "aws_secretsmanager_secret_version", "credentials")
    with plan_role_denied_secret_reads(plan_role) as calls:
        _timed("init", run_ok(("terraform", "init", "-input=false", "-no-color"), cwd=deploy_dir, env=env))
        applying = ("terraform", "apply", "-auto-approve", "-input=false", "-no-color", f"-target={credentials_version}")
        _timed("targeted apply as the deploy role", run_ok(applying, cwd=deploy_dir, env=env, timeout=600))
        assert set(calls.assumed_roles) == {DEPLOY_ROLE}
        assert calls.secret_reads and {role for role, _ in calls.secret_reads} == {DEPLOY_ROLE}

    secrets = seeded.client(local_aws, "secretsmanager")
    password = secrets.get_secret_value(SecretId=f"aurora-migration-aurora-master-password-{seeded.suffix}")["SecretString"]
    credentials = json.loads(
        secrets.get_secret_value(SecretId=f"aurora-migration-aurora-credentials-{seeded.suffix}")["SecretString"]
    )
    [cluster] = moto_backend("rds", seeded).clusters.values()
    assert cluster._master_user_password == password == credentials["password"], "the apply wrote the password secret's value"

    _, plan_dir, _ = synthesize_for_emulator(local_aws, seeded.data, tmp_path / "plan", for_planning=True)
    with plan_role_denied_secret_reads(plan_role) as calls:
        _timed("init", run_ok(("terraform", "init", "-input=false", "-no-color"), cwd=plan_dir, env=env))
        planned = _timed("make plan", run(("terraform", "plan", *make_plan_options(), "-out=plan.tfplan"), cwd=plan_dir, env=env))
        assert planned.returncode == 0, planned.tail()
        assert calls.secret_reads == [], "the plan called GetSecretValue"
        assert set(calls.assumed_roles) == {plan_role}, "provider and backend assume the plan role, and only it"
        shown = json.loads(run_ok(("terraform", "show", "-json", "plan.tfplan"), cwd=plan_dir, env=env).output)
        changes = {change["address"]: change["change"] for change in shown["resource_changes"]}
        for address, version in (
            (_address(document, "aws_rds_cluster", "cluster"), "master_password_wo_version"),
            (credentials_version, "secret_string_wo_version"),
            (_address(document, "aws_secretsmanager_secret_version", "master-password"), "secret_string_wo_version"),
        ):
            change = changes[address]
            assert change["actions"] in (["no-op"], ["update"]), f"{address}: {change['actions']}"
            assert change["after"][version] == change["before"][version], f"{address}: the plan would rewrite the password"

        calls.clear()
        refreshing = [option for option in make_plan_options() if option != "-refresh=false"]
        master_version = _address(document, "aws_secretsmanager_secret_version", "master-password")
        refresh_it = ("terraform", "plan", *refreshing, f"-target={master_version}")  # the secret version and its secret
        refused = _timed("refreshing plan", run(refresh_it, cwd=plan_dir, env=env))
        assert refused.returncode == 1 and "GetSecretValue" in refused.output, refused.tail()
        assert calls.secret_reads and {role for role, _ in calls.secret_reads} == {plan_role}

        calls.clear()
        output = tmp_path / "reports"
        started = time.monotonic()
        exit_code = drift.run(drift.DriftOptions(stack_dir=plan_dir, output=output, env=env))
        record("plan role: make drift", time.monotonic() - started)
        assert calls.secret_reads == [], "the drift check called GetSecretValue"
        assert set(calls.assumed_roles) == {plan_role}
    assert exit_code in (ExitCode.OK, ExitCode.FAILED)
    body, _ = drift.report_paths(output, seeded.stack_name)
    if exit_code == ExitCode.FAILED:  # moto answers some attributes differently from what was applied
        assert credentials_version in body.read_text(), "the report names the versions it did not refresh"
        assert password not in body.read_text()
