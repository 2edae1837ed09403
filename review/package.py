"""Synth artifacts for platform teams: one reproducible archive per stack (`make package`).

    python -m review.package [--dist DIR]

Synthesizes every environment afresh (`main.py` into a temp dir through
CDKTF_OUTDIR, so a stale or emulator-bound `cdktf.out/` is never shipped) and
writes `<dist>/<stack>.tar.gz` (default `dist/`) holding one folder `<stack>/`:

- `cdk.tf.json`: the stack's Terraform JSON exactly as synthesized, S3
  backend block included (consumers override it with `-backend-config`);
- `.terraform.lock.hcl`: `terraform providers lock` against the local provider
  mirror, offline, so only the platforms the mirror holds get (h1) hashes;
- `manifest.json`: git revision and dirty flag, tool and provider versions,
  sha256 of every other file, the outputs and their meaning (contract/outputs.py);
- `README.md`: how to `terraform init` with one's own backend, the outputs, and
  what must exist before apply (the runbook's table).

Built twice from the same tree, the archives are byte-identical: entries
sorted, every mtime the commit time (or SOURCE_DATE_EPOCH), uid/gid 0, no
user names, fixed modes, gzip without file name and with mtime 0. `dist/` is
replaced as a whole, with a SHA256SUMS of the archives. Needs terraform and the
provider mirror (review/terraform_validate.py finds them). Exit codes: 0
written, 1 packaging failed, 2 no terraform or mirror.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.layout import STACK_FILE, STACKS_DIR
from contract.outputs import OUTPUT_DESCRIPTIONS, Output
from review.terraform_validate import REGISTRY_DIR, Toolchain, locate

REPO_ROOT = Path(__file__).resolve().parent.parent
DIST_DIR = "dist"
LOCK_FILE = ".terraform.lock.hcl"
MANIFEST_FILE = "manifest.json"
README_FILE = "README.md"
CHECKSUMS_FILE = "SHA256SUMS"
MANIFEST_FORMAT = 1
RUNBOOK = Path("docs") / "runbook.md"
PREREQUISITES_HEADING = "### Everything that must exist before `cdktf deploy`"
# Never in an archive for platform teams: the synth for the local AWS emulator (stacks/emulator.py).
EMULATOR_ENV_VAR = "AURORA_MIGRATION_TEST_EMULATOR_URL"
PYTHON_PACKAGES = ("cdktf", "cdktf-cdktf-provider-aws", "constructs")
FILE_MODE = 0o644
DIR_MODE = 0o755
EXIT_FAILED = 1
EXIT_NO_TOOLCHAIN = 2
TIMEOUT_SECONDS = 300


class PackageError(Exception):
    """Packaging cannot produce a correct archive; the message says why."""


@dataclass(frozen=True)
class Source:
    revision: str | None
    dirty: bool | None
    timestamp: int
    """Seconds since the epoch every archive entry carries: SOURCE_DATE_EPOCH, else the commit time, else 0."""


@dataclass(frozen=True)
class Build:
    """What every archive of one run shares."""

    source: Source
    terraform: str
    """Version of the terraform that computed the lock file."""
    prerequisites: str
    """The runbook's table of what must exist before apply."""


@dataclass(frozen=True)
class Lock:
    text: str
    platforms: tuple[str, ...]
    providers: dict[str, str]
    """Provider address -> locked version."""


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def source_of(repo: Path = REPO_ROOT, environ: Mapping[str, str] = os.environ) -> Source:
    """HEAD, whether the work tree differs from it (tracked or untracked, not ignored files), and the timestamp."""
    revision = _git(repo, "rev-parse", "HEAD")
    status = _git(repo, "status", "--porcelain") if revision else None
    commit_time = _git(repo, "show", "-s", "--format=%ct", "HEAD") if revision else None
    epoch = environ.get("SOURCE_DATE_EPOCH") or (commit_time or "").strip() or "0"
    return Source(
        revision=revision.strip() if revision else None,
        dirty=bool(status.strip()) if status is not None else None,
        timestamp=int(epoch),
    )


def synthesize(outdir: Path, environ: Mapping[str, str] = os.environ, repo: Path = REPO_ROOT) -> Path:
    """`python main.py` into `outdir` (as `make synth` does, other switches honoured); returns its stacks folder."""
    env = {key: value for key, value in environ.items() if key != EMULATOR_ENV_VAR}
    env.update(CDKTF_OUTDIR=str(outdir), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", CHECKPOINT_DISABLE="1")
    done = subprocess.run(
        [sys.executable, str(repo / "main.py")],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise PackageError(f"synth failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    if done.stderr.strip():
        print(done.stderr.rstrip(), file=sys.stderr)  # engine warnings and the like
    return outdir / STACKS_DIR


def _terraform_env(workdir: Path) -> dict[str, str]:
    cli_config = workdir / ".terraformrc"
    cli_config.write_text("# empty: the mirror is given on the command line, nothing is downloaded\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("TF_CLI_ARGS")}
    env.update(TF_CLI_CONFIG_FILE=str(cli_config), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_INPUT="0")
    return env


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
    done = subprocess.run(
        [
            str(toolchain.terraform),
            "providers",
            "lock",
            f"-fs-mirror={toolchain.mirror}",
            *(f"-platform={platform}" for platform in platforms),
            "-no-color",
        ],
        cwd=workdir,
        env=_terraform_env(workdir),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    lock_path = workdir / LOCK_FILE
    if done.returncode != 0 or not lock_path.is_file():
        raise PackageError(f"terraform providers lock failed for {requirements}:\n{(done.stderr or done.stdout)[-2000:]}")
    text = lock_path.read_text(encoding="utf-8")
    locked = dict(re.findall(r'^provider "([^"]+)" \{\s*version\s*=\s*"([^"]+)"', text, flags=re.MULTILINE))
    if set(locked) != set(requirements):
        raise PackageError(f"the lock file locks {sorted(locked)}, the stack requires {sorted(requirements)}")
    return Lock(text=text, platforms=platforms, providers=locked)


def terraform_version(toolchain: Toolchain) -> str:
    done = subprocess.run([str(toolchain.terraform), "version", "-json"], capture_output=True, text=True, timeout=60, check=False)
    try:
        return str(json.loads(done.stdout)["terraform_version"])
    except (ValueError, KeyError) as error:
        raise PackageError(f"`terraform version -json` printed no version: {done.stdout[-500:]}") from error


def python_package_versions() -> dict[str, str]:
    versions = {}
    for name in PYTHON_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def stack_outputs(document: Mapping[str, Any]) -> dict[str, str]:
    """Every output of the stack with its meaning from contract/outputs.py (which must describe exactly these)."""
    names = list(document.get("output", {}))
    known = {output.value for output in Output}
    if set(names) != known:
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
    backend = s3_backend(document)
    required_version = document.get("terraform", {}).get("required_version", "any")
    providers = ", ".join(f"`{address}` {version}" for address, version in lock.providers.items())
    platforms = ", ".join(f"`{platform}`" for platform in lock.platforms)
    output_rows = "\n".join(f"| `{name}` | {meaning} |" for name, meaning in outputs.items())
    backend_rows = "\n".join(f"| `{key}` | `{json.dumps(value)}` |" for key, value in backend.items())
    return f"""# {stack}

Terraform configuration of the stack `{stack}` (Aurora PostgreSQL and AWS DMS),
synthesized by CDKTF from {_revision_text(build.source)}. It is plain Terraform JSON:
Terraform {required_version} and the provider {providers} are all it needs.

| file | what |
| --- | --- |
| `{STACK_FILE}` | the configuration (Terraform reads `*.tf.json`; keys named `//` are comments) |
| `{LOCK_FILE}` | provider lock file; hashes for {platforms} only (computed offline from a filesystem mirror) |
| `{MANIFEST_FILE}` | revision, tool and provider versions, sha256 of every other file, the outputs |
| `{README_FILE}` | this file |

Check the files: `jq -r '.files | to_entries[] | "\\(.value)  \\(.key)"' {MANIFEST_FILE} | sha256sum -c`.

On another platform than {platforms}, add its hashes before `init` (needs the
registry): `terraform providers lock -platform=linux_amd64 -platform=darwin_arm64`
(list every platform that will run Terraform). Without them `init` stops with a
checksum mismatch.

## Initialize with your own state backend

The S3 backend block is kept, so state stays remote and encrypted, with
S3-native locking (Terraform >= 1.10). As synthesized:

| setting | value |
| --- | --- |
{backend_rows}

Point it at your own bucket and key; values given with `-backend-config`
replace these, the others stay (`assume_role` and `kms_key_id` too, if set):

```bash
terraform init \\
  -backend-config="bucket=<your state bucket>" \\
  -backend-config="key=<your key>/terraform.tfstate" \\
  -backend-config="region=<bucket region>"        # optionally kms_key_id=<CMK ARN>
terraform plan -out=tfplan && terraform apply tfplan
```

Another backend type, or an S3 block without some of these settings: put a
`backend_override.tf.json` beside `{STACK_FILE}`, for example
`{{"terraform": {{"backend": {{"http": {{"address": "..."}}}}}}}}`; the backend
block of an override file replaces the synthesized one entirely. To check the
configuration without any backend: `terraform init -backend=false && terraform validate`.

Deploying creates the DMS task stopped; starting replication and the cutover
follow the runbook (docs/runbook.md in the source repository).

## Outputs

| output | meaning |
| --- | --- |
{output_rows}

## Everything that must exist before apply

From docs/runbook.md at the revision above ("above" in the table means that
runbook; `cdktf deploy` is `terraform apply` here):

{build.prerequisites}
"""


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


def write_archive(path: Path, folder: str, files: Mapping[str, bytes], mtime: int) -> None:
    """A reproducible .tar.gz: `folder/` then its files in name order, all owned by 0:0, one mtime, fixed modes."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        directory = tarfile.TarInfo(f"{folder}/")
        directory.type, directory.mode, directory.mtime = tarfile.DIRTYPE, DIR_MODE, mtime
        tar.addfile(directory)
        for name in sorted(files):
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size, info.mode, info.mtime = len(files[name]), FILE_MODE, mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[name]))
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
        gz.write(tar_bytes.getvalue())


def package_stack(stack_dir: Path, dist: Path, *, lock: Lock, build: Build) -> Path:
    stack = stack_dir.name
    stack_json = (stack_dir / STACK_FILE).read_bytes()
    document = json.loads(stack_json)
    refuse_emulator(stack, document)
    outputs = stack_outputs(document)
    files = {
        STACK_FILE: stack_json,
        LOCK_FILE: lock.text.encode(),
        README_FILE: consumer_readme(stack, document, lock=lock, outputs=outputs, build=build).encode(),
    }
    manifest = build_manifest(stack, document, lock=lock, outputs=outputs, files=files, build=build)
    files[MANIFEST_FILE] = (json.dumps(manifest, indent=2) + "\n").encode()
    archive = dist / f"{stack}.tar.gz"
    write_archive(archive, stack, files, build.source.timestamp)
    return archive


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_packages(
    dist: Path,
    toolchain: Toolchain,
    *,
    synth_dir: Path | None = None,
    environ: Mapping[str, str] = os.environ,
    repo: Path = REPO_ROOT,
) -> list[Path]:
    """Lock and archive every stack of `synth_dir` (default: a fresh synth); `dist` is replaced as a whole."""
    dist = dist.resolve()
    dist.parent.mkdir(parents=True, exist_ok=True)
    build = Build(source=source_of(repo, environ), terraform=terraform_version(toolchain), prerequisites=prerequisites(repo))
    with tempfile.TemporaryDirectory(prefix="aurora-package-") as work_name:
        work = Path(work_name)
        stacks_dir = synth_dir / STACKS_DIR if synth_dir is not None else synthesize(work / "cdktf.out", environ, repo)
        stack_dirs = sorted(path for path in stacks_dir.iterdir() if (path / STACK_FILE).is_file())
        if not stack_dirs:
            raise PackageError(f"no stack under {stacks_dir}")
        locks: dict[str, Lock] = {}
        staging = Path(tempfile.mkdtemp(prefix=f".{dist.name}.", dir=dist.parent))
        try:
            archives = []
            for stack_dir in stack_dirs:
                required = json.loads((stack_dir / STACK_FILE).read_bytes()).get("terraform", {}).get("required_providers", {})
                key = json.dumps(required, sort_keys=True)
                if key not in locks:
                    locks[key] = lock_providers(toolchain, required, work / f"lock-{len(locks)}")
                archives.append(package_stack(stack_dir, staging, lock=locks[key], build=build))
            sums = "".join(f"{sha256_file(archive)}  {archive.name}\n" for archive in archives)
            (staging / CHECKSUMS_FILE).write_text(sums, encoding="utf-8")
            staging.chmod(DIR_MODE)
            previous = dist.with_name(f".{dist.name}.previous")
            shutil.rmtree(previous, ignore_errors=True)
            if dist.exists():
                os.replace(dist, previous)
            os.replace(staging, dist)
            shutil.rmtree(previous, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return [dist / archive.name for archive in archives]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review.package", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dist", type=Path, default=REPO_ROOT / DIST_DIR, help="output directory (replaced as a whole)")
    args = parser.parse_args(argv)
    toolchain = locate()
    if isinstance(toolchain, str):
        print(f"package needs terraform and the provider mirror for the lock file: {toolchain}", file=sys.stderr)
        return EXIT_NO_TOOLCHAIN
    try:
        archives = build_packages(args.dist, toolchain)
    except PackageError as error:
        print(f"package failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    for archive in archives:
        print(f"{sha256_file(archive)}  {archive}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
