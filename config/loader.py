"""Reads environment files and turns every validation problem into one readable line."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from config.model import EnvironmentConfig

CONFIG_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True, kw_only=True)
class ConfigError(Exception):
    """All problems found in one or more config files, one line each."""

    problems: tuple[str, ...]

    def __str__(self) -> str:
        return "\n".join(self.problems)


def environment_files(config_dir: Path = CONFIG_DIR) -> list[Path]:
    """The environment files in `config_dir`, sorted by name."""
    return sorted(config_dir.glob("*.toml"))


def load_environment(path: Path, *, overrides: Mapping[str, Any] | None = None) -> EnvironmentConfig:
    """Load and validate one file; raise ConfigError naming every problem."""
    label = _label(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(problems=(f"{label}: file not found",)) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(problems=(f"{label}: not valid TOML: {error}",)) from None
    data.update(overrides or {})
    try:
        return EnvironmentConfig.model_validate(data, context={"config_dir": path.parent})
    except ValidationError as error:
        raise ConfigError(problems=tuple(f"{label}: {line}" for line in describe_errors(error))) from None


def load_environments(
    paths: Iterable[Path], *, ephemeral_suffix: str | None = None, ephemeral_base: str = "dev"
) -> list[EnvironmentConfig]:
    """Load every file, collecting all problems of all files before failing.

    With `ephemeral_suffix`, the environment whose suffix is `ephemeral_base` is
    loaded a second time under the new suffix (a short-lived stack, e.g. per
    pull request) without a file of its own.
    """
    paths = list(paths)
    configs: list[EnvironmentConfig] = []
    problems: list[str] = [] if paths else ["no environment files (*.toml) found"]
    for path in paths:
        try:
            configs.append(load_environment(path))
        except ConfigError as error:
            problems.extend(error.problems)
    if ephemeral_suffix is not None and not problems:
        base = next((path for path, cfg in zip(paths, configs, strict=True) if cfg.environment_suffix == ephemeral_base), None)
        if base is None:
            known = ", ".join(c.environment_suffix for c in configs) or "none"
            problems.append(f"ENVIRONMENT_SUFFIX: base environment {ephemeral_base!r} not found (known: {known})")
        else:
            try:
                configs.append(load_environment(base, overrides={"environment_suffix": ephemeral_suffix}))
            except ConfigError as error:
                problems.extend(
                    line.replace(_label(base), f"{_label(base)} (as ENVIRONMENT_SUFFIX={ephemeral_suffix})", 1)
                    for line in error.problems
                )
    suffixes = [c.environment_suffix for c in configs]
    for duplicate in sorted({s for s in suffixes if suffixes.count(s) > 1}):
        problems.append(f"environment_suffix {duplicate!r} is used by more than one environment")
    if problems:
        raise ConfigError(problems=tuple(problems))
    return configs


def describe_errors(error: ValidationError) -> list[str]:
    """`field.path: what is wrong, got <value>` for each pydantic error."""
    lines = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(item["loc"][:-1])
            message = f"unknown key (allowed here: {', '.join(allowed)})"
        elif item["type"] == "missing":
            message = "required field is missing"
        got = "" if item["type"] in ("missing", "extra_forbidden") else f", got {item['input']!r}"
        lines.append(f"{location}: {message}{got}" if location else f"{message}{got}")
    return lines


def _allowed_keys(location: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = EnvironmentConfig
    for part in location:
        annotation = model.model_fields[str(part)].annotation if str(part) in model.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
