"""Editing PostgreSQL's own types in a browser (issue 18): an enum picked in a select of its
labels, an array typed one item per line, a jsonb value in its validated editor, and a time
with a zone shown in the browser's zone. tests/pg_types_app.py has the schema (pagila's film
and a gadget of every type); PostgreSQL as tests/pg.py finds it."""

import re
import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import browser_page, shot, sign_in  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def served(live_server):
    from demo_db import open_engine
    from pg import fresh_pg_schema

    import pg_types_app as schema

    with fresh_pg_schema() as (_name, url):
        engine = open_engine(url)
        schema.create_schema(engine, True)
        server = live_server(schema.create_app(engine, True))
        yield server, engine
        engine.disconnect_all()


def film(engine, film_id: int) -> dict:
    with engine as tx:
        return dict(tx.fetchone(f"SELECT CAST(rating AS TEXT) AS rating, special_features FROM film "
                                f"WHERE film_id = {int(film_id)}"))


def settings_of(engine, gadget_id: int):
    with engine as tx:
        return tx.fetchscalar(f"SELECT CAST(settings AS TEXT) AS v FROM gadget WHERE gadget_id = {int(gadget_id)}")


def test_an_enum_and_an_array_edited_in_the_browser(served, page):
    server, engine = served
    sign_in(page, server.url + "/admin/film/2/edit", "root")
    rating = page.locator("select[name=rating]")
    assert rating.locator("option").all_inner_texts()[1:] == ["G", "PG", "PG-13", "R", "NC-17"]
    page.select_option("select[name=rating]", "NC-17")
    features = page.locator("textarea[name=special_features]")
    assert features.input_value() == "Trailers\nDeleted Scenes"  # one item per line
    features.fill("Trailers\nCommentaries\n\nBehind the Scenes")
    shot(page, "pg-film-edit")
    page.click("button:has-text('Save')")
    page.wait_for_url(re.compile(r"/admin/film/2/$"))
    main = page.locator("#main").inner_text()
    assert "NC-17" in main and "Trailers, Commentaries, Behind the Scenes" in main
    assert film(engine, 2) == {"rating": "NC-17",
                               "special_features": ["Trailers", "Commentaries", "Behind the Scenes"]}


def test_a_jsonb_value_edited_in_the_browser(served, page):
    server, engine = served
    sign_in(page, server.url + "/admin/gadget/1/edit", "root")
    settings = page.locator("textarea[name=settings]")
    assert '"nested": true' in settings.input_value()  # indented, as stored
    settings.fill('{"mode": "eco", "levels": [1, 2')
    page.click("button:has-text('Save')")
    error = page.locator("#id_settings-error")
    error.wait_for()
    assert "Enter valid JSON" in error.inner_text()
    assert settings_of(engine, 1) == '{"a": {"nested": true}, "b": [1, 2]}'  # unchanged
    page.locator("textarea[name=settings]").fill('{"mode": "eco", "levels": [1, 2]}')
    page.click("button:has-text('Save')")
    page.wait_for_url(re.compile(r"/admin/gadget/1/$"))
    assert settings_of(engine, 1) == '{"mode": "eco", "levels": [1, 2]}'
    assert '"levels"' in page.locator("#main pre").first.inner_text()  # shown indented


def test_times_with_a_zone_are_in_the_browsers_zone(served, browser):
    server, _engine = served
    with browser_page(browser, timezone_id="America/New_York") as page:
        sign_in(page, server.url + "/admin/gadget/1/", "root")
        page.reload()  # theme.js has told the server the browser's zone by now
        main = page.locator("#main").inner_text()
        assert re.search(r"Mar 10, 2024, 10:03\s+AM EDT", main)  # 14:03 UTC
        page.goto(server.url + "/admin/gadget/1/edit")
        assert page.locator("input[name=seen_at]").input_value().startswith("2024-03-10T10:03")
        assert page.locator("#id_seen_at-zone").inner_text() == "EDT"
