"""The stricter emulator: moto refuses requests that AWS's API models refuse (review.aws_contract.api_requests).

moto accepts almost any value (it took the DMS plugin name `test_decoding`).
Installed once per process, this checks every request to a JSON-, query- or
EC2-protocol service (DMS, Secrets Manager, KMS, CloudWatch Logs, RDS, IAM,
EC2, SNS, CloudWatch, STS; S3's REST protocol is not checked) against
botocore's input shape before moto handles it. A violation is answered with a
400 ValidationException naming the operation, member and value, so the
Terraform run fails with that message, and is kept in `REFUSED` for the tests.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores
from werkzeug.exceptions import HTTPException

from review.aws_contract.api_requests import operation, request_problems

_APPLIED_FLAG = "_aurora_migration_contract"
_LOCK = threading.Lock()
REFUSED: list[str] = []
"""Every refused request since the process started: `service Operation: problem; problem`."""


class ContractRefusal(HTTPException):
    """A 400 ValidationException in the service's own error format (moto answers HTTPExceptions as they are)."""

    code = 400

    def __init__(self, message: str, protocol: str) -> None:
        super().__init__()
        if protocol == "json":
            self.content_type = "application/json"
            self.description = json.dumps({"__type": "ValidationException", "message": message})
        else:
            self.content_type = "text/xml"
            error = f"<Error><Type>Sender</Type><Code>ValidationError</Code><Message>{escape(message)}</Message></Error>"
            root = "Response" if protocol == "ec2" else "ErrorResponse"
            self.description = f"<{root}><Errors>{error}</Errors><RequestId>contract</RequestId></{root}>"

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("Content-Type", self.content_type), ("X-Amzn-ErrorType", "ValidationException")]


def _params(response: BaseResponse, protocol: str) -> dict[str, Any] | None:
    if protocol != "json":
        return dict(response.querystring)
    body = response.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(body or "{}")
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _checked(call_action: Callable[[BaseResponse], Any]) -> Callable[[BaseResponse], Any]:
    @functools.wraps(call_action)
    def wrapper(self: BaseResponse) -> Any:
        service, action = self.boto3_service_name, self._get_action()
        model = operation(service, action) if service else None
        params = _params(self, model.metadata["protocol"]) if model is not None else None
        problems = request_problems(service, action, params) if params is not None else []
        if problems:
            message = "AWS contract (botocore input shape): " + "; ".join(problems)
            with _LOCK:
                REFUSED.append(f"{service} {action}: {'; '.join(problems)}")
            error = ContractRefusal(message, model.metadata["protocol"])  # type: ignore[union-attr]

            def refuse() -> Any:
                raise error

            setattr(self, camelcase_to_underscores(action), refuse)  # shadows the handler for this request only
        return call_action(self)

    return wrapper


def install() -> None:
    if getattr(BaseResponse, _APPLIED_FLAG, False):
        return
    BaseResponse.call_action = _checked(BaseResponse.call_action)  # type: ignore[method-assign,assignment]
    setattr(BaseResponse, _APPLIED_FLAG, True)
