"""Minimal stand-ins for two DMS APIs moto 5.2 does not implement at all, and for Application Auto Scaling's tags.

moto answers ImportCertificate and CreateEventSubscription with "not
implemented", so `aws_dms_certificate` (the source CA for ssl_mode verify-*) and
`aws_dms_event_subscription` cannot be applied. These stand-ins store what they
are given and hand it back in the shape DMS documents (awsJson1_1, timestamps
as epoch numbers), so the provider can create, read, tag and delete both. They
check nothing DMS would check (PEM validity, SNS topic existence, source ids).
"""

from __future__ import annotations

import json
import time
from typing import Any

from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.dms.exceptions import ResourceAlreadyExistsFault, ResourceNotFoundFault
from moto.dms.models import DatabaseMigrationServiceBackend
from moto.dms.responses import DatabaseMigrationServiceResponse


def _store(backend: DatabaseMigrationServiceBackend, kind: str) -> dict[str, dict[str, Any]]:
    stores: dict[str, dict[str, dict[str, Any]]] = backend.__dict__.setdefault("_integration_standins", {})
    return stores.setdefault(kind, {})


def _arn(backend: DatabaseMigrationServiceBackend, kind: str, name: str) -> str:
    return f"arn:aws:dms:{backend.region_name}:{backend.account_id}:{kind}:{name}"


def _params(response: DatabaseMigrationServiceResponse) -> dict[str, Any]:
    params: dict[str, Any] = json.loads(response.body or "{}")
    return params


def _filtered(items: list[dict[str, Any]], filters: list[dict[str, Any]], fields: dict[str, str]) -> list[dict[str, Any]]:
    for item_filter in filters:
        field = fields.get(item_filter.get("Name", ""))
        if field is not None:
            items = [item for item in items if item.get(field) in item_filter.get("Values", [])]
    return items


# --- Certificates -----------------------------------------------------------------------------


def import_certificate(self: DatabaseMigrationServiceResponse) -> str:
    params, backend = _params(self), self.dms_backend
    certificates = _store(backend, "cert")
    identifier = params["CertificateIdentifier"]
    if identifier in certificates:
        raise ResourceAlreadyExistsFault(f"Certificate {identifier} already exists")
    now = time.time()
    certificate = {
        "CertificateIdentifier": identifier,
        "CertificateCreationDate": now,
        "CertificatePem": params.get("CertificatePem"),
        "CertificateArn": _arn(backend, "cert", identifier),
        "CertificateOwner": backend.account_id,
        "ValidFromDate": now,
        "ValidToDate": now + 365 * 86400,
        "SigningAlgorithm": "SHA256withRSA",
        "KeyLength": 2048,
    }
    certificates[identifier] = certificate
    if params.get("Tags"):
        backend.tagger.tag_resource(certificate["CertificateArn"], params["Tags"])
    return json.dumps({"Certificate": certificate})


def describe_certificates(self: DatabaseMigrationServiceResponse) -> str:
    found = _filtered(
        list(_store(self.dms_backend, "cert").values()),
        _params(self).get("Filters", []),
        {"certificate-id": "CertificateIdentifier", "certificate-arn": "CertificateArn"},
    )
    return json.dumps({"Certificates": found})


def delete_certificate(self: DatabaseMigrationServiceResponse) -> str:
    arn = _params(self)["CertificateArn"]
    certificates = _store(self.dms_backend, "cert")
    for identifier, certificate in list(certificates.items()):
        if certificate["CertificateArn"] == arn:
            del certificates[identifier]
            return json.dumps({"Certificate": certificate})
    raise ResourceNotFoundFault(f"Certificate {arn} not found")


# --- Event subscriptions ----------------------------------------------------------------------

_SUBSCRIPTION_FIELDS = {
    "SnsTopicArn": "SnsTopicArn",
    "SourceType": "SourceType",
    "EventCategories": "EventCategoriesList",
    "Enabled": "Enabled",
}


def create_event_subscription(self: DatabaseMigrationServiceResponse) -> str:
    params, backend = _params(self), self.dms_backend
    subscriptions = _store(backend, "es")
    name = params["SubscriptionName"]
    if name in subscriptions:
        raise ResourceAlreadyExistsFault(f"Event subscription {name} already exists")
    subscription = {
        "CustomerAwsId": backend.account_id,
        "CustSubscriptionId": name,
        "SnsTopicArn": params.get("SnsTopicArn"),
        "Status": "active",
        "SubscriptionCreationTime": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "SourceType": params.get("SourceType"),
        "SourceIdsList": params.get("SourceIds", []),
        "EventCategoriesList": params.get("EventCategories", []),
        "Enabled": params.get("Enabled", True),
    }
    subscriptions[name] = subscription
    if params.get("Tags"):
        backend.tagger.tag_resource(_arn(backend, "es", name), params["Tags"])
    return json.dumps({"EventSubscription": subscription})


def describe_event_subscriptions(self: DatabaseMigrationServiceResponse) -> str:
    params, subscriptions = _params(self), _store(self.dms_backend, "es")
    name = params.get("SubscriptionName")
    if name is not None and name not in subscriptions:
        raise ResourceNotFoundFault(f"Event subscription {name} not found")
    found = [subscriptions[name]] if name is not None else list(subscriptions.values())
    found = _filtered(found, params.get("Filters", []), {"event-subscription-id": "CustSubscriptionId"})
    return json.dumps({"EventSubscriptionsList": found})


def modify_event_subscription(self: DatabaseMigrationServiceResponse) -> str:
    params, subscriptions = _params(self), _store(self.dms_backend, "es")
    name = params["SubscriptionName"]
    if name not in subscriptions:
        raise ResourceNotFoundFault(f"Event subscription {name} not found")
    for param, field in _SUBSCRIPTION_FIELDS.items():
        if param in params:
            subscriptions[name][field] = params[param]
    return json.dumps({"EventSubscription": subscriptions[name]})


def delete_event_subscription(self: DatabaseMigrationServiceResponse) -> str:
    name = _params(self)["SubscriptionName"]
    subscription = _store(self.dms_backend, "es").pop(name, None)
    if subscription is None:
        raise ResourceNotFoundFault(f"Event subscription {name} not found")
    return json.dumps({"EventSubscription": subscription})


STANDINS = (
    import_certificate,
    describe_certificates,
    delete_certificate,
    create_event_subscription,
    describe_event_subscriptions,
    modify_event_subscription,
    delete_event_subscription,
)


# --- Application Auto Scaling tags ----------------------------------------------------------------
# moto 5.2 ignores RegisterScalableTarget's Tags and has no ListTagsForResource/TagResource/UntagResource, so the
# provider (which tags `aws_appautoscaling_target` with the default tags and reads them back) retries until its
# timeout. These keep the tags per ScalableTargetARN, as Application Auto Scaling does.


def _autoscaling_tags(response: ApplicationAutoScalingResponse) -> dict[str, dict[str, str]]:
    backend = response.applicationautoscaling_backend
    tags: dict[str, dict[str, str]] = backend.__dict__.setdefault("_integration_tags", {})
    return tags


def _json_params(response: ApplicationAutoScalingResponse) -> dict[str, Any]:
    params: dict[str, Any] = json.loads(response.body or "{}")
    return params


_register_scalable_target = ApplicationAutoScalingResponse.register_scalable_target


def register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
    answer = _register_scalable_target(self)
    tags = _json_params(self).get("Tags")
    if tags:
        _autoscaling_tags(self).setdefault(json.loads(answer)["ScalableTargetARN"], {}).update(tags)
    return answer


def list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
    return json.dumps({"Tags": _autoscaling_tags(self).get(_json_params(self)["ResourceARN"], {})})


def tag_resource(self: ApplicationAutoScalingResponse) -> str:
    params = _json_params(self)
    _autoscaling_tags(self).setdefault(params["ResourceARN"], {}).update(params.get("Tags", {}))
    return "{}"


def untag_resource(self: ApplicationAutoScalingResponse) -> str:
    params = _json_params(self)
    tags = _autoscaling_tags(self).get(params["ResourceARN"], {})
    for key in params.get("TagKeys", []):
        tags.pop(key, None)
    return "{}"


AUTOSCALING_STANDINS = (register_scalable_target, list_tags_for_resource, tag_resource, untag_resource)


def install() -> None:
    """Add the stand-in actions to moto's DMS and Application Auto Scaling responses (moto dispatches an action to
    the method of its snake_case name)."""
    for action in STANDINS:
        if not hasattr(DatabaseMigrationServiceResponse, action.__name__):
            setattr(DatabaseMigrationServiceResponse, action.__name__, action)
    for autoscaling_action in AUTOSCALING_STANDINS:
        setattr(ApplicationAutoScalingResponse, autoscaling_action.__name__, autoscaling_action)
