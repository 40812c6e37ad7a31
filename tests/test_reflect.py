"""hyper_admin.reflect: models for the tables and views of a database nobody modelled, and
every admin screen working on them (reflect_schema.py: awkward names, composite keys, views,
enums, CHECKs, comments, identity and generated columns), on SQLite and PostgreSQL."""

import decimal
import re

import pytest
from sqlorm import Model

from hyper_admin import reflect
from hyper_admin.introspect import CatalogName, model_info, quote_alias, quote_identifier
from hyper_admin.reflection import attribute_name, class_name, row_key
from hyper_admin.schema_catalog import check_bounds
from hyper_admin.serve import ServeOptions, create_app
from hyper_admin.testing import AdminClient
from reflect_schema import SLUGS, create_reflect_schema


@pytest.fixture
def schema(engine, backend):
    return engine, backend, create_reflect_schema(engine)


def _columns(model) -> dict:
    return {c.attribute: c for c in model_info(model).columns}


def test_every_table_and_view_becomes_a_model_named_after_it(schema):
    engine, backend, names = schema
    models = reflect(engine)
    assert set(models) == set(names.values())
    assert models["Album"].__name__ == "Album"
    assert models[names["playlist"]].__name__ == "PlaylistTrack"
    assert models[names["summary"]].__name__ == "AlbumSummary"
    # Names exactly as the database has them, quoted in the admin's SQL.
    album = model_info(models["Album"])
    assert album.table == "Album" and album.table_sql == '"Album"'
    assert album.column("album_id").sql == '"Album"."AlbumId"'
    assert album.column("double_price").name == "Double price"
    assert album.column("order").sql == '"Album"."order"'
    playlist = _columns(models[names["playlist"]])
    first_key = "playlist_id"
    assert playlist[first_key].name == ("PlaylistId" if backend == "postgresql" else "playlist-id")


def test_keys_references_and_read_only_relations(schema):
    engine, backend, names = schema
    models = reflect(engine)
    playlist = model_info(models[names["playlist"]])
    assert [c.attribute for c in playlist.primary_key] == ["playlist_id", "album_id"]
    assert playlist.column("album_id").references == ("Album", "AlbumId")
    assert _columns(models["Album"])["artist_id"].references == ("Artist", "ArtistId")
    assert _columns(models["Artist"])["name"].unique
    # A composite foreign key is left as plain columns.
    sale = models["Sale"]
    assert all(c.references is None for c in model_info(sale).columns)
    # No key to write rows by (Sale), or a view: read-only, rows told by their first column.
    assert sale.__hyper_admin_read_only__ and models[names["summary"]].__hyper_admin_read_only__
    assert not models["Album"].__hyper_admin_read_only__
    assert row_key(sale.__reflected__) == ((playlist.primary_key[0].name,), True)
    if backend == "postgresql":
        assert models["album_counts"].__hyper_admin_read_only__


def test_types_defaults_bounds_choices_and_help(schema):
    engine, backend, _names = schema
    album = _columns(reflect(engine)["Album"])
    assert album["price"].kind == "decimal" and album["price"].default == decimal.Decimal("9.99")
    assert album["price"].hint.min == 0 and not album["price"].nullable
    assert (album["rating"].hint.min, album["rating"].hint.max) == (1, 5)
    assert (album["released"].hint.min, album["released"].hint.max) == (1901, 2155)
    assert [value for value, _label in album["status"].choices] == ["draft", "live", "gone"]
    assert album["status"].default == "draft"
    assert album["double_price"].hint.readonly  # generated
    assert album["title"].kind == "text" and not album["title"].nullable
    if backend == "postgresql":
        assert [value for value, _label in album["mood"].choices] == ["calm", "loud", "sad"]
        artist = _columns(reflect(engine)["Artist"])
        assert artist["artist_id"].hint.readonly  # GENERATED ALWAYS AS IDENTITY
        assert artist["name"].hint.help == "As printed on the cover"
        assert reflect(engine)["Artist"].__reflected__.comment == "Who made the albums"


def test_models_live_in_a_registry_of_their_own(schema):
    """sqlorm's process-wide registry is keyed by class name: reflected classes never enter
    it, so an application's own Album is neither replaced nor replacing."""
    engine, _backend, _names = schema
    first, second = reflect(engine), reflect(engine)
    assert first["Album"] is not second["Album"]
    shared = Model.__model_registry__.values()
    assert not any(m in shared for m in [*first.values(), *second.values()])
    assert first["Album"].__model_registry__["Album"] is first["Album"]


def test_a_flask_sqlorm_object_gives_models_of_its_own_model_class(schema, db_url):
    from flask import Flask
    from flask_sqlorm import FlaskSQLORM

    db = FlaskSQLORM(Flask(__name__), db_url)
    try:
        models = reflect(db, include=["Album"])
        assert issubclass(models["Album"], db.Model)
        assert models["Album"] not in db.Model.__model_registry__.values()
    finally:
        db.engine.disconnect_all()


def test_include_and_exclude(schema):
    engine, backend, names = schema
    assert set(reflect(engine, include=["Artist", "Album"])) == {"Artist", "Album"}
    assert "Sale" not in reflect(engine, exclude=["Sale", "Art*"])
    assert "Artist" not in reflect(engine, exclude=["Art*"])
    with pytest.raises(ValueError, match="nosuch"):
        reflect(engine, include=["nosuch"])
    progress = []
    reflect(engine, on_progress=lambda done, total: progress.append((done, total)))
    assert progress[-1] == (len(names), len(names))


def test_the_schema_must_be_on_the_search_path(pg_schema):
    """PostgreSQL only: the models name their tables unqualified."""
    from demo_db import open_engine

    name, url = pg_schema
    engine = open_engine(url)
    try:
        create_reflect_schema(engine)
        assert "Album" in reflect(engine, schema=name)
        with pytest.raises(ValueError, match="search_path"):
            reflect(engine, schema="pg_toast")
    finally:
        engine.disconnect_all()


def test_quoting_follows_the_catalog():
    assert quote_identifier("album") == "album"  # a model's own names: as sqlorm writes them
    assert quote_identifier(CatalogName("album")) == '"album"'
    assert quote_identifier(CatalogName('Odd "name"')) == '"Odd ""name"""'
    assert quote_alias("j0__AlbumId") == '"j0__AlbumId"' and quote_alias("j0__id") == "j0__id"


def test_names():
    assert class_name("playlist_track") == "PlaylistTrack"
    assert class_name("albums") == "Album" and class_name("categories") == "Category"
    assert class_name("ORDER_ITEMS") == "OrderItem" and class_name("status") == "Status"
    assert class_name("2024 sales") == "Table2024Sale"
    assert attribute_name("AlbumId", set()) == "album_id"
    assert attribute_name("unit price", set()) == "unit_price"
    assert attribute_name("class", set()) == "class_"
    assert attribute_name("delete", {"delete"}) == "delete_"
    assert attribute_name("2fa", set()) == "c_2fa"


@pytest.mark.parametrize("definition, expected", [
    ("CHECK ((x >= 0))", {"x": (0, None, None)}),
    ("CHECK (((x >= 1) AND (x <= 5)))", {"x": (1, 5, None)}),
    ("CHECK (x BETWEEN 1 AND 10)", {"x": (1, 10, None)}),
    ("CHECK ((n > 0))", {"n": (1, None, None)}),
    ("CHECK ((\"Price\" >= (0)::numeric))", {"Price": (0, None, None)}),
    ("CHECK (((status)::text = ANY ((ARRAY['a'::character varying, 'b''s'::character "
     "varying])::text[])))", {"status": (None, None, ("a", "b's"))}),
    ("CHECK (kind IN ('x', 'y') AND qty < 100)",
     {"kind": (None, None, ("x", "y")), "qty": (None, 99, None)}),
    ("CHECK (((VALUE >= 1901) AND (VALUE <= 2155)))", {"VALUE": (1901, 2155, None)}),
    ("CHECK ((x > 0) OR (x IS NULL))", {}),
    ("CHECK (length(name) <= 10)", {}),
])
def test_check_bounds(definition, expected):
    found = {name: (b.min, b.max, b.choices) for name, b in check_bounds(definition).items()}
    assert found == expected


# ---------------------------------------------------------------------------------------------
# Every screen, as `hyper-admin serve` registers the models


@pytest.fixture
def site(schema, db_url):
    _engine, backend, names = schema
    app = create_app(ServeOptions(db_url), password="pw", secret_key="test")
    client = AdminClient(app).login_as(app.extensions["hyper_admin_serve"]["account"])
    yield client, backend, names, SLUGS[backend]
    app.extensions["hyper_admin_serve"]["engine"].disconnect_all()


def _crawl(client: AdminClient, start: str, limit: int = 250) -> dict[str, int]:
    """GET every admin page reachable from ``start`` (links only), up to ``limit``."""
    seen: dict[str, int] = {}
    todo = [start]
    while todo and len(seen) < limit:
        url = todo.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        body = response.get_data()  # a streamed export runs to its end; a download is bytes
        response.close()
        if response.status_code == 200 and "html" in response.content_type:
            body = body.decode()
            for link in re.findall(r'href="(/admin/[^"#]*)"', body):
                link = link.replace("&amp;", "&")
                if "/static/" not in link and link not in seen:
                    todo.append(link)
    return seen


def test_every_screen_answers(site):
    client, backend, _names, slugs = site
    seen = _crawl(client, "/admin/", limit=400)
    assert not {url: status for url, status in seen.items() if status >= 500}
    playlist = slugs["playlist"]
    # A composite-key row's own pages, linked from its list.
    for screen in ("", "edit", "delete", "history"):
        assert seen.get(f"/admin/{playlist}/1,1/{screen}") == 200, screen
    for role in slugs.values():
        assert seen.get(f"/admin/{role}/") == 200


def test_foreign_keys_are_labelled_and_linked(site):
    client, _backend, _names, slugs = site
    page = client.list(slugs["album"], sort="album_id")
    assert [row["Artist"] for row in page.rows] == ["AC/DC", "Accept", "Accept"]
    assert f'href="/admin/{slugs["artist"]}/2/"' in page.html
    detail = client.detail(slugs["playlist"], (2, 3))
    assert detail.status == 200 and detail.fields["Album"] == "Restless and Wild"
    # The rows pointing at a row are listed on its page, composite-key ones too.
    artist = client.detail(slugs["artist"], 2).html
    assert f'href="/admin/{slugs["album"]}/2/"' in artist
    assert f'href="/admin/{slugs["album"]}/3/"' in artist
    assert f'href="/admin/{slugs["playlist"]}/1,1/"' in client.detail(slugs["album"], 1).html


def test_writes_through_exact_names(site):
    client, backend, _names, slugs = site
    saved = client.edit(slugs["album"], 2, title="Balls to the Wall (remaster)", rating=3)
    assert saved.ok, saved.errors
    assert client.detail(slugs["album"], 2).fields["Title"] == "Balls to the Wall (remaster)"
    refused = client.edit(slugs["album"], 2, rating=9, released=1700)
    assert refused.status == 422 and {"rating", "released"} <= set(refused.errors)
    created = client.create(slugs["artist"], name="Queen")
    assert created.ok and created.pk == "3"
    assert client.delete(slugs["playlist"], (1, 2)).status_code == 303
    assert client.detail(slugs["playlist"], (1, 2)).status == 404


def test_composite_keys_through_bulk_actions_history_and_revert(site):
    client, _backend, _names, slugs = site
    playlist = slugs["playlist"]
    # (2, 3) is a sale's (a composite foreign key): the database refuses, nothing breaks.
    assert client.action(playlist, "delete", [(1, 2), (2, 3)]).status_code == 303
    assert client.action(playlist, "delete", [(1, 2)]).status_code == 303
    assert client.list(playlist).pks == ["2,3", "1,1"]
    history = client.get(f"/admin/{playlist}/1,2/history").get_data(as_text=True)
    restore = re.search(rf"/admin/{playlist}/1,2/history/\d+/restore", history).group(0)
    assert client.post(restore).status_code == 303
    assert client.detail(playlist, (1, 2)).status == 200
    assert client.edit(playlist, (1, 1), position=7).ok
    history = client.get(f"/admin/{playlist}/1,1/history").get_data(as_text=True)
    revert = re.search(rf"/admin/{playlist}/1,1/history/\d+/revert", history).group(0)
    assert client.post(revert).status_code == 303
    assert client.detail(playlist, (1, 1)).fields["Position"] == "1"


def test_views_and_keyless_tables_are_read_only(site):
    client, backend, _names, slugs = site
    for role in ("summary", "sale") + (("counts",) if backend == "postgresql" else ()):
        assert client.list(slugs[role]).status == 200
        for action in ("add", "change", "delete"):
            assert not client.can(action, slugs[role]), (role, action)
    assert client.can("change", slugs["album"], 1)


def test_the_read_only_option_refuses_every_write(site):
    client, _backend, _names, slugs = site
    admin = client.state.admin
    model = admin.model_admin(slugs["album"]).model
    admin.register(model, slug=slugs["album"], read_only=True)
    for action in ("add", "change", "delete"):
        assert not client.can(action, slugs["album"]), action
    assert client.can("view", slugs["album"], 1) and client.can("export", slugs["album"])
    assert client.action(slugs["album"], "delete", [1]).status_code == 403
