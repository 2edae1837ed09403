"""What a short-lived stack (ENVIRONMENT_SUFFIX, e.g. one per pull request) runs instead of its base's sizes.

A pull-request stack rehearses the migration on test data and is destroyed within days: it needs the same resources,
not the same capacity or availability. By default it runs Aurora Serverless v2 from 0.5 ACU with one reader, a
single-AZ replication instance of the smallest useful burstable class, and no deletion protection (a destroy must
not need a second apply). The base file's `[short_lived]` table changes any of them for the stacks made from it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from config.aurora import AuroraConfig
from config.fields import DmsInstanceClass, StrictModel
from contract.aurora import MAX_AURORA_READERS, SERVERLESS_INSTANCE_CLASS, SERVERLESS_MIN_ACU
from contract.dms_instance_classes import DMS_INSTANCE_CLASSES

# The medium size: micro and small (1 and 2 GiB) leave DMS too little memory to sort CDC transactions
# (DMS user guide, "Choosing the right AWS DMS replication instance": T classes for development and tests).
_SHORT_LIVED_DMS_SIZE = "medium"
# Serverless v2's default max_connections follows the maximum ACU (823 at 4 ACU, contract/aurora.py): enough for DMS
# and a test application, about 8 GiB at the peak of a full load, and nothing when idle beyond the 0.5 ACU floor.
SHORT_LIVED_MAX_ACU = 4.0


def short_lived_dms_class(classes: tuple[str, ...] = DMS_INSTANCE_CLASSES) -> str:
    """The medium size of the newest burstable family (`t<generation>`) in the DMS instance class table."""
    burstable = {name.split(".")[1] for name in classes if name.split(".")[1][:1] == "t" and name.split(".")[1][1:].isdigit()}
    for family in sorted(burstable, key=lambda family: int(family[1:]), reverse=True):
        candidate = f"dms.{family}.{_SHORT_LIVED_DMS_SIZE}"
        if candidate in classes:
            return candidate
    raise ValueError(f"the DMS instance class table has no burstable {_SHORT_LIVED_DMS_SIZE} class")


def _aurora_field(name: str, value: Any) -> None:
    """`value` checked as `[aurora]` checks its `name` (ValueError with the same message)."""
    try:
        AuroraConfig.model_validate({name: value})
    except ValidationError as error:
        raise ValueError("; ".join(str(item["msg"]).removeprefix("Value error, ") for item in error.errors())) from None


_ACU_FIELDS = ("aurora_serverless_min_capacity_acu", "aurora_serverless_max_capacity_acu")


class ShortLivedConfig(StrictModel):
    """What a short-lived stack made from this file (ENVIRONMENT_SUFFIX, with ENVIRONMENT_BASE naming this environment)
    runs instead of this file's values: cheap by default. Nothing here changes this environment's own stack."""

    aurora_instance_class: str = Field(
        default=SERVERLESS_INSTANCE_CLASS,
        description="Instance class of the short-lived stack's writer and readers (`aurora.instance_class`); default "
        f"`{SERVERLESS_INSTANCE_CLASS}`, Aurora Serverless v2, which costs little while idle. A provisioned class keeps "
        "the base's reader auto scaling.",
    )
    aurora_serverless_min_capacity_acu: float | None = Field(
        default=None,
        description=f"Serverless v2 only: least capacity of each instance, in ACUs (unset: {SERVERLESS_MIN_ACU:g}, the floor).",
    )
    aurora_serverless_max_capacity_acu: float | None = Field(
        default=None,
        description=f"Serverless v2 only: most capacity of each instance, in ACUs (unset: {SHORT_LIVED_MAX_ACU:g}).",
    )
    aurora_reader_count: int = Field(
        default=1,
        ge=1,
        le=MAX_AURORA_READERS,
        description="Readers besides the writer (default 1: the failover path and the reader endpoint stay testable).",
    )
    aurora_deletion_protection: bool = Field(
        default=False, description="Deletion protection of the short-lived cluster (default off: it is destroyed)."
    )
    dms_multi_az: bool = Field(default=False, description="Multi-AZ replication instance (default single-AZ).")
    dms_replication_instance_class: DmsInstanceClass = Field(
        default_factory=short_lived_dms_class,
        description="Replication instance class; default the medium size of the newest burstable family in "
        "contract/dms_instance_classes.py (`dms.t3.medium` today).",
    )

    @field_validator("aurora_instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        _aurora_field("instance_class", value)
        return value

    @field_validator(*_ACU_FIELDS)
    @classmethod
    def _acu(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None:
            _aurora_field("serverless_min_capacity_acu", value)
            instance_class = info.data.get("aurora_instance_class")
            if instance_class is not None and instance_class != SERVERLESS_INSTANCE_CLASS:
                raise ValueError(f"only with aurora_instance_class {SERVERLESS_INSTANCE_CLASS!r} (not {instance_class!r})")
        if info.field_name == "aurora_serverless_max_capacity_acu":
            high = SHORT_LIVED_MAX_ACU if value is None else value
            low = info.data.get("aurora_serverless_min_capacity_acu")
            if high < 1:
                raise ValueError("at least 1 ACU")
            if low is not None and low > high:
                unset = " (unset: the default)" if value is None else ""
                raise ValueError(f"below aurora_serverless_min_capacity_acu {low!r}{unset}")
        return value

    @property
    def min_capacity_acu(self) -> float:
        return self.aurora_serverless_min_capacity_acu or SERVERLESS_MIN_ACU

    @property
    def max_capacity_acu(self) -> float:
        return self.aurora_serverless_max_capacity_acu or SHORT_LIVED_MAX_ACU

    @property
    def serverless(self) -> bool:
        return self.aurora_instance_class == SERVERLESS_INSTANCE_CLASS

    def overrides(self) -> dict[str, dict[str, Any]]:
        """The `[aurora]` and `[dms]` keys a short-lived stack replaces (config/loader.py, ephemeral_overrides)."""
        aurora: dict[str, Any] = {
            "instance_class": self.aurora_instance_class,
            "serverless_min_capacity_acu": self.min_capacity_acu if self.serverless else None,
            "serverless_max_capacity_acu": self.max_capacity_acu if self.serverless else None,
            "reader_count": self.aurora_reader_count,
            "deletion_protection": self.aurora_deletion_protection,
        }
        if self.serverless:
            # Aurora Auto Scaling does not support Serverless v2: its readers scale their capacity instead.
            aurora["auto_scaling"] = {"enabled": False}
        dms = {"multi_az": self.dms_multi_az, "replication_instance_class": self.dms_replication_instance_class}
        return {"aurora": aurora, "dms": dms}
