"""The value shapes the config sections share (regions, ids, ARNs, windows, CIDRs) and their strict base model.

Each shape names an example in its error, so a wrong value in a TOML file says what was expected.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from contract.aws_limits import (
    CLOUDWATCH_RETENTION_DAYS,
    MIN_WINDOW_MINUTES,
    TAG_KEY_MAX_LENGTH,
    TAG_VALUE_MAX_LENGTH,
    tag_problem,
)
from contract.aws_regions import KNOWN_REGIONS, REGIONS_DATE
from contract.dms_engines import DEFAULT_DMS_ENGINE_VERSION
from contract.dms_instance_classes import DMS_INSTANCE_CLASSES, DMS_INSTANCE_CLASSES_DATE, DMS_INSTANCE_CLASSES_SOURCE
from contract.dms_wildcards import DOCUMENTATION as DMS_WILDCARDS_SOURCE
from contract.dms_wildcards import pattern_problem


def _shape(pattern: str, example: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"expected something shaped like {example!r}")
        return value

    return AfterValidator(check)


def _cidr(value: str) -> str:
    # Terraform's cidr_ipv4 / security group rules need an explicit prefix; Python would read "10.0.0.1" as a /32.
    if "/" not in value:
        raise ValueError("expected an IPv4 CIDR block with its prefix length, like '10.20.0.0/16'")
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"expected an IPv4 CIDR block like '10.20.0.0/16' ({error})") from None
    if network.version != 4:
        raise ValueError("expected an IPv4 CIDR block (these fields become IPv4 security group rules)")
    if network.prefixlen == 0:
        raise ValueError("a CIDR block open to the whole internet is not allowed")
    return value


def _known_region(value: str) -> str:
    if value not in KNOWN_REGIONS:
        raise ValueError(f"not an AWS region (botocore endpoints.json as of {REGIONS_DATE}: contract/aws_regions.py)")
    return value


Region = Annotated[str, _shape(r"[a-z]{2}(-[a-z]+)+-\d", "eu-west-1"), AfterValidator(_known_region)]
AvailabilityZone = Annotated[str, _shape(r"[a-z]{2}(-gov)?-[a-z]+-\d[a-z]", "eu-west-1a")]
AccountId = Annotated[str, _shape(r"\d{12}", "123456789012")]
VpcId = Annotated[str, _shape(r"vpc-([0-9a-f]{8}|[0-9a-f]{17})", "vpc-0123456789abcdef0")]
SubnetId = Annotated[str, _shape(r"subnet-([0-9a-f]{8}|[0-9a-f]{17})", "subnet-0123456789abcdef0")]
SecurityGroupId = Annotated[str, _shape(r"sg-([0-9a-f]{8}|[0-9a-f]{17})", "sg-0123456789abcdef0")]
VPC_ENDPOINT_ID = re.compile(r"vpce-([0-9a-f]{8}|[0-9a-f]{17})")
# The S3 backend refuses keys (and so prefixes) with a leading or trailing "/" or an empty segment.
StateKeyPrefix = Annotated[str, _shape(r"[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*", "teams/db/aurora-migration")]
SecretArn = Annotated[
    str,
    _shape(
        r"arn:aws(-[a-z]+)*:secretsmanager:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]+",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:onprem/source-AbCdEf",
    ),
]
KmsKeyArn = Annotated[
    str,
    _shape(
        r"arn:aws(-[a-z]+)*:kms:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:(key/[0-9a-f-]{36}|alias/[A-Za-z0-9/_-]+)",
        "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
    ),
]
Cidr = Annotated[str, AfterValidator(_cidr)]


def _cloudwatch_retention(days: int) -> int:
    if days not in CLOUDWATCH_RETENTION_DAYS:
        raise ValueError(f"allowed CloudWatch retention values: {', '.join(map(str, CLOUDWATCH_RETENTION_DAYS))}")
    return days


LogRetentionDays = Annotated[int, AfterValidator(_cloudwatch_retention)]
Hostname = Annotated[
    str,
    _shape(
        r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*", "pg.corp.example.com"
    ),
]
PgIdentifier = Annotated[str, _shape(r"[a-z_][a-z0-9_]{0,62}", "app_db")]


def _dms_pattern(value: str) -> str:
    problem = pattern_problem(value)
    if problem:
        raise ValueError(f"not a DMS table-mapping pattern: {problem} ({DMS_WILDCARDS_SOURCE})")
    return value


# Names used in DMS selection rules, with DMS's wildcards (contract/dms_wildcards.py): % any run, _ one character,
# [_] a literal underscore, [ab] / [a-d] sets.
SelectionName = Annotated[str, _shape(r"[A-Za-z0-9_%$\[\]-]{1,63}", "audit[_]%"), AfterValidator(_dms_pattern)]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


def _minute_of_day(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def window_minutes(window: str) -> set[int]:
    """The minutes of the week a window covers: `hh:mm-hh:mm` every day, or `ddd:hh:mm-ddd:hh:mm` once a week
    (both may run past midnight or the end of the week)."""
    start, end = window.split("-")
    if start[:3] in DAYS:
        first = DAYS.index(start[:3]) * MINUTES_PER_DAY + _minute_of_day(start[4:])
        last = DAYS.index(end[:3]) * MINUTES_PER_DAY + _minute_of_day(end[4:])
        return {minute % MINUTES_PER_WEEK for minute in range(first, first + (last - first) % MINUTES_PER_WEEK)}
    first, last = _minute_of_day(start), _minute_of_day(end)
    daily = range(first, first + (last - first) % MINUTES_PER_DAY)
    return {(day * MINUTES_PER_DAY + minute) % MINUTES_PER_WEEK for day in range(7) for minute in daily}


def window_length(window: str) -> int:
    return len(window_minutes(window)) // (1 if window[:3] in DAYS else 7)


def _at_least_30_minutes(window: str) -> str:
    # botocore rds CreateDBCluster.PreferredBackupWindow / PreferredMaintenanceWindow and dms
    # CreateReplicationInstance.PreferredMaintenanceWindow: "Must be at least 30 minutes" / "Minimum 30-minute window".
    if window_length(window) < MIN_WINDOW_MINUTES:
        raise ValueError(f"a window of at least {MIN_WINDOW_MINUTES} minutes (RDS and DMS API reference)")
    return window


DayTimeWindow = Annotated[
    str,
    _shape(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", "03:00-04:00"),
    AfterValidator(_at_least_30_minutes),
]
WeeklyWindow = Annotated[
    str,
    _shape(
        r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d",
        "sun:04:30-sun:05:30",
    ),
    AfterValidator(_at_least_30_minutes),
]
Email = Annotated[str, _shape(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "dba-oncall@example.com")]
HttpsUrl = Annotated[str, _shape(r"https://[^\s]+", "https://events.pagerduty.com/integration/abc/enqueue")]


def _dms_instance_class(value: str) -> str:
    if value not in DMS_INSTANCE_CLASSES:
        families = sorted({name.split(".")[1] for name in DMS_INSTANCE_CLASSES})
        raise ValueError(
            f"not a DMS replication instance class (families {', '.join(families)}; the list in "
            f"contract/dms_instance_classes.py, {DMS_INSTANCE_CLASSES_SOURCE}, {DMS_INSTANCE_CLASSES_DATE})"
        )
    return value


DmsInstanceClass = Annotated[str, _shape(r"dms\.[a-z0-9]+\.[a-z0-9]+", "dms.c5.2xlarge"), AfterValidator(_dms_instance_class)]
DmsEngineVersion = Annotated[str, _shape(r"\d+\.\d+\.\d+", DEFAULT_DMS_ENGINE_VERSION)]
BucketName = Annotated[str, _shape(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "acme-terraform-state-eu-west-1")]
# An IAM role ARN: optional path (`/` separated, each segment non-empty), then the role name (1-64 characters).
IAM_ROLE_ARN = re.compile(r"arn:aws(-[a-z]+)*:iam::(?P<account>\d{12}):role/([A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}")
IamRoleArn = Annotated[str, _shape(IAM_ROLE_ARN.pattern, "arn:aws:iam::123456789012:role/aurora-migration-deploy")]
# STS RoleSessionName and ExternalId: the characters and lengths AssumeRole accepts.
SessionName = Annotated[str, _shape(r"[A-Za-z0-9_+=,.@-]{2,64}", "aurora-migration-prod")]
ExternalId = Annotated[str, _shape(r"[A-Za-z0-9_+=,.@:/-]{2,1224}", "aurora-migration-7f3c")]

EnvironmentSuffix = Annotated[str, _shape(r"[a-z][a-z0-9]{1,11}", "dev")]


# Every physical name is `<prefix>-<purpose>-<suffix>`, and RDS and DMS identifiers refuse a trailing hyphen or
# two in a row (botocore rds CreateDBCluster.DBClusterIdentifier): so does the prefix.
def _name_prefix(value: str) -> str:
    if not re.fullmatch(r"[a-z](-?[a-z0-9])*", value) or not 2 <= len(value) <= 21:
        raise ValueError(
            "2-21 lowercase letters, digits and single hyphens, first a letter, no hyphen at the end "
            "(RDS and DMS refuse '--' and a trailing '-' in identifiers), like 'aurora-migration'"
        )
    return value


NamePrefix = Annotated[str, AfterValidator(_name_prefix)]


def _tag(kind: str, max_length: int) -> AfterValidator:
    def check(value: str) -> str:
        problem = tag_problem(value, max_length=max_length)
        if problem:
            raise ValueError(f"tag {kind}: {problem}")
        return value

    return AfterValidator(check)


# botocore rds `Tag` (Key 1-128, Value up to 256 characters; no `aws:` or `rds:` prefix; Unicode letters, digits,
# white space and _ . : / = + - @). Default tags reach every resource, so the strictest service's rule applies.
TagKey = Annotated[str, _tag("key", TAG_KEY_MAX_LENGTH)]
TagValue = Annotated[str, _tag("value", TAG_VALUE_MAX_LENGTH)]


class StrictModel(BaseModel):
    # strict: TOML types its values, so a quoted "2", or true for a number, is a mistake to report, never to coerce
    # (the loader validates the file as JSON, where arrays still fill tuples and strings fill paths).
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, strict=True)
