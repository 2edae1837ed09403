"""Post-deploy checks: each one a small function of a `VerifyContext` returning a frozen `CheckResult`.

`CHECKS` lists them in report order (aurora.py, dms.py, secret.py, alarms.py): a new check is a function in
one of those rooms, or a new one, and one line here.

The checks read the stack's outputs (names from `contract/outputs.py`) and ask
AWS what is really there; alarm names come from `contract/naming.py`. A missing output fails its check with
`output X missing` instead of crashing; an AWS error fails the check that
hit it; a connection or credentials problem stops the run (`VerifyAbortedError`),
because then no check result means anything. No check ever prints the
credentials secret's password.
"""

from __future__ import annotations

from collections.abc import Iterator

from botocore.exceptions import BotoCoreError, ClientError

from migration_ops.results import CheckResult, failed, skipped
from migration_ops.verify.alarms import check_aurora_cpu_alarms, check_dms_latency_alarms
from migration_ops.verify.aurora import (
    check_cluster_available,
    check_cluster_engine,
    check_database_insights,
    check_instance_zones,
    check_instances_available,
    check_performance_insights,
    check_unmanaged_instances,
)
from migration_ops.verify.context import (
    Check,
    MissingOutputError,
    VerifyAbortedError,
    VerifyContext,
    error_code,
    error_message,
)
from migration_ops.verify.dms import (
    check_endpoint_connections,
    check_endpoints,
    check_replication_instance,
    check_replication_task,
)
from migration_ops.verify.dms_engines import check_engine_versions
from migration_ops.verify.secret import check_credentials_secret

# Error codes that mean "these credentials do not work here", not "this resource is wrong".
_CREDENTIAL_ERROR_CODES = frozenset(
    {
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)


CHECKS: dict[str, Check] = {
    "aurora.cluster": check_cluster_available,
    "aurora.engine": check_cluster_engine,
    "aurora.instances": check_instances_available,
    "aurora.availability-zones": check_instance_zones,
    "aurora.performance-insights": check_performance_insights,
    "aurora.unmanaged-instances": check_unmanaged_instances,
    "aurora.database-insights": check_database_insights,
    "dms.replication-instance": check_replication_instance,
    "dms.engine-versions": check_engine_versions,
    "dms.task": check_replication_task,
    "dms.endpoints": check_endpoints,
    "dms.connections": check_endpoint_connections,
    "secret.credentials": check_credentials_secret,
    "alarms.aurora-cpu": check_aurora_cpu_alarms,
    "alarms.dms-cdc-latency": check_dms_latency_alarms,
}


def run_check(name: str, check: Check, ctx: VerifyContext) -> CheckResult:
    """Run one check; turn a missing output or an AWS error into a FAIL, and stop on connection problems."""
    try:
        return check(ctx)
    except MissingOutputError as error:
        return failed(name, str(error))
    except ClientError as error:
        if error_code(error) in _CREDENTIAL_ERROR_CODES:
            raise VerifyAbortedError(f"AWS refused the credentials ({error_code(error)}): {error_message(error)}") from error
        return failed(name, f"AWS error {error_code(error)}: {error_message(error)}")
    except BotoCoreError as error:  # no route, no credentials, no region, timeouts
        raise VerifyAbortedError(f"cannot reach AWS: {error}") from error


def iter_checks(ctx: VerifyContext, *, skip: frozenset[str] = frozenset()) -> Iterator[CheckResult]:
    """Results in CHECKS order, each as soon as it is known."""
    for name, check in CHECKS.items():
        yield skipped(name, "skipped: --skip") if name in skip else run_check(name, check, ctx)
