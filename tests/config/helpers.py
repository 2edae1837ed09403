"""Helpers of the config tests: the dev file as data, a small TOML writer, the problems a bad file reports."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, load_environment
from config.loader import CONFIG_DIR

DEV = CONFIG_DIR / "dev.toml"


def dev_data() -> dict[str, Any]:
    with DEV.open("rb") as handle:
        return tomllib.load(handle)


def write_toml(path: Path, data: dict[str, Any]) -> Path:
    """A tiny TOML writer for the shapes our config uses (tables, arrays, inline string maps)."""

    def value(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int | float):
            return str(item)
        if isinstance(item, str):
            return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(item, list):
            return "[" + ", ".join(value(v) for v in item) + "]"
        if isinstance(item, dict):
            return "{ " + ", ".join(f"{value(k)} = {value(v)}" for k, v in item.items()) + " }"
        raise TypeError(item)

    top = [f"{key} = {value(item)}" for key, item in data.items() if not isinstance(item, dict)]
    sections = [
        f"[{key}]\n" + "\n".join(f"{value(k) if not k.isidentifier() else k} = {value(v)}" for k, v in item.items())
        for key, item in data.items()
        if isinstance(item, dict)
    ]
    path.write_text("\n".join(top) + "\n\n" + "\n\n".join(sections) + "\n")
    return path


def problems_for(tmp_path: Path, data: dict[str, Any], *, today: dt.date | None = None) -> list[str]:
    copy_example_ca(tmp_path)
    path = write_toml(tmp_path / "env.toml", data)
    with pytest.raises(ConfigError) as caught:
        load_environment(path, today=today)
    return list(caught.value.problems)


def copy_example_ca(folder: Path) -> None:
    """The example CA bundles at `certs/` in `folder`, where dev.toml's CA files point."""
    (folder / "certs").mkdir(exist_ok=True)
    for name in ("example-onprem-ca.pem", "example-rds-ca.pem"):
        (folder / "certs" / name).write_text((CONFIG_DIR / "certs" / name).read_text())
