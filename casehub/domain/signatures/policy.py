"""Which steps of a cooperation request must carry an agency signature (pure rules).

The hub's setting CASEHUB_SIGNED_STEPS picks a `SignedSteps` policy. A signature on a step that
need not be signed is still accepted and verified.
"""

from __future__ import annotations

from enum import StrEnum

# Actions by their RequestAction values, so this module does not depend on APPROVE being there.
SIGNABLE: frozenset[str] = frozenset({"SUBMIT", "APPROVE", "ACCEPT", "DECLINE", "FULFIL"})

_EMERGENCY = "EMERGENCY"
_SERVICE_PROVIDER = "SERVICE_PROVIDER"


class SignedSteps(StrEnum):
    """The signing policy: which signable steps must be signed."""

    EMERGENCY_OR_SERVICE_PROVIDER = "emergency-or-service-provider"
    ALL = "all"
    NONE = "none"


def must_sign(policy: SignedSteps, action: str, priority: str, requested_kind: str) -> bool:
    """Whether a step must carry a signature.

    APPROVE always does, whatever the policy: the approval is the countersignature. Under the
    default policy the other signable steps must be signed when the request is EMERGENCY or
    the requested agency is a SERVICE_PROVIDER.
    """
    if action not in SIGNABLE:
        return False
    if action == "APPROVE":
        return True
    if policy is SignedSteps.ALL:
        return True
    if policy is SignedSteps.NONE:
        return False
    return priority == _EMERGENCY or requested_kind == _SERVICE_PROVIDER


def needs_approval(priority: str, requested_kind: str) -> bool:
    """The four-eyes rule: an EMERGENCY request to a SERVICE_PROVIDER needs a supervisor's
    countersignature (APPROVE) before it reaches the provider."""
    return priority == _EMERGENCY and requested_kind == _SERVICE_PROVIDER
