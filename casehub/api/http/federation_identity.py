"""GET /federation/v1/identity: this hub's self-signed identity document, which a peer's
operator fetches to pin this hub (after comparing its fingerprint out of band).

Public and cacheable: the document holds only public keys, and the same bytes are served
until the keyring changes (a server restart). A hub with no identity answers 404 with the
federation endpoints' error shape.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from casehub.domain.federation.peers import IDENTITY_PATH
from casehub.services.federation.peers import identity_document
from casehub.services.runtime import Runtime

NOT_FEDERATED = {
    "error": {
        "code": "NOT_FEDERATED",
        "message": "This hub has no federation identity (`casehub federation init`).",
    }
}


def routes(runtime: Runtime) -> list[Route]:
    """The identity route, bound to the runtime whose keyring holds the identity."""

    async def identity(_request: Request) -> Response:
        document = identity_document(runtime)
        if document is None:
            return JSONResponse(NOT_FEDERATED, status_code=404)
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})

    return [Route(IDENTITY_PATH, identity, methods=["GET"])]
