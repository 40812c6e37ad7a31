"""Live lists: GET /admin/<slug>/live (Server-Sent Events) and GET /admin/<slug>/live/rows.

A list whose ModelAdmin says ``live = True`` offers a "Live" toggle (``?live=1``). While it is
on, the page holds an EventSource on ``live?<the list's filters>&since=<newest value shown>``:
every ``live_interval`` seconds the stream counts the rows newer than ``since`` that match the
list's filters and the user's scope, and sends ``event: rows`` with that number when it
changed, a heartbeat comment otherwise. The page shows "N new rows"; clicking it fetches
``live/rows`` (the same query string) and prepends them, so nothing moves under the reader.

Both routes go through the pipeline like every other (sign-in, access, ``view`` permission,
headers); the stream's queries run in its request's app context, each under the statement
time limit. A stream ends after ``live_max_seconds`` (the browser's EventSource reconnects by
itself) or when the client is gone (the next write fails and the generator is closed).
"""

from __future__ import annotations

import time
import typing as t

from flask import Response, abort, make_response, request, stream_with_context
from markupsafe import Markup
from sqlorm import SQL

from ..htmx import trigger_client_event
from ..i18n import _, format_number
from ..options import ModelAdmin
from ..pipeline import current_state
from ..query import BadQuery, parse_value
from ..sql import QueryTimeout, bound_sources, time_limit, to_db
from ..sqlorm_compat import release_idle_connection
from .common import list_request, read_engine_and_dialect

#: The most new rows a stream counts (the pill says "1,000+ new rows" past it).
LIVE_CAP = 1000
#: Seconds between heartbeats when nothing changes (proxies drop idle connections).
HEARTBEAT = 15.0


def _live_request(model_admin: ModelAdmin):
    """The list's request (filters, search, scope) with ``since`` taken out and turned into
    the condition "newer than since"; 404 when the list is not live."""
    if not model_admin.live:
        abort(404)
    column = model_admin._live_column()
    args = request.args.copy()
    raw = args.pop("since", None)
    args.pop("live", None)
    if raw is None:
        abort(400, description=_("since is required"))
    try:
        since = parse_value(column, raw)
    except BadQuery as exc:
        abort(400, description=str(exc))
    listing = list_request(model_admin, args)
    engine, dialect = read_engine_and_dialect(model_admin)
    newer = SQL(f"{column.sql} >", SQL.Param(to_db(column, since, dialect), "live_since"))
    spec = listing.spec
    spec.base = newer if spec.base is None else SQL("(", spec.base, ") AND", newer)
    return listing, column, engine, dialect


def live_stream(model_admin: ModelAdmin):
    listing, column, engine, dialect = _live_request(model_admin)
    state = current_state()
    interval = max(0.05, float(state.live_interval))
    deadline = time.monotonic() + float(state.live_max_seconds)
    limit = time_limit.get()
    sources = bound_sources.get()

    def events() -> t.Iterator[str]:
        # The generator runs after the view returned: the request's time limit and bound
        # query views are set again for its queries.
        time_limit.set(limit)
        bound_sources.set(sources)
        # Between polls the stream holds a thread, not a database connection (the request's
        # session would keep one until the stream ends).
        release_idle_connection(engine)
        yield f"retry: {int(interval * 1000) + 1000}\n\n"
        last_sent: int | None = None
        last_write = time.monotonic()
        while time.monotonic() < deadline:
            try:
                total = listing.count(engine, dialect, cap=LIVE_CAP)
                n = total.value or 0
                text = format_number(n) + ("+" if total.kind != "exact" else "")
            except QueryTimeout:
                n, text = -1, ""
            finally:
                release_idle_connection(engine)
            if n >= 0 and n != last_sent:
                last_sent = n
                last_write = time.monotonic()
                yield f"event: rows\ndata: {text if n else '0'}\n\n"
            elif time.monotonic() - last_write >= min(HEARTBEAT, interval * 3):
                last_write = time.monotonic()
                yield ": ping\n\n"
            time.sleep(interval)
        yield "event: end\ndata: reconnect\n\n"

    response = Response(stream_with_context(events()), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def live_rows(model_admin: ModelAdmin):
    """The rows newer than ``since`` matching the list (at most a page), as ``<tr>`` markup to
    prepend, with the new ``since`` for the page's stream."""
    from .list_rows import row_columns, rows_of

    listing, column, engine, dialect = _live_request(model_admin)
    plain, tokened = row_columns(model_admin, listing, column)
    params = listing.params
    params.after = params.before = None
    page = listing.page(engine, dialect, plain, params, count_cap=None)
    rows = rows_of(model_admin, listing, page, tokened)
    newest = max((column.coerce(r[column.name]) for r in page.rows), default=None)
    response = make_response(Markup("\n".join(r.html for r in rows)))
    if newest is not None:
        # admin.js restarts the page's stream from the newest row it now shows.
        trigger_client_event(response, "hyper-admin-live", {"since": live_value(newest)})
    return response


def live_value(value: t.Any) -> str:
    """A live column's value as the ``since`` of the query string."""
    return value.isoformat(" ") if hasattr(value, "isoformat") else str(value)


def newest_value(model_admin: ModelAdmin, listing) -> str:
    """The newest ``live_column`` value among the rows the list matches (the stream's first
    ``since``); the list's filters and scope apply, so that a new row outside them never counts."""
    from ..sql import Statement, run
    from ..query import where_clause

    column = model_admin._live_column()
    engine, dialect = read_engine_and_dialect(model_admin)
    stmt = Statement(dialect)
    stmt.sql(f"SELECT max({column.sql}) AS v FROM {listing.spec.info.table_sql}")
    conditions = where_clause(stmt, listing.spec, listing.params)
    if conditions:
        stmt.sql("WHERE " + " AND ".join(conditions))
    rows = run(engine, stmt)
    value = column.coerce(rows[0]["v"]) if rows else None
    if value is None:
        return "0" if column.kind == "int" else "1970-01-01 00:00:00"
    return live_value(value)
