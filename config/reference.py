"""The README's configuration reference, generated from the model.

`python -m config.reference` prints the table; `--write README.md` replaces
the table between the README's config-reference markers.
"""

from __future__ import annotations

import sys
from pathlib import Path

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


START_MARKER = "<!-- config-reference:start -->"
END_MARKER = "<!-- config-reference:end -->"


def with_reference(readme: str) -> str:
    """`readme` with the generated table between the markers."""
    head, _, rest = readme.partition(START_MARKER)
    _, _, tail = rest.partition(END_MARKER)
    return f"{head}{START_MARKER}\n{reference_table()}\n{END_MARKER}{tail}"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write"]:
        target = Path(sys.argv[2])
        target.write_text(with_reference(target.read_text()))
    else:
        print(reference_table())
