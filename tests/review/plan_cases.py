"""Shared helpers of the plan risk tests: the fixture plans, running the command, writing plans and acknowledgements."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from review.plan_risk.__main__ import main

PLANS = Path(__file__).parent / "plan_fixtures"
DEV = "aurora-migration-dev"
PROD = "aurora-migration-prod"
CLUSTER = "aws_rds_cluster.aurora_cluster_059EF40F"
REASON = "dev holds no data yet, recreated on purpose"


def run(capsys: pytest.CaptureFixture[str], *argv: str, acknowledgements: Path | None = None) -> tuple[int, str, str]:
    """main() with an empty acknowledgement file unless one is given (the repository's file must not matter)."""
    code = main([*argv, "--acknowledgements", str(acknowledgements or Path(os.devnull))])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fixture(name: str) -> str:
    return str(PLANS / name)


def configuration(environment: str = "dev", project: str = "aurora-migration") -> dict[str, Any]:
    """What `terraform show -json` says about the AWS provider of a stack: its default tags name the stack."""
    tags = {"environment": environment, "project": project}
    return {
        "provider_config": {
            "aws": {"name": "aws", "expressions": {"default_tags": [{"tags": {"constant_value": tags}}]}},
        },
        "root_module": {},
    }


def for_environment(source: Path, environment: str, target: Path) -> Path:
    """A copy of a fixture plan whose provider says it is for another environment (same changes)."""
    plan = json.loads(source.read_text())
    plan["configuration"] = configuration(environment)
    target.write_text(json.dumps(plan))
    return target


def write_plan(tmp_path: Path, *changes: dict[str, Any], name: str = "plan.json", environment: str = "dev") -> Path:
    path = tmp_path / name
    plan = {"format_version": "1.2", "planned_values": {}, "resource_changes": list(changes)}
    path.write_text(json.dumps({**plan, "configuration": configuration(environment)}))
    return path


def resource_change(address: str, actions: list[str], **change: Any) -> dict[str, Any]:
    resource_type, name = address.split(".", 1)
    extra = {"action_reason": change.pop("action_reason")} if "action_reason" in change else {}
    body = {"actions": actions, "before": {}, "after": {}, "before_sensitive": {}, "after_sensitive": {}, **change}
    return {"address": address, "mode": "managed", "type": resource_type, "name": name, "change": body, **extra}


def write_acknowledgements(path: Path, *entries: tuple[str, str, str], reason: str = REASON) -> Path:
    """`[[acknowledge]]` tables for (address, stack, change) triples."""
    path.write_text(
        "".join(
            f"[[acknowledge]]\naddress = {json.dumps(address)}\nstack = {json.dumps(stack)}\n"
            f'change = "{kind}"\nreason = "{reason}"\n'
            for address, stack, kind in entries
        )
    )
    return path


def section(out: str, title: str) -> str:
    """The text of one `### title (n)` section of a stack, up to the next heading."""
    return out.split(f"### {title}", 1)[1].split("\n### ", 1)[0]


def line_of(text: str, address: str, kind: str = "") -> str:
    """The one risk line of `address` (and kind) in `text`."""
    [line] = [
        line for line in text.splitlines() if line.startswith(f"- **`{address}`**") and (not kind or f"Change: `{kind}`" in line)
    ]
    return line
