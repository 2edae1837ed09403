"""Every IAM policy document the stacks emit, linted with parliament (AWS's IAM definitions), waivers in one reviewed file.

parliament audits actions, resources and condition keys against the IAM
definitions it ships. References to other resources (`${aws_kms_key.x.arn}`)
are replaced by ARNs of the right shape before the audit. A finding is a
violation unless review/exceptions/iam-lint-waivers.toml waives it with a reason.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from review.aws_contract.core import Stack, Violation
from review.exception_files import IAM_WAIVERS_FILE, IamWaiver, load_iam_waivers
from review.stackdiff import REPO_ROOT

POLICY_ATTRIBUTES = {
    "aws_iam_role": "assume_role_policy",
    "aws_iam_role_policy": "policy",
    "aws_kms_key": "policy",
    "aws_sns_topic_policy": "policy",
}
_PLACEHOLDER_ARNS = {
    "aws_secretsmanager_secret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:placeholder-AbCdEf",
    "aws_kms_key": "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-4000-8000-000000000000",
    "aws_sns_topic": "arn:aws:sns:eu-west-1:123456789012:placeholder",
    "aws_iam_role": "arn:aws:iam::123456789012:role/placeholder",
    "aws_cloudwatch_metric_alarm": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:placeholder",
    "aws_cloudwatch_event_rule": "arn:aws:events:eu-west-1:123456789012:rule/placeholder",
}
_REFERENCE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True, kw_only=True)
class Finding:
    stack: str
    address: str
    attribute: str
    issue: str
    detail: str


def _placeholder(match: re.Match[str]) -> str:
    expression = match.group(1)
    if expression.endswith(".account_id"):
        return "123456789012"
    if expression.endswith(".partition"):
        return "aws"
    resource_type = expression.removeprefix("data.").split(".")[0]
    return _PLACEHOLDER_ARNS.get(resource_type, "placeholder")


def concrete(policy: str) -> str:
    """The policy with every Terraform reference replaced by a value of the right shape."""
    return _REFERENCE.sub(_placeholder, policy)


@functools.cache
def _parliament() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parliament imports pkg_resources, which warns about its own deprecation
        import parliament
    return parliament


def findings(stack: Stack) -> Iterator[Finding]:
    for resource_type, address, body in stack.elements("resource"):
        attribute = POLICY_ATTRIBUTES.get(resource_type)
        if attribute is None or not isinstance(body.get(attribute), str):
            continue
        try:
            json.loads(body[attribute])
        except ValueError:
            continue  # documents.py reports documents that are not JSON
        audited = _parliament().analyze_policy_string(concrete(body[attribute]), include_community_auditors=True)
        for found in audited.findings:
            yield Finding(stack=stack.name, address=address, attribute=attribute, issue=found.issue, detail=str(found.detail))


def check(stack: Stack, waivers: Sequence[IamWaiver] | None = None) -> Iterator[Violation]:
    waivers = load_iam_waivers() if waivers is None else waivers
    for finding in findings(stack):
        if any(waiver.covers(finding) for waiver in waivers):
            continue
        yield Violation(
            stack=stack.name,
            address=finding.address,
            attribute=finding.attribute,
            value=finding.detail[:120],
            rule=f"parliament {finding.issue}",
            source=f"parliament {version('parliament')} (IAM definitions); waive in {IAM_WAIVERS_FILE.relative_to(REPO_ROOT)}",
        )
