"""htmx as a first-class request type, the way django-htmx does it for Django.

Views ask :func:`current_htmx` whether to answer with a fragment; nobody else reads htmx headers.
The response helpers below (modelled on django-htmx's ``http.py``) are the only writers of htmx's
response headers: push or replace the URL, navigate (location, redirect, refresh), retarget,
reswap, reselect, and client events merged as one JSON object.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Response, g, request
from werkzeug.urls import iri_to_uri


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


# ---------------------------------------------------------------------------------------------
# Response headers. The only place that writes HX-* response headers (tests/test_htmx.py holds
# the package to it): values are made header-safe and JSON-encoded here, once, and several
# events on one response merge instead of overwriting or corrupting each other.

#: What ``hx-swap`` / ``HX-Reswap`` accept: a swap style, optionally followed by modifiers
#: ("outerHTML show:window:top").
SwapStyle = str

#: The header of each moment htmx can fire a server-sent event at.
TRIGGER_HEADERS = {
    "receive": "HX-Trigger",
    "settle": "HX-Trigger-After-Settle",
    "swap": "HX-Trigger-After-Swap",
}


def _header_url(url: str) -> str:
    """``url`` as a header can carry it: an IRI (a non-ASCII path or primary key) becomes
    percent-encoded UTF-8, which browsers read back as the same address. Tabs and line breaks
    are dropped (as browsers drop them from URLs), other control characters percent-encoded:
    a value never splits the header."""
    if url.isascii() and url.isprintable():
        return url
    return iri_to_uri(url)


def push_url(response: Response, url: str | t.Literal[False]) -> Response:
    """Push ``url`` onto the browser's history (``False``: leave the address bar alone, even
    where the element asked htmx to push)."""
    response.headers["HX-Push-Url"] = "false" if url is False else _header_url(url)
    return response


def replace_url(response: Response, url: str | t.Literal[False]) -> Response:
    """Replace the current history entry's URL with ``url`` (``False``: don't)."""
    response.headers["HX-Replace-Url"] = "false" if url is False else _header_url(url)
    return response


def location(response: Response, path: str, *, target: str | None = None,
             swap: SwapStyle | None = None, select: str | None = None,
             source: str | None = None, event: str | None = None,
             values: dict[str, t.Any] | None = None,
             headers: dict[str, str] | None = None) -> Response:
    """Make htmx load ``path`` as if a boosted link had been followed (an XHR, the target
    swapped, the URL pushed), without a full page load: ``HX-Location`` with its options as
    a JSON object."""
    spec: dict[str, t.Any] = {"path": _header_url(path)}
    options = {"target": target, "swap": swap, "select": select, "source": source,
               "event": event, "values": values, "headers": headers}
    spec.update((name, value) for name, value in options.items() if value is not None)
    response.headers["HX-Location"] = json.dumps(spec)
    return response


def redirect(response: Response, url: str) -> Response:
    """Make htmx load ``url`` as a full page (htmx 2 follows HX-Redirect on any status)."""
    response.headers["HX-Redirect"] = _header_url(url)
    return response


def client_redirect(url: str, status: int = 200) -> Response:
    """An empty response that makes htmx load ``url`` as a full page."""
    return redirect(Response("", status=status), url)


def refresh(response: Response) -> Response:
    """Make htmx reload the whole page."""
    response.headers["HX-Refresh"] = "true"
    return response


def retarget(response: Response, selector: str) -> Response:
    """Swap the response into ``selector`` instead of the element's own target."""
    response.headers["HX-Retarget"] = selector
    return response


def reswap(response: Response, swap: SwapStyle) -> Response:
    """Swap the response this way instead of the element's ``hx-swap``."""
    response.headers["HX-Reswap"] = swap
    return response


def reselect(response: Response, selector: str) -> Response:
    """Swap only the part of the response that ``selector`` picks."""
    response.headers["HX-Reselect"] = selector
    return response


def trigger_client_event(response: Response, name: str, params: t.Any = None, *,
                         after: t.Literal["receive", "settle", "swap"] = "receive") -> Response:
    """Fire the event ``name`` in the browser (``event.detail`` is ``params``, a JSON object;
    anything else arrives as ``detail.value``) when htmx receives the response, or after its
    swap or settle. Several events on one response merge into one JSON object: a second call
    adds its event, a second call with the same name replaces that event's params."""
    header = TRIGGER_HEADERS.get(after)
    if header is None:
        raise ValueError(f"after must be one of {', '.join(TRIGGER_HEADERS)}, not {after!r}")
    events = _trigger_events(response.headers.get(header))
    events[name] = {} if params is None else params
    response.headers[header] = json.dumps(events)
    return response


def _trigger_events(value: str | None) -> dict[str, t.Any]:
    """The events of an HX-Trigger* header: its JSON object, or for the plain form htmx also
    accepts ("saved, closed") each name with no params."""
    if not value:
        return {}
    if value.lstrip().startswith("{"):
        events = json.loads(value)
        if isinstance(events, dict):
            return events
    return {name.strip(): {} for name in value.split(",") if name.strip()}
