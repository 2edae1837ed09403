"""Synthesized stacks as data: loading, the snapshot format, and an address-level diff.

A snapshot is the stack's `cdk.tf.json` re-serialized with sorted keys and a
2-space indent, so a change to one attribute is a change to one line. The diff
works on Terraform addresses (`aws_rds_cluster.aurora_cluster_059EF40F`), the
same addresses `terraform plan` and the state use.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.layout import STACK_FILE, STACKS_DIR
from contract.layout import SYNTH_DIR as DEFAULT_SYNTH_DIR

Document = dict[str, Any]

REPO_ROOT = Path(__file__).resolve().parent.parent
SYNTH_DIR = REPO_ROOT / DEFAULT_SYNTH_DIR
METADATA_KEY = "//"
# Blocks whose entries have Terraform addresses; everything else is compared as "other" blocks.
ADDRESSED_BLOCKS = {"resource": "", "data": "data.", "ephemeral": "ephemeral."}
# Attributes that carry a resource's physical name: equal names under two addresses suggest a rename.
PHYSICAL_NAME_KEYS = (
    "name",
    "identifier",
    "cluster_identifier",
    "replication_instance_id",
    "replication_task_id",
    "replication_subnet_group_id",
    "endpoint_id",
    "certificate_id",
    "alarm_name",
    "dashboard_name",
)
EMBEDDED_JSON_MARK = "::"


def snapshot_text(document: Mapping[str, Any]) -> str:
    """The committed form of a stack: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def snapshot_path(snapshot_dir: Path, stack_name: str) -> Path:
    return snapshot_dir / f"{stack_name}.json"


def load_synth(outdir: Path) -> dict[str, Document]:
    """Every `<outdir>/stacks/<stack>/cdk.tf.json`, keyed by stack name."""
    return {
        path.parent.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((outdir / STACKS_DIR).glob(f"*/{STACK_FILE}"))
    }


def load_snapshots(snapshot_dir: Path) -> dict[str, Document]:
    """Every `<snapshot_dir>/<stack>.json`, keyed by stack name."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(snapshot_dir.glob("*.json"))}


def _without_metadata(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_metadata(item) for key, item in value.items() if key != METADATA_KEY}
    if isinstance(value, list):
        return [_without_metadata(item) for item in value]
    return value


def addressed(document: Mapping[str, Any]) -> dict[str, Any]:
    """Resources, data sources and ephemeral resources by Terraform address, cdktf metadata removed."""
    found: dict[str, Any] = {}
    for block, prefix in ADDRESSED_BLOCKS.items():
        for resource_type, instances in (document.get(block) or {}).items():
            for name, body in instances.items():
                found[f"{prefix}{resource_type}.{name}"] = _without_metadata(body)
    return found


def other_blocks(document: Mapping[str, Any]) -> dict[str, Any]:
    """Provider, backend, outputs, ...: `output.cluster_endpoint`, `terraform.backend`, `provider.aws`."""
    found: dict[str, Any] = {}
    for block, content in document.items():
        if block in ADDRESSED_BLOCKS or block == METADATA_KEY:
            continue
        if isinstance(content, dict):
            for name, body in content.items():
                found[f"{block}.{name}"] = _without_metadata(body)
        else:
            found[block] = _without_metadata(content)
    return found


def resource_counts(document: Mapping[str, Any]) -> Counter[str]:
    """Managed resources per type."""
    return Counter({resource_type: len(instances) for resource_type, instances in (document.get("resource") or {}).items()})


def data_source_count(document: Mapping[str, Any]) -> int:
    return sum(len(instances) for instances in (document.get("data") or {}).values())


def _embedded_json(value: Any) -> Any | None:
    """A string attribute that holds a JSON object or array (policies, DMS task settings), parsed."""
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


def _join(prefix: str, key: str) -> str:
    if not prefix or prefix.endswith(EMBEDDED_JSON_MARK):
        return f"{prefix}{key}"
    return f"{prefix}.{key}"


def changed_paths(old: Any, new: Any, prefix: str = "") -> Iterator[str]:
    """Paths (`parameter[4].value`, `replication_task_settings::Logging.EnableLogging`) whose values differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            path = _join(prefix, key)
            if key not in old or key not in new:
                yield path
            else:
                yield from changed_paths(old[key], new[key], path)
        return
    if isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            path = f"{prefix}[{index}]"
            if index >= len(old) or index >= len(new):
                yield path
            else:
                yield from changed_paths(old[index], new[index], path)
        return
    if old == new:
        return
    old_json, new_json = _embedded_json(old), _embedded_json(new)
    if old_json is not None and new_json is not None:
        yield from changed_paths(old_json, new_json, f"{prefix}{EMBEDDED_JSON_MARK}")
        return
    yield prefix or "(value)"


@dataclass(frozen=True)
class Rename:
    removed: str
    added: str


@dataclass
class StackDiff:
    """How `new` differs from `old`, by address. Empty when the two are the same stack."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    renames: list[Rename] = field(default_factory=list)
    other_added: list[str] = field(default_factory=list)
    other_removed: list[str] = field(default_factory=list)
    other_changed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.other_added or self.other_removed or self.other_changed)

    def summary_lines(self, *, max_paths: int = 8) -> list[str]:
        """Short human-readable lines, used in test failure messages."""
        lines = [f"added:   {address}" for address in self.added]
        lines += [f"removed: {address}" for address in self.removed]
        for address, paths in {**self.changed, **self.other_changed}.items():
            lines.append(f"changed: {address} ({_abbreviate(paths, max_paths)})")
        lines += [f"added:   {name}" for name in self.other_added]
        lines += [f"removed: {name}" for name in self.other_removed]
        lines += [f"rename?  {rename.removed} -> {rename.added} (destroy + create unless moved)" for rename in self.renames]
        return lines


def _abbreviate(paths: list[str], limit: int) -> str:
    shown = ", ".join(paths[:limit])
    return shown if len(paths) <= limit else f"{shown}, +{len(paths) - limit} more"


def _physical_names(body: Any) -> set[str]:
    if not isinstance(body, dict):
        return set()
    return {f"{key}={body[key]}" for key in PHYSICAL_NAME_KEYS if isinstance(body.get(key), str) and body[key]}


def _likely_renames(old: Mapping[str, Any], new: Mapping[str, Any], removed: list[str], added: list[str]) -> list[Rename]:
    """A removed and an added address of one type with the same body or physical name: a logical-id change."""
    renames = []
    candidates = list(added)
    for gone in removed:
        gone_type = gone.rsplit(".", 1)[0]
        for fresh in candidates:
            if fresh.rsplit(".", 1)[0] != gone_type:
                continue
            if old[gone] == new[fresh] or _physical_names(old[gone]) & _physical_names(new[fresh]):
                renames.append(Rename(removed=gone, added=fresh))
                candidates.remove(fresh)
                break
    return renames


def diff_stacks(old: Mapping[str, Any], new: Mapping[str, Any]) -> StackDiff:
    old_addressed, new_addressed = addressed(old), addressed(new)
    result = StackDiff(
        added=sorted(set(new_addressed) - set(old_addressed)),
        removed=sorted(set(old_addressed) - set(new_addressed)),
    )
    for address in sorted(set(old_addressed) & set(new_addressed)):
        paths = list(changed_paths(old_addressed[address], new_addressed[address]))
        if paths:
            result.changed[address] = paths
    result.renames = _likely_renames(old_addressed, new_addressed, result.removed, result.added)

    old_other, new_other = other_blocks(old), other_blocks(new)
    result.other_added = sorted(set(new_other) - set(old_other))
    result.other_removed = sorted(set(old_other) - set(new_other))
    for name in sorted(set(old_other) & set(new_other)):
        paths = list(changed_paths(old_other[name], new_other[name]))
        if paths:
            result.other_changed[name] = paths
    return result
