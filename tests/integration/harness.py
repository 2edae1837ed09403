"""The local AWS (moto in this process), the pre-existing things a config refers to, and terraform/cdktf runners.

Nothing here talks to anything but 127.0.0.1: moto listens on loopback, the
provider and the S3 backend are pointed at it by the emulator switch
(stacks/emulator.py), and every subprocess gets a dead loopback proxy so a
request that escapes the endpoint overrides fails instead of leaving the machine.

Each environment is deployed into its own emulated account (moto switches
accounts on STS AssumeRole credentials): the account-wide DMS service roles of
one stack cannot collide with another's, and `allowed_account_ids` of the
config files is honoured as written.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import secrets
import shutil
import sys
import time
import tomllib
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from config.loader import CONFIG_DIR_ENV_VAR
from plumbing.tool import run_tool
from release.source import node_first
from stacks.emulator import EMULATOR_ENV_VAR
from tests.integration import moto_patches

REPO_ROOT = Path(__file__).resolve().parents[2]
MIRROR_ENV_VAR = "TF_PLUGIN_MIRROR"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account, for configs without allowed_account_ids
AWS_PROVIDER_SOURCE = "registry.terraform.io/hashicorp/aws"
# Where a request that ignores NO_PROXY would go: nothing listens on port 9 (discard) here.
DEAD_PROXY = "http://127.0.0.1:9"
# Resource types moto has no backend for, even with moto_standins: apply fails on them.
UNSUPPORTED_BY_MOTO = ("aws_dms_replication_config",)


class ToolMissingError(Exception):
    """A tool the integration tests need is not on this machine (the tests skip with this reason)."""


@dataclass(frozen=True, kw_only=True)
class Toolchain:
    terraform: Path
    mirror: Path
    cli_config: Path
    cdktf: Path | None


def find_plugin_mirror() -> Path | None:
    """TF_PLUGIN_MIRROR, else the parent of a `registry.terraform.io` dir at depth <= 3 under /."""
    override = os.environ.get(MIRROR_ENV_VAR)
    if override:
        return Path(override) if (Path(override) / AWS_PROVIDER_SOURCE).is_dir() else None
    for depth in range(3):  # /x/registry.terraform.io before /x/y/registry.terraform.io
        for candidate in sorted(Path("/").glob("/".join(["*"] * depth + ["registry.terraform.io"]))):
            if ".terraform" not in candidate.parts and (candidate / "hashicorp" / "aws").is_dir():
                return candidate.parent
    return None


def locate_toolchain(workdir: Path) -> Toolchain:
    terraform = shutil.which("terraform")
    if terraform is None:
        raise ToolMissingError("terraform is not on PATH")
    mirror = find_plugin_mirror()
    if mirror is None:
        raise ToolMissingError(
            f"no provider mirror with {AWS_PROVIDER_SOURCE} (set {MIRROR_ENV_VAR} or unpack the provider under /)"
        )
    cli_config = workdir / "terraform.rc"
    cli_config.write_text(
        "provider_installation {\n"
        f"  filesystem_mirror {{\n    path    = {json.dumps(str(mirror))}\n"
        f'    include = ["{AWS_PROVIDER_SOURCE}"]\n  }}\n'
        "}\n"
    )
    cdktf = REPO_ROOT / "node_modules" / ".bin" / "cdktf"
    return Toolchain(terraform=Path(terraform), mirror=mirror, cli_config=cli_config, cdktf=cdktf if cdktf.exists() else None)


# --- The emulator -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Account:
    """An emulated AWS account and credentials that act in it."""

    account_id: str
    credentials: Mapping[str, str]
    """AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, as moto issued them."""


class LocalAws:
    """moto in server mode on 127.0.0.1 (a free port), patched; one per test session."""

    def __init__(self) -> None:
        moto_patches.apply()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget every resource and every issued credential."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with no_proxy.open(request, timeout=30) as response:
            response.read()

    def account(self, account_id: str) -> Account:
        """Credentials for `account_id` (moto maps AssumeRole credentials to the role's account)."""
        sts = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1").client(
            "sts", endpoint_url=self.url
        )
        issued = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/integration-test", RoleSessionName="integration")
        credentials = issued["Credentials"]
        return Account(
            account_id=account_id,
            credentials={
                "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
                "AWS_SESSION_TOKEN": credentials["SessionToken"],
            },
        )

    def client(self, service: str, region: str, account: Account) -> Any:
        session = boto3.session.Session(
            aws_access_key_id=account.credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=account.credentials["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=account.credentials["AWS_SESSION_TOKEN"],
            region_name=region,
        )
        return session.client(service, endpoint_url=self.url)  # type: ignore[call-overload]


def subprocess_env(toolchain: Toolchain | None, account: Account, **extra: str) -> dict[str, str]:
    """Environment for terraform, cdktf and verify: the account's credentials, the CLI config, loopback only."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "TF_VAR_"))}
    env.update(account.credentials)
    if toolchain is not None:
        env["TF_CLI_CONFIG_FILE"] = str(toolchain.cli_config)
    env.update(
        AWS_EC2_METADATA_DISABLED="true",
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
        PATH=node_first(env.get("PATH", os.defpath)),  # cdktf and jsii start `node` from PATH
        HTTP_PROXY=DEAD_PROXY,
        HTTPS_PROXY=DEAD_PROXY,
        http_proxy=DEAD_PROXY,
        https_proxy=DEAD_PROXY,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    env.update(extra)
    return env


# --- What a config refers to, created in the emulator ------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SeededEnvironment:
    """A config derived from a file in config/, with the emulator's ids substituted."""

    data: dict[str, Any]
    account: Account
    notes: tuple[str, ...]
    """What was changed beyond ids, and why."""

    @property
    def suffix(self) -> str:
        return str(self.data["environment_suffix"])

    @property
    def stack_name(self) -> str:
        return f"{self.data.get('name_prefix', 'aurora-migration')}-{self.suffix}"

    @property
    def region(self) -> str:
        return str(self.data["aws_region"])

    def client(self, aws: LocalAws, service: str) -> Any:
        return aws.client(service, self.region, self.account)


def read_config(name: str) -> dict[str, Any]:
    with (REPO_ROOT / "config" / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


def seed_environment(aws: LocalAws, base: Mapping[str, Any], *, existing_service_roles: bool = False) -> SeededEnvironment:
    """Create what the config says already exists: state bucket (+ key), VPC, subnets, application
    security groups, the source credentials secret (+ key), in the config's own account.

    Returns the config with the emulator's ids. Beyond ids it changes only what
    moto cannot take or the test cannot undo, each listed in `notes`.
    """
    data: dict[str, Any] = json.loads(json.dumps(base))  # deep copy
    account = aws.account((data.get("allowed_account_ids") or [DEFAULT_ACCOUNT_ID])[0])
    region = data["aws_region"]
    network, source, backend = data["network"], data["source"], data["state_backend"]

    def client(service: str, in_region: str = region) -> Any:
        return aws.client(service, in_region, account)

    ec2, kms = client("ec2"), client("kms")
    notes: list[str] = []

    bucket_region = backend.get("region", region)
    client("s3", bucket_region).create_bucket(
        Bucket=backend["bucket"], CreateBucketConfiguration={"LocationConstraint": bucket_region}
    )
    if backend.get("kms_key_id"):
        backend["kms_key_id"] = kms.create_key(Description="state bucket key")["KeyMetadata"]["Arn"]

    vpc_cidr = ipaddress.ip_network(network["vpc_cidr_block"])
    vpc_id = ec2.create_vpc(CidrBlock=str(vpc_cidr))["Vpc"]["VpcId"]
    # As in a real VPC that uses interface endpoints with private DNS (the stack checks both at plan time).
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    network["vpc_id"] = vpc_id
    blocks: Iterator[ipaddress.IPv4Network | ipaddress.IPv6Network] = vpc_cidr.subnets(new_prefix=24)
    subnet_ids: dict[str, str] = {}
    for key in ("aurora_subnets", "dms_subnets"):
        for placeholder, zone in network[key].items():
            if placeholder not in subnet_ids:
                subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=str(next(blocks)), AvailabilityZone=zone)["Subnet"]
                subnet_ids[placeholder] = subnet["SubnetId"]
        network[key] = {subnet_ids[placeholder]: zone for placeholder, zone in network[key].items()}
    network["application_security_group_ids"] = [
        ec2.create_security_group(GroupName=f"application-{index}", Description="application", VpcId=vpc_id)["GroupId"]
        for index, _ in enumerate(network.get("application_security_group_ids", []))
    ]

    secret_kms_key = None
    if source.get("credentials_kms_key_arn"):
        secret_kms_key = kms.create_key(Description="source secret key")["KeyMetadata"]["Arn"]
        source["credentials_kms_key_arn"] = secret_kms_key
    secret_name = re.sub(r"-[A-Za-z0-9]{6}$", "", source["credentials_secret_arn"].split(":secret:", 1)[1])
    secret_value = {
        "username": "dms_migration",
        "password": secrets.token_urlsafe(24),
        "host": source["host"],
        "port": source.get("port", 5432),
    }
    created = client("secretsmanager").create_secret(
        Name=secret_name, SecretString=json.dumps(secret_value), **({"KmsKeyId": secret_kms_key} if secret_kms_key else {})
    )
    source["credentials_secret_arn"] = created["ARN"]

    if source.get("ca_certificate_file"):  # relative to config/, and the derived file is written elsewhere
        source["ca_certificate_file"] = str((REPO_ROOT / "config" / source["ca_certificate_file"]).resolve())
    dms_table = data.get("dms", {})
    if dms_table.get("target_ca_certificate_file"):  # the RDS CA bundle, imported like the source CA (moto_standins)
        dms_table["target_ca_certificate_file"] = str((REPO_ROOT / "config" / dms_table["target_ca_certificate_file"]).resolve())
    monitoring = data.get("monitoring", {})
    if monitoring.get("alarm_https_endpoints"):
        notes.append("monitoring.alarm_https_endpoints dropped: an HTTPS subscription would make moto call that URL")
        monitoring["alarm_https_endpoints"] = []
    aurora = data.setdefault("aurora", {})
    if aurora.get("deletion_protection", True) or not aurora.get("skip_final_snapshot", False):
        notes.append("aurora.deletion_protection=false, skip_final_snapshot=true: the test destroys what it deploys")
        aurora.update(deletion_protection=False, skip_final_snapshot=True)

    if existing_service_roles:
        create_dms_service_roles(client("iam"))
        data.setdefault("dms", {})["service_roles"] = "existing"
    return SeededEnvironment(data=data, account=account, notes=tuple(notes))


def create_dms_service_roles(iam: Any) -> None:
    """The account-wide roles of an account that already uses DMS (for `service_roles = "existing"`)."""
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "dms.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }
    )
    for role, policy in (
        ("dms-vpc-role", "AmazonDMSVPCManagementRole"),
        ("dms-cloudwatch-logs-role", "AmazonDMSCloudWatchLogsRole"),
    ):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
        iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::aws:policy/service-role/{policy}")


# --- TOML out (main.py and verify read environment files) ------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def write_toml(data: Mapping[str, Any], path: Path) -> Path:
    """Top-level scalars, then one [table] per top-level mapping (nested mappings inline)."""
    lines = [f"{_toml_key(key)} = {_toml_value(value)}" for key, value in data.items() if not isinstance(value, Mapping)]
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{_toml_key(key)}]"]
            lines += [f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items()]
    path.write_text("\n".join(lines) + "\n")
    with path.open("rb") as handle:
        if tomllib.load(handle) != json.loads(json.dumps(data)):
            raise AssertionError(f"{path} does not read back as written")
    return path


# --- Running tools ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Ran:
    command: tuple[str, ...]
    returncode: int
    output: str
    seconds: float

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def run(command: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 600) -> Ran:
    """Run a tool to completion (plumbing.tool: a missing tool or a timeout raises ToolError, one line)."""
    started = time.monotonic()
    ran = run_tool(command, cwd=cwd, env=env, timeout_seconds=timeout)
    return Ran(command=ran.argv, returncode=ran.returncode, output=ran.stdout + ran.stderr, seconds=time.monotonic() - started)


def run_ok(command: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 600) -> Ran:
    ran = run(command, cwd=cwd, env=env, timeout=timeout)
    if ran.returncode != 0:
        raise AssertionError(f"{' '.join(command[:3])} ... exited {ran.returncode} after {ran.seconds:.0f}s:\n{ran.tail()}")
    return ran


def check_lines(verify_output: str) -> dict[str, str]:
    """`{check name: 'PASS'|'FAIL'|'SKIP'}` from verify's output."""
    found = re.findall(r"^(PASS|FAIL|SKIP) ([\w.-]+): ", verify_output, flags=re.MULTILINE)
    return {name: status for status, name in found}


# --- What the synthesized stack contains --------------------------------------------------------

# Checks that need outputs which some versions of the stack do not have yet.
CHECK_OUTPUTS: dict[str, tuple[str, ...]] = {
    "dms.replication-instance": ("dms_replication_instance_arn",),
    "dms.task": ("dms_task_arn",),
    "dms.endpoints": ("dms_source_endpoint_arn", "dms_target_endpoint_arn"),
    "dms.connections": ("dms_replication_instance_arn", "dms_source_endpoint_arn", "dms_target_endpoint_arn"),
    "alarms.aurora-cpu": ("alarm_topic_arn",),
    "alarms.dms-cdc-latency": ("alarm_topic_arn", "dms_task_arn"),
}


def checks_not_applicable(document: Mapping[str, Any]) -> list[str]:
    """Checks whose outputs this stack does not declare (yet): passed to verify as --skip."""
    declared = set(document.get("output", {}))
    return [name for name, outputs in CHECK_OUTPUTS.items() if not declared.issuperset(outputs)]


def strip_unsupported(document: dict[str, Any]) -> list[str]:
    """Remove resources moto cannot create; returns their addresses. Fails if anything refers to them."""
    removed: list[str] = []
    resources = document.get("resource", {})
    for resource_type in UNSUPPORTED_BY_MOTO:
        for name in resources.pop(resource_type, {}):
            removed.append(f"{resource_type}.{name}")
    text = json.dumps(document)
    dangling = [address for address in removed if address in text]
    if dangling:
        raise AssertionError(f"cannot drop {dangling} for moto: other parts of the stack refer to them")
    return removed


# --- Deploy / verify / destroy ----------------------------------------------------------------------


@dataclass(kw_only=True)
class Deployment:
    """One environment's stack in the emulator: how it is applied, verified and destroyed.

    `prepare_*` builds it (cheap, in the test thread); `apply()` and `destroy()`
    run subprocesses only, so several deployments can apply side by side.
    """

    label: str
    seeded: SeededEnvironment
    config_file: Path
    stack_dir: Path
    env: dict[str, str]
    terraform: str
    apply_commands: tuple[tuple[str, ...], ...]
    destroy_command: tuple[str, ...]
    cwd: Path
    verify_outputs: tuple[str, ...]
    removed_for_moto: tuple[str, ...] = ()
    describe_failure: Callable[[Deployment, Ran], str] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    applied: bool = False
    destroyed: bool = False
    cached_outputs: dict[str, Any] | None = None
    applied_changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Config changes `redeploy_with` applied on top of the seeded config, so later steps start from what is deployed."""

    def current_data(self) -> dict[str, Any]:
        """The seeded config with every applied change (a fresh copy)."""
        data: dict[str, Any] = json.loads(json.dumps(self.seeded.data))
        for table, values in self.applied_changes.items():
            data.setdefault(table, {}).update(values)
        return data

    @property
    def document(self) -> dict[str, Any]:
        """The synthesized cdk.tf.json as applied."""
        parsed: dict[str, Any] = json.loads((self.stack_dir / "cdk.tf.json").read_text())
        return parsed

    @property
    def skip(self) -> list[str]:
        return checks_not_applicable(self.document)

    def apply(self) -> Deployment:
        for command in self.apply_commands:
            ran = run(command, cwd=self.cwd, env=self.env, timeout=900)
            self.timings[f"{self.label}: {Path(command[0]).name} {command[1]}"] = ran.seconds
            if ran.returncode != 0:
                hint = self.describe_failure(self, ran) if self.describe_failure else ""
                raise AssertionError(
                    f"{self.label}: {command[1]} exited {ran.returncode} after {ran.seconds:.0f}s{hint}\n{ran.tail()}"
                )
        self.applied = True
        return self

    def destroy(self) -> Ran:
        self.destroyed = True
        ran = run(self.destroy_command, cwd=self.cwd, env=self.env, timeout=900)
        self.timings[f"{self.label}: {Path(self.destroy_command[0]).name} destroy"] = ran.seconds
        return ran

    def verify(self, aws: LocalAws) -> Ran:
        """`python -m migration_ops.verify` as an operator runs it, against the emulator."""
        command = [
            sys.executable, "-m", "migration_ops.verify",
            "--config", str(self.config_file),
            *self.verify_outputs,
            "--endpoint-url", aws.url,
        ]  # fmt: skip
        for name in self.skip:
            command += ["--skip", name]
        return run(command, cwd=REPO_ROOT, env=self.env, timeout=120)

    def outputs(self) -> dict[str, Any]:
        """The stack outputs (`terraform output -json` in the stack dir, read once)."""
        if self.cached_outputs is None:
            self.cached_outputs = self._read_outputs()
        return self.cached_outputs

    def _read_outputs(self) -> dict[str, Any]:
        ran = run_tool([self.terraform, "output", "-json"], cwd=self.stack_dir, env=self.env, timeout_seconds=120)
        if not ran.ok:
            raise AssertionError(f"{self.label}: terraform output: {ran.failure()}")
        return {name: item["value"] for name, item in json.loads(ran.stdout).items()}


def synthesize_for_emulator(
    aws: LocalAws, data: Mapping[str, Any], workdir: Path, *, for_planning: bool = False
) -> tuple[Path, Path, list[str]]:
    """Write `data` as an environment file, synthesize it in-process with the emulator switch, drop what moto lacks.

    `for_planning`: as `make plan-synth` does (the provider and the backend assume `deployment.plan_role_arn`).
    Returns the config file, the stack dir and the removed addresses.
    """
    from config import load_environment
    from stacks.app import build_app
    from stacks.emulator import LocalEmulator
    from stacks.roles import Purpose

    config_file = write_toml(data, workdir / f"{data['environment_suffix']}.toml")
    config = load_environment(config_file)
    outdir = workdir / "cdktf.out"
    purpose = Purpose.PLAN if for_planning else Purpose.DEPLOY
    app = build_app([config], outdir=str(outdir), emulator=LocalEmulator(url=aws.url), purpose=purpose)
    app.synth()
    stack_dir = outdir / "stacks" / config.stack_name
    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    removed = strip_unsupported(document)
    (stack_dir / "cdk.tf.json").write_text(json.dumps(document, indent=2))
    return config_file, stack_dir, removed


def redeploy_with(
    aws: LocalAws, deployment: Deployment, changes: Mapping[str, Mapping[str, Any]], workdir: Path, *apply_options: str
) -> Ran:
    """Re-synthesize a terraform-path deployment with changed config tables and `terraform apply` it in place."""
    data = deployment.current_data()
    for table, values in changes.items():
        data.setdefault(table, {}).update(values)
    _, stack_dir, _ = synthesize_for_emulator(aws, data, workdir)
    (deployment.stack_dir / "cdk.tf.json").write_text((stack_dir / "cdk.tf.json").read_text())
    ran = terraform_apply(deployment, *apply_options)
    for table, values in changes.items():
        deployment.applied_changes.setdefault(table, {}).update(values)
    return ran


def terraform_apply(deployment: Deployment, *extra: str) -> Ran:
    return run_ok(
        (deployment.terraform, "apply", "-auto-approve", "-input=false", "-no-color", *extra),
        cwd=deployment.stack_dir,
        env=deployment.env,
        timeout=900,
    )


def stack_copy_with(aws: LocalAws, deployment: Deployment, changes: Mapping[str, Mapping[str, Any]], workdir: Path) -> Path:
    """The deployment's config with changed tables, synthesized into a stack dir of its own that shares the deployed
    stack's Terraform working files (`.terraform`: the backend, so the deployed state, and the providers).

    For `terraform plan` without touching the deployment's own cdk.tf.json; plan with `-lock=false` and never apply
    there. Synthesis runs in this process (jsii): call it from one thread, then plan the copies side by side.
    """
    data: dict[str, Any] = json.loads(json.dumps(deployment.seeded.data))
    for table, values in changes.items():
        data.setdefault(table, {}).update(values)
    workdir.mkdir(parents=True, exist_ok=True)
    _, stack_dir, _ = synthesize_for_emulator(aws, data, workdir)
    working_files = deployment.stack_dir / ".terraform"
    if not working_files.is_dir():
        raise AssertionError(f"{deployment.label}: {working_files} is missing (not initialized?)")
    (stack_dir / ".terraform").symlink_to(working_files, target_is_directory=True)
    lock = deployment.stack_dir / ".terraform.lock.hcl"
    if lock.exists():
        shutil.copyfile(lock, stack_dir / lock.name)
    return stack_dir


def terraform_plan_saved(deployment: Deployment, stack_dir: Path, *options: str, name: str = "change.tfplan") -> Path:
    """`terraform plan -out=<name>` in `stack_dir` with the deployment's credentials; read-only (`-lock=false`)."""
    run_ok(
        (deployment.terraform, "plan", "-input=false", "-no-color", "-lock=false", f"-out={name}", *options),
        cwd=stack_dir,
        env=deployment.env,
        timeout=600,
    )
    return stack_dir / name


def moto_backend(service: str, seeded: SeededEnvironment) -> Any:
    """The in-process moto backend of the environment's account and region (for what the API never returns)."""
    from moto.backends import get_backend

    return get_backend(service)[seeded.account.account_id][seeded.region]  # type: ignore[call-overload]


def prepare_terraform(aws: LocalAws, toolchain: Toolchain, seeded: SeededEnvironment, workdir: Path) -> Deployment:
    """Synthesize in-process with the emulator switch (build_app), for `terraform init` + `apply` in the stack dir.

    Resources moto cannot create are dropped from the JSON (and listed).
    """
    config_file, stack_dir, removed = synthesize_for_emulator(aws, seeded.data, workdir)
    terraform = str(toolchain.terraform)
    return Deployment(
        label=f"{seeded.suffix} (terraform)",
        seeded=seeded,
        config_file=config_file,
        stack_dir=stack_dir,
        env=subprocess_env(toolchain, seeded.account),
        terraform=terraform,
        apply_commands=(
            (terraform, "init", "-input=false", "-no-color"),
            (terraform, "apply", "-auto-approve", "-input=false", "-no-color"),
        ),
        destroy_command=(terraform, "destroy", "-auto-approve", "-input=false", "-no-color"),
        cwd=stack_dir,
        verify_outputs=("--workdir", str(stack_dir)),
        removed_for_moto=tuple(removed),
    )


def prepare_cdktf_cli(aws: LocalAws, toolchain: Toolchain, seeded: SeededEnvironment, workdir: Path) -> Deployment:
    """`cdktf deploy` / `cdktf destroy` of main.py, reading environment files from a temporary config dir."""
    if toolchain.cdktf is None:
        raise ToolMissingError("node_modules/.bin/cdktf is missing (run `npm ci`)")
    config_dir = workdir / "config"
    config_dir.mkdir()
    config_file = write_toml(seeded.data, config_dir / f"{seeded.suffix}.toml")
    outdir, outputs_file = workdir / "cdktf.out", workdir / "outputs.json"
    env = subprocess_env(toolchain, seeded.account, **{CONFIG_DIR_ENV_VAR: str(config_dir), EMULATOR_ENV_VAR: aws.url})
    common = (
        seeded.stack_name,
        "--auto-approve",
        "--skip-provider-lock",
        "--output", str(outdir),
        "--app", f"{sys.executable} main.py",
    )  # fmt: skip
    cdktf = str(toolchain.cdktf)
    return Deployment(
        label=f"{seeded.suffix} (cdktf cli)",
        seeded=seeded,
        config_file=config_file,
        stack_dir=outdir / "stacks" / seeded.stack_name,
        env=env,
        terraform=str(toolchain.terraform),
        apply_commands=((cdktf, "deploy", *common, "--outputs-file", str(outputs_file)),),
        destroy_command=(cdktf, "destroy", *common),
        cwd=REPO_ROOT,
        verify_outputs=("--outputs", str(outputs_file)),
        describe_failure=_unsupported_hint,
    )


def _unsupported_hint(deployment: Deployment, _: Ran) -> str:
    path = deployment.stack_dir / "cdk.tf.json"
    resources = json.loads(path.read_text()).get("resource", {}) if path.exists() else {}
    unsupported = [kind for kind in UNSUPPORTED_BY_MOTO if kind in resources]
    if not unsupported:
        return ""
    return f"\nthe stack contains {unsupported}, which moto cannot create: the emulator switch must leave them out"


# --- What is left after destroy -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Inventory:
    leftovers: list[str] = field(default_factory=list)
    scheduled_for_deletion: list[str] = field(default_factory=list)


def inventory(aws: LocalAws, seeded: SeededEnvironment) -> Inventory:
    """Everything in the environment's account and region except what seed_environment created."""
    prefix, suffix, data = seeded.data.get("name_prefix", "aurora-migration"), seeded.suffix, seeded.data

    def client(service: str) -> Any:
        return seeded.client(aws, service)

    rds, dms, kms, ec2 = client("rds"), client("dms"), client("kms"), client("ec2")
    found = Inventory()
    leftovers, scheduled = found.leftovers, found.scheduled_for_deletion
    leftovers += [f"rds cluster {c['DBClusterIdentifier']}" for c in rds.describe_db_clusters()["DBClusters"]]
    leftovers += [f"rds instance {i['DBInstanceIdentifier']}" for i in rds.describe_db_instances()["DBInstances"]]
    leftovers += [f"db subnet group {g['DBSubnetGroupName']}" for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]]
    leftovers += [
        f"cluster parameter group {g['DBClusterParameterGroupName']}"
        for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
        if g["DBClusterParameterGroupName"].startswith(prefix)
    ]
    leftovers += [
        f"parameter group {g['DBParameterGroupName']}"
        for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
        if g["DBParameterGroupName"].startswith(prefix)
    ]
    leftovers += [
        f"dms instance {i['ReplicationInstanceIdentifier']}" for i in dms.describe_replication_instances()["ReplicationInstances"]
    ]
    leftovers += [f"dms task {t['ReplicationTaskIdentifier']}" for t in dms.describe_replication_tasks()["ReplicationTasks"]]
    leftovers += [f"dms endpoint {e['EndpointIdentifier']}" for e in dms.describe_endpoints()["Endpoints"]]
    leftovers += [
        f"dms subnet group {g['ReplicationSubnetGroupIdentifier']}"
        for g in dms.describe_replication_subnet_groups()["ReplicationSubnetGroups"]
    ]
    for secret in client("secretsmanager").list_secrets(IncludePlannedDeletion=True)["SecretList"]:
        if secret["ARN"] != data["source"]["credentials_secret_arn"]:
            (scheduled if secret.get("DeletedDate") else leftovers).append(f"secret {secret['Name']}")
    leftovers += [
        f"scalable target {t['ResourceId']}"
        for t in client("application-autoscaling").describe_scalable_targets(ServiceNamespace="rds")["ScalableTargets"]
    ]
    leftovers += [f"alarm {a['AlarmName']}" for a in client("cloudwatch").describe_alarms()["MetricAlarms"]]
    leftovers += [f"log group {g['logGroupName']}" for g in client("logs").describe_log_groups()["logGroups"]]
    leftovers += [f"sns topic {t['TopicArn']}" for t in client("sns").list_topics()["Topics"]]
    existing_roles = data.get("dms", {}).get("service_roles") == "existing"
    leftovers += [
        f"iam role {r['RoleName']}"
        for r in client("iam").list_roles()["Roles"]
        if r["RoleName"].endswith(f"-{suffix}") or (r["RoleName"].startswith("dms-") and not existing_roles)
    ]
    seeded_keys = {data["source"].get("credentials_kms_key_arn"), data["state_backend"].get("kms_key_id")}
    for key in kms.list_keys()["Keys"]:
        if key["KeyArn"] not in seeded_keys:
            state = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"]
            (scheduled if state == "PendingDeletion" else leftovers).append(f"kms key {key['KeyId']} ({state})")
    leftovers += [
        f"kms alias {a['AliasName']}" for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith(f"alias/{prefix}")
    ]
    seeded_groups = set(data["network"].get("application_security_group_ids", []))
    vpc_filter = [{"Name": "vpc-id", "Values": [data["network"]["vpc_id"]]}]
    leftovers += [
        f"security group {g['GroupName']} ({g['GroupId']})"
        for g in ec2.describe_security_groups(Filters=vpc_filter)["SecurityGroups"]
        if g["GroupName"] != "default" and g["GroupId"] not in seeded_groups
    ]
    return found


# --- Breaking a deployment on purpose (negative tests) ---------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Breakage:
    check: str
    """The verify check that must fail (and no other)."""
    description: str
    break_it: Callable[[], object]
    restore: Callable[[], object]


def breakages(aws: LocalAws, deployment: Deployment) -> list[Breakage]:
    """Changes an operator could make by hand, each with the check that must notice it."""
    outputs, seeded = deployment.outputs(), deployment.seeded
    rds, secrets_client = seeded.client(aws, "rds"), seeded.client(aws, "secretsmanager")
    found: list[Breakage] = []

    reader = str(outputs["instance_ids"][-1])
    retention = int(seeded.data.get("aurora", {}).get("performance_insights_retention_days", 7))
    found.append(
        Breakage(
            check="aurora.performance-insights",
            description=f"Performance Insights turned off on {reader}",
            break_it=lambda: rds.modify_db_instance(
                DBInstanceIdentifier=reader, EnablePerformanceInsights=False, ApplyImmediately=True
            ),
            restore=lambda: rds.modify_db_instance(
                DBInstanceIdentifier=reader,
                EnablePerformanceInsights=True,
                PerformanceInsightsRetentionPeriod=retention,
                ApplyImmediately=True,
            ),
        )
    )

    secret_arn = str(outputs["secret_arn"])
    original = secrets_client.get_secret_value(SecretId=secret_arn)["SecretString"]
    without_host = json.dumps({key: value for key, value in json.loads(original).items() if key != "host"})
    found.append(
        Breakage(
            check="secret.credentials",
            description="credentials secret rewritten without `host`",
            break_it=lambda: secrets_client.put_secret_value(SecretId=secret_arn, SecretString=without_host),
            restore=lambda: secrets_client.put_secret_value(SecretId=secret_arn, SecretString=original),
        )
    )

    if "dms_replication_instance_arn" in outputs:
        dms, instance_arn = seeded.client(aws, "dms"), str(outputs["dms_replication_instance_arn"])
        found.append(
            Breakage(
                check="dms.replication-instance",
                description="replication instance switched to single-AZ",
                break_it=lambda: dms.modify_replication_instance(
                    ReplicationInstanceArn=instance_arn, MultiAZ=False, ApplyImmediately=True
                ),
                restore=lambda: dms.modify_replication_instance(
                    ReplicationInstanceArn=instance_arn, MultiAZ=True, ApplyImmediately=True
                ),
            )
        )

    if "alarm_topic_arn" in outputs:
        cloudwatch = seeded.client(aws, "cloudwatch")
        latency = cloudwatch.describe_alarms(AlarmNames=[f"dms-cdc-latency-target-{seeded.suffix}"])["MetricAlarms"]
        if latency:
            latency_alarm = _put_alarm_arguments(latency[0])
            found.append(
                Breakage(
                    check="alarms.dms-cdc-latency",
                    description=f"alarm actions removed from {latency_alarm['AlarmName']}",
                    break_it=lambda: cloudwatch.put_metric_alarm(**{**latency_alarm, "AlarmActions": []}),
                    restore=lambda: cloudwatch.put_metric_alarm(**latency_alarm),
                )
            )
        cpu = [
            alarm
            for alarm in cloudwatch.describe_alarms(AlarmNamePrefix="aurora-cpu-utilization-")["MetricAlarms"]
            if alarm["AlarmName"].endswith(f"-{seeded.suffix}")
        ]
        if cpu:
            cpu_alarm = _put_alarm_arguments(cpu[-1])
            found.append(
                Breakage(
                    check="alarms.aurora-cpu",
                    description=f"alarm {cpu_alarm['AlarmName']} deleted",
                    break_it=lambda: cloudwatch.delete_alarms(AlarmNames=[cpu_alarm["AlarmName"]]),
                    restore=lambda: cloudwatch.put_metric_alarm(**cpu_alarm),
                )
            )
    return found


_PUT_ALARM_KEYS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
    "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
    "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
    "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId",
)  # fmt: skip


def _put_alarm_arguments(alarm: Mapping[str, Any]) -> dict[str, Any]:
    return {key: alarm[key] for key in _PUT_ALARM_KEYS if alarm.get(key) not in (None, [], "")}


# --- The assertions every deployment path shares ------------------------------------------------------


def assert_verify_passes(aws: LocalAws, deployment: Deployment) -> Ran:
    ran = deployment.verify(aws)
    statuses = check_lines(ran.output)
    assert ran.returncode == 0, f"verify failed (exit {ran.returncode}):\n{ran.output}"
    if "dms.connections" not in deployment.skip:
        assert statuses.get("dms.connections") == "SKIP", ran.output
        assert "skipped: emulator" in ran.output, ran.output
    ran_checks = {name for name, status in statuses.items() if status != "SKIP"}
    assert ran_checks, ran.output
    assert all(statuses[name] == "PASS" for name in ran_checks), ran.output
    _assert_password_not_shown(aws, deployment, ran.output)
    return ran


def assert_breakages_detected(aws: LocalAws, deployment: Deployment) -> list[str]:
    """Break each thing, expect exactly its check to fail (exit 1), restore it; then verify passes again."""
    detected = []
    for breakage in breakages(aws, deployment):
        breakage.break_it()
        try:
            ran = deployment.verify(aws)
        finally:
            breakage.restore()
        failed = sorted(name for name, status in check_lines(ran.output).items() if status == "FAIL")
        assert ran.returncode == 1, f"{breakage.description}: verify exited {ran.returncode}, expected 1:\n{ran.output}"
        assert failed == [breakage.check], f"{breakage.description}: expected only {breakage.check} to fail:\n{ran.output}"
        _assert_password_not_shown(aws, deployment, ran.output)
        detected.append(f"{breakage.check}: {breakage.description}")
    assert_verify_passes(aws, deployment)
    return detected


def _assert_password_not_shown(aws: LocalAws, deployment: Deployment, output: str) -> None:
    secret_arn = deployment.outputs()["secret_arn"]
    secret = deployment.seeded.client(aws, "secretsmanager").get_secret_value(SecretId=secret_arn)
    password = json.loads(secret["SecretString"]).get("password")
    assert password, "the credentials secret has no password to look for"
    assert password not in output, "verify printed the credentials secret's password"
