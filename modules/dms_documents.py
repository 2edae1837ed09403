"""The DMS task settings and table mappings, built from Python data and serialized once.

The task settings are the full document (not a partial one): AWS fills in
every key it is not given, and a partial or differently ordered document
shows up as a change in every `terraform plan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract.dms import TARGET_TABLE_PREP_MODE
from modules.policy import canonical_json

LOGGED_COMPONENTS = ("SOURCE_UNLOAD", "SOURCE_CAPTURE", "TARGET_LOAD", "TARGET_APPLY", "TASK_MANAGER")
STOP = "STOP_TASK"


@dataclass(frozen=True, kw_only=True)
class TableRule:
    """One selection rule; names in DMS's wildcard grammar (contract/dms_wildcards.py: % any run, _ one character)."""

    schema_name: str
    table_name: str


@dataclass(frozen=True, kw_only=True)
class TaskDocumentsProps:
    """The values below are validated by the config model (config/model.py, `dms`)."""

    include: tuple[TableRule, ...]
    """Selection rules of the tables to migrate, in order (at least one)."""
    exclude: tuple[TableRule, ...]
    lob_max_size_kb: int
    """Limited-LOB-mode size; the task fails on a larger value instead of truncating it."""
    control_schema: str
    """Schema of the DMS control tables on the target."""


def table_mappings(props: TaskDocumentsProps) -> str:
    rules: list[dict[str, Any]] = []
    for action, selections in (("include", props.include), ("exclude", props.exclude)):
        rules.extend(_selection_rule(len(rules) + 1, action, selection) for selection in selections)
    return canonical_json({"rules": rules})


def _selection_rule(rule_id: int, action: str, selection: TableRule) -> dict[str, Any]:
    return {
        "rule-type": "selection",
        "rule-id": str(rule_id),
        "rule-name": f"{action}-{rule_id}",
        "object-locator": {"schema-name": selection.schema_name, "table-name": selection.table_name},
        "rule-action": action,
        "filters": [],
    }


def task_settings(props: TaskDocumentsProps) -> str:
    return canonical_json(
        {
            "TargetMetadata": {
                "TargetSchema": "",
                "SupportLobs": True,
                "FullLobMode": False,
                "LobChunkSize": 0,
                "LimitedSizeLobMode": True,
                "LobMaxSize": props.lob_max_size_kb,
                "InlineLobMaxSize": 0,
                "LoadMaxFileSize": 0,
                "ParallelLoadThreads": 0,
                "ParallelLoadBufferSize": 0,
                "ParallelLoadQueuesPerThread": 0,
                "ParallelApplyThreads": 0,
                "ParallelApplyBufferSize": 0,
                "ParallelApplyQueuesPerThread": 0,
                "BatchApplyEnabled": False,
                "TaskRecoveryTableEnabled": False,
            },
            "FullLoadSettings": {
                # The schema is created on Aurora beforehand (runbook): DMS must not drop or recreate it.
                "TargetTablePrepMode": TARGET_TABLE_PREP_MODE,
                "CreatePkAfterFullLoad": False,
                "StopTaskCachedChangesApplied": False,
                "StopTaskCachedChangesNotApplied": False,
                "MaxFullLoadSubTasks": 8,
                "TransactionConsistencyTimeout": 600,
                "CommitRate": 10000,
            },
            "Logging": {
                "EnableLogging": True,
                "LogComponents": [{"Id": component, "Severity": "LOGGER_SEVERITY_DEFAULT"} for component in LOGGED_COMPONENTS],
            },
            "ControlTablesSettings": {
                "ControlSchema": props.control_schema,
                "HistoryTimeslotInMinutes": 5,
                "HistoryTableEnabled": True,
                "SuspendedTablesTableEnabled": True,
                "StatusTableEnabled": True,
                "FullLoadExceptionTableEnabled": True,
            },
            "StreamBufferSettings": {"StreamBufferCount": 3, "StreamBufferSizeInMB": 8, "CtrlStreamBufferSizeInMB": 5},
            "ChangeProcessingDdlHandlingPolicy": {
                "HandleSourceTableDropped": True,
                "HandleSourceTableTruncated": True,
                "HandleSourceTableAltered": True,
            },
            "ChangeProcessingTuning": {
                "BatchApplyPreserveTransaction": True,
                "BatchApplyTimeoutMin": 1,
                "BatchApplyTimeoutMax": 30,
                "BatchApplyMemoryLimit": 500,
                "BatchSplitSize": 0,
                "MinTransactionSize": 1000,
                "CommitTimeout": 1,
                "MemoryLimitTotal": 1024,
                "MemoryKeepTime": 60,
                "StatementCacheSize": 50,
            },
            # Every data problem stops the task: a migration must not skip rows silently.
            "ErrorBehavior": {
                "DataErrorPolicy": STOP,
                "DataTruncationErrorPolicy": STOP,
                "DataErrorEscalationPolicy": STOP,
                "DataErrorEscalationCount": 0,
                "TableErrorPolicy": STOP,
                "TableErrorEscalationPolicy": STOP,
                "TableErrorEscalationCount": 0,
                "RecoverableErrorCount": -1,
                "RecoverableErrorInterval": 5,
                "RecoverableErrorThrottling": True,
                "RecoverableErrorThrottlingMax": 1800,
                "RecoverableErrorStopRetryAfterThrottlingMax": True,
                "ApplyErrorDeletePolicy": STOP,
                "ApplyErrorInsertPolicy": STOP,
                "ApplyErrorUpdatePolicy": STOP,
                "ApplyErrorEscalationPolicy": STOP,
                "ApplyErrorEscalationCount": 0,
                "ApplyErrorFailOnTruncationDdl": True,
                "FullLoadIgnoreConflicts": False,
                "FailOnTransactionConsistencyBreached": True,
                "FailOnNoTablesCaptured": True,
            },
            "ValidationSettings": {
                "EnableValidation": True,
                "ValidationMode": "ROW_LEVEL",
                "ThreadCount": 5,
                "PartitionSize": 10000,
                "FailureMaxCount": 10000,
                "RecordFailureDelayInMinutes": 5,
                "RecordSuspendDelayInMinutes": 30,
                "MaxKeyColumnSize": 8096,
                "TableFailureMaxCount": 1000,
                "ValidationOnly": False,
                "HandleCollationDiff": False,
                "RecordFailureDelayLimitInMinutes": 0,
                "SkipLobColumns": False,
                "ValidationPartialLobSize": 0,
                "ValidationQueryCdcDelaySeconds": 0,
            },
            "FailTaskWhenCleanTaskResourceFailed": False,
        }
    )
