"""What each supported field of each supported type is, read from the service's view object.

A field absent from this table is not supported: a document selecting it compiles to None and
runs on the standard executor. Every entry mirrors the type's resolver or its `of` constructor
in casehub.api.<area>.types (the parity test, tests/api/test_compiled_plans.py, holds the two
together): a plain attribute of the view, a global id, a sealed value revealed for the caller,
a relation through one of the request's loaders, or an object made of the same view.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Attribute:
    """A plain attribute of the view, serialized by the field's leaf type."""

    name: str


@dataclass(frozen=True, slots=True)
class GlobalId:
    """The view's id as the global id of `type_name` (`to_global_id`)."""

    type_name: str
    attribute: str = "id"


@dataclass(frozen=True, slots=True)
class PlainId:
    """The view's id as text (ids that are not global ids, e.g. a request event's)."""

    attribute: str = "id"


@dataclass(frozen=True, slots=True)
class Revealed:
    """The `Sealed` value in the attribute, revealed for the caller (`Sealed.reveal`: the key
    check and the read audit)."""

    name: str


@dataclass(frozen=True, slots=True)
class Related:
    """Objects through a loader of the request (casehub.api.loaders): its key for a view, or
    None where the field is null without a look-up."""

    loader: str
    key: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Embedded:
    """An object type whose fields are read from the same view (a request event's receipt)."""


Spec = Attribute | GlobalId | PlainId | Revealed | Related | Embedded
LEAVES = (Attribute, GlobalId, PlainId, Revealed)


def _snake(name: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in name)


def attributes(names: str) -> dict[str, Spec]:
    """Plain attributes named in camelCase, read from the view's snake_case attributes."""
    return {name: Attribute(_snake(name)) for name in names.split()}


def _agency(attribute: str) -> Related:
    return Related("agency", lambda view: getattr(view, attribute))


TYPES: Mapping[str, Mapping[str, Spec]] = {
    "Agency": {
        "id": GlobalId("Agency"),
        **attributes("code name jurisdiction kind timezone"),
    },
    "Case": {
        "id": GlobalId("Case"),
        **attributes(
            "reference title category status tlp handlingCode version createdAt updatedAt "
            "viewerAccess legalHold shreddedAt protectedFieldsReason"
        ),
        "summary": Revealed("summary"),
        "owner": _agency("owner_agency_id"),
        "subjects": Related("subjects", lambda view: view.id),
    },
    "Subject": {
        "id": GlobalId("Subject"),
        **attributes("kind createdAt matchable"),
        "displayName": Revealed("display_name"),
        "identifiers": Related("identifiers", lambda view: (view.id, view.case_id)),
        "case": Related("case", lambda view: view.case_id),
    },
    "Identifier": {
        "id": GlobalId("Identifier"),
        **attributes("kind platform chain"),
        "value": Revealed("value"),
    },
    "CooperationRequest": {
        "id": GlobalId("CooperationRequest"),
        **attributes(
            "kind priority legalBasis title status outcome version createdAt updatedAt "
            "submittedAt acknowledgeBy decideBy dueAt holdUntil isOverdue viewerSide"
        ),
        "body": Revealed("body"),
        "requester": _agency("requester_agency_id"),
        "requested": _agency("requested_agency_id"),
        "case": Related("case", lambda view: view.case_id),
        "events": Related("request_events", lambda view: (view.id, view.viewer_side)),
    },
    "RequestEvent": {
        "id": PlainId(),
        **attributes("seq number action fromStatus toStatus occurredAt"),
        "requestId": GlobalId("CooperationRequest", "request_id"),
        "actorAgency": _agency("actor_agency_id"),
        "receipt": Embedded(),
    },
    "Receipt": {
        **attributes("digest prevDigest signature keyId"),
        "eventJson": Attribute("payload"),
    },
}
