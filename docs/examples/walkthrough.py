"""The README's request walk-through with casehub.client, against `make run`'s demo hub.

Two terminals, two agencies, each with its own token and its own signing key (the demo keeps
each agency's key in .casehub/demo-agency-keys/, as the agency's tool would hold it):

    PDRM=chb_... python docs/examples/walkthrough.py requester   # the Malaysian police
    RG=chb_...   python docs/examples/walkthrough.py platform    # the platform's desk

The requester drafts a data disclosure request to the platform, submits it signed, and
follows its live inbox until the answer; the platform acknowledges, accepts and fulfils it,
each decisive step signed. Both then check every signature on the request themselves,
against the hub's accreditation keys they pinned, not the hub's word.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.request
from contextlib import aclosing
from pathlib import Path
from typing import Any

from casehub.client import CasehubClient
from casehub.client.generated import (
    CreateCooperationRequestInput,
    FulfilOutcome,
    IdentifierInput,
    IdentifierKind,
    Priority,
    RequestKind,
    RequestParticularsInput,
)
from casehub.crypto.agency_keys import AgencyPrivateKey

HUB = os.environ.get("CASEHUB_URL", "http://127.0.0.1:8000")
KEYS = Path(os.environ.get("CASEHUB_DEMO_KEYS", ".casehub/demo-agency-keys"))
TITLE = "Subscriber data of @GoldFish_Mentor"


def pinned_hub_keys() -> dict[str, Any]:
    """The hub's accreditation keys. A real tool fetches them once, checks their thumbprints
    with the hub's operator out of band, and keeps the file: here they are fetched each run."""
    with urllib.request.urlopen(f"{HUB}/.well-known/casehub-accreditation.json") as answer:  # noqa: S310
        keys: dict[str, Any] = json.load(answer)
    return keys


def client(token_variable: str, agency: str) -> CasehubClient:
    return CasehubClient(
        f"{HUB}/graphql",
        os.environ[token_variable],
        agency_key=AgencyPrivateKey.load(KEYS / f"{agency}.json"),
        hub_keys=pinned_hub_keys(),
    )


async def report(hub: CasehubClient, request_id: str) -> None:
    """Every signable step of the request, checked on this side."""
    checked = await hub.verify_request(request_id)
    for step in checked.steps:
        signers = ", ".join(
            f"{item.agency} {item.verdict.status.value}" for item in step.signatures
        )
        print(f"  {step.action.value:<8} {step.status.value:<9} {signers}")
    print("every signature checks out" if checked.verified else "NOT VERIFIED")


async def requester() -> None:
    async with client("PDRM", "MY-PDRM") as hub:
        platform = await hub.agency_id("AE-RELAYGRAM")
        draft = await hub.create_request(
            CreateCooperationRequestInput(
                requested_agency_id=platform,
                kind=RequestKind.DATA_DISCLOSURE,
                priority=Priority.URGENT,
                legal_basis="Criminal Procedure Code (Malaysia) s. 116B",
                title=TITLE,
                body="Please disclose subscriber information and login IP addresses, "
                "1 Sep to 15 Oct 2026.",
                particulars=RequestParticularsInput(
                    offence="Cheating (Penal Code s. 420)",
                    account_identifiers=[
                        IdentifierInput(
                            kind=IdentifierKind.MESSENGER_HANDLE,
                            value="@GoldFish_Mentor",
                            platform="relaygram",
                        ),
                        IdentifierInput(kind=IdentifierKind.PHONE, value="+60 12-345 6789"),
                    ],
                ),
            )
        )
        # The statement digests the draft as the hub stored it (the phone number now in
        # E.164), so what is signed is what the platform will read.
        sent = await hub.submit_request(draft.id)
        print(f"submitted {sent.id}: {sent.status.value}")
        # Followed from the submission on, so nothing the platform does next is missed.
        since = (await hub.request(draft.id)).events[-1].seq
        # aclosing: leaving the loop closes the websocket at once, not at garbage collection.
        async with aclosing(hub.inbox(since=since)) as inbox:
            async for event in inbox:
                print(f"  event {event.seq}: {event.action.value} -> {event.to_status.value}")
                if event.request_id == draft.id and event.action.value == "FULFIL":
                    break
        answer = await hub.request(draft.id)
        print(f"answer: {answer.status.value}; {answer.messages[-1].body}")
        await report(hub, draft.id)


async def platform() -> None:
    # From the beginning (0), so a request submitted before the desk started is found too.
    async with client("RG", "AE-RELAYGRAM") as hub, aclosing(hub.inbox(since=0)) as inbox:
        async for event in inbox:
            if event.action.value == "SUBMIT" and await answer(hub, event.request_id):
                return


async def answer(hub: CasehubClient, request_id: str) -> bool:
    """Check, acknowledge, accept and fulfil the walk-through's request; False for others."""
    request = await hub.request(request_id)
    if request.title != TITLE or request.status.value != "SUBMITTED":
        return False
    sender = request.requester.code if request.requester else "?"
    print(f"received {request.id} from {sender}: {request.title}")
    await report(hub, request.id)  # is it really the police, and what did they sign?
    await hub.acknowledge_request(request.id)  # never signed
    await hub.accept_request(request.id)  # signed
    done = await hub.fulfil_request(
        request.id,
        FulfilOutcome.FULL,
        "Registered 2026-02-11 with +60123456789; 41 login IPs sent through the portal, "
        "ref. LE-77120.",
    )
    print(f"fulfilled: {done.status.value}")
    await report(hub, request.id)
    return True


if __name__ == "__main__":
    roles = {"requester": requester, "platform": platform}
    if len(sys.argv) != 2 or sys.argv[1] not in roles:
        sys.exit(f"usage: {sys.argv[0]} requester|platform")
    asyncio.run(roles[sys.argv[1]]())
