"""Make the jsii kernel (node) load the AWS provider's namespaces on first use, not all ~2,135 at once.

`lazy_provider_index.js` is packed as a tiny jsii assembly and loaded into the
kernel; requiring it installs a loader hook for @cdktf/provider-aws's
lib/index.js only. The classes are the same, so the output is byte-identical
(tests/provider_loading/test_fast_import.py compares against the eager, naive path).
Must run before the provider's own assembly (`cdktf_cdktf_provider_aws._jsii`) is loaded:
provider_loading/fast_import.py calls it, for the provider version it was checked against only.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import tempfile
from pathlib import Path

import jsii

NAME, VERSION = "aurora-migration-lazy-provider-index", "1.0.0"
HOOK = Path(__file__).with_name("lazy_provider_index.js")


def _tarball() -> bytes:
    """A deterministic npm-style tarball (the jsii package cache keys on its digest: one entry, reused)."""
    assembly = {
        "schema": "jsii/0.10.0",
        "name": NAME,
        "version": VERSION,
        "jsiiVersion": "5.0.0",
        "fingerprint": "-",
        "license": "UNLICENSED",
        "homepage": "",
        "description": "loader hook: lazy @cdktf/provider-aws index",
        "repository": {"type": "git", "url": ""},
        "author": {"name": "aurora-migration-iac", "roles": ["author"]},
        "targets": {"js": {"npm": NAME}},
        "types": {},
    }
    files = {
        "package/package.json": json.dumps({"name": NAME, "version": VERSION, "main": "lib/index.js", "license": "UNLICENSED"}),
        "package/.jsii": json.dumps(assembly),
        "package/lib/index.js": HOOK.read_text(),
    }
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed, tarfile.open(fileobj=packed, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def install() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tarball = Path(folder, f"{NAME}@{VERSION}.jsii.tgz")
        tarball.write_bytes(_tarball())
        jsii.kernel.load(NAME, VERSION, os.fspath(tarball))
