"""Saved views: a user names the list's current query string and reopens it later; a view can
be shared with everyone who may view the model. Stored in the application's database."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import abort, request
from werkzeug.datastructures import MultiDict
from flask_login import current_user

from ..i18n import _
from ..options import ModelAdmin
from ..pipeline import admin_url, current_state, is_superuser, user_label
from ..query import Statement
from ..sql import run
from ..storage import TablesMissing
from .common import engine_and_dialect, list_request, list_url
from .rows import _done

MAX_NAME = 100
MAX_QUERY = 4000
MAX_VIEWS_PER_USER = 200


def _owner_id() -> str:
    return str(current_user.get_id())


def saved_views(model_admin: ModelAdmin) -> list[dict]:
    """The user's own views of this model, then those shared by others."""
    engine, dialect = engine_and_dialect()
    current_state().ensure_tables()
    stmt = Statement(dialect)
    stmt.sql("SELECT id, name, query_string, shared, owner_id, owner_label "
             "FROM hyper_admin_saved_views WHERE "
             f"admin_name = {stmt.param(current_state().name)} AND "
             f"model_slug = {stmt.param(model_admin.slug)} AND "
             f"(owner_id = {stmt.param(_owner_id())} OR shared = {stmt.param(True if dialect.is_postgresql else 1)}) "
             "ORDER BY name, id LIMIT 500")
    base = list_url(model_admin)
    me = _owner_id()
    views = []
    for row in run(engine, stmt):
        mine = row["owner_id"] == me
        views.append({
            "id": row["id"], "name": row["name"], "shared": bool(row["shared"]), "mine": mine,
            "owner": row["owner_label"],
            "url": f"{base}?{row['query_string']}" if row["query_string"] else base,
        })
    views.sort(key=lambda v: (not v["mine"], v["name"].lower()))
    return views


def palette_views(models: dict[str, ModelAdmin], q: str, *, limit: int) -> list[dict]:
    """The command palette's saved views: the user's own, then shared ones, of the ``models``
    (slug → ModelAdmin) the user may view, whose name or model matches every word of ``q``."""
    if not models:
        return []
    engine, dialect = engine_and_dialect()
    try:
        current_state().ensure_tables()
    except TablesMissing:
        return []  # create_tables=False before the migrations ran: no views saved yet
    stmt = Statement(dialect)
    stmt.sql("SELECT id, model_slug, name, query_string, shared, owner_id, owner_label "
             "FROM hyper_admin_saved_views WHERE "
             f"admin_name = {stmt.param(current_state().name)} AND "
             f"model_slug IN {stmt.params_list(sorted(models))} AND "
             f"(owner_id = {stmt.param(_owner_id())} OR shared = {stmt.param(True if dialect.is_postgresql else 1)}) "
             "ORDER BY id DESC LIMIT 500")
    me = _owner_id()
    words = q.casefold().split()
    views = []
    for row in run(engine, stmt):
        model_admin = models[row["model_slug"]]
        text = f"{row['name']} {model_admin.verbose_name_plural}".casefold()
        if not all(word in text for word in words):
            continue
        base = list_url(model_admin)
        views.append({"name": row["name"], "model_slug": row["model_slug"],
                      "mine": row["owner_id"] == me, "owner": row["owner_label"],
                      "url": f"{base}?{row['query_string']}" if row["query_string"] else base})
    views.sort(key=lambda v: not v["mine"])  # stable: newest first within each
    return views[:limit]


def list_views(model_admin: ModelAdmin):
    """GET /admin/<slug>/views: the saved views menu's entries. The list page's Views menu
    loads them when it is opened (a query fewer on every list page); without htmx, a page."""
    from flask import render_template

    from ..htmx import current_htmx
    from .render import Crumb, render_page, templates_for

    context = dict(model_admin=model_admin, saved_views=saved_views(model_admin),
                   is_superuser=is_superuser(), list_url=list_url(model_admin))
    if current_htmx().wants_fragment and current_htmx().target == "saved-views-list":
        return render_template(templates_for("partials/saved_views_list", model_admin.slug), **context)
    return render_page(
        "saved_views", slug=model_admin.slug, page_title=_("Saved views of %(models)s",
                                                           models=str(model_admin.verbose_name_plural).lower()),
        breadcrumbs=[Crumb(_("Dashboard"), admin_url(".dashboard")),
                     Crumb(model_admin.verbose_name_plural, list_url(model_admin)),
                     Crumb(_("Saved views"))],
        **context)


def save_view(model_admin: ModelAdmin):
    """POST /admin/<slug>/views: name=, query= (the list's query string), shared=1."""
    name = request.form.get("name", "").strip()
    query_string = request.form.get("query", "").lstrip("?")
    if not name or len(name) > MAX_NAME:
        abort(400, description=_("a saved view needs a name of at most %(count)s characters",
                                 count=MAX_NAME))
    if len(query_string) > MAX_QUERY or "\x00" in query_string:
        abort(400, description=_("that query is too long to save"))
    pairs = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True)
             if k not in ("after", "before", "page")]
    list_request(model_admin, MultiDict(pairs))  # only what the list accepts (else 400)
    shared = request.form.get("shared") in ("1", "on", "true")
    engine, dialect = engine_and_dialect()
    current_state().ensure_tables()
    with engine as tx:
        count = Statement(dialect)
        count.sql("SELECT count(*) AS n FROM hyper_admin_saved_views WHERE "
                  f"owner_id = {count.param(_owner_id())}")
        if run(engine, count)[0]["n"] >= MAX_VIEWS_PER_USER:
            abort(400, description=_("at most %(count)s saved views per user",
                                     count=MAX_VIEWS_PER_USER))
        stmt = Statement(dialect)
        values = [current_state().name, model_admin.slug, _owner_id(),
                  user_label(current_user)[:200], name, urlencode(pairs),
                  shared if dialect.is_postgresql else int(shared)]
        stmt.sql("INSERT INTO hyper_admin_saved_views (admin_name, model_slug, owner_id, "
                 "owner_label, name, query_string, shared) VALUES "
                 + stmt.params_list(values))
        tx.cursor(stmt.compiled()).close()
    target = list_url(model_admin) + ("?" + urlencode(pairs) if pairs else "")
    message = (_("Saved view “%(name)s” (shared).", name=name) if shared
               else _("Saved view “%(name)s”.", name=name))
    return _done(target, message)


def delete_view(model_admin: ModelAdmin, view_id: str):
    """POST /admin/<slug>/views/<id>/delete: the owner's, or a superuser's for shared ones."""
    try:
        key = int(view_id)
    except ValueError:
        abort(404)
    engine, dialect = engine_and_dialect()
    current_state().ensure_tables()
    stmt = Statement(dialect)
    stmt.sql(f"DELETE FROM hyper_admin_saved_views WHERE id = {stmt.param(key)} AND "
             f"admin_name = {stmt.param(current_state().name)} AND "
             f"model_slug = {stmt.param(model_admin.slug)}")
    if not is_superuser():
        stmt.sql(f"AND owner_id = {stmt.param(_owner_id())}")
    with engine as tx:
        cursor = tx.cursor(stmt.compiled())
        deleted = cursor.rowcount
        cursor.close()
    if not deleted:
        abort(404)
    return _done(list_url(model_admin), _("Saved view deleted."))
