"""What one archive holds besides the stack's JSON: the manifest and the consumer README (a template)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from contract.layout import STACK_FILE
from contract.outputs import CONDITIONAL_OUTPUTS, OUTPUT_DESCRIPTIONS, Output
from release.lock import LOCK_FILE, Lock, required_providers
from release.source import REPO_ROOT, PackageError, Source

MANIFEST_FILE = "manifest.json"
README_FILE = "README.md"
MANIFEST_FORMAT = 1
README_TEMPLATE = Path(__file__).resolve().with_name("consumer_readme.md")
RUNBOOK = Path("docs") / "runbook.md"
PREREQUISITES_HEADING = "### Everything that must exist before `cdktf deploy`"
PYTHON_PACKAGES = ("cdktf", "cdktf-cdktf-provider-aws", "constructs")


@dataclass(frozen=True)
class Build:
    """What every archive of one run shares."""

    source: Source
    terraform: str
    """Version of the terraform that computed the lock file."""
    prerequisites: str
    """The runbook's table of what must exist before apply."""


def python_package_versions() -> dict[str, str]:
    versions = {}
    for name in PYTHON_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def stack_outputs(document: Mapping[str, Any]) -> dict[str, str]:
    """Every output of the stack with its meaning from contract/outputs.py (which must describe exactly these; the
    CONDITIONAL_OUTPUTS may be absent)."""
    names = list(document.get("output", {}))
    known = {output.value for output in Output}
    required = known - {output.value for output in CONDITIONAL_OUTPUTS}
    if not required <= set(names) <= known:
        raise PackageError(f"the stack's outputs {sorted(names)} differ from contract/outputs.py {sorted(known)}")
    return {name: OUTPUT_DESCRIPTIONS[Output(name)] for name in names}


def s3_backend(document: Mapping[str, Any]) -> dict[str, Any]:
    backend = document.get("terraform", {}).get("backend", {})
    if set(backend) != {"s3"}:
        raise PackageError(f"expected exactly an S3 backend, found {sorted(backend)}")
    settings: dict[str, Any] = backend["s3"]
    return settings


def refuse_emulator(stack: str, document: Mapping[str, Any]) -> None:
    """An archive for platform teams must not point the provider or the backend at a local emulator."""
    providers = document.get("provider", {}).get("aws", [])
    if any("endpoints" in provider for provider in providers) or "endpoints" in s3_backend(document):
        raise PackageError(f"{stack} was synthesized for a local AWS emulator (custom endpoints); refusing to package it")


def prerequisites(repo: Path = REPO_ROOT) -> str:
    """The runbook's section "Everything that must exist before `cdktf deploy`", without its heading."""
    lines = (repo / RUNBOOK).read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(PREREQUISITES_HEADING) + 1
    except ValueError as error:
        raise PackageError(f"{RUNBOOK} has no heading {PREREQUISITES_HEADING!r}") from error
    end = next((index for index in range(start, len(lines)) if lines[index].startswith("#")), len(lines))
    return "\n".join(lines[start:end]).strip()


def _revision_text(source: Source) -> str:
    if source.revision is None:
        return "an unknown revision (no git)"
    return f"revision `{source.revision}`" + (" with uncommitted changes (dirty)" if source.dirty else "")


def consumer_readme(stack: str, document: Mapping[str, Any], *, lock: Lock, outputs: Mapping[str, str], build: Build) -> str:
    """consumer_readme.md filled in for one stack."""
    backend = s3_backend(document)
    platforms = ", ".join(f"`{platform}`" for platform in lock.platforms)
    return Template(README_TEMPLATE.read_text(encoding="utf-8")).substitute(
        stack=stack,
        revision=_revision_text(build.source),
        required_version=document.get("terraform", {}).get("required_version", "any"),
        providers=", ".join(f"`{address}` {version}" for address, version in lock.providers.items()),
        platforms=platforms,
        stack_file=STACK_FILE,
        lock_file=LOCK_FILE,
        manifest_file=MANIFEST_FILE,
        readme_file=README_FILE,
        backend_rows="\n".join(f"| `{key}` | `{json.dumps(value)}` |" for key, value in backend.items()),
        output_rows="\n".join(f"| `{name}` | {meaning} |" for name, meaning in outputs.items()),
        prerequisites=build.prerequisites,
    )


def build_manifest(
    stack: str,
    document: Mapping[str, Any],
    *,
    lock: Lock,
    outputs: Mapping[str, str],
    files: Mapping[str, bytes],
    build: Build,
) -> dict[str, Any]:
    terraform_block = document.get("terraform", {})
    return {
        "format": MANIFEST_FORMAT,
        "stack": stack,
        "source": {"revision": build.source.revision, "dirty": build.source.dirty, "timestamp": build.source.timestamp},
        "versions": {
            "cdktf_synthesized_by": document.get("//", {}).get("metadata", {}).get("version"),
            "python_packages": python_package_versions(),
            "terraform_required_version": terraform_block.get("required_version"),
            "terraform_lock_computed_with": build.terraform,
            "providers": {
                address: {"required": constraint, "locked": lock.providers[address]}
                for address, constraint in required_providers(document).items()
            },
        },
        "lock_file": {
            "platforms": list(lock.platforms),
            "hash_schemes": ["h1"],
            "note": "computed offline with `terraform providers lock -fs-mirror`; other platforms need "
            "`terraform providers lock -platform=<os_arch>` against the registry",
        },
        "backend": {"type": "s3", "settings": s3_backend(document), "override": "terraform init -backend-config=KEY=VALUE"},
        "files": {name: hashlib.sha256(content).hexdigest() for name, content in sorted(files.items())},
        "outputs": dict(outputs),
    }
