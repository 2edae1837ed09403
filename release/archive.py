"""The archives: one reproducible .tar.gz per stack and their SHA256SUMS, written to a dist/ replaced as a whole.

Only a dist/ that holds nothing but a previous build is replaced (release/dist.py refuses any other).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path

from contract.layout import STACK_FILE, STACKS_DIR
from plumbing.atomic_dir import staged_directory
from release.contents import (
    MANIFEST_FILE,
    README_FILE,
    Build,
    build_manifest,
    consumer_readme,
    prerequisites,
    refuse_emulator,
    stack_outputs,
)
from release.dist import CHECKSUMS_FILE, check_dist
from release.lock import LOCK_FILE, Lock, lock_providers, terraform_version
from release.source import REPO_ROOT, PackageError, source_of, synthesize
from review.terraform_validate import Toolchain

DIST_DIR = "dist"
FILE_MODE = 0o644
DIR_MODE = 0o755


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
    """Lock and archive every stack of `synth_dir` (default: a fresh synth); `dist` is replaced as a whole, and only if
    it holds nothing but a previous build (DistError otherwise, before anything is built)."""
    dist = check_dist(dist, repo)
    build = Build(source=source_of(repo, environ), terraform=terraform_version(toolchain), prerequisites=prerequisites(repo))
    with tempfile.TemporaryDirectory(prefix="aurora-package-") as work_name:
        work = Path(work_name)
        stacks_dir = synth_dir / STACKS_DIR if synth_dir is not None else synthesize(work / "cdktf.out", environ, repo)
        stack_dirs = sorted(path for path in stacks_dir.iterdir() if (path / STACK_FILE).is_file())
        if not stack_dirs:
            raise PackageError(f"no stack under {stacks_dir}")
        locks: dict[str, Lock] = {}
        with staged_directory(dist) as staging:
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
    return [dist / archive.name for archive in archives]
