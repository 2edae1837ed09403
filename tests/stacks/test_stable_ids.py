"""Construct ids are the state address contract: they come from names, not list positions.

Removing one application network must remove exactly its rule; the rules of
the others keep their addresses. The ids that used to be positions are renamed
with `moved` blocks whose old addresses are computed with cdktf's own rule.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from config import EnvironmentConfig
from modules.moved import logical_id
from tests.helpers import Document, resources

CIDRS = ("10.10.64.0/20", "10.10.80.0/20", "10.10.96.0/20")
INGRESS = "aws_vpc_security_group_ingress_rule"


def synth_with_cidrs(config: EnvironmentConfig, cidrs: tuple[str, ...], outdir: Path) -> Document:
    from stacks.app import build_app

    network = config.network.model_copy(update={"application_cidr_blocks": cidrs})
    changed = config.model_copy(update={"network": network})
    build_app([changed], outdir=str(outdir)).synth()
    parsed: Document = json.loads((outdir / "stacks" / config.stack_name / "cdk.tf.json").read_text())
    return parsed


def without_metadata(document: Document) -> dict[str, Any]:
    """Every resource and data source by address, without cdktf's metadata (which lists the overrides)."""
    return {
        f"{kind}.{resource_type}.{name}": {key: value for key, value in body.items() if key != "//"}
        for kind in ("resource", "data")
        for resource_type, named in document.get(kind, {}).items()
        for name, body in named.items()
    }


def test_removing_the_first_application_cidr_changes_only_its_rule(
    environments: dict[str, EnvironmentConfig], tmp_path: Path
) -> None:
    config = environments["dev"]
    three = synth_with_cidrs(config, CIDRS, tmp_path / "three")
    two = synth_with_cidrs(config, CIDRS[1:], tmp_path / "two")
    before, after = without_metadata(three), without_metadata(two)

    removed = set(before) - set(after)
    assert len(removed) == 1 and not set(after) - set(before), (removed, set(after) - set(before))
    [address] = removed
    assert address.startswith(f"resource.{INGRESS}.") and before[address]["cidr_ipv4"] == CIDRS[0]
    changed = [key for key in after if after[key] != before[key]]
    assert changed == [], f"resources changed besides the removed rule: {changed}"


def test_rules_are_named_after_what_they_admit(synthesized: dict[str, Document]) -> None:
    names = set(resources(synthesized["prod"], INGRESS))
    assert any(name.startswith("network_aurora-from-sg-0c1b2c3d4e5f60031_") for name in names), names
    assert not any("application-group-" in name for name in names)


def test_logical_ids_are_computed_exactly_as_cdktf_allocates_them(synthesized: dict[str, Document]) -> None:
    """modules/moved.py reproduces cdktf's rule; every resource of a real stack proves it."""
    checked = 0
    for document in synthesized.values():
        for named in document["resource"].values():
            for name, body in named.items():
                components = body["//"]["metadata"]["path"].split("/")[1:]
                assert logical_id(components) == name
                checked += 1
    assert checked > 100


def test_former_positional_ids_move_to_the_named_ones(synthesized: dict[str, Document]) -> None:
    """The old addresses are the ones deployed states hold (taken from the snapshots before the rename)."""
    moves = {move["from"]: move["to"] for move in synthesized["prod"]["moved"]}
    rules = resources(synthesized["prod"], INGRESS)
    moved_to_group = moves[f"{INGRESS}.network_aurora-from-application-group-0_8D1AA9E5"]
    assert rules[moved_to_group.split(".", 1)[1]]["referenced_security_group_id"] == "sg-0c1b2c3d4e5f60031"
    subscriptions = resources(synthesized["prod"], "aws_sns_topic_subscription")
    moved_to_email = moves["aws_sns_topic_subscription.monitoring_subscription-0_6889FA65"]
    assert subscriptions[moved_to_email.split(".", 1)[1]]["protocol"] == "email"
    dev_moves = {move["from"]: move["to"] for move in synthesized["dev"]["moved"]}
    assert f"{INGRESS}.network_aurora-from-application-cidr-0_238E7B22" in dev_moves
