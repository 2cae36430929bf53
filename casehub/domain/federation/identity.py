"""A hub's public identity document and its fingerprint: shapes only (pure).

The document names the hub (id, operator-chosen label) and carries its two public keys: the
hybrid signing JWK (casehub.crypto.agency_keys) and the HPKE sealing key. Operators compare
fingerprints, "sha256:" + the hex SHA-256 of the document's RFC 8785 bytes, out of band before
pinning a peer, so the fingerprint commits to every member, the name included.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections.abc import Mapping

from casehub.domain.signatures.shapes import Rule, first_malformed, is_uuid, one_of

HUB_DOCUMENT_FORMAT = "casehub-hub/1"
HUB_NAME_MAX = 100
SEALING_KTY = "casehub-hpke"
SEALING_KEM = "MLKEM768-X25519"
FINGERPRINT_PREFIX = "sha256:"
# A signed document is about 9 KB of JSON; what a peer may send is bounded well above that.
SIGNED_DOCUMENT_MAX_BYTES = 64 * 1024

_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")


def is_object(value: object) -> bool:
    """Any JSON object (its members are checked by the code that reads them)."""
    return isinstance(value, Mapping)


def name_problem(name: object) -> str | None:
    """Why `name` is not a hub name, or None: 1..100 characters, no control or format
    characters, no leading or trailing space (it is shown to operators beside the fingerprint,
    so it must print as what it is)."""
    if not isinstance(name, str) or not 1 <= len(name) <= HUB_NAME_MAX:
        return f"A hub name is 1 to {HUB_NAME_MAX} characters."
    if name != name.strip():
        return "A hub name has no leading or trailing space."
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in name):
        return "A hub name holds no control characters."
    return None


def is_hub_name(value: object) -> bool:
    """A hub name (see name_problem)."""
    return name_problem(value) is None


DOCUMENT_RULES: Mapping[str, Rule] = {
    "format": one_of([HUB_DOCUMENT_FORMAT]),
    "hub": is_uuid,
    "name": is_hub_name,
    "signing": is_object,
    "sealing": is_object,
}
SEALING_RULES: Mapping[str, Rule] = {
    "kty": one_of([SEALING_KTY]),
    "kem": one_of([SEALING_KEM]),
    "pub": lambda value: isinstance(value, str),
}
SIGNED_DOCUMENT_RULES: Mapping[str, Rule] = {
    "document": is_object,
    "signature": lambda value: isinstance(value, str),
}


def document_problem(doc: object) -> str | None:
    """Why `doc` is not shaped as a hub document, or None (the keys' bytes are crypto's to
    check): exactly the members of DOCUMENT_RULES, each as its rule says, the sealing member
    exactly those of SEALING_RULES."""
    if not isinstance(doc, Mapping):
        return "A hub document is a JSON object."
    bad = first_malformed(doc, DOCUMENT_RULES)
    if bad is not None:
        return f"A hub document's member {bad!r} is missing, unknown or malformed."
    bad = first_malformed(doc["sealing"], SEALING_RULES)
    if bad is not None:
        return f"A hub document's sealing key member {bad!r} is missing, unknown or malformed."
    return None


def normalize_fingerprint(text: object) -> str | None:
    """The canonical form of a fingerprint an operator typed ("sha256:" + 64 lowercase hex),
    forgiving case and surrounding space; None when it is not one."""
    if not isinstance(text, str) or len(text) > 100:
        return None
    candidate = text.strip().lower()
    return candidate if _FINGERPRINT.fullmatch(candidate) else None


def fingerprints_equal(expected: str, actual: str) -> bool:
    """Whether two canonical fingerprints are the same, in constant time (the expected one is
    the operator's; no timing says how much of a forged document's digest matched)."""
    return hmac.compare_digest(expected.encode("ascii"), actual.encode("ascii"))
