"""Offline verification of an exported receipt chain (format casehub-receipts/1, written by
casehub.services.requests.receipts), with nothing but the hub's public receipt keys.

Verification checks, receipt by receipt in file order, that each is well formed, chains from
the previous one (the first from GENESIS), that its digest matches its event and its signature
verifies with the named key, that its event names the document's request (and the same two
parties as the first) and is numbered 1, 2, … without a gap. The hub's keys are also published
at /.well-known/casehub-receipts.json: verifying with keys fetched there, rather than the ones
in the file, also proves that the file was not re-signed by someone else.

Here, not in the services, so that the bundle verifier (casehub.crypto.bundles) and agency
tools (casehub.client) can use it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from uuid import UUID

from casehub.crypto.signing import verify_with_jwks
from casehub.domain.errors import DomainError
from casehub.domain.requests.receipts import Receipt, verify_chain

FORMAT = "casehub-receipts/1"


class ReceiptFileError(ValueError):
    """The document is not a receipts export at all (as opposed to a bad receipt in it)."""


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The outcome of verifying a document: how many receipts verified, or the first bad one."""

    ok: bool
    total: int
    checked: int
    request: str
    key_ids: tuple[str, ...]
    bad_position: int | None = None
    bad_label: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        """One line for people: the count verified, or which receipt failed and why."""
        if self.ok:
            return f"verified {self.checked} receipts"
        return f"receipt {self.bad_label} is bad: {self.reason}"


def _jwks_of(value: object, source: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping) or not isinstance(value.get("keys"), list):
        raise ReceiptFileError(f"{source} holds no JWKS (an object with a 'keys' list).")
    return value


def _label(position: int, total: int, raw: object) -> str:
    """'3 of 5 (event 3, ACCEPT)': position in the file and what the receipt claims to be."""
    label = f"{position} of {total}"
    event = raw.get("event") if isinstance(raw, Mapping) else None
    if isinstance(event, Mapping):
        number, action = event.get("number"), event.get("action")
        if isinstance(number, int) and isinstance(action, str):
            label += f" (event {number}, {action})"
    return label


def _event_problem(receipt: Receipt, position: int, request: str, first: Receipt) -> str | None:
    event = receipt.event
    named = event.get("request")
    if named != request:
        return f"its event names request {named!r}, not the file's request {request!r}"
    number = event.get("number")
    if number != position:
        return (
            f"its event is number {number!r} where number {position} is due "
            "(a receipt is missing, repeated or out of order)"
        )
    for party in ("requester", "requested"):
        if event.get(party) != first.event.get(party):
            return f"its event names another {party} agency than the first receipt"
    return None


def verify_document(
    document: object,
    *,
    request_of: Callable[[str], UUID],
    jwks: Mapping[str, object] | None = None,
) -> ChainCheck:
    """Verify an export offline, with its own JWKS or the one given (fetched separately).

    request_of decodes the document's request id (a global id) into the request's UUID; a
    document that is not an export at all raises ReceiptFileError.
    """
    if not isinstance(document, Mapping):
        raise ReceiptFileError("The file is not a JSON object.")
    if document.get("format") != FORMAT:
        raise ReceiptFileError(f"The file is not in the {FORMAT} format.")
    label = document.get("request")
    if not isinstance(label, str):
        raise ReceiptFileError("The file names no request.")
    try:
        request = str(request_of(label))
    except (ValueError, DomainError) as error:
        raise ReceiptFileError(f"The file's request {label!r} is not a request id.") from error
    raws = document.get("receipts")
    if not isinstance(raws, list) or not raws:
        raise ReceiptFileError("The file holds no receipts.")
    keys = jwks if jwks is not None else _jwks_of(document.get("keys"), "The file")

    parsed: list[Receipt] = []
    malformed: str | None = None
    for raw in raws:
        try:
            parsed.append(Receipt.from_dict(raw))
        except ValueError as error:
            malformed = f"it is malformed: {error}"
            break

    def verify(key_id: str, digest: bytes, signature: bytes) -> bool:
        return verify_with_jwks(keys, key_id, digest, signature)

    chain = verify_chain(parsed, verify)
    key_ids = tuple(sorted({receipt.key_id for receipt in parsed}))
    total = len(raws)

    def bad(index: int, reason: str) -> ChainCheck:
        return ChainCheck(
            ok=False,
            total=total,
            checked=index,
            request=label,
            key_ids=key_ids,
            bad_position=index + 1,
            bad_label=_label(index + 1, total, raws[index]),
            reason=reason,
        )

    for index, receipt in enumerate(parsed):
        if not chain.ok and chain.first_bad == index:
            return bad(index, chain.reason or "the chain breaks here")
        problem = _event_problem(receipt, index + 1, request, parsed[0])
        if problem is not None:
            return bad(index, problem)
    if malformed is not None:
        return bad(len(parsed), malformed)
    return ChainCheck(ok=True, total=total, checked=total, request=label, key_ids=key_ids)
