"""The target Aurora PostgreSQL cluster: instances, reader auto scaling, backups, and what the database logs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from config.fields import DayTimeWindow, LogRetentionDays, PgIdentifier, StrictModel, WeeklyWindow, window_minutes
from contract.aurora import (
    AURORA_MINORS_DATE,
    AURORA_MINORS_SOURCE,
    AURORA_RELEASED_MINORS,
    INSTANCE_MEMORY_GIB,
    MAX_AURORA_READERS,
    PGAUDIT_LOG_CLASSES,
    PGAUDIT_OBJECT_AUDIT_ROLE,
    SERVERLESS_ACU_STEP,
    SERVERLESS_INSTANCE_CLASS,
    SERVERLESS_MAX_ACU,
    SERVERLESS_MIN_ACU,
    SERVERLESS_V2_FIRST_MINOR,
    SUPPORTED_AURORA_MAJORS,
    engine_major,
)
from contract.aws_limits import (
    ADVANCED_DATABASE_INSIGHTS_RETENTION_DAYS,
    PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    PERFORMANCE_INSIGHTS_RETENTION_RULE,
)

# PostgreSQL reserves role names starting with `pg_` and the names below ("CREATE ROLE"); RDS and Aurora keep
# `rdsadmin` and the `rds_*` roles (rds_superuser, rds_replication, rds_password, ...) for themselves.
RESERVED_ROLE_PREFIXES = ("pg_", "rds")
RESERVED_ROLE_NAMES = frozenset({"public", "none", "current_user", "current_role", "session_user"})


def not_a_reserved_role(value: str) -> str:
    """A role name the stack may create on Aurora (a dedicated DMS or application user)."""
    if value.startswith(RESERVED_ROLE_PREFIXES) or value in RESERVED_ROLE_NAMES:
        raise ValueError(
            f"a role name PostgreSQL or Aurora reserves (prefixes {', '.join(RESERVED_ROLE_PREFIXES)}, "
            f"names {', '.join(sorted(RESERVED_ROLE_NAMES))})"
        )
    return value


RESERVED_MASTER_USERNAMES = frozenset({"postgres", "admin", "administrator", "root", "rdsadmin", "master"})


class ReaderAutoScalingConfig(StrictModel):
    """Aurora Auto Scaling of the readers (Application Auto Scaling, target tracking); off by default. Readers it
    adds (`application-autoscaling-*`) are not in Terraform: runbook, "Reader auto scaling"."""

    enabled: bool = Field(default=False, description="Let Application Auto Scaling add and remove readers.")
    max_readers: int = Field(
        default=4,
        ge=1,
        le=MAX_AURORA_READERS,
        description="Most readers auto scaling may run, Terraform's included (at least `aurora.reader_count`, at most 15); "
        "the minimum is `aurora.reader_count`.",
    )
    metric: Literal["cpu", "connections"] = Field(
        default="cpu",
        description="What it tracks: `cpu` (RDSReaderAverageCPUUtilization) or `connections` "
        "(RDSReaderAverageDatabaseConnections), averaged over the readers.",
    )
    target_value: float = Field(
        default=70, gt=0, description="Target of the metric: CPU percent (at most 100) or connections per reader."
    )
    scale_in_cooldown_seconds: int = Field(
        default=300, ge=0, le=86400, description="Wait after removing a reader before removing another (AWS default 300)."
    )
    scale_out_cooldown_seconds: int = Field(
        default=300, ge=0, le=86400, description="Wait after adding a reader before adding another (AWS default 300)."
    )


class AuroraConfig(StrictModel):
    """The target Aurora PostgreSQL cluster."""

    engine_version: str = Field(
        default="15.12",
        description="Aurora PostgreSQL `major.minor` a new cluster is created with; AWS upgrades minors after that and "
        "the cluster ignores this value once created (docs/design.md, Versions), except during a major upgrade "
        "(`allow_major_version_upgrade`). The parameter group family follows the major; the minor must be a released "
        "one (the dated list in contract/aurora.py).",
    )
    allow_major_version_upgrade: bool = Field(
        default=False,
        description="Set only for the apply that moves `engine_version` to a new major (runbook, Major version upgrades): "
        "the cluster is upgraded in place (same cluster, new-family parameter groups); set it back to false afterwards. "
        "A plan refuses a major change without it, and it left on once the cluster runs the configured version.",
    )
    instance_class: str = Field(
        default="db.r6g.large",
        description="Instance class of the writer and every reader; `db.serverless` selects Aurora Serverless v2.",
    )
    serverless_min_capacity_acu: float | None = Field(
        default=None,
        description="Serverless v2 only (and then required): least capacity of each instance, in ACUs (0.5-256, steps of 0.5).",
    )
    serverless_max_capacity_acu: float | None = Field(
        default=None,
        description="Serverless v2 only (and then required): most capacity of each instance, in ACUs (1-256, steps of 0.5; "
        "above 128 needs a recent Aurora version).",
    )
    reader_count: int = Field(
        default=2, ge=1, le=MAX_AURORA_READERS, description="Readers besides the writer (1-15) that Terraform manages."
    )
    auto_scaling: ReaderAutoScalingConfig = Field(default_factory=ReaderAutoScalingConfig)
    master_username: PgIdentifier = Field(
        default="migration_admin", description="Master user name (not a default like `postgres`)."
    )
    master_password_version: int = Field(
        default=1, ge=1, description="Bump to rotate: a new random password is written to the cluster and the secret."
    )
    database_name: PgIdentifier = Field(default="app", description="Database created in the cluster (DMS target database).")
    application_username: PgIdentifier = Field(
        default="app_user",
        description="The applications' database user (not the master user): the stack generates its password into its "
        "own secret (output `app_secret_arn`); the role and its grants are created on Aurora by the runbook's SQL "
        '("The application user"). Not a reserved name, not `master_username` or `dms.target_username`.',
    )
    application_password_version: int = Field(
        default=1,
        ge=1,
        description="Bump to rotate the application user's password: a new random password is written to its secret; "
        'then set it on Aurora again (runbook, "The application user").',
    )
    secret_recovery_window_days: int = Field(
        default=7,
        ge=0,
        le=30,
        description="Days a deleted credentials secret can be restored (0 = delete at once, for short-lived environments).",
    )
    backup_retention_days: int = Field(default=7, ge=7, le=35, description="Automated backup retention (7-35).")
    preferred_backup_window: DayTimeWindow = Field(default="03:00-04:00", description="Daily backup window, UTC.")
    preferred_maintenance_window: WeeklyWindow = Field(
        default="sun:04:30-sun:05:30", description="Weekly maintenance window, UTC."
    )
    deletion_protection: bool = Field(default=True, description="Block cluster deletion (keep on for production).")
    skip_final_snapshot: bool = Field(
        default=False, description="Skip the final snapshot on destroy (short-lived environments only)."
    )
    performance_insights_retention_days: int = Field(
        default=7, description=f"Performance Insights retention: {PERFORMANCE_INSIGHTS_RETENTION_RULE}."
    )
    database_insights_mode: Literal["standard", "advanced"] = Field(
        default="standard",
        description="CloudWatch Database Insights of the cluster (the Performance Insights console ended on 2026-07-31): "
        "`standard`, or `advanced` (execution plans, lock analysis, 15 months of history; needs "
        f"`performance_insights_retention_days = {ADVANCED_DATABASE_INSIGHTS_RETENTION_DAYS}`, RDS CreateDBCluster).",
    )
    monitoring_interval_seconds: Literal[1, 5, 10, 15, 30, 60] = Field(default=60, description="Enhanced monitoring interval.")
    log_retention_days: LogRetentionDays = Field(
        default=30, description="Retention of the PostgreSQL log group (a CloudWatch value)."
    )
    log_min_duration_statement_ms: int = Field(default=1000, ge=0, description="Log statements slower than this (ms).")

    @field_validator("engine_version")
    @classmethod
    def _supported_version(cls, version: str) -> str:
        match = re.fullmatch(r"(\d+)\.(\d+)", version)
        if not match:
            raise ValueError("expected 'major.minor', e.g. '15.12'")
        major, minor = int(match.group(1)), int(match.group(2))
        if major not in SUPPORTED_AURORA_MAJORS:
            allowed = ", ".join(str(m) for m in SUPPORTED_AURORA_MAJORS)
            raise ValueError(f"major version {major} is not supported (supported majors: {allowed})")
        if minor not in AURORA_RELEASED_MINORS[major]:
            released = ", ".join(f"{major}.{m}" for m in AURORA_RELEASED_MINORS[major])
            raise ValueError(
                f"not a released Aurora PostgreSQL {major} minor (released: {released}; {AURORA_MINORS_SOURCE}, "
                f"as of {AURORA_MINORS_DATE}: contract/aurora.py)"
            )
        return version

    @field_validator("secret_recovery_window_days")
    @classmethod
    def _recovery_window(cls, days: int) -> int:
        if days != 0 and not 7 <= days <= 30:
            raise ValueError("allowed: 0 (delete at once) or 7-30")
        return days

    @field_validator("instance_class")
    @classmethod
    def _instance_class_shape(cls, value: str) -> str:
        if value == SERVERLESS_INSTANCE_CLASS:
            return value
        if not re.fullmatch(r"db\.[a-z0-9]+\.[a-z0-9]+", value):
            raise ValueError(f"expected an RDS instance class like 'db.r6g.large', or {SERVERLESS_INSTANCE_CLASS!r}")
        if value not in INSTANCE_MEMORY_GIB:
            raise ValueError(
                "the connections alarm needs the class's memory; known classes: " + ", ".join(sorted(INSTANCE_MEMORY_GIB))
            )
        return value

    @field_validator("serverless_min_capacity_acu", "serverless_max_capacity_acu")
    @classmethod
    def _acu_steps(cls, acu: float | None) -> float | None:
        if acu is not None and (acu % SERVERLESS_ACU_STEP or not SERVERLESS_MIN_ACU <= acu <= SERVERLESS_MAX_ACU):
            raise ValueError(
                f"allowed: {SERVERLESS_MIN_ACU:g} to {SERVERLESS_MAX_ACU:g} ACUs in steps of {SERVERLESS_ACU_STEP:g}"
            )
        return acu

    @field_validator("master_username")
    @classmethod
    def _not_a_default_username(cls, value: str) -> str:
        if value in RESERVED_MASTER_USERNAMES:
            raise ValueError(f"choose a non-default master username (not one of {sorted(RESERVED_MASTER_USERNAMES)})")
        return value

    @field_validator("application_username")
    @classmethod
    def _application_user_is_not_reserved(cls, value: str) -> str:
        return not_a_reserved_role(value)

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi_retention(cls, days: int) -> int:
        if days not in PERFORMANCE_INSIGHTS_RETENTION_DAYS:
            raise ValueError(f"allowed: {PERFORMANCE_INSIGHTS_RETENTION_RULE}")
        return days

    @property
    def engine_major(self) -> int:
        return engine_major(self.engine_version)

    @property
    def serverless(self) -> bool:
        return self.instance_class == SERVERLESS_INSTANCE_CLASS

    def problems(self) -> list[str]:
        """Rules across the fields of `[aurora]`, one line each (EnvironmentConfig reports them with the others)."""
        return [problem for _, rule in AURORA_RULES for problem in rule(self)]

    def capacity_problems(self) -> list[str]:
        problems = []
        if self.application_username == self.master_username:
            problems.append(
                "aurora.application_username: must differ from aurora.master_username (applications do not get the "
                f"master user), got {self.application_username!r}"
            )
        capacity = {"serverless_min_capacity_acu": self.serverless_min_capacity_acu,
                    "serverless_max_capacity_acu": self.serverless_max_capacity_acu}  # fmt: skip
        if self.serverless:
            first = SERVERLESS_V2_FIRST_MINOR[self.engine_major]
            if int(self.engine_version.split(".")[1]) < first:
                problems.append(
                    f"aurora.instance_class: {SERVERLESS_INSTANCE_CLASS} needs Aurora PostgreSQL "
                    f"{self.engine_major}.{first} or later, got engine_version {self.engine_version!r}"
                )
            problems += [
                f"aurora.{name}: required with instance_class {SERVERLESS_INSTANCE_CLASS!r}"
                for name, acu in capacity.items()
                if acu is None
            ]
            low, high = capacity.values()
            if high is not None and high < 1:
                problems.append(f"aurora.serverless_max_capacity_acu: at least 1 ACU, got {high!r}")
            if low is not None and high is not None and low > high:
                problems.append(f"aurora.serverless_min_capacity_acu: above serverless_max_capacity_acu {high!r}, got {low!r}")
        else:
            problems += [
                f"aurora.{name}: only with instance_class {SERVERLESS_INSTANCE_CLASS!r} "
                f"(not {self.instance_class!r}), got {acu!r}"
                for name, acu in capacity.items()
                if acu is not None
            ]
        return problems

    def window_problems(self) -> list[str]:
        problems = []
        if window_minutes(self.preferred_backup_window) & window_minutes(self.preferred_maintenance_window):
            # botocore rds CreateDBCluster.PreferredBackupWindow: "Must not conflict with the preferred maintenance window".
            problems.append(
                f"aurora.preferred_backup_window: overlaps preferred_maintenance_window "
                f"{self.preferred_maintenance_window!r} (RDS refuses that), got {self.preferred_backup_window!r}"
            )
        return problems

    def insights_problems(self) -> list[str]:
        problems = []
        if (
            self.database_insights_mode == "advanced"
            and self.performance_insights_retention_days != ADVANCED_DATABASE_INSIGHTS_RETENTION_DAYS
        ):
            # botocore rds CreateDBCluster.DatabaseInsightsMode: advanced needs PerformanceInsightsRetentionPeriod 465.
            problems.append(
                f"aurora.performance_insights_retention_days: database_insights_mode 'advanced' needs "
                f"{ADVANCED_DATABASE_INSIGHTS_RETENTION_DAYS}, got {self.performance_insights_retention_days}"
            )
        return problems

    def scaling_problems(self) -> list[str]:
        problems: list[str] = []
        scaling = self.auto_scaling
        if scaling.enabled:
            if scaling.max_readers < self.reader_count:
                problems.append(
                    f"aurora.auto_scaling.max_readers: at least aurora.reader_count ({self.reader_count}, the minimum), "
                    f"got {scaling.max_readers}"
                )
            if scaling.metric == "cpu" and scaling.target_value > 100:
                problems.append(f"aurora.auto_scaling.target_value: a CPU percent (at most 100), got {scaling.target_value!r}")
            if self.serverless:
                # Aurora user guide, "Requirements and limitations for Aurora Serverless v2": "Aurora Auto Scaling isn't
                # supported" (Serverless v2 readers scale their capacity instead).
                problems.append(
                    "aurora.auto_scaling.enabled: Aurora Auto Scaling does not support Serverless v2 "
                    f"(instance_class {SERVERLESS_INSTANCE_CLASS!r}), got true"
                )
        return problems


# Each rule across `[aurora]` with the fields it reads: the loader runs a rule whenever those fields are valid, even
# when another field of the file is not, so one run reports every problem (config/loader.py, partial_problems).
_SERVERLESS_FIELDS = ("instance_class", "engine_version", "serverless_min_capacity_acu", "serverless_max_capacity_acu")
AURORA_RULES: tuple[tuple[tuple[str, ...], Callable[[AuroraConfig], list[str]]], ...] = (
    (_SERVERLESS_FIELDS, AuroraConfig.capacity_problems),
    (("preferred_backup_window", "preferred_maintenance_window"), AuroraConfig.window_problems),
    (("database_insights_mode", "performance_insights_retention_days"), AuroraConfig.insights_problems),
    (("auto_scaling", "reader_count", "instance_class"), AuroraConfig.scaling_problems),
)


def _pgaudit_class(value: str) -> str:
    if value.removeprefix("-") not in PGAUDIT_LOG_CLASSES or value in ("-all", "-none"):
        raise ValueError(
            f"allowed pgAudit classes: {', '.join(PGAUDIT_LOG_CLASSES)}; '-' before one subtracts it from 'all' ('-misc')"
        )
    return value


PgauditClass = Annotated[str, AfterValidator(_pgaudit_class)]


class ObservabilityConfig(StrictModel):
    """What the database logs for tuning and audit (parameter groups; runbook, "Database observability")."""

    log_temp_files_kb: int = Field(
        default=10240,
        ge=-1,
        le=2147483647,
        description="Log each temporary file at least this large (kB; 0 logs all, -1 none). Temp files fill the "
        "instance's local storage (the free-local-storage alarm); 10 MiB skips small work_mem spills.",
    )
    log_autovacuum_min_duration_ms: int = Field(
        default=10000,
        ge=-1,
        le=2147483647,
        description="Log autovacuum runs that take at least this long (ms; 0 logs all, -1 none). 10 s is Aurora's "
        "default, stated here; AWS suggests 1000-5000 while tuning autovacuum.",
    )
    auto_explain_min_duration_ms: int | None = Field(
        default=None,
        ge=-1,
        le=2147483647,
        description="Preload auto_explain and log the plan of statements at least this slow (ms; -1 loads it but logs "
        "nothing). Unset: not loaded. Turning it on or off needs a reboot; changing the value does not.",
    )
    pgaudit_log: tuple[PgauditClass, ...] = Field(
        default=(),
        description='Preload pgAudit and log these statement classes (`pgaudit.log`), e.g. `["ddl", "role"]`; '
        '`["none"]` loads it and logs nothing. Empty: not loaded. read/write/all log every statement DMS applies.',
    )
    pgaudit_object_audit: bool = Field(
        default=False,
        description=f"Object audit: set `pgaudit.role` to `{PGAUDIT_OBJECT_AUDIT_ROLE}` (the only role Aurora accepts); "
        "statements on what that role is granted are logged. Needs `pgaudit_log`.",
    )

    @field_validator("pgaudit_log")
    @classmethod
    def _pgaudit_classes_combine(cls, classes: tuple[str, ...]) -> tuple[str, ...]:
        problems = []
        if len(set(classes)) != len(classes):
            problems.append("a class is listed twice")
        if "none" in classes and len(classes) > 1:
            problems.append("'none' logs nothing and cannot be combined with other classes")
        if any(c.startswith("-") for c in classes) and "all" not in classes:
            problems.append("a '-class' subtracts from 'all', which is missing")
        if problems:
            raise ValueError("\n".join(problems))
        return classes

    @field_validator("pgaudit_object_audit")
    @classmethod
    def _object_audit_needs_pgaudit(cls, on: bool, info: ValidationInfo) -> bool:
        if on and info.data.get("pgaudit_log") == ():
            raise ValueError("needs pgAudit loaded: set pgaudit_log too (['none'] for object audit only)")
        return on
