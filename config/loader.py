"""Reads environment files and turns every validation problem into one readable line."""

from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from config.model import EnvironmentConfig, cross_field_problems

CONFIG_DIR = Path(__file__).resolve().parent
CONFIG_DIR_ENV_VAR = "AURORA_MIGRATION_CONFIG_DIR"
SUFFIX_ENV_VAR = "ENVIRONMENT_SUFFIX"
BASE_ENV_VAR = "ENVIRONMENT_BASE"
DEFAULT_BASE = "dev"
# What `ENV=pr42` alone gets: a short-lived stack has no file, so it is named by its base and its suffix.
SHORT_LIVED_HINT = (
    "a short-lived stack: make ENV=<base> SUFFIX={env}, or --env <base> --suffix {env} (docs/short-lived-stacks.md)"
)


@dataclass(frozen=True, kw_only=True)
class ConfigError(Exception):
    """All problems found in one or more config files, one line each."""

    problems: tuple[str, ...]

    def __str__(self) -> str:
        return "\n".join(self.problems)


def environment_files(config_dir: Path = CONFIG_DIR) -> list[Path]:
    """The environment files in `config_dir`, sorted by name; ConfigError names a folder that does not exist."""
    if not config_dir.is_dir():
        raise ConfigError(problems=(f"{_label(config_dir)}: config folder not found (or not a folder)",))
    return sorted(path for path in config_dir.iterdir() if path.suffix.lower() == ".toml")


def load_environment(
    path: Path, *, overrides: Mapping[str, Any] | None = None, today: dt.date | None = None
) -> EnvironmentConfig:
    """Load and validate one file; raise ConfigError naming every problem.

    `overrides` replace top-level keys, or keys of a top-level table when given as a mapping.
    `today` decides which DMS engine deadlines have passed (default: the real date).
    """
    label = _label(path)
    if path.is_dir():
        raise ConfigError(problems=(f"{label}: a folder, not an environment file",))
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(problems=(f"{label}: file not found",)) from None
    except UnicodeDecodeError as error:
        raise ConfigError(problems=(f"{label}: not UTF-8 text (byte {error.start + 1}); TOML files are UTF-8",)) from None
    except OSError as error:
        raise ConfigError(problems=(f"{label}: cannot be read ({error.strerror})",)) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(problems=(f"{label}: not valid TOML: {error}",)) from None
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    dated = [f"{label}: {location}: a TOML date or time, which no field takes, got {value}" for location, value in _dates(data)]
    if dated:
        raise ConfigError(problems=tuple(dated))
    context = {"config_dir": path.parent, "today": today}
    try:
        # As JSON, so strict mode refuses "2" for an integer while arrays still fill tuples and strings fill paths.
        return EnvironmentConfig.model_validate_json(json.dumps(data), context=context)
    except ValidationError as error:
        lines = describe_errors(error) + partial_problems(data, error, context=context)
        raise ConfigError(problems=tuple(f"{label}: {line}" for line in lines)) from None


def _dates(data: Any, location: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from _dates(value, f"{location}.{key}" if location else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _dates(value, f"{location}[{index}]")
    elif isinstance(data, dt.date | dt.time):
        yield location, data


def partial_problems(data: Mapping[str, Any], error: ValidationError, *, context: Mapping[str, Any]) -> list[str]:
    """The cross-field rules whose fields are valid, on a file where other fields are not: every problem in one run."""
    invalid = [tuple(str(part) for part in item["loc"]) for item in error.errors(include_url=False)]

    def valid(dotted: str) -> bool:
        path = tuple(dotted.split("."))
        return not any(loc[: len(path)] == path or path[: len(loc)] == loc for loc in invalid)

    partial = _construct(EnvironmentConfig, data, (), valid, context)
    today = context.get("today") or dt.date.today()
    return cross_field_problems(partial, today=today, valid=valid)  # type: ignore[arg-type]


def _construct(
    model: type[BaseModel], data: Any, prefix: tuple[str, ...], valid: Callable[[str], bool], context: Mapping[str, Any]
) -> BaseModel:
    """`model` with its valid fields validated and the others left at their defaults (rules never read those)."""
    values: dict[str, Any] = {}
    raw = data if isinstance(data, Mapping) else {}
    for name, field in model.model_fields.items():
        path = (*prefix, name)
        if name not in raw:
            continue
        annotation = field.annotation
        if valid(".".join(path)):
            shape: Any = Annotated[annotation, *field.metadata] if field.metadata else annotation
            adapter: TypeAdapter[Any] = TypeAdapter(shape)
            values[name] = adapter.validate_json(json.dumps(raw[name]), context=dict(context))
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            values[name] = _construct(annotation, raw[name], path, valid, context)
    return model.model_construct(**values)


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
    known = ", ".join(sorted(by_stem)) or "none"
    hint = SHORT_LIVED_HINT.format(env=env)
    raise ConfigError(problems=(f"{env}: no such environment (known: {known}); {hint}",))


@dataclass(frozen=True, kw_only=True)
class Selection:
    """What the process environment says about which environments exist, read once for synth and every command.

    `config_dir` is AURORA_MIGRATION_CONFIG_DIR (default: this folder); `suffix` is ENVIRONMENT_SUFFIX, a
    short-lived stack of `base` (ENVIRONMENT_BASE, a file stem or environment_suffix, default `dev`).
    """

    config_dir: Path = CONFIG_DIR
    suffix: str | None = None
    base: str = DEFAULT_BASE

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Selection:
        environ = os.environ if environ is None else environ
        return cls(
            config_dir=Path(environ.get(CONFIG_DIR_ENV_VAR) or CONFIG_DIR),
            suffix=environ.get(SUFFIX_ENV_VAR) or None,
            base=environ.get(BASE_ENV_VAR) or DEFAULT_BASE,
        )


def synthesized_environments(selection: Selection) -> list[EnvironmentConfig]:
    """Every environment synth writes: each file of the config folder, and the short-lived stack if one is named."""
    return load_environments(
        environment_files(selection.config_dir), ephemeral_suffix=selection.suffix, ephemeral_base=selection.base
    )


def resolve_environment(env: str, *, suffix: str | None = None, selection: Selection | None = None) -> EnvironmentConfig:
    """The environment `env` names, built exactly as synth builds it (make's ENV, the commands' --env).

    With `suffix` (make's SUFFIX, --suffix), the short-lived stack of that suffix on the base `env`. Without it,
    `env` is a file stem or environment_suffix in the config folder, or the short-lived stack the process
    environment names (`ENV=pr42` beside ENVIRONMENT_SUFFIX=pr42 and ENVIRONMENT_BASE). A short-lived stack
    goes through `load_environments` with every file, so it is refused where synth refuses it (a suffix
    another environment uses, a bad file). Raises ConfigError.
    """
    selection = Selection.from_environ() if selection is None else selection
    if suffix is None and selection.suffix is not None and env == selection.suffix:
        suffix, env = selection.suffix, selection.base
    if suffix is None:
        return find_environment(env, config_dir=selection.config_dir)
    files = environment_files(selection.config_dir)
    return load_environments(files, ephemeral_suffix=suffix, ephemeral_base=env)[-1]


def resolve_file(path: Path, *, suffix: str | None = None) -> EnvironmentConfig:
    """The environment of one file (the commands' --config), or with `suffix` its short-lived stack."""
    if suffix is None:
        return load_environment(path)
    return load_environments([path], ephemeral_suffix=suffix, ephemeral_base=path.stem)[-1]


def load_environments(
    paths: Iterable[Path], *, ephemeral_suffix: str | None = None, ephemeral_base: str = "dev"
) -> list[EnvironmentConfig]:
    """Load every file, collecting all problems of all files before failing.

    With `ephemeral_suffix`, the environment `ephemeral_base` names (a file stem, else an environment_suffix) is
    loaded a second time under the new suffix (a short-lived stack, e.g. per
    pull request) without a file of its own, with what the base environment owns left to it
    (`ephemeral_overrides`).
    """
    paths = list(paths)
    loaded: dict[Path, EnvironmentConfig] = {}
    problems: list[str] = [] if paths else ["no environment files (*.toml) found"]
    problems += _same_suffix_in_two_files(paths)
    for path in paths:
        try:
            loaded[path] = load_environment(path)
        except ConfigError as error:
            problems.extend(error.problems)
    problems += _service_role_owners(loaded)
    problems += _secrets_endpoint_owners(loaded)
    configs = list(loaded.values())
    if ephemeral_suffix is not None and not problems:
        base = next((path for path in loaded if path.stem == ephemeral_base), None) or next(
            (path for path, cfg in loaded.items() if cfg.environment_suffix == ephemeral_base), None
        )
        if base is None:
            known = ", ".join(c.environment_suffix for c in configs) or "none"
            problems.append(f"ENVIRONMENT_SUFFIX: base environment {ephemeral_base!r} not found (known: {known})")
        else:
            try:
                configs.append(short_lived_environment(base, suffix=ephemeral_suffix, base_config=loaded[base]))
            except ConfigError as error:
                problems.extend(error.problems)
    by_suffix: dict[str, list[str]] = {}
    for path, config in loaded.items():
        by_suffix.setdefault(config.environment_suffix, []).append(_label(path))
    if ephemeral_suffix is not None:
        by_suffix.setdefault(ephemeral_suffix, []).append(f"ENVIRONMENT_SUFFIX={ephemeral_suffix}")
    for duplicate, owners in sorted(by_suffix.items()):
        if len(owners) > 1:
            problems.append(
                f"{', '.join(owners)}: environment_suffix {duplicate!r} is used by more than one environment "
                "(one stack each: the suffix ends every physical name)"
            )
    if problems:
        raise ConfigError(problems=tuple(problems))
    return configs


def _same_suffix_in_two_files(paths: Iterable[Path]) -> list[str]:
    """`dev.toml` and `dev.TOML` (or `Dev.toml`) are one environment on a case-insensitive file system."""
    by_stem: dict[str, list[str]] = {}
    for path in paths:
        by_stem.setdefault(path.stem.lower(), []).append(_label(path))
    return [
        f"{', '.join(files)}: two files for one environment {stem!r}; keep one"
        for stem, files in sorted(by_stem.items())
        if len(files) > 1
    ]


def short_lived_environment(path: Path, *, suffix: str, base_config: EnvironmentConfig | None = None) -> EnvironmentConfig:
    """The short-lived stack `suffix` made from the environment file `path` (ENVIRONMENT_SUFFIX=<suffix> with that
    file as ENVIRONMENT_BASE, or an operations command's `--suffix`): the base with `ephemeral_overrides`.

    ConfigError lines name the file as `<file> (as ENVIRONMENT_SUFFIX=<suffix>)`.
    """
    base = base_config if base_config is not None else load_environment(path)
    try:
        return load_environment(path, overrides=ephemeral_overrides(base, suffix=suffix))
    except ConfigError as error:
        raise ConfigError(
            problems=tuple(
                line.replace(_label(path), f"{_label(path)} (as ENVIRONMENT_SUFFIX={suffix})", 1) for line in error.problems
            )
        ) from None


def ephemeral_overrides(base: EnvironmentConfig, *, suffix: str) -> dict[str, Any]:
    """How a short-lived stack differs from its base environment, besides its suffix.

    - The DMS service roles are account-wide and the base owns them: `existing`; its replication instance does not
      exist yet (the engine table's creation deadlines apply to it).
    - A VPC holds one private-DNS Secrets Manager endpoint (a second fails with "conflicting DNS domain",
      terraform-provider-aws #17535): a base that creates one shares it (`lookup`, found by VPC and service).
    - Its secrets are deleted at once (recovery window 0): a rebuild under the same suffix would otherwise find the
      names still held by the deleted secrets (Secrets Manager DeleteSecret, RecoveryWindowInDays).
    - It is cheap: the base's `[short_lived]` sizes (Serverless v2 from 0.5 ACU, one reader, a single-AZ burstable
      replication instance, no deletion protection by default; config/short_lived.py).
    """
    cheap = base.short_lived.overrides()
    overrides: dict[str, Any] = {
        "environment_suffix": suffix,
        "dms": {**cheap["dms"], "service_roles": "existing", "replication_instance_exists": False},
        "aurora": {**cheap["aurora"], "secret_recovery_window_days": 0},
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


# Strict mode's type errors, said in TOML's terms (a quoted "2" is a string, not the integer 2).
_TYPE_MESSAGES = {
    "int_type": 'expected an integer, written without quotes (2, not "2")',
    "bool_type": "expected true or false, written without quotes",
    "float_type": "expected a number, written without quotes",
    "string_type": "expected a string, in quotes",
    "tuple_type": "expected an array ([...])",
    "list_type": "expected an array ([...])",
    "dict_type": "expected a table ({ key = value })",
    "model_type": "expected a table",
}


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
        elif item["type"] in _TYPE_MESSAGES:
            message = _TYPE_MESSAGES[item["type"]]
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
