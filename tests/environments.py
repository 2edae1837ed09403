"""The environments the tests run over, from config/*.toml: a new environment file is tested without editing a test."""

from __future__ import annotations

import tomllib
from pathlib import Path

from config.loader import CONFIG_DIR, environment_files


def environment_suffixes(config_dir: Path = CONFIG_DIR) -> tuple[str, ...]:
    """`environment_suffix` of every environment file, in file order; read at collection time, so without validation
    (the config tests and the session's `environments` fixture validate them)."""
    suffixes = []
    for path in environment_files(config_dir):
        with path.open("rb") as handle:
            suffixes.append(str(tomllib.load(handle).get("environment_suffix", path.stem)))
    return tuple(suffixes)


ENVIRONMENTS = environment_suffixes()
