"""Gate: DMS controls that no scanner checks (checkov has no check for aws_dms_replication_task), per environment.

Each control is a function of (synthesized document, environment config) that
returns its problems. Every control runs on every environment, and every
control is also run on a copy of the dev stack broken in the way it guards
against, to prove it can fail.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from config import EnvironmentConfig
from tests.helpers import Document

ALLOWED_SSL_MODES = ("require", "verify-ca", "verify-full")
LOGGED_COMPONENTS = ("SOURCE_CAPTURE", "SOURCE_UNLOAD", "TARGET_APPLY", "TARGET_LOAD")
STOP = "STOP_TASK"
ERROR_POLICIES = (
    "DataErrorPolicy",
    "DataTruncationErrorPolicy",
    "DataErrorEscalationPolicy",
    "TableErrorPolicy",
    "TableErrorEscalationPolicy",
    "ApplyErrorDeletePolicy",
    "ApplyErrorInsertPolicy",
    "ApplyErrorUpdatePolicy",
    "ApplyErrorEscalationPolicy",
)
CREDENTIAL_ATTRIBUTES = ("password", "username")
REFERENCE = re.compile(r"\$\{(?P<type>[a-z0-9_]+)\.(?P<name>[A-Za-z0-9_-]+)\.(?P<attribute>[a-z_]+)\}")

Check = Callable[[Document, EnvironmentConfig], list[str]]


def _resources(document: Document, resource_type: str) -> dict[str, Any]:
    found: dict[str, Any] = document.get("resource", {}).get(resource_type, {})
    return found


def _only(document: Document, resource_type: str) -> dict[str, Any]:
    found = _resources(document, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    body: dict[str, Any] = next(iter(found.values()))
    return body


def _task(document: Document) -> dict[str, Any]:
    return _only(document, "aws_dms_replication_task")


def _settings(document: Document) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(_task(document)["replication_task_settings"])
    return parsed


def _endpoints(document: Document) -> dict[str, dict[str, Any]]:
    """Endpoints by endpoint_type (`source`, `target`)."""
    endpoints = {body["endpoint_type"]: body for body in _resources(document, "aws_dms_endpoint").values()}
    assert set(endpoints) == {"source", "target"}, f"expected one source and one target endpoint, got {sorted(endpoints)}"
    return endpoints


def _referenced(document: Document, expression: Any, resource_type: str) -> tuple[str, dict[str, Any]] | None:
    """The (name, body) of the `resource_type` resource an interpolation like `${type.name.attr}` points at."""
    match = REFERENCE.fullmatch(expression) if isinstance(expression, str) else None
    if match is None or match["type"] != resource_type:
        return None
    body = _resources(document, resource_type).get(match["name"])
    return None if body is None else (match["name"], body)


def _canonical(text: str) -> str:
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


# --- controls ---------------------------------------------------------------------------------------------


def task_type_follows_config(document: Document, config: EnvironmentConfig) -> list[str]:
    migration_type = _task(document).get("migration_type")
    expected = config.dms.migration_type  # full-load-and-cdc unless the environment's config says otherwise
    return [] if migration_type == expected else [f"migration_type is {migration_type!r}, config says {expected!r}"]


def task_is_not_started_by_deploy(document: Document, config: EnvironmentConfig) -> list[str]:
    started = _task(document).get("start_replication_task")
    return [] if started is False else [f"start_replication_task must be false (an operator starts it), got {started!r}"]


def task_documents_are_canonical_json(document: Document, config: EnvironmentConfig) -> list[str]:
    problems = []
    for attribute in ("replication_task_settings", "table_mappings"):
        text = _task(document).get(attribute)
        if not isinstance(text, str):
            problems.append(f"{attribute} is not a JSON string: {text!r}")
            continue
        try:
            canonical = _canonical(text)
        except ValueError as error:
            problems.append(f"{attribute} is not valid JSON: {error}")
            continue
        if canonical != text:
            problems.append(f"{attribute} is not canonical (sorted keys, compact separators): plans would show a diff")
    return problems


def task_logs_source_and_target_components(document: Document, config: EnvironmentConfig) -> list[str]:
    logging = _settings(document).get("Logging", {})
    problems = [] if logging.get("EnableLogging") is True else ["Logging.EnableLogging is not true"]
    logged = {component.get("Id") for component in logging.get("LogComponents", [])}
    problems += [f"Logging.LogComponents lacks {component}" for component in LOGGED_COMPONENTS if component not in logged]
    return problems


def task_validates_rows(document: Document, config: EnvironmentConfig) -> list[str]:
    validation = _settings(document).get("ValidationSettings", {})
    problems = [] if validation.get("EnableValidation") is True else ["ValidationSettings.EnableValidation is not true"]
    if validation.get("ValidationOnly"):
        problems.append("ValidationSettings.ValidationOnly is set: the task would migrate nothing")
    return problems


def task_never_prepares_target_tables(document: Document, config: EnvironmentConfig) -> list[str]:
    mode = _settings(document).get("FullLoadSettings", {}).get("TargetTablePrepMode")
    return [] if mode == "DO_NOTHING" else [f"FullLoadSettings.TargetTablePrepMode is {mode!r}, not DO_NOTHING"]


def task_limits_lobs_to_the_configured_size(document: Document, config: EnvironmentConfig) -> list[str]:
    metadata = _settings(document).get("TargetMetadata", {})
    problems = []
    if metadata.get("LimitedSizeLobMode") is not True or metadata.get("FullLobMode") is not False:
        problems.append("TargetMetadata must use limited LOB mode (LimitedSizeLobMode true, FullLobMode false)")
    if metadata.get("LobMaxSize") != config.dms.lob_max_size_kb:
        problems.append(f"TargetMetadata.LobMaxSize is {metadata.get('LobMaxSize')!r}, config says {config.dms.lob_max_size_kb}")
    if _endpoints(document)["source"].get("postgres_settings", {}).get("fail_tasks_on_lob_truncation") is not True:
        problems.append("source postgres_settings.fail_tasks_on_lob_truncation must be true: truncation would be silent")
    return problems


def task_stops_on_every_error(document: Document, config: EnvironmentConfig) -> list[str]:
    behavior = _settings(document).get("ErrorBehavior", {})
    policies = {key: value for key, value in behavior.items() if key.endswith("Policy")}
    problems = [f"ErrorBehavior.{key} is missing" for key in ERROR_POLICIES if key not in policies]
    problems += [f"ErrorBehavior.{key} is {value!r}, not {STOP}" for key, value in sorted(policies.items()) if value != STOP]
    return problems


def task_control_schema_follows_config(document: Document, config: EnvironmentConfig) -> list[str]:
    schema = _settings(document).get("ControlTablesSettings", {}).get("ControlSchema")
    expected = config.dms.control_schema
    return [] if schema == expected else [f"ControlTablesSettings.ControlSchema is {schema!r}, config says {expected!r}"]


def table_mappings_follow_config(document: Document, config: EnvironmentConfig) -> list[str]:
    rules = json.loads(_task(document)["table_mappings"]).get("rules", [])
    actual = [
        (rule["rule-action"], rule["object-locator"]["schema-name"], rule["object-locator"]["table-name"]) for rule in rules
    ]
    expected = [("include", rule.schema_name, rule.table_name) for rule in config.dms.include]
    expected += [("exclude", rule.schema_name, rule.table_name) for rule in config.dms.exclude]
    return [] if actual == expected else [f"table mappings select {actual}, config says {expected}"]


def endpoints_use_tls_and_secrets_manager_only(document: Document, config: EnvironmentConfig) -> list[str]:
    problems = []
    for kind, endpoint in _endpoints(document).items():
        if endpoint.get("ssl_mode") not in ALLOWED_SSL_MODES:
            problems.append(f"{kind} endpoint ssl_mode is {endpoint.get('ssl_mode')!r}, allowed {list(ALLOWED_SSL_MODES)}")
        problems += [
            f"{kind} endpoint sets `{name}`: credentials come from Secrets Manager"
            for name in CREDENTIAL_ATTRIBUTES
            if name in endpoint
        ]
        for name in ("secrets_manager_arn", "secrets_manager_access_role_arn"):
            if not endpoint.get(name):
                problems.append(f"{kind} endpoint has no {name}")
    source, target = _endpoints(document)["source"], _endpoints(document)["target"]
    if source.get("secrets_manager_arn") != config.source.credentials_secret_arn:
        problems.append(
            f"source endpoint reads {source.get('secrets_manager_arn')!r}, config says {config.source.credentials_secret_arn!r}"
        )
    if _referenced(document, target.get("secrets_manager_arn"), "aws_secretsmanager_secret") is None:
        problems.append("target endpoint does not read the stack's Aurora credentials secret")
    if source.get("ssl_mode") != config.source.ssl_mode:
        problems.append(f"source endpoint ssl_mode is {source.get('ssl_mode')!r}, config says {config.source.ssl_mode!r}")
    return problems


def source_verify_mode_has_the_ca_certificate(document: Document, config: EnvironmentConfig) -> list[str]:
    source = _endpoints(document)["source"]
    if not str(source.get("ssl_mode", "")).startswith("verify"):
        return []
    certificate = _referenced(document, source.get("certificate_arn"), "aws_dms_certificate")
    if certificate is None:
        return [f"source ssl_mode {source.get('ssl_mode')} without a certificate_arn of an aws_dms_certificate"]
    pem = certificate[1].get("certificate_pem", "")
    return [] if "-----BEGIN CERTIFICATE-----" in pem else ["the source CA certificate has no PEM certificate"]


def replication_instance_is_private_multi_az_and_encrypted(document: Document, config: EnvironmentConfig) -> list[str]:
    instance = _only(document, "aws_dms_replication_instance")
    problems = [] if instance.get("multi_az") is True else ["replication instance is not multi_az"]
    if instance.get("publicly_accessible") is not False:
        problems.append(f"replication instance publicly_accessible must be false, got {instance.get('publicly_accessible')!r}")
    kms = instance.get("kms_key_arn")
    if _referenced(document, kms, "aws_kms_key") is None and not str(kms or "").startswith("arn:"):
        problems.append(f"replication instance is not encrypted with a customer-managed key (kms_key_arn={kms!r})")
    return problems


def secrets_role_reads_only_the_endpoint_secrets(document: Document, config: EnvironmentConfig) -> list[str]:
    endpoints = _endpoints(document)
    roles = {endpoint.get("secrets_manager_access_role_arn") for endpoint in endpoints.values()}
    if len(roles) != 1:
        return [f"endpoints use different secrets access roles: {sorted(map(str, roles))}"]
    role = _referenced(document, roles.pop(), "aws_iam_role")
    if role is None:
        return ["the secrets access role is not an aws_iam_role of this stack"]
    name, body = role
    role_refs = {f"${{aws_iam_role.{name}.{attribute}}}" for attribute in ("id", "name")}
    problems = ["the secrets access role has inline_policy blocks"] if body.get("inline_policy") else []
    problems += [
        f"managed policy {attachment.get('policy_arn')} is attached to the secrets access role"
        for attachment in _resources(document, "aws_iam_role_policy_attachment").values()
        if attachment.get("role") in role_refs
    ]
    policies = [policy for policy in _resources(document, "aws_iam_role_policy").values() if policy.get("role") in role_refs]
    statements = [statement for policy in policies for statement in json.loads(policy["policy"]).get("Statement", [])]
    secrets = {endpoint["secrets_manager_arn"] for endpoint in endpoints.values()}
    readers = []
    for statement in statements:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource", [])
        resources = {resources} if isinstance(resources, str) else set(resources)
        if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
            problems.append(f"statement {statement.get('Sid')} must be a plain Allow (no NotAction/NotResource)")
        for action in actions:
            if action == "secretsmanager:GetSecretValue":
                readers.append(statement)
                if resources != secrets:
                    problems.append(
                        f"GetSecretValue is allowed on {sorted(resources)}, not exactly the endpoint secrets {sorted(secrets)}"
                    )
            elif action == "kms:DescribeKey" and any("*" in resource for resource in resources):
                problems.append(f"kms:DescribeKey is allowed on {sorted(resources)}, not only the secrets' keys")
            # The DMS user guide's example secret access policy: GetSecretValue, kms:Decrypt and kms:DescribeKey
            # ("Using secrets to access AWS Database Migration Service endpoints").
            elif action not in ("kms:Decrypt", "kms:DescribeKey"):
                problems.append(
                    f"the secrets access role may also {action!r} (only GetSecretValue, kms:Decrypt and kms:DescribeKey)"
                )
    if not readers:
        problems.append("no statement lets the role read the endpoint secrets")
    return problems


CHECKS: dict[str, Check] = {
    check.__name__: check
    for check in (
        task_type_follows_config,
        task_is_not_started_by_deploy,
        task_documents_are_canonical_json,
        task_logs_source_and_target_components,
        task_validates_rows,
        task_never_prepares_target_tables,
        task_limits_lobs_to_the_configured_size,
        task_stops_on_every_error,
        task_control_schema_follows_config,
        table_mappings_follow_config,
        endpoints_use_tls_and_secrets_manager_only,
        source_verify_mode_has_the_ca_certificate,
        replication_instance_is_private_multi_az_and_encrypted,
        secrets_role_reads_only_the_endpoint_secrets,
    )
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_dms_control_holds(
    check: str, suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    problems = CHECKS[check](synthesized[suffix], environments[suffix])
    assert problems == [], f"{suffix}: " + "; ".join(problems)


# --- every control can fail -------------------------------------------------------------------------------


def _edit_task(document: Document, change: Callable[[dict[str, Any]], None]) -> None:
    change(_task(document))


def _edit_settings(document: Document, change: Callable[[dict[str, Any]], None]) -> None:
    task = _task(document)
    settings = json.loads(task["replication_task_settings"])
    change(settings)
    task["replication_task_settings"] = json.dumps(settings, sort_keys=True, separators=(",", ":"))


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(target: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            target = target[key]
        target[last] = value

    return change


def _drop_log_component(settings: dict[str, Any]) -> None:
    settings["Logging"]["LogComponents"] = [c for c in settings["Logging"]["LogComponents"] if c["Id"] != "TARGET_APPLY"]


def _allow_more_secrets(document: Document) -> None:
    [policy] = [p for p in _resources(document, "aws_iam_role_policy").values() if "GetSecretValue" in p["policy"]]
    parsed = json.loads(policy["policy"])
    parsed["Statement"][0]["Resource"] = "*"
    policy["policy"] = json.dumps(parsed)


BREAKAGES: dict[str, Callable[[Document], None]] = {
    "task_type_follows_config": lambda d: _edit_task(d, _set("migration_type", "full-load")),
    "task_is_not_started_by_deploy": lambda d: _edit_task(d, _set("start_replication_task", True)),
    "task_documents_are_canonical_json": lambda d: _edit_task(
        d, lambda task: task.update(table_mappings=json.dumps(json.loads(task["table_mappings"]), indent=1))
    ),
    "task_logs_source_and_target_components": lambda d: _edit_settings(d, _drop_log_component),
    "task_validates_rows": lambda d: _edit_settings(d, _set("ValidationSettings.EnableValidation", False)),
    "task_never_prepares_target_tables": lambda d: _edit_settings(
        d, _set("FullLoadSettings.TargetTablePrepMode", "DROP_AND_CREATE")
    ),
    "task_limits_lobs_to_the_configured_size": lambda d: _edit_settings(d, _set("TargetMetadata.LobMaxSize", 999)),
    "task_stops_on_every_error": lambda d: _edit_settings(d, _set("ErrorBehavior.DataErrorPolicy", "LOG_ERROR")),
    "task_control_schema_follows_config": lambda d: _edit_settings(d, _set("ControlTablesSettings.ControlSchema", "public")),
    "table_mappings_follow_config": lambda d: _edit_task(d, _set("table_mappings", '{"rules":[]}')),
    "endpoints_use_tls_and_secrets_manager_only": lambda d: _endpoints(d)["target"].update(ssl_mode="none", password="x"),
    "source_verify_mode_has_the_ca_certificate": lambda d: _endpoints(d)["source"].pop("certificate_arn"),
    "replication_instance_is_private_multi_az_and_encrypted": lambda d: _only(d, "aws_dms_replication_instance").update(
        publicly_accessible=True
    ),
    "secrets_role_reads_only_the_endpoint_secrets": _allow_more_secrets,
}


def test_every_control_has_a_breakage() -> None:
    assert sorted(BREAKAGES) == sorted(CHECKS)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_dms_control_fails_on_a_broken_stack(
    check: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    suffix = "dev" if "dev" in synthesized else next(iter(synthesized))
    broken = copy.deepcopy(synthesized[suffix])
    BREAKAGES[check](broken)
    assert CHECKS[check](broken, environments[suffix]) != [], f"{check} did not notice the breakage"


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Sid": "X", "Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}, "kms:DescribeKey is allowed on ['*']"),
        (
            {"Sid": "X", "Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": "arn:aws:kms:eu-west-1:1:key/k"},
            "may also",
        ),
    ],
)
def test_the_secrets_role_gets_describe_key_on_its_keys_and_nothing_more(
    statement: dict[str, str], expected: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    suffix = "dev" if "dev" in synthesized else next(iter(synthesized))
    broken = copy.deepcopy(synthesized[suffix])
    [policy] = [p for p in _resources(broken, "aws_iam_role_policy").values() if "GetSecretValue" in p["policy"]]
    parsed = json.loads(policy["policy"])
    parsed["Statement"].append(statement)
    policy["policy"] = json.dumps(parsed)
    problems = secrets_role_reads_only_the_endpoint_secrets(broken, environments[suffix])
    assert len(problems) == 1 and expected in problems[0], problems
