"""Per-environment configuration: TOML files in this folder and their typed model."""

from config.loader import ConfigError, environment_files, find_environment, load_environment, load_environments
from config.model import EnvironmentConfig

__all__ = [
    "ConfigError",
    "EnvironmentConfig",
    "environment_files",
    "find_environment",
    "load_environment",
    "load_environments",
]
