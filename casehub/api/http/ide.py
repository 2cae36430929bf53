"""The development IDE: GraphiQL served from this package (casehub/static/graphiql, vendored at
pinned versions; its README names them), so it works without the internet. The page is ours:
no inline script, a token form first, GraphiQL after (casehub-ide.js), under POLICY."""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass
from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

PREFIX = "/graphiql/static"
ROUTE = PREFIX + "/{name}"
# The assets' addresses carry their digest (?v=...): a browser may keep each for a year.
CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Loaded in this order: React, then GraphiQL (a UMD bundle reading the React globals), then
# the bootstrap that renders it.
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "casehub-ide.js",
)
STYLES = ("graphiql.min.css", "casehub-ide.css")
POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # 'unsafe-inline' for styles only: GraphiQL's dialogs and menus (Radix UI, through
        # react-remove-scroll and react-style-singleton) insert <style> elements at run time,
        # and no nonce can be handed to them. Scripts stay 'self' only.
        "style-src 'self' 'unsafe-inline'",
        # GraphiQL's stylesheet embeds its fonts and a few images as data: URLs.
        "font-src data:",
        "img-src 'self' data:",
        # 'self' covers ws:/wss: to this host and port as well (CSP Level 3): subscriptions.
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)


@dataclass(frozen=True)
class Asset:
    """One file the page loads: its bytes, content type and digests."""

    name: str
    body: bytes
    content_type: str

    @property
    def version(self) -> str:
        """A short digest for the address, so a changed file gets a new one."""
        return hashlib.sha256(self.body).hexdigest()[:16]

    @property
    def integrity(self) -> str:
        """Subresource integrity (sha384), checked by the browser."""
        return "sha384-" + base64.b64encode(hashlib.sha384(self.body).digest()).decode()

    @property
    def address(self) -> str:
        """Where the page asks for it."""
        return f"{PREFIX}/{self.name}?v={self.version}"


@cache
def assets() -> dict[str, Asset]:
    """The served files by name, read once from the installed package."""
    folder = resources.files("casehub") / "static" / "graphiql"
    found = {}
    for name in (*SCRIPTS, *STYLES):
        suffix = name[name.rindex(".") :]
        found[name] = Asset(name, (folder / name).read_bytes(), CONTENT_TYPES[suffix])
    return found


@cache
def page() -> str:
    """The IDE page: the token form and the tags loading GraphiQL, with no inline script."""
    served = assets()
    styles = "\n".join(
        f'    <link rel="stylesheet" href="{html.escape(served[name].address)}"'
        f' integrity="{served[name].integrity}">'
        for name in STYLES
    )
    scripts = "\n".join(
        f'    <script src="{html.escape(served[name].address)}"'
        f' integrity="{served[name].integrity}"></script>'
        for name in SCRIPTS
    )
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="referrer" content="no-referrer">
    <title>casehub GraphiQL</title>
    <link rel="icon" href="data:,">
{styles}
  </head>
  <body>
    <form id="casehub-token" autocomplete="off">
      <h1>casehub GraphiQL</h1>
      <label for="casehub-token-input">Bearer token of your agency</label>
      <input id="casehub-token-input" type="password" autocomplete="off" spellcheck="false"
        required>
      <button type="submit">Open GraphiQL</button>
      <p id="casehub-token-problem" role="alert"></p>
      <p>The token stays in this page's memory: nothing is stored in the browser, and
        reloading the page asks for it again.</p>
    </form>
    <div id="graphiql" class="graphiql-container" hidden></div>
{scripts}
  </body>
</html>
"""


async def serve_asset(request: Request) -> Response:
    """GET /graphiql/static/{name}: one of the page's files, cached long; 404 for any other."""
    asset = assets().get(request.path_params["name"])
    if asset is None:
        return PlainTextResponse("Not Found", status_code=404)
    return Response(
        asset.body,
        media_type=asset.content_type,
        headers={"cache-control": CACHE_CONTROL, "etag": f'"{asset.version}"'},
    )
