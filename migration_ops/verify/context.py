"""What every verify check reads: the stack's outputs, the config, the AWS clients; and the errors that end a check.

A missing output fails its check (`MissingOutputError`); a connection or credentials problem stops the run
(`VerifyAbortedError`, exit 2), because then no check result means anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from config import EnvironmentConfig
from contract.naming import Naming
from contract.outputs import Output
from migration_ops.errors import OpsError
from migration_ops.results import CheckResult

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dms import DatabaseMigrationServiceClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_secretsmanager import SecretsManagerClient


@dataclass(frozen=True, kw_only=True)
class AwsClients:
    rds: RDSClient
    dms: DatabaseMigrationServiceClient
    secretsmanager: SecretsManagerClient
    cloudwatch: CloudWatchClient


@dataclass(frozen=True, kw_only=True)
class VerifyContext:
    outputs: Mapping[str, Any]
    config: EnvironmentConfig
    """What should be deployed: the environment's config (with --suffix applied)."""
    aws: AwsClients
    emulated: bool
    """True when pointed at an emulator (--endpoint-url): checks that need a real network path are skipped."""
    connection_timeout_seconds: float = 600.0
    poll_interval_seconds: float = 10.0
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def naming(self) -> Naming:
        return Naming(prefix=self.config.name_prefix, suffix=self.config.environment_suffix)

    def output(self, name: Output) -> Any:
        value = self.outputs.get(name)
        if value is None or value in ("", []):
            raise MissingOutputError(name)
        return value

    def cached(self, key: str, load: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]


class MissingOutputError(OpsError):
    """An output the check needs is not in the stack's outputs: `run_check` turns it into that check's FAIL."""

    def __init__(self, name: str) -> None:
        super().__init__(f"output {name} missing")


class VerifyAbortedError(OpsError):
    """The AWS API cannot be reached or the credentials are refused: no result would mean anything."""


Check = Callable[[VerifyContext], CheckResult]


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))
