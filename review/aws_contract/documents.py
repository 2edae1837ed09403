"""JSON documents inside string attributes: DMS task settings and table mappings, dashboards, IAM policies."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from review.aws_contract.core import Stack, Violation, is_expression

TASK_SETTINGS_SOURCE = "DMS user guide, 'Specifying task settings for AWS DMS tasks'"
MAPPINGS_SOURCE = "DMS user guide, 'Using table mapping to specify task settings'"
DASHBOARD_SOURCE = "CloudWatch API reference, 'Dashboard Body Structure and Syntax'"
IAM_SOURCE = "IAM user guide, 'IAM JSON policy element reference'"
EVENT_PATTERN_SOURCE = "EventBridge user guide, 'Creating event patterns'"

# Sections and keys a task settings document may hold (the keys this project and the DMS guide use).
TASK_SETTINGS_KEYS: dict[str, frozenset[str]] = {
    "TargetMetadata": frozenset({
        "TargetSchema", "SupportLobs", "FullLobMode", "LobChunkSize", "LimitedSizeLobMode", "LobMaxSize", "InlineLobMaxSize",
        "LoadMaxFileSize", "ParallelLoadThreads", "ParallelLoadBufferSize", "ParallelLoadQueuesPerThread",
        "ParallelApplyThreads", "ParallelApplyBufferSize", "ParallelApplyQueuesPerThread", "BatchApplyEnabled",
        "TaskRecoveryTableEnabled",
    }),
    "FullLoadSettings": frozenset({
        "TargetTablePrepMode", "CreatePkAfterFullLoad", "StopTaskCachedChangesApplied", "StopTaskCachedChangesNotApplied",
        "MaxFullLoadSubTasks", "TransactionConsistencyTimeout", "CommitRate",
    }),
    "Logging": frozenset({"EnableLogging", "EnableLogContext", "LogComponents", "CloudWatchLogGroup", "CloudWatchLogStream"}),
    "ControlTablesSettings": frozenset({
        "ControlSchema", "HistoryTimeslotInMinutes", "HistoryTableEnabled", "SuspendedTablesTableEnabled", "StatusTableEnabled",
        "FullLoadExceptionTableEnabled",
    }),
    "StreamBufferSettings": frozenset({"StreamBufferCount", "StreamBufferSizeInMB", "CtrlStreamBufferSizeInMB"}),
    "ChangeProcessingDdlHandlingPolicy": frozenset({
        "HandleSourceTableDropped", "HandleSourceTableTruncated", "HandleSourceTableAltered",
    }),
    "ChangeProcessingTuning": frozenset({
        "BatchApplyPreserveTransaction", "BatchApplyTimeoutMin", "BatchApplyTimeoutMax", "BatchApplyMemoryLimit",
        "BatchSplitSize", "MinTransactionSize", "CommitTimeout", "MemoryLimitTotal", "MemoryKeepTime", "StatementCacheSize",
    }),
    "ErrorBehavior": frozenset({
        "DataErrorPolicy", "DataTruncationErrorPolicy", "DataErrorEscalationPolicy", "DataErrorEscalationCount",
        "TableErrorPolicy", "TableErrorEscalationPolicy", "TableErrorEscalationCount", "RecoverableErrorCount",
        "RecoverableErrorInterval", "RecoverableErrorThrottling", "RecoverableErrorThrottlingMax",
        "RecoverableErrorStopRetryAfterThrottlingMax", "ApplyErrorDeletePolicy", "ApplyErrorInsertPolicy",
        "ApplyErrorUpdatePolicy", "ApplyErrorEscalationPolicy", "ApplyErrorEscalationCount", "ApplyErrorFailOnTruncationDdl",
        "FullLoadIgnoreConflicts", "FailOnTransactionConsistencyBreached", "FailOnNoTablesCaptured", "DataMaskingErrorPolicy",
        "EventErrorPolicy",
    }),
    "ValidationSettings": frozenset({
        "EnableValidation", "ValidationMode", "ThreadCount", "PartitionSize", "FailureMaxCount",
        "RecordFailureDelayInMinutes", "RecordSuspendDelayInMinutes", "MaxKeyColumnSize", "TableFailureMaxCount",
        "ValidationOnly", "HandleCollationDiff", "RecordFailureDelayLimitInMinutes", "SkipLobColumns",
        "ValidationPartialLobSize", "ValidationQueryCdcDelaySeconds",
    }),
    "ChangeProcessingSettings": frozenset(),
    "CharacterSetSettings": frozenset(),
    "BeforeImageSettings": frozenset(),
    "LoopbackPreventionSettings": frozenset(),
    "PostProcessingRules": frozenset(),
    "TTSettings": frozenset(),
}  # fmt: skip
TOP_LEVEL_SCALARS = frozenset({"FailTaskWhenCleanTaskResourceFailed"})
ERROR_POLICIES: dict[str, frozenset[str]] = {
    "DataErrorPolicy": frozenset({"IGNORE_RECORD", "LOG_ERROR", "SUSPEND_TABLE", "STOP_TASK"}),
    "DataTruncationErrorPolicy": frozenset({"IGNORE_RECORD", "LOG_ERROR", "SUSPEND_TABLE", "STOP_TASK"}),
    "DataErrorEscalationPolicy": frozenset({"SUSPEND_TABLE", "STOP_TASK"}),
    "TableErrorPolicy": frozenset({"SUSPEND_TABLE", "STOP_TASK"}),
    "TableErrorEscalationPolicy": frozenset({"STOP_TASK"}),
    "ApplyErrorDeletePolicy": frozenset({"IGNORE_RECORD", "LOG_ERROR", "SUSPEND_TABLE", "STOP_TASK"}),
    "ApplyErrorInsertPolicy": frozenset({"IGNORE_RECORD", "LOG_ERROR", "SUSPEND_TABLE", "STOP_TASK", "INSERT_RECORD"}),
    "ApplyErrorUpdatePolicy": frozenset({"IGNORE_RECORD", "LOG_ERROR", "SUSPEND_TABLE", "STOP_TASK", "UPDATE_RECORD"}),
    "ApplyErrorEscalationPolicy": frozenset({"LOG_ERROR", "SUSPEND_TABLE", "STOP_TASK"}),
}
LOG_COMPONENTS = frozenset({
    "SOURCE_UNLOAD", "SOURCE_CAPTURE", "TARGET_LOAD", "TARGET_APPLY", "TASK_MANAGER", "TRANSFORMATION", "VALIDATOR",
    "VALIDATOR_EXT", "IO", "PERFORMANCE", "SORTER", "REST_SERVER", "COMMON", "ADDONS", "DATA_STRUCTURE", "COMMUNICATION",
    "FILE_FACTORY", "FILE_TRANSFER", "METADATA_MANAGER", "TABLES_MANAGER", "ASSERTION", "UTILITIES", "SERVER",
})  # fmt: skip
LOG_SEVERITIES = frozenset({
    "LOGGER_SEVERITY_DEFAULT", "LOGGER_SEVERITY_ERROR", "LOGGER_SEVERITY_WARNING", "LOGGER_SEVERITY_INFO",
    "LOGGER_SEVERITY_DEBUG", "LOGGER_SEVERITY_DETAILED_DEBUG",
})  # fmt: skip
PREP_MODES = frozenset({"DO_NOTHING", "DROP_AND_CREATE", "TRUNCATE_BEFORE_LOAD"})
RULE_TYPES = frozenset({"selection", "transformation", "table-settings"})
SELECTION_ACTIONS = frozenset({"include", "exclude", "explicit"})


def _parsed(value: Any) -> Any:
    """The JSON document (references inside its strings are fine); None for a whole expression such as jsonencode()."""
    if not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None if value.startswith("${") else ValueError


def task_settings_problems(settings: Any) -> Iterator[str]:
    if not isinstance(settings, Mapping):
        yield "task settings: a JSON object"
        return
    for section, body in settings.items():
        if section in TOP_LEVEL_SCALARS:
            continue
        if section not in TASK_SETTINGS_KEYS:
            yield f"task settings: unknown section {section!r}"
            continue
        known = TASK_SETTINGS_KEYS[section]
        if known and isinstance(body, Mapping):
            yield from (f"task settings: unknown key {section}.{key}" for key in sorted(set(body) - known))
    errors = settings.get("ErrorBehavior", {})
    for key, allowed in ERROR_POLICIES.items():
        if key in errors and errors[key] not in allowed:
            yield f"task settings: ErrorBehavior.{key} one of {' | '.join(sorted(allowed))}"
    logging = settings.get("Logging", {})
    for component in logging.get("LogComponents", []):
        if component.get("Id") not in LOG_COMPONENTS:
            yield f"task settings: Logging.LogComponents Id one of the DMS logging components, not {component.get('Id')!r}"
        if component.get("Severity") not in LOG_SEVERITIES:
            yield f"task settings: Logging.LogComponents Severity one of {' | '.join(sorted(LOG_SEVERITIES))}"
    prep = settings.get("FullLoadSettings", {}).get("TargetTablePrepMode")
    if prep is not None and prep not in PREP_MODES:
        yield f"task settings: FullLoadSettings.TargetTablePrepMode one of {' | '.join(sorted(PREP_MODES))}"
    yield from _lob_problems(settings.get("TargetMetadata", {}))


def _lob_problems(target: Mapping[str, Any]) -> Iterator[str]:
    full, limited = target.get("FullLobMode", False), target.get("LimitedSizeLobMode", False)
    if full and limited:
        yield "task settings: TargetMetadata.FullLobMode and LimitedSizeLobMode exclude each other"
    if (full or limited) and not target.get("SupportLobs", True):
        yield "task settings: a LOB mode needs TargetMetadata.SupportLobs"
    if limited and not target.get("LobMaxSize"):
        yield "task settings: LimitedSizeLobMode needs TargetMetadata.LobMaxSize > 0"
    if full and not target.get("LobChunkSize"):
        yield "task settings: FullLobMode needs TargetMetadata.LobChunkSize > 0"


def table_mapping_problems(mappings: Any) -> Iterator[str]:
    rules = mappings.get("rules") if isinstance(mappings, Mapping) else None
    if not isinstance(rules, list) or not rules:
        yield "table mappings: an object with a non-empty `rules` list"
        return
    ids = [rule.get("rule-id") for rule in rules if isinstance(rule, Mapping)]
    names = [rule.get("rule-name") for rule in rules if isinstance(rule, Mapping)]
    if len(set(ids)) != len(ids) or len(set(names)) != len(names):
        yield "table mappings: rule-id and rule-name unique"
    if not any(isinstance(r, Mapping) and r.get("rule-type") == "selection" and r.get("rule-action") == "include" for r in rules):
        yield "table mappings: at least one selection rule that includes"
    for rule in rules:
        if not isinstance(rule, Mapping):
            yield "table mappings: every rule an object"
            continue
        label = f"rule {rule.get('rule-name', '?')}"
        if rule.get("rule-type") not in RULE_TYPES:
            yield f"table mappings: {label}: rule-type one of {' | '.join(sorted(RULE_TYPES))}"
        if not str(rule.get("rule-id", "")).isdigit():
            yield f"table mappings: {label}: rule-id a number"
        locator = rule.get("object-locator")
        if not isinstance(locator, Mapping) or not locator.get("schema-name"):
            yield f"table mappings: {label}: object-locator with schema-name"
        if rule.get("rule-type") == "selection":
            if rule.get("rule-action") not in SELECTION_ACTIONS:
                yield f"table mappings: {label}: selection rule-action one of {' | '.join(sorted(SELECTION_ACTIONS))}"
            if isinstance(locator, Mapping) and not locator.get("table-name"):
                yield f"table mappings: {label}: selection object-locator with table-name"


def dashboard_problems(body: Any, alarm_addresses: set[str], identifiers: set[str]) -> Iterator[str]:
    widgets = body.get("widgets") if isinstance(body, Mapping) else None
    if not isinstance(widgets, list):
        yield "dashboard: an object with a `widgets` list"
        return
    for widget in widgets:
        properties = widget.get("properties", {}) if isinstance(widget, Mapping) else {}
        if widget.get("type") == "alarm":
            for alarm in properties.get("alarms", []):
                if alarm not in alarm_addresses:
                    yield f"dashboard: alarm widget refers to {alarm!r}, not an alarm of this stack"
        for entry in properties.get("metrics", []) if widget.get("type") == "metric" else []:
            namespace, _metric, *rest = entry
            pairs = rest[:-1] if rest and isinstance(rest[-1], Mapping) else rest
            if not str(namespace).startswith("AWS/"):
                yield f"dashboard: metric namespace {namespace!r} is not an AWS namespace"
            for value in pairs[1::2]:
                if not is_expression(value) and value not in identifiers and value not in ("WRITER", "READER"):
                    yield f"dashboard: metric dimension {value!r} names nothing this stack creates"


def event_pattern_problems(pattern: Any) -> Iterator[str]:
    """A non-empty object whose leaves are arrays of match values ("match values are always in arrays")."""
    if not isinstance(pattern, Mapping) or not pattern:
        yield "event pattern: a non-empty JSON object"
        return
    for key, value in pattern.items():
        if isinstance(value, Mapping):
            yield from (
                f"event pattern: {key}.{problem.removeprefix('event pattern: ')}" for problem in event_pattern_problems(value)
            )
        elif not isinstance(value, list) or not value:
            yield f"event pattern: {key} a non-empty array of match values"


def policy_problems(document: Any) -> Iterator[str]:
    if not isinstance(document, Mapping) or document.get("Version") != "2012-10-17":
        yield 'IAM policy: an object with "Version": "2012-10-17"'
        return
    statements = document.get("Statement")
    statements = [statements] if isinstance(statements, Mapping) else statements
    if not isinstance(statements, list) or not statements:
        yield "IAM policy: at least one Statement"
        return
    for statement in statements:
        if statement.get("Effect") not in ("Allow", "Deny"):
            yield "IAM policy: Effect Allow or Deny"
        if not ("Action" in statement or "NotAction" in statement):
            yield "IAM policy: every statement has Action or NotAction"
        for action in _as_list(statement.get("Action", [])):
            if action != "*" and (":" not in str(action) or str(action).startswith(":")):
                yield f"IAM policy: action {action!r} as service:Action"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


POLICY_ATTRIBUTES = {
    "aws_iam_role": ("assume_role_policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_sns_topic_policy": ("policy",),
}


def check(stack: Stack) -> Iterator[Violation]:
    alarms = {f"${{{kind}.{name}.arn}}" for kind, name in _names(stack, "aws_cloudwatch_metric_alarm")}
    identifiers = _identifiers(stack)
    for resource_type, address, body in stack.elements("resource"):
        checks: list[tuple[str, Any, str]] = []
        if resource_type == "aws_dms_replication_task":
            checks += [("replication_task_settings", task_settings_problems, TASK_SETTINGS_SOURCE)]
            checks += [("table_mappings", table_mapping_problems, MAPPINGS_SOURCE)]
        if resource_type == "aws_cloudwatch_event_rule":
            checks += [("event_pattern", event_pattern_problems, EVENT_PATTERN_SOURCE)]
        if resource_type == "aws_cloudwatch_dashboard":
            checks += [("dashboard_body", lambda body: dashboard_problems(body, alarms, identifiers), DASHBOARD_SOURCE)]
        checks += [(attribute, policy_problems, IAM_SOURCE) for attribute in POLICY_ATTRIBUTES.get(resource_type, ())]
        for attribute, problems, source in checks:
            if attribute not in body:
                continue
            parsed = _parsed(body[attribute])
            if parsed is None:
                continue
            found = ["not valid JSON"] if parsed is ValueError else list(problems(parsed))
            for problem in found:
                yield Violation(
                    stack=stack.name,
                    address=address,
                    attribute=attribute,
                    value=_short(body[attribute]),
                    rule=problem,
                    source=source,
                )


def _names(stack: Stack, resource_type: str) -> Iterator[tuple[str, str]]:
    for name in stack.document.get("resource", {}).get(resource_type, {}):
        yield resource_type, name


def _identifiers(stack: Stack) -> set[str]:
    """Names this stack gives its resources (what dashboards may refer to)."""
    keys = ("identifier", "cluster_identifier", "replication_instance_id", "replication_task_id", "name")
    return {
        str(body[key])
        for _, _, body in stack.elements("resource")
        for key in keys
        if key in body and not is_expression(body[key])
    }


def _short(value: Any, limit: int = 80) -> Any:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
