"""IAM/KMS policy documents built from Python data and serialized once, keys sorted.

Sorted, compact JSON means the same input always gives the same bytes, so
`terraform plan` shows no perpetual diff and snapshots stay stable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Statement = Mapping[str, Any]


def canonical_json(document: Any) -> str:
    """The one serializer for every JSON document the stacks emit."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def policy_document(statements: Sequence[Statement]) -> str:
    return canonical_json({"Version": "2012-10-17", "Statement": list(statements)})


def service_trust_policy(service: str, *, account_id: str) -> str:
    """Trust `service` only when it acts for this account (confused-deputy protection)."""
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ]
    )
