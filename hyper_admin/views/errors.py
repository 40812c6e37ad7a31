"""Error pages inside the admin layout (or a bare page before access is established)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app
from werkzeug.exceptions import HTTPException, InternalServerError

from ..pipeline import may_show_shell
from ..sql import QueryTimeout
from .render import Crumb, render_page, render_standalone

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    422: "Check the form",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}
MESSAGES = {
    401: "Sign in through the application to use the admin.",
    403: "Your account may not open this page. Ask an administrator for access.",
    404: "There is nothing here, or it is not visible to you.",
    500: "The error was logged. Try again, and tell the team if it keeps happening.",
}


def not_found(unknown: str):
    abort(404)


def render_error(status: int, message: str | None = None):
    title = TITLES.get(status, "Error")
    text = message or MESSAGES.get(status) or title
    if may_show_shell():
        return render_page("error", page_title=title, breadcrumbs=[Crumb(title)],
                           status_code=status, status=status, title=title, message=text)
    return render_standalone("hyper_admin/error_plain.html", page_title=title,
                             status_code=status, status=status, title=title, message=text)


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    # Our own descriptions are written for people; werkzeug's defaults are generic.
    default = type(error).description
    message = error.description if error.description != default else None
    response = render_error(error.code, message)
    for header, value in error.get_headers():
        if header.lower() not in ("content-type", "content-length"):
            response.headers[header] = value
    return response


def _server_error(error: InternalServerError):
    original = getattr(error, "original_exception", None) or error
    current_app.logger.error("hyper_admin: unhandled error", exc_info=original)
    try:
        return render_error(500)
    except Exception:  # noqa: BLE001 - the error page itself failed: answer plainly
        current_app.logger.exception("hyper_admin: the error page failed too")
        return Response("Something went wrong. The error was logged.", status=500,
                        mimetype="text/plain")


def _timeout(error: QueryTimeout):
    current_app.logger.warning("hyper_admin: statement cancelled after the time limit: %s", error)
    return render_error(503, "The database took too long to answer and the query was stopped. "
                             "Narrow the search or filter on an indexed column, then try again.")


def install(blueprint: Blueprint) -> None:
    blueprint.register_error_handler(QueryTimeout, _timeout)
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(InternalServerError, _server_error)
