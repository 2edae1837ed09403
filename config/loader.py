"""Reads environment files and turns every validation problem into one readable line."""

from __future__ import annotations

import datetime as dt
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


def load_environment(
    path: Path, *, overrides: Mapping[str, Any] | None = None, today: dt.date | None = None
) -> EnvironmentConfig:
    """Load and validate one file; raise ConfigError naming every problem.

    `overrides` replace top-level keys, or keys of a top-level table when given as a mapping.
    `today` decides which DMS engine deadlines have passed (default: the real date).
    """
    label = _label(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(problems=(f"{label}: file not found",)) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(problems=(f"{label}: not valid TOML: {error}",)) from None
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    try:
        return EnvironmentConfig.model_validate(data, context={"config_dir": path.parent, "today": today})
    except ValidationError as error:
        raise ConfigError(problems=tuple(f"{label}: {line}" for line in describe_errors(error))) from None


def find_environment(env: str, *, overrides: Mapping[str, Any] | None = None, config_dir: Path = CONFIG_DIR) -> EnvironmentConfig:
    """The environment `env` names: a file stem in `config_dir` (`dev`), else an `environment_suffix`."""
    files = environment_files(config_dir)
    by_stem = {path.stem: path for path in files}
    if env in by_stem:
        return load_environment(by_stem[env], overrides=overrides)
    for path in files:
        config = load_environment(path)
        if config.environment_suffix == env:
            return load_environment(path, overrides=overrides) if overrides else config
    raise ConfigError(problems=(f"{env}: no such environment (known: {', '.join(sorted(by_stem)) or 'none'})",))


def load_environments(
    paths: Iterable[Path], *, ephemeral_suffix: str | None = None, ephemeral_base: str = "dev"
) -> list[EnvironmentConfig]:
    """Load every file, collecting all problems of all files before failing.

    With `ephemeral_suffix`, the environment whose suffix is `ephemeral_base` is
    loaded a second time under the new suffix (a short-lived stack, e.g. per
    pull request) without a file of its own, with what the base environment owns left to it
    (`ephemeral_overrides`).
    """
    paths = list(paths)
    loaded: dict[Path, EnvironmentConfig] = {}
    problems: list[str] = [] if paths else ["no environment files (*.toml) found"]
    for path in paths:
        try:
            loaded[path] = load_environment(path)
        except ConfigError as error:
            problems.extend(error.problems)
    problems += _service_role_owners(loaded)
    problems += _secrets_endpoint_owners(loaded)
    configs = list(loaded.values())
    if ephemeral_suffix is not None and not problems:
        base = next((path for path, cfg in loaded.items() if cfg.environment_suffix == ephemeral_base), None)
        if base is None:
            known = ", ".join(c.environment_suffix for c in configs) or "none"
            problems.append(f"ENVIRONMENT_SUFFIX: base environment {ephemeral_base!r} not found (known: {known})")
        else:
            try:
                configs.append(load_environment(base, overrides=ephemeral_overrides(loaded[base], suffix=ephemeral_suffix)))
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


def ephemeral_overrides(base: EnvironmentConfig, *, suffix: str) -> dict[str, Any]:
    """How a short-lived stack differs from its base environment, besides its suffix.

    - The DMS service roles are account-wide and the base owns them: `existing`.
    - A VPC holds one private-DNS Secrets Manager endpoint (a second fails with "conflicting DNS domain",
      terraform-provider-aws #17535): a base that creates one shares it (`lookup`, found by VPC and service).
    - Its secrets are deleted at once (recovery window 0): a rebuild under the same suffix would otherwise find the
      names still held by the deleted secrets (Secrets Manager DeleteSecret, RecoveryWindowInDays).
    """
    overrides: dict[str, Any] = {
        "environment_suffix": suffix,
        "dms": {"service_roles": "existing"},
        "aurora": {"secret_recovery_window_days": 0},
    }
    if base.network.secrets_manager_endpoint == "create":
        overrides["network"] = {"secrets_manager_endpoint": "lookup"}
    return overrides


def _secrets_endpoint_owners(loaded: Mapping[Path, EnvironmentConfig]) -> list[str]:
    """One private-DNS Secrets Manager endpoint per VPC: at most one environment of a VPC may `create` it.

    Private DNS gives the VPC a private hosted zone for `secretsmanager.<region>.amazonaws.com`; a second endpoint
    with private DNS in the same VPC fails (terraform-provider-aws #17535; botocore ec2
    CreateVpcEndpointRequest.PrivateDnsEnabled). VPC ids are matched within a region.
    """
    creators: dict[tuple[str, str], list[str]] = {}
    for path, config in loaded.items():
        if config.network.secrets_manager_endpoint == "create":
            creators.setdefault((config.aws_region, config.network.vpc_id), []).append(_label(path))
    return [
        f"{', '.join(files)}: network.secrets_manager_endpoint: more than one environment in VPC {vpc} ({region}) says "
        "'create'; a VPC holds one private-DNS Secrets Manager endpoint: keep 'create' in one file and set 'lookup' "
        "(or the endpoint's id) in the others"
        for (region, vpc), files in sorted(creators.items())
        if len(files) > 1
    ]


def _service_role_owners(loaded: Mapping[Path, EnvironmentConfig]) -> list[str]:
    """`dms-vpc-role` and `dms-cloudwatch-logs-role` exist once per account: only one environment may create them.

    Environments are matched by `allowed_account_ids`; without it the account is unknown and not checked.
    """
    creators: dict[str, list[str]] = {}
    for path, config in loaded.items():
        if config.dms.service_roles == "create":
            for account in config.allowed_account_ids:
                creators.setdefault(account, []).append(_label(path))
    return [
        f"{', '.join(files)}: dms.service_roles: more than one environment in account {account} says 'create'; "
        "the roles are account-wide: keep 'create' in one file and set 'existing' in the others"
        for account, files in sorted(creators.items())
        if len(files) > 1
    ]


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
        # Rules of a whole table (cross-field) name their fields and values themselves: never echo the table.
        whole_table = _is_table(item["loc"])
        got = "" if item["type"] in ("missing", "extra_forbidden") or whole_table else f", got {item['input']!r}"
        for line in message.splitlines():
            lines.append(f"{location}: {line}{got}" if location else f"{line}{got}")
    return lines


def _is_table(location: tuple[int | str, ...]) -> bool:
    """Whether `location` is a model (a TOML table), not one field of it."""
    model: type[BaseModel] = EnvironmentConfig
    for part in location:
        annotation = model.model_fields[str(part)].annotation if str(part) in model.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return False
        model = annotation
    return True


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
