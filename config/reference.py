"""Print the README's configuration reference table from the model: `python -m config.reference`."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from config.model import EnvironmentConfig


def reference_table(model: type[BaseModel] = EnvironmentConfig) -> str:
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]
    rows.extend(_rows(model, prefix=""))
    return "\n".join(rows)


def _rows(model: type[BaseModel], *, prefix: str) -> list[str]:
    rows: list[str] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested.append((name, annotation))
            continue
        rows.append(f"| `{prefix}{name}` | {_default(info)} | {(info.description or '').replace('|', '/')} |")
    for name, section in nested:
        rows.append(f"| **`[{name}]`** | | {(section.__doc__ or '').strip().splitlines()[0]} |")
        rows.extend(_rows(section, prefix=f"{name}."))
    return rows


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    value = info.get_default(call_default_factory=True) if info.default is PydanticUndefined else info.default
    if isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
        value = [item.model_dump() for item in value]
    return f"`{value!r}`".replace("|", "/") if value not in ((), {}, None) else "none"


if __name__ == "__main__":
    print(reference_table())
