"""API requests (as an emulator receives them) checked against botocore's input shapes.

Used by the integration tests' stricter emulator: moto accepts almost any
value, so every request Terraform sends to it is first checked here for
required members, enums, lengths, numeric ranges and patterns. JSON-protocol
bodies are checked as they are; query- and EC2-protocol parameters
(`Tags.member.1.Key=...`) are first folded back into the shape, the way
botocore's serializers flatten them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

import botocore.session
from botocore.model import ListShape, OperationModel, Shape, StructureShape

from review.aws_contract.api_model import shape_problems

CHECKED_PROTOCOLS = ("json", "query", "ec2")


@functools.cache
def operation(service: str, name: str) -> OperationModel | None:
    model = botocore.session.get_session().get_service_model(service)
    if model.protocol not in CHECKED_PROTOCOLS or name not in model.operation_names:
        return None
    return model.operation_model(name)


def request_problems(service: str, operation_name: str, params: Mapping[str, Any]) -> list[str]:
    """`Member.Path = value: rule` for every violation; [] for protocols or operations not checked.

    `params`: the decoded JSON body (json protocol), or the flat query parameters (query/ec2 protocols).
    """
    model = operation(service, operation_name)
    if model is None or model.input_shape is None:
        return []
    protocol = model.metadata["protocol"]
    value = params if protocol == "json" else _fold(model.input_shape, params, "", protocol)
    return list(_problems(model.input_shape, value, operation_name, protocol))


def _problems(shape: Shape, value: Any, path: str, protocol: str) -> Iterator[str]:
    if value is None:
        return
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        for required in shape.required_members:
            wire = _wire_name(required, shape.members[required], protocol)
            if wire not in value and required not in value:
                yield f"{path}.{required}: required member missing"
        for name, member in shape.members.items():
            key = name if name in value else _wire_name(name, member, protocol)
            if key in value:
                yield from _problems(member, value[key], f"{path}.{name}", protocol)
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _problems(shape.member, item, f"{path}[{index}]", protocol)
    elif shape.type_name in ("string", "integer", "long", "double", "float"):
        for problem in shape_problems(shape, value):
            yield f"{path} = {value!r}: {problem}"


def _wire_name(name: str, member: Shape, protocol: str) -> str:
    if protocol == "ec2":
        if "queryName" in member.serialization:
            return str(member.serialization["queryName"])
        wire = str(member.serialization.get("name", name))
        return wire[0].upper() + wire[1:]
    return str(member.serialization.get("name", name))


def _fold(shape: Shape, params: Mapping[str, Any], key: str, protocol: str) -> Any:
    """The value `key` denotes in flat query parameters, shaped like `shape` (None when absent)."""
    if isinstance(shape, StructureShape):
        folded = {}
        for name, member in shape.members.items():
            full = ".".join(filter(None, (key, _wire_name(name, member, protocol))))
            if any(param == full or param.startswith(f"{full}.") for param in params):
                folded[name] = _fold(member, params, full, protocol)
        return folded
    if isinstance(shape, ListShape):
        element = shape.member
        if protocol == "ec2":
            prefix = key
        elif shape.serialization.get("flattened"):
            prefix = (
                ".".join([*key.split(".")[:-1], str(element.serialization["name"])]) if "name" in element.serialization else key
            )
        else:
            prefix = f"{key}.{element.serialization.get('name', 'member')}"
        pattern = re.compile(rf"{re.escape(prefix)}\.(\d+)(?:\.|$)")
        indices = sorted({int(match.group(1)) for param in params if (match := pattern.match(param))})
        return [_fold(element, params, f"{prefix}.{index}", protocol) for index in indices]
    if shape.type_name == "map":
        return None
    raw = params.get(key)
    value = raw[0] if isinstance(raw, list) and raw else raw
    if shape.type_name in ("integer", "long") and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value
