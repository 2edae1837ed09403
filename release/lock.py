"""The provider lock file of an archive: `terraform providers lock` against the local filesystem mirror, offline."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plumbing.tool import ToolError, run_tool, tail
from release.source import PackageError
from review.terraform_validate import REGISTRY_DIR, Toolchain, offline_environment

LOCK_FILE = ".terraform.lock.hcl"
LOCK_TIMEOUT_SECONDS = 300
VERSION_TIMEOUT_SECONDS = 60
MAX_VERSION_OUTPUT_CHARS = 500


@dataclass(frozen=True)
class Lock:
    text: str
    platforms: tuple[str, ...]
    providers: dict[str, str]
    """Provider address -> locked version."""


def _provider_address(source: str) -> str:
    """`aws` -> `registry.terraform.io/hashicorp/aws`, as Terraform expands a short source address."""
    parts = source.lower().split("/")
    if len(parts) == 1:
        parts = ["hashicorp", *parts]
    if len(parts) == 2:
        parts = [REGISTRY_DIR, *parts]
    return "/".join(parts)


def required_providers(document: Mapping[str, Any]) -> dict[str, str]:
    """Provider address -> version constraint, from the stack's `terraform.required_providers`."""
    required = document.get("terraform", {}).get("required_providers", {})
    return {_provider_address(spec.get("source", name)): str(spec.get("version", "")) for name, spec in required.items()}


def mirror_platforms(mirror: Path, address: str, version: str) -> set[str]:
    """Platforms of `address` `version` in a filesystem mirror, unpacked (`<v>/<os_arch>/`) or packed (zip) layout."""
    provider_dir = mirror / address
    unpacked = {path.name for path in (provider_dir / version).glob("*_*") if path.is_dir()}
    name = address.rsplit("/", 1)[-1]
    packed = re.compile(rf"terraform-provider-{re.escape(name)}_{re.escape(version)}_([a-z0-9]+_[a-z0-9]+)\.zip")
    zipped = {match.group(1) for path in provider_dir.glob("*.zip") if (match := packed.fullmatch(path.name))}
    return unpacked | zipped


def lock_providers(toolchain: Toolchain, required: Mapping[str, Any], workdir: Path) -> Lock:
    """`terraform providers lock -fs-mirror` of a `required_providers` block, every platform the mirror holds.

    The lock file depends on nothing else in a stack, so stacks with the same providers share one run.
    """
    requirements = required_providers({"terraform": {"required_providers": required}})
    platform_sets = [mirror_platforms(toolchain.mirror, address, version) for address, version in requirements.items()]
    platforms = tuple(sorted(set.intersection(*platform_sets))) if platform_sets else ()
    if requirements and not platforms:
        raise PackageError(f"the provider mirror {toolchain.mirror} has no common platform for {requirements}")
    workdir.mkdir(parents=True)
    (workdir / "providers.tf.json").write_text(json.dumps({"terraform": {"required_providers": required}}), encoding="utf-8")
    cli_config = workdir / ".terraformrc"
    cli_config.write_text("# empty: the mirror is given on the command line, nothing is downloaded\n")
    command: list[str | Path] = [
        toolchain.terraform,
        "providers",
        "lock",
        f"-fs-mirror={toolchain.mirror}",
        *(f"-platform={platform}" for platform in platforms),
        "-no-color",
    ]
    try:
        done = run_tool(command, cwd=workdir, env=offline_environment(cli_config), timeout_seconds=LOCK_TIMEOUT_SECONDS)
    except ToolError as error:
        raise PackageError(f"terraform providers lock failed for {requirements}: {error}") from None
    lock_path = workdir / LOCK_FILE
    if not done.ok or not lock_path.is_file():
        raise PackageError(f"terraform providers lock failed for {requirements}:\n{tail(done.stderr or done.stdout)}")
    text = lock_path.read_text(encoding="utf-8")
    locked = dict(re.findall(r'^provider "([^"]+)" \{\s*version\s*=\s*"([^"]+)"', text, flags=re.MULTILINE))
    if set(locked) != set(requirements):
        raise PackageError(f"the lock file locks {sorted(locked)}, the stack requires {sorted(requirements)}")
    return Lock(text=text, platforms=platforms, providers=locked)


def terraform_version(toolchain: Toolchain) -> str:
    try:
        done = run_tool([toolchain.terraform, "version", "-json"], timeout_seconds=VERSION_TIMEOUT_SECONDS)
    except ToolError as error:
        raise PackageError(f"`terraform version -json` could not run: {error}") from None
    try:
        return str(json.loads(done.stdout)["terraform_version"])
    except (ValueError, KeyError) as error:
        raise PackageError(
            f"`terraform version -json` printed no version: {tail(done.stdout, MAX_VERSION_OUTPUT_CHARS)}"
        ) from error
