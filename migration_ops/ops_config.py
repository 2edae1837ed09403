"""Finding an environment config by `--env` (file stem or suffix) or `--config PATH`."""

from __future__ import annotations

from pathlib import Path

from config import EnvironmentConfig, environment_files, load_environment


class UsageError(Exception):
    """Bad arguments or configuration: exit 2 with this message."""


def load_config(*, env: str | None, config_path: Path | None) -> EnvironmentConfig:
    """The environment named by `env` in config/, or the file `config_path`; raises ConfigError/UsageError."""
    if config_path is not None:
        return load_environment(config_path)
    if env is None:
        raise UsageError("give --env or --config")
    files = environment_files()
    by_stem = {path.stem: path for path in files}
    if env in by_stem:
        return load_environment(by_stem[env])
    for path in files:
        config = load_environment(path)
        if config.environment_suffix == env:
            return config
    raise UsageError(f"--env {env}: no such environment (known: {', '.join(sorted(by_stem)) or 'none'})")
