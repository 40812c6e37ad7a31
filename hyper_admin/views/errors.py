"""Error pages inside the admin layout (or a bare page before access is established)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, request
from werkzeug.exceptions import HTTPException, InternalServerError

from .. import sql
from ..i18n import _, lazy_gettext as _l, ngettext
from ..pipeline import may_show_shell
from ..sql import QueryTimeout
from ..storage import TablesMissing
from .render import Crumb, render_page, render_standalone

TITLES = {
    400: _l("Bad request"),
    401: _l("Sign-in required"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Request too large"),
    414: _l("Address too long"),
    422: _l("Check the form"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Temporarily unavailable"),
}
MESSAGES = {
    401: _l("Sign in through the application to use the admin."),
    403: _l("Your account may not open this page. Ask an administrator for access."),
    404: _l("There is nothing here, or it is not visible to you."),
    500: _l("The error was logged. Try again, and tell the team if it keeps happening."),
}


def not_found(unknown: str):
    abort(404)


def render_error(status: int, message: str | None = None):
    title = str(TITLES.get(status) or _("Error"))
    text = str(message or MESSAGES.get(status) or title)
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
        return Response(_("Something went wrong. The error was logged."), status=500,
                        mimetype="text/plain")


TIMEOUT_MESSAGE = _l("The database took too long to answer and the query was stopped. "
                     "Narrow the search or filter on an indexed column, then try again.")
#: What a person is told when the database cannot serve the request (never the driver's text).
DATABASE_MESSAGES = {
    sql.TIMEOUT: TIMEOUT_MESSAGE,
    sql.UNREACHABLE: _l("The database cannot be reached right now. Try again in a moment; if "
                        "this goes on, tell your administrator."),
    sql.READ_ONLY: _l("The database is read-only right now, so nothing could be saved. Tell "
                      "your administrator."),
    sql.FULL: _l("The database has run out of storage space, so nothing could be saved. Tell "
                 "your administrator."),
    sql.BUSY: _l("The database is busy with other changes to the same rows. Nothing was "
                 "saved: try again in a moment."),
}
UNSURE_WRITE = _l("If you were saving a change, open the record again to see whether it was "
                  "saved before you save it again.")
RETRY_AFTER = {sql.UNREACHABLE: "5", sql.BUSY: "2"}


def _timeout(error: QueryTimeout):
    current_app.logger.warning("hyper_admin: statement cancelled after the time limit: %s", error)
    return render_error(503, str(TIMEOUT_MESSAGE))


def _database_error(error: Exception):
    """503 for a database that cannot serve the request (sql.database_problem): out of reach,
    read-only, full, busy, too slow. Anything else is a bug and goes on to the 500 page."""
    problem = sql.database_problem(error)
    if problem is None:
        raise error
    current_app.logger.warning("hyper_admin: database %s on %s %s: %s: %s", problem,
                               request.method, request.path, type(error).__name__,
                               str(error).strip().splitlines()[0] if str(error).strip() else "")
    message = str(DATABASE_MESSAGES[problem])
    if problem == sql.UNREACHABLE and request.method not in ("GET", "HEAD"):
        message += " " + str(UNSURE_WRITE)  # the connection may have gone during the COMMIT
    if "_login_user" not in g:
        # The user could not be loaded (the database is the problem): render the page as for
        # an anonymous visitor, instead of letting flask-login try the database again.
        manager = getattr(current_app, "login_manager", None)
        if manager is not None:
            g._login_user = manager.anonymous_user()
    try:
        # Without the admin's shell: its navigation must not need the database either.
        response = render_standalone("hyper_admin/error_plain.html", page_title=str(TITLES[503]),
                                     status_code=503, status=503, title=str(TITLES[503]),
                                     message=message)
    except Exception:  # noqa: BLE001 - the page itself failed: answer plainly
        current_app.logger.exception("hyper_admin: the error page failed too")
        response = Response(message, status=503, mimetype="text/plain")
    if problem in RETRY_AFTER:
        response.headers["Retry-After"] = RETRY_AFTER[problem]
    return response


def _tables_missing(error: TablesMissing):
    """503 when ``Admin(create_tables=False)`` and the migrations have not created the admin's
    own tables yet: which ones, and the command that prints their statements."""
    current_app.logger.warning("hyper_admin: %s (create_tables=False): run the statements "
                               "of `hyper-admin sql` in a migration", error)
    tables = ", ".join(error.tables)
    return render_error(503, ngettext(
        "The table %(tables)s that the admin needs is missing from the database, and this admin "
        "does not create its own tables. Add it with a migration: the command hyper-admin sql "
        "prints its statements.",
        "The tables %(tables)s that the admin needs are missing from the database, and this "
        "admin does not create its own tables. Add them with a migration: the command "
        "hyper-admin sql prints their statements.", len(error.tables), tables=tables))


def install(blueprint: Blueprint) -> None:
    blueprint.register_error_handler(QueryTimeout, _timeout)
    blueprint.register_error_handler(TablesMissing, _tables_missing)
    for error_class in sql.driver_errors():
        blueprint.register_error_handler(error_class, _database_error)
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(InternalServerError, _server_error)
