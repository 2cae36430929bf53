"""What each message type carries (pure): the table of known types and their payload checks.

The payload is the sealed JSON object; the receiver checks it only after opening it, so a
type's rules are the sender hub's promises, checked before anything is stored. Item 3 of
issue 16 (requests and shares crossing) adds its types here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from casehub.domain.federation.directory import DIRECTORY, check_directory
from casehub.domain.federation.envelopes import (
    PAYLOAD_MAX_BYTES,
    EnvelopeRefused,
    RefusalCode,
    strict_json,
)
from casehub.domain.signatures.shapes import Rule, first_malformed

PING = "federation.ping"
PING_NOTE_MAX = 200

# Why a payload is wrong for its type, or None.
PayloadCheck = Callable[[Mapping[str, object]], str | None]


def _rules(rules: Mapping[str, Rule]) -> PayloadCheck:
    def check(payload: Mapping[str, object]) -> str | None:
        bad = first_malformed(payload, rules)
        return None if bad is None else f"member {bad!r} is missing, unknown or malformed"

    return check


PAYLOAD_CHECKS: Mapping[str, PayloadCheck] = {
    PING: _rules({"note": lambda value: isinstance(value, str) and len(value) <= PING_NOTE_MAX}),
    DIRECTORY: check_directory,
}


def check_payload(message_type: str, raw: bytes) -> dict[str, object]:
    """The opened payload as a JSON object, once it is one (at most PAYLOAD_MAX_BYTES) and
    what its type requires; EnvelopeRefused (TOO_LARGE, MALFORMED, UNKNOWN_TYPE) otherwise."""
    if len(raw) > PAYLOAD_MAX_BYTES:
        raise EnvelopeRefused(
            RefusalCode.TOO_LARGE, f"A payload is at most {PAYLOAD_MAX_BYTES} bytes."
        )
    try:
        payload = strict_json(raw)
    except ValueError:
        raise EnvelopeRefused(RefusalCode.MALFORMED, "The payload is not JSON.") from None
    if not isinstance(payload, dict):
        raise EnvelopeRefused(RefusalCode.MALFORMED, "The payload is not a JSON object.")
    check = PAYLOAD_CHECKS.get(message_type)
    if check is None:
        raise EnvelopeRefused(
            RefusalCode.UNKNOWN_TYPE, f"This hub does not take messages of type {message_type!r}."
        )
    problem = check(payload)
    if problem is not None:
        raise EnvelopeRefused(RefusalCode.MALFORMED, f"The {message_type} payload's {problem}.")
    return payload
