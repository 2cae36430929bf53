"""Payloads waiting in the federation outbox, sealed to this hub's own sealing key.

A queued message rests in the database until its peer acknowledges it, possibly for days; its
payload must not rest there in clear. It is sealed with the federation HPKE suite to this
hub's own key (so a database dump opens nothing), bound to its outbox row, and opened only
when the envelope for the peer is sealed, the first time or again after the peer said it never
stored it (docs/FEDERATION.md, "Delivery").
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from casehub.crypto.federation_envelopes import SUITE
from casehub.crypto.hub_identity import HubIdentity


class SelfSealBroken(Exception):
    """A queued payload does not open with this hub's sealing key under its row (another
    keyring, a ciphertext moved to another row, or altered)."""


def seal_to_self(identity: HubIdentity, payload: dict[str, Any], binding: bytes) -> bytes:
    """The payload's RFC 8785 bytes sealed to this hub, bound to `binding` (its row)."""
    return SUITE.encrypt(rfc8785.dumps(payload), identity.public.sealing_key(), info=binding)


def open_from_self(identity: HubIdentity, sealed: bytes, binding: bytes) -> dict[str, Any]:
    """The payload sealed by seal_to_self under this binding; SelfSealBroken otherwise."""
    try:
        opened = SUITE.decrypt(sealed, identity.sealing_private(), info=binding)
    except Exception:  # every failure is the one opaque refusal
        raise SelfSealBroken("A queued federation payload does not open.") from None
    payload: dict[str, Any] = json.loads(opened)
    return payload
