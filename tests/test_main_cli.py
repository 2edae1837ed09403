"""`python main.py` as users and `cdktf synth` run it: exit 2 on bad config, nothing half-written."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "config"


def run_main(config_dir: Path, outdir: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AURORA_MIGRATION_CONFIG_DIR": str(config_dir), "CDKTF_OUTDIR": str(outdir), **extra_env}
    return subprocess.run(
        [sys.executable, "main.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture()
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    target.mkdir()
    shutil.copytree(CONFIG_DIR / "certs", target / "certs")
    shutil.copy(CONFIG_DIR / "dev.toml", target / "dev.toml")
    return target


@pytest.fixture()
def previous_output(tmp_path: Path) -> Path:
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "aurora-migration-dev").mkdir(parents=True)
    (outdir / "stacks" / "aurora-migration-dev" / "cdk.tf.json").write_text('{"previous": true}')
    return outdir


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda text: text.replace('vpc_id = "vpc-0a1b2c3d4e5f60001"', 'vpc_id = "vpc-12"'), "network.vpc_id"),
        (
            lambda text: text.replace(
                ', "subnet-0a1b2c3d4e5f60012" = "eu-west-1b", "subnet-0a1b2c3d4e5f60013" = "eu-west-1c"', ""
            ),
            "network.aurora_subnets",
        ),
        (lambda text: text.replace("[aurora]", "[aurora]\nreader_cnt = 2"), "aurora.reader_cnt"),
        (lambda text: text.replace('database_name = "orders"\n', ""), "source.database_name"),
    ],
    ids=["wrong-id-shape", "one-subnet", "unknown-key", "missing-required-field"],
)
def test_bad_config_exits_2_names_the_field_and_leaves_output_untouched(
    config_copy: Path, previous_output: Path, edit: object, field: str
) -> None:
    dev = config_copy / "dev.toml"
    original = dev.read_text()
    edited = edit(original)  # type: ignore[operator]
    assert edited != original, "the edit did not apply: the test would prove nothing"
    dev.write_text(edited)
    before = tree_digest(previous_output)

    result = run_main(config_copy, previous_output)

    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "configuration error:"
    assert len(lines) == 2, "one line per problem"
    assert f"dev.toml: {field}: " in lines[1]
    assert "Traceback" not in result.stderr
    assert tree_digest(previous_output) == before


def test_all_errors_of_several_files_are_reported_together(config_copy: Path, previous_output: Path) -> None:
    dev = config_copy / "dev.toml"
    text = dev.read_text()
    dev.write_text(
        text.replace('vpc_id = "vpc-0a1b2c3d4e5f60001"', 'vpc_id = "vpc-12"').replace("reader_count = 2", "reader_count = 0")
    )
    (config_copy / "qa.toml").write_text(text.replace('environment_suffix = "dev"', 'environment_suffix = "qa"\ntypo = 1'))

    result = run_main(config_copy, previous_output)

    assert result.returncode == 2
    problems = result.stderr.strip().splitlines()[1:]
    assert [p.split(": ")[1] for p in problems] == ["network.vpc_id", "aurora.reader_count", "typo"]


def test_synth_writes_every_environment_plus_the_ephemeral_one(config_copy: Path, previous_output: Path) -> None:
    result = run_main(config_copy, previous_output, ENVIRONMENT_SUFFIX="pr42", ENVIRONMENT_BASE="dev")

    assert result.returncode == 0, result.stderr
    stacks = sorted(p.name for p in (previous_output / "stacks").iterdir())
    assert stacks == ["aurora-migration-dev", "aurora-migration-pr42"]
    ephemeral = (previous_output / "stacks" / "aurora-migration-pr42" / "cdk.tf.json").read_text()
    assert '"key": "aurora-migration/pr42/terraform.tfstate"' in ephemeral
    assert "previous" not in (previous_output / "stacks" / "aurora-migration-dev" / "cdk.tf.json").read_text()
    leftovers = [p.name for p in previous_output.parent.iterdir() if p.name.startswith(".cdktf.out")]
    assert leftovers == [], "the staging directory of the atomic swap was left behind"


def test_synth_keeps_what_terraform_keeps_beside_each_stack(config_copy: Path, previous_output: Path) -> None:
    """After `cdktf deploy`, a new synth must not delete .terraform/ and the lock file (terraform output needs them)."""
    dev = previous_output / "stacks" / "aurora-migration-dev"
    (dev / ".terraform").mkdir()
    (dev / ".terraform" / "terraform.tfstate").write_text('{"backend": "s3"}')
    (dev / ".terraform.lock.hcl").write_text("# provider hashes\n")
    (dev / "reviewed.tfplan").write_text("plan")
    (dev / "stray-notes.txt").write_text("not terraform's")

    result = run_main(config_copy, previous_output, ENVIRONMENT_SUFFIX="pr42", ENVIRONMENT_BASE="dev")

    assert result.returncode == 0, result.stderr
    assert (dev / ".terraform" / "terraform.tfstate").read_text() == '{"backend": "s3"}'
    assert (dev / ".terraform.lock.hcl").read_text() == "# provider hashes\n"
    assert (dev / "reviewed.tfplan").exists()
    assert not (dev / "stray-notes.txt").exists(), "only Terraform's own files are carried over"
    assert "previous" not in (dev / "cdk.tf.json").read_text(), "the synthesized files are new"
    assert not (previous_output / "stacks" / "aurora-migration-pr42" / ".terraform").exists()


def test_emulator_switch_refuses_non_loopback_addresses(config_copy: Path, previous_output: Path) -> None:
    result = run_main(config_copy, previous_output, AURORA_MIGRATION_TEST_EMULATOR_URL="http://10.0.0.5:5000")
    assert result.returncode == 2
    assert "only a loopback URL is allowed" in result.stderr


def test_planning_synthesis_refuses_a_deploy_role_without_a_plan_role(config_copy: Path, previous_output: Path) -> None:
    dev = config_copy / "dev.toml"
    dev.write_text(
        dev.read_text().replace(
            'plan_role_arn = "arn:aws:iam::111111111111:role/aurora-migration-plan"',
            'role_arn = "arn:aws:iam::111111111111:role/aurora-migration-deploy"',
        )
    )
    before = tree_digest(previous_output)
    result = run_main(config_copy, previous_output, AURORA_MIGRATION_ROLE="plan")
    assert result.returncode == 2
    assert "dev: deployment.plan_role_arn is not set, so a plan would run as the deploy role" in result.stderr
    assert tree_digest(previous_output) == before
    unknown = run_main(config_copy, previous_output, AURORA_MIGRATION_ROLE="apply")
    assert unknown.returncode == 2 and "AURORA_MIGRATION_ROLE: expected one of ['deploy', 'plan']" in unknown.stderr


@pytest.mark.terraform
def test_verify_says_what_to_run_when_the_stack_folder_was_never_deployed(tmp_path: Path) -> None:
    """terraform's own error comes through without colour codes, followed by the command that fixes it."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    stack_dir = tmp_path / "aurora-migration-dev"
    stack_dir.mkdir()
    backend = {"terraform": {"backend": {"s3": {"bucket": "b", "key": "k", "region": "eu-west-1"}}}}
    (stack_dir / "cdk.tf.json").write_text(json.dumps(backend))
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    result = subprocess.run(
        [sys.executable, "-m", "migration_ops.verify", "--env", "dev", "--workdir", str(stack_dir)],
        cwd=REPO_ROOT,
        env={**env, "TF_CLI_CONFIG_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "terraform output -json" in result.stderr and "\x1b[" not in result.stderr
    assert "run `make deploy ENV=<env>`" in result.stderr
