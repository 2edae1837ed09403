"""Stacks, the values in them, and the violation record every rule produces."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.layout import STACK_FILE

BLOCKS = {"resource": "", "data": "data.", "ephemeral": "ephemeral."}


class UnreadableInputError(Exception):
    """A path that is not a stack folder (or folder of them), or a stack file that is not JSON."""


@dataclass(frozen=True, kw_only=True)
class Violation:
    stack: str
    address: str
    attribute: str
    value: Any
    rule: str
    source: str

    def line(self) -> str:
        return f"{self.stack}: {self.address}.{self.attribute} = {self.value!r}: {self.rule} [source: {self.source}]"


@dataclass(frozen=True, kw_only=True)
class Stack:
    name: str
    document: Mapping[str, Any]

    def elements(self, block_type: str) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
        """(resource type, address, body) of every element of a block type: `resource`, `data` or `ephemeral`."""
        for resource_type, bodies in sorted(self.document.get(block_type, {}).items()):
            for name, body in sorted(bodies.items()):
                yield resource_type, f"{BLOCKS[block_type]}{resource_type}.{name}", body

    def resource_types(self) -> set[str]:
        return {f"{BLOCKS[block]}{kind}" for block in BLOCKS for kind in self.document.get(block, {})}


def is_expression(value: Any) -> bool:
    """A Terraform expression is only known at plan time: rules on values skip it."""
    return isinstance(value, str) and ("${" in value or "%{" in value)


def values_at(body: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(attribute path, value) for `path` (dots; nested blocks may be objects or lists of objects)."""
    head, _, rest = path.partition(".")
    items = body if isinstance(body, list) else [body]
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or head not in item:
            continue
        prefix = f"{head}[{index}]" if isinstance(body, list) else head
        if rest:
            for sub_path, value in values_at(item[head], rest):
                yield f"{prefix}.{sub_path}", value
        else:
            yield prefix, item[head]


def load_stacks(paths: list[Path]) -> list[Stack]:
    """Every stack under `paths`; UnreadableInputError names the first path that is neither."""
    files: list[Path] = []
    for path in paths:
        if (path / STACK_FILE).is_file():
            files.append(path / STACK_FILE)
        elif path.is_dir() and (found := sorted(path.glob(f"*/{STACK_FILE}"))):
            files.extend(found)
        else:
            raise UnreadableInputError(f"{path}: neither a stack folder (with {STACK_FILE}) nor a folder of stack folders")
    stacks = []
    for file in files:
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UnreadableInputError(f"{file}: not readable JSON ({error})") from None
        if not isinstance(document, dict):
            raise UnreadableInputError(f"{file}: not a Terraform JSON document")
        stacks.append(Stack(name=file.parent.name, document=document))
    return stacks
