"""Test-only switch: point the provider and the state backend at a local AWS emulator.

Never set by config files. `main.py` enables it only from the environment
variable AURORA_MIGRATION_TEST_EMULATOR_URL, and only for loopback addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlsplit

EMULATOR_ENV_VAR = "AURORA_MIGRATION_TEST_EMULATOR_URL"
# One endpoint argument per service (aliases of the same service would make the provider warn).
EMULATED_SERVICES = (
    "applicationautoscaling", "cloudwatch", "cloudwatchlogs", "dms", "ec2", "events", "iam", "kms", "rds",
    "s3", "secretsmanager", "sns", "sts",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class LocalEmulator:
    url: str

    def __post_init__(self) -> None:
        host = urlsplit(self.url).hostname or ""
        try:
            loopback = host == "localhost" or ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"{EMULATOR_ENV_VAR}: only a loopback URL is allowed, got {self.url!r}")
