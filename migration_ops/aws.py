"""boto3 sessions, client settings and ARN fields of the operations commands, in one place."""

from __future__ import annotations

import boto3
from botocore.config import Config


def client_settings(*, read_timeout: int = 60) -> Config:
    """Three standard-mode attempts, a short connect timeout: an unreachable API fails fast."""
    return Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=read_timeout)


def session(region: str | None) -> boto3.session.Session:
    """A session in `region`, or in the AWS default region (environment, profile) when None."""
    return boto3.session.Session(region_name=region)


def task_resource_id(arn: str) -> str:
    """Last field of a DMS task's ARN: CloudWatch's ReplicationTaskIdentifier dimension (verify and cutover read it)."""
    return arn.rsplit(":", 1)[-1]
