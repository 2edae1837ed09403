"""One private-DNS Secrets Manager endpoint per VPC, planned against the emulator (a few plans, no full stack).

`create` plans, applies and plans again cleanly (its own endpoint does not count); a second `create` in the same
VPC fails at plan time with the config field named; `lookup` finds the first one by VPC and service name.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cdktf import App, LocalBackend, TerraformStack

from contract.naming import Naming
from stacks.emulator import EMULATED_SERVICES
from tests.integration.harness import Account, LocalAws, Ran, Toolchain, run, subprocess_env

pytestmark = pytest.mark.integration
REGION = "eu-west-1"


def _network(aws: LocalAws, account: Account) -> tuple[str, dict[str, str], str]:
    ec2 = aws.client("ec2", REGION, account)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = {
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{index}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]: zone
        for index, zone in enumerate(("eu-west-1a", "eu-west-1b"))
    }
    dms_group = ec2.create_security_group(GroupName="dms", Description="dms", VpcId=vpc)["GroupId"]
    return vpc, subnets, dms_group


def _synth(aws: LocalAws, workdir: Path, *, suffix: str, endpoint: str, vpc: str, subnets: dict[str, str], group: str) -> Path:
    from modules.aws import AwsProvider, AwsProviderEndpoints
    from modules.secrets_endpoint import SecretsManagerEndpoint, SecretsManagerEndpointProps

    app = App(outdir=str(workdir / suffix))
    stack = TerraformStack(app, suffix)
    LocalBackend(stack, path=str(workdir / f"{suffix}.tfstate"))  # cdktf's default path is relative to the cwd
    AwsProvider(
        stack,
        "aws",
        region=REGION,
        endpoints=[AwsProviderEndpoints(**{service: aws.url for service in EMULATED_SERVICES})],
        skip_credentials_validation=True,
        skip_metadata_api_check="true",
        skip_region_validation=True,
    )
    props = SecretsManagerEndpointProps(
        naming=Naming(prefix="aurora-migration", suffix=suffix),
        region=REGION,
        vpc_id=vpc,
        vpc_cidr_block="10.40.0.0/16",
        subnets=subnets,
        dms_security_group_id=group,
        endpoint=endpoint,
    )
    SecretsManagerEndpoint(stack, "secrets-manager-endpoint", props=props)
    app.synth()
    return workdir / suffix / "stacks" / suffix


def _terraform(toolchain: Toolchain, account: Account, stack_dir: Path, *args: str) -> Ran:
    env = subprocess_env(toolchain, account)
    if not (stack_dir / ".terraform").is_dir():
        init = run((str(toolchain.terraform), "init", "-input=false", "-no-color"), cwd=stack_dir, env=env)
        assert init.returncode == 0, init.tail()
    return run((str(toolchain.terraform), *args, "-input=false", "-no-color"), cwd=stack_dir, env=env)


def test_one_private_dns_endpoint_per_vpc(local_aws: LocalAws, toolchain: Toolchain, workdir: Path) -> None:
    account = local_aws.account("555555555555")
    vpc, subnets, group = _network(local_aws, account)

    base = _synth(local_aws, workdir, suffix="base", endpoint="create", vpc=vpc, subnets=subnets, group=group)
    applied = _terraform(toolchain, account, base, "apply", "-auto-approve")
    assert applied.returncode == 0, applied.tail()
    # Exit 2 is "changes": moto drops security group rule descriptions, so the rules show an update. 1 is an error.
    again = _terraform(toolchain, account, base, "plan", "-detailed-exitcode")
    assert again.returncode in (0, 2), f"its own endpoint must not fail the next plan:\n{again.tail()}"
    assert "aws_vpc_endpoint.secrets-manager-endpoint_AE481476 will be" not in again.output, again.tail()

    second = _synth(local_aws, workdir, suffix="second", endpoint="create", vpc=vpc, subnets=subnets, group=group)
    refused = _terraform(toolchain, account, second, "plan")
    assert refused.returncode != 0, "a second private-DNS endpoint in the VPC was planned"
    assert "network.secrets_manager_endpoint = 'create', but VPC" in refused.output, refused.tail()
    assert "conflicting DNS domain" in refused.output

    shared = _synth(local_aws, workdir, suffix="pr7", endpoint="lookup", vpc=vpc, subnets=subnets, group=group)
    planned = _terraform(toolchain, account, shared, "plan")
    assert planned.returncode == 0, planned.tail()
    assert "aws_vpc_security_group_ingress_rule.secrets-manager-endpoint_from-dms" in planned.output
    assert "aws_vpc_endpoint.secrets-manager-endpoint" not in planned.output.replace("data.aws_vpc_endpoint", "")

    destroyed = _terraform(toolchain, account, base, "destroy", "-auto-approve")
    assert destroyed.returncode == 0, destroyed.tail()
