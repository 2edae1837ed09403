"""The DMS replication instance, endpoints and task, and the selection rules of the tables to migrate."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator

from config.aurora import not_a_reserved_role
from config.fields import (
    DmsEngineVersion,
    DmsInstanceClass,
    LogRetentionDays,
    PgIdentifier,
    SelectionName,
    StrictModel,
    WeeklyWindow,
)
from config.network import ca_bundle_file
from contract.dms import MigrationType, ServiceRolesMode, TargetUserMode
from contract.dms_engines import DEFAULT_DMS_ENGINE_VERSION
from contract.dms_wildcards import DOCUMENTATION as DMS_WILDCARDS_SOURCE
from contract.dms_wildcards import literal_name, matches


class TableSelection(StrictModel):
    """One DMS selection rule, with DMS's wildcards: `%` any run, `_` one character, `[_]` a literal underscore."""

    schema_name: SelectionName = Field(description="Schema name or pattern.")
    table_name: SelectionName = Field(default="%", description="Table name or pattern.")


def _covers(exclude: TableSelection, include: TableSelection) -> bool:
    """Whether `exclude` leaves out everything `include` selects: the same pattern, an exclude that matches the one
    name a literal include selects, or an exclude of any name (`%` only)."""

    def covers(outer: str, inner: str) -> bool:
        name = literal_name(inner)
        return outer == inner or set(outer) == {"%"} or (name is not None and matches(outer, name))

    return covers(exclude.schema_name, include.schema_name) and covers(exclude.table_name, include.table_name)


class DmsConfig(StrictModel):
    """The DMS replication instance, endpoints and task."""

    replication_instance_class: DmsInstanceClass = Field(
        default="dms.c5.2xlarge", description="Replication instance class (the dated list in contract/dms_instance_classes.py)."
    )
    allocated_storage_gib: int = Field(default=100, ge=5, le=6144, description="Replication instance storage (GiB).")
    engine_version: DmsEngineVersion = Field(
        default=DEFAULT_DMS_ENGINE_VERSION,
        description="DMS engine a new replication instance is created with; refused once AWS no longer creates "
        "instances with it or when it cannot write to the Aurora major (table: contract/dms_engines.py).",
    )
    replication_instance_exists: bool = Field(
        default=False,
        description="Set to true once this environment's replication instance exists (after its first apply). The "
        "instance ignores `engine_version` after creation, so a passed creation deadline then warns with the version "
        "to move to instead of refusing the synth; false refuses a version AWS no longer creates. A short-lived stack "
        "(ENVIRONMENT_SUFFIX) always creates its own instance and is checked as false.",
    )
    multi_az: bool = Field(default=True, description="Multi-AZ replication instance.")
    preferred_maintenance_window: WeeklyWindow = Field(
        default="sat:04:00-sat:05:00", description="Weekly maintenance window, UTC."
    )
    service_roles: ServiceRolesMode = Field(
        default="create",
        description="`create` the account-wide `dms-vpc-role`/`dms-cloudwatch-logs-role`, or use `existing` ones.",
    )
    migration_type: MigrationType = Field(default="full-load-and-cdc", description="Replication task type.")
    include: tuple[TableSelection, ...] = Field(
        default=(TableSelection(schema_name="public"),),
        min_length=1,
        description="Tables to migrate (selection rules, in order). Default: everything in `public`.",
    )
    exclude: tuple[TableSelection, ...] = Field(default=(), description="Tables to leave out.")
    lob_max_size_kb: int = Field(
        default=32, ge=1, le=102400, description="Limited-LOB-mode size; larger values fail the task instead of being truncated."
    )
    heartbeat_frequency_minutes: int = Field(
        default=5, ge=1, le=60, description="Source heartbeat (keeps the slot from holding WAL)."
    )
    control_schema: PgIdentifier = Field(default="dms_control", description="Target schema for DMS control tables.")
    source_schema: PgIdentifier = Field(
        default="dms_control",
        description="Schema on the SOURCE where DMS writes its heartbeat table (and, with `capture_ddl`, its DDL capture "
        "artifacts); a superuser creates it and gives the migration user CREATE and USAGE on it (runbook, step 1).",
    )
    capture_ddl: bool = Field(
        default=False,
        description="Let DMS capture DDL on the source (an event trigger, a function and a table in `source_schema`, "
        "which need a superuser migration user). Off: no DDL on migrated tables from start to cutover (runbook DDL freeze).",
    )
    task_log_retention_days: LogRetentionDays = Field(default=30, description="Retention of the DMS task log group.")
    target_ca_certificate_file: Path = Field(
        description="PEM bundle of the RDS certificate authorities for `aws_region`, relative to the config file "
        "(`https://truststore.pki.rds.amazonaws.com/<region>/<region>-bundle.pem`, or the global bundle): imported as a "
        "DMS certificate, so the target endpoint verifies Aurora's certificate (`ssl_mode = verify-full`). The example "
        "files point at a placeholder: replace it before deploying."
    )
    target_user: TargetUserMode = Field(
        default="dedicated",
        description="Who the target endpoint logs in to Aurora as: `dedicated`, a least-privilege user `target_username` "
        "whose password the stack generates into its own secret (output `dms_target_secret_arn`) and which "
        "`cutover target-user` creates on Aurora before the task starts; or `master`, the Aurora master user through the "
        "credentials secret. Switching an existing stack modifies the target endpoint: stop the task first (runbook).",
    )
    target_username: PgIdentifier = Field(
        default="dms_target",
        description='Name of the dedicated DMS target user (`target_user = "dedicated"`); not a reserved name '
        "(`pg_*`, `rds*`), not `aurora.master_username`.",
    )
    secrets_manager_endpoint_override: bool = Field(
        default=False,
        description="Give both DMS endpoints the `secretsManagerEndpointOverride` extra connection attribute, the Secrets "
        "Manager VPC endpoint's own DNS name, so DMS does not resolve `secretsmanager.<region>.amazonaws.com`. Turn on "
        "when the replication instance cannot resolve that name to the endpoint (e.g. the VPC's DHCP options use DNS "
        "servers that do not see the endpoint's private DNS); runbook, \"Secrets Manager from the replication "
        'instance". Changing it modifies both endpoints: pause the task first.',
    )
    target_password_version: int = Field(
        default=1,
        ge=1,
        description="Bump to rotate the dedicated target user's password: a new random password is written to its "
        'secret; then run `cutover target-user` again (runbook, "The DMS target user").',
    )

    @field_validator("target_ca_certificate_file")
    @classmethod
    def _target_ca_is_readable(cls, path: Path, info: ValidationInfo) -> Path:
        return ca_bundle_file(path, info)

    @field_validator("target_username")
    @classmethod
    def _not_a_reserved_role(cls, value: str) -> str:
        return not_a_reserved_role(value)

    def problems(self, *, master_username: str, application_username: str) -> list[str]:
        """Rules across `[dms]` and the Aurora user names, one line each (EnvironmentConfig reports them with the others)."""
        return self.selection_problems() + self.target_user_problems(
            master_username=master_username, application_username=application_username
        )

    def target_user_problems(self, *, master_username: str, application_username: str) -> list[str]:
        """The dedicated target user is a role of its own (not the master's, not the applications') that applies no DDL."""
        problems: list[str] = []
        if self.target_user != "dedicated":
            return problems
        if self.target_username == application_username:
            problems.append(
                "dms.target_username: must differ from aurora.application_username (two roles with their own grants), "
                f"got {self.target_username!r}"
            )
        if self.target_username == master_username:
            problems.append(
                f"dms.target_username: must differ from aurora.master_username (the dedicated user is a second role), "
                f"got {self.target_username!r}"
            )
        if self.capture_ddl:
            problems.append(
                'dms.target_user: "dedicated" cannot apply the DDL that dms.capture_ddl captures (ALTER TABLE needs the '
                'table\'s owner, the master user); set dms.target_user = "master" or dms.capture_ddl = false, got "dedicated"'
            )
        return problems

    def selection_problems(self) -> list[str]:
        """An exclude that leaves out every include leaves the task nothing to migrate (DMS fails it)."""
        if self.exclude and all(any(_covers(ex, inc) for ex in self.exclude) for inc in self.include):
            included = ", ".join(f"{i.schema_name}.{i.table_name}" for i in self.include)
            excluded = ", ".join(f"{e.schema_name}.{e.table_name}" for e in self.exclude)
            return [
                f"dms.exclude: leaves out every include ({included}), so the task migrates nothing "
                f"({DMS_WILDCARDS_SOURCE}), got {excluded}"
            ]
        return []
