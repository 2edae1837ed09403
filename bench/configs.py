"""Throw-away config folders derived from config/dev.toml: N environments, or one environment with N include rules."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

SUFFIX_LINE = re.compile(r'^environment_suffix\s*=\s*"[^"]*"\s*$', re.MULTILINE)
SERVICE_ROLES_LINE = re.compile(r'^service_roles\s*=\s*"create"\s*$', re.MULTILINE)
DMS_HEADER = re.compile(r"^\[dms\]\s*$", re.MULTILINE)


class TemplateError(ValueError):
    pass


def _prepare(source_dir: Path, target: Path) -> str:
    """Copy the non-TOML material (e.g. certs/, referenced by relative path) and return dev.toml's text."""
    target.mkdir(parents=True)
    for entry in source_dir.iterdir():
        if entry.is_dir() and not entry.name.startswith(("__", ".")):
            shutil.copytree(entry, target / entry.name)
    text = (source_dir / "dev.toml").read_text()
    if len(SUFFIX_LINE.findall(text)) != 1:
        raise TemplateError('config/dev.toml: expected exactly one `environment_suffix = "..."` line')
    return text


def _with_suffix(text: str, suffix: str) -> str:
    return SUFFIX_LINE.sub(f'environment_suffix = "{suffix}"', text, count=1)


def _with_include(text: str, rules: list[str]) -> str:
    """`text` with `dms.include` set to `rules` (inline TOML tables)."""
    if "include" in tomllib.loads(text).get("dms", {}):
        raise TemplateError("config/dev.toml already sets dms.include: the benchmark cannot add its own rules")
    block = "include = [\n" + "".join(f"  {rule},\n" for rule in rules) + "]\n"
    if DMS_HEADER.search(text):
        return DMS_HEADER.sub(lambda match: f"{match.group(0)}\n{block}", text, count=1)
    return f"{text.rstrip()}\n\n[dms]\n{block}"


def _with_include_rules(text: str, count: int) -> str:
    return _with_include(text, [f'{{ schema_name = "public", table_name = "t{index:04d}" }}' for index in range(1, count + 1)])


def environments_dir(source_dir: Path, target: Path, count: int) -> Path:
    """`count` copies of dev.toml as environments e01, e02, ...

    They share dev's account, so only e01 may create the account-wide DMS service roles.
    """
    text = _prepare(source_dir, target)
    for index in range(1, count + 1):
        suffix = f"e{index:02d}"
        copy = text if index == 1 else SERVICE_ROLES_LINE.sub('service_roles = "existing"', text)
        (target / f"{suffix}.toml").write_text(_with_suffix(copy, suffix))
    return target


def include_rules_dir(source_dir: Path, target: Path, rules: int) -> Path:
    """One environment (e01) whose dms.include holds `rules` selection rules."""
    text = _with_include_rules(_with_suffix(_prepare(source_dir, target), "e01"), rules)
    if len(tomllib.loads(text)["dms"]["include"]) != rules:
        raise TemplateError(f"could not write {rules} include rules into the [dms] table")
    (target / "e01.toml").write_text(text)
    return target


def single_table_dir(source_dir: Path, target: Path, *, schema: str, table: str) -> Path:
    """One environment (e01) whose task scope is exactly `schema`.`table` (names without DMS wildcards)."""
    text = _with_include(
        _with_suffix(_prepare(source_dir, target), "e01"), [f'{{ schema_name = "{schema}", table_name = "{table}" }}']
    )
    (target / "e01.toml").write_text(text)
    return target
