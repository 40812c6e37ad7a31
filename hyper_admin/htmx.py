"""htmx as a first-class request type, the way django-htmx does it for Django.

Views ask :func:`current_htmx` whether to answer with a fragment; nobody else reads htmx headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Response, g, request


@dataclass(frozen=True, slots=True)
class HtmxDetails:
    request: bool
    boosted: bool
    history_restore_request: bool
    target: str | None
    trigger: str | None
    current_url: str | None

    @property
    def wants_fragment(self) -> bool:
        """A history restore needs the whole page: htmx puts the response in place of <body>."""
        return self.request and not self.history_restore_request

    @property
    def current_path(self) -> str | None:
        """Path and whole query string of the page the request came from (``HX-Current-URL``).

        Its host is not compared with the request's: the browser may name the site otherwise
        than the Host header the application sees (``localhost:80`` for ``localhost``, a proxy
        that passes its upstream's address), and the query string was lost that way. Only the
        path is used, and browsers send htmx's headers to another origin only where CORS lets
        them; sign-in follows it only when it is a path of this site (``safe_next``)."""
        if not self.current_url:
            return None
        try:
            parts = urlsplit(self.current_url)
        except ValueError:  # a malformed host ("http://[::1")
            return None
        if parts.scheme not in ("http", "https", "") or not parts.path.startswith("/"):
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")


def current_htmx() -> HtmxDetails:
    details = g.get("_hyper_admin_htmx")
    if details is None:
        headers = request.headers
        details = HtmxDetails(
            request=headers.get("HX-Request") == "true",
            boosted=headers.get("HX-Boosted") == "true",
            history_restore_request=headers.get("HX-History-Restore-Request") == "true",
            target=headers.get("HX-Target"),
            trigger=headers.get("HX-Trigger"),
            current_url=headers.get("HX-Current-URL"),
        )
        g._hyper_admin_htmx = details
    return details


def client_redirect(url: str, status: int = 200) -> Response:
    """Make htmx load ``url`` as a full page (htmx 2 follows HX-Redirect on any status)."""
    response = Response("", status=status)
    response.headers["HX-Redirect"] = url
    return response


def push_url(response: Response, url: str) -> Response:
    response.headers["HX-Push-Url"] = url
    return response


def trigger_client_event(response: Response, name: str) -> Response:
    existing = response.headers.get("HX-Trigger")
    response.headers["HX-Trigger"] = f"{existing}, {name}" if existing else name
    return response
