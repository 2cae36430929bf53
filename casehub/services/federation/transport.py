"""Bounded HTTP to peer hubs: a GET of an identity document, a POST of an envelope, each with a
total deadline, a size cap and no redirects.

A peer is not trusted until its answer is verified, so the client must not let it hold a
thread for long, send an unbounded body, or send the request elsewhere by redirecting (a
redirect is an answer, never followed: the pinned URL is the one messages go to). Standard
library only, run in a worker thread; the caller passes the limits.
"""

from __future__ import annotations

import asyncio
import http.client
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from casehub.domain.federation.envelopes import PROTOCOL
from casehub.domain.federation.peers import PeerResponseTooLarge, PeerUnreachable

MESSAGES_PATH = "/federation/v1/messages"
_CHUNK = 16 * 1024


class NoAnswer(Exception):
    """The peer gave no usable answer (unreachable, too slow, or too long an answer)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True, slots=True)
class Answer:
    """A peer's HTTP answer: its status and body."""

    status: int
    body: bytes


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status: an answer


_OPENER = urllib.request.build_opener(_NoRedirects)


async def get_bounded(url: str, *, max_bytes: int, seconds: float) -> bytes:
    """The body of a 200 answer to GET url (http or https, checked by the caller):
    PeerUnreachable when the peer cannot be reached, answers another status or redirects, or
    takes longer than `seconds` in all; PeerResponseTooLarge past max_bytes."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - http(s) only
    try:
        answer = await asyncio.to_thread(_exchange, request, max_bytes, seconds)
    except NoAnswer as missing:
        if missing.too_large:
            raise PeerResponseTooLarge(str(missing), ["url"]) from None
        raise PeerUnreachable(str(missing), ["url"]) from None
    if answer.status != 200:
        raise PeerUnreachable(f"{url} answered HTTP {answer.status}, not 200.", ["url"])
    return answer.body


async def post_envelope(base: str, envelope: bytes, *, max_bytes: int, seconds: float) -> Answer:
    """POST the envelope to the pinned base URL's messages endpoint; the answer whatever its
    status (a refusal's JSON body says what the sender must do), or NoAnswer when none came
    within `seconds` in all or it was longer than max_bytes."""
    request = urllib.request.Request(  # noqa: S310 - the pinned URL: http(s) only
        base + MESSAGES_PATH,
        data=envelope,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": PROTOCOL},
    )
    return await asyncio.to_thread(_exchange, request, max_bytes, seconds)


def _exchange(request: urllib.request.Request, max_bytes: int, seconds: float) -> Answer:
    url = request.full_url
    deadline = time.monotonic() + seconds
    try:
        with _OPENER.open(request, timeout=seconds) as response:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(url, max_bytes)
            return Answer(response.status, _read(url, response, max_bytes, seconds, deadline))
    except urllib.error.HTTPError as error:
        with error:
            body = b"" if error.fp is None else _read(url, error, max_bytes, seconds, deadline)
            return Answer(error.code, body)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise NoAnswer(f"{url} cannot be reached: {reason}.") from None


def _read(url: str, response: Any, max_bytes: int, seconds: float, deadline: float) -> bytes:
    body = bytearray()
    # read1: at most one receive per call, each bounded by the socket timeout; the deadline
    # bounds them all, so a peer that trickles bytes cannot hold the thread.
    while chunk := response.read1(min(_CHUNK, max_bytes + 1 - len(body))):
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(url, max_bytes)
        if time.monotonic() > deadline:
            raise NoAnswer(f"{url} took longer than {seconds:g} s to answer.")
    return bytes(body)


def _too_large(url: str, max_bytes: int) -> NoAnswer:
    return NoAnswer(f"{url} answered more than {max_bytes} bytes.", too_large=True)
