"""Field labels and the labels of choices as an application gives them (issue 16, item 7):
``Hint(label=...)``, an Enum member's ``label`` and ``Hint(choices=...)`` may be lazy strings,
said in the language of each request on every screen that names them; on SQLite and
PostgreSQL. The demo's own words are checked screen by screen in test_demo_languages.py."""

import csv
import enum
import io
import re
import typing as t
from html import unescape

import pytest
from babel.support import LazyProxy
from flask import Flask
from sqlorm import Model, PrimaryKey

from apps import create_app, create_schema, members
from hyper_admin.i18n import current_locale
from hyper_admin.introspect import Hint, choices_of, model_info
from hyper_admin.testing import AdminClient

FRENCH = "fr-FR,fr;q=0.9"
ENGLISH = "en-US,en;q=0.9"


def said(english: str, french: str) -> LazyProxy:
    """A lazy string of an application's own catalog (flask-babel's ``lazy_gettext`` would
    do the same): its text is the request's language."""
    return LazyProxy(lambda: french if current_locale().language == "fr" else english,
                     enable_cache=False)


class ClState(enum.StrEnum):
    WAITING = "waiting"
    ON_THE_WAY = "on_the_way"
    HOME = "home"

    @property
    def label(self):
        return {"waiting": said("Waiting", "En attente"),
                "on_the_way": said("On the way", "En route"),
                "home": said("Delivered home", "Livrée à domicile")}[self.value]


class ClSpeed(enum.StrEnum):  # no labels of its own: its values in words
    EXPRESS_AIR = "express_air"
    ROAD = "road"


# A model of this test's own (class names are process-wide in sqlorm's registry).
class ClDelivery(Model):
    __table__ = "cl_deliveries"
    id: PrimaryKey[int]
    state: t.Annotated[ClState, Hint(label=said("State", "État"))]
    speed: ClSpeed
    size: t.Annotated[str, Hint(label=said("Parcel size", "Taille du colis"),
                                choices={"s": said("Small", "Petit"), "l": said("Large", "Grand")})]


def in_language(language: str, function: t.Callable[[], t.Any]) -> t.Any:
    with Flask(__name__).test_request_context(headers={"Accept-Language": language}):
        return function()


# ---------------------------------------------------------------------------------------------
# What the column says


def test_an_enums_member_labels_stay_lazy_until_a_page_says_them():
    state = model_info(ClDelivery).column("state")
    assert [value for value, _label in state.choices] == ["waiting", "on_the_way", "home"]
    labels = [label for _value, label in state.choices]
    assert all(isinstance(label, LazyProxy) for label in labels)
    assert in_language(FRENCH, lambda: [str(label) for label in labels]) == [
        "En attente", "En route", "Livrée à domicile"]
    assert in_language(ENGLISH, lambda: [str(label) for label in labels]) == [
        "Waiting", "On the way", "Delivered home"]
    # An Enum without labels: its values in words.
    assert model_info(ClDelivery).column("speed").choices == (
        ("express_air", "Express air"), ("road", "Road"))


def test_a_lazy_field_label_is_text_in_the_requests_language():
    state = model_info(ClDelivery).column("state")
    assert in_language(FRENCH, lambda: state.label) == "État"
    assert in_language(ENGLISH, lambda: state.label) == "State"
    assert type(in_language(FRENCH, lambda: state.label)) is str  # sorted, joined, lower-cased


def test_hint_choices_as_values_pairs_or_a_mapping():
    lazy = said("Small", "Petit")
    assert choices_of(Hint(choices={"s": lazy}), None) == (("s", lazy),)
    assert choices_of(Hint(choices=[("s", lazy)]), None)[0][1] is lazy  # still lazy
    assert choices_of(Hint(choices=["EUR", 3]), None) == (("EUR", "EUR"), (3, "3"))
    assert choices_of(Hint(choices=[(1, 10)]), None) == ((1, "10"),)  # a label is text
    # A member named as a value keeps its label; the Hint wins over the Enum.
    (value, label), = choices_of(Hint(choices=[ClState.HOME]), ClState)
    assert value is ClState.HOME and in_language(FRENCH, lambda: str(label)) == "Livrée à domicile"


class _Choices(enum.StrEnum):
    """Members carrying a label of their own, as Django's TextChoices do."""

    def __new__(cls, value, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    PAID = "paid", "Settled"


class _Method(enum.StrEnum):
    PAID = "paid"

    def label(self):  # a method is no label
        return "never shown"


def test_a_members_label_attribute_is_its_label_a_method_is_not():
    assert choices_of(Hint(), _Choices) == (("paid", "Settled"),)
    assert choices_of(Hint(), _Method) == (("paid", "Paid"),)


# ---------------------------------------------------------------------------------------------
# Every screen that names them


@pytest.fixture
def deliveries(engine):
    create_schema(engine)
    from hyper_admin.sqlorm_compat import is_postgresql

    pk = ("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" if is_postgresql(engine)
          else "INTEGER PRIMARY KEY")
    with engine as tx:
        tx.execute(f"CREATE TABLE cl_deliveries (id {pk}, state TEXT, speed TEXT, size TEXT)")
        for state, speed, size in (("waiting", "road", "s"), ("home", "express_air", "l"),
                                   ("on_the_way", "road", "l")):
            tx.execute(f"INSERT INTO cl_deliveries (state, speed, size) VALUES "
                       f"('{state}', '{speed}', '{size}')")
    app, admin = create_app(engine, register=False)
    admin.register(ClDelivery, list_display=["id", "state", "speed", "size"],
                   list_filter=["state", "size"])
    client = AdminClient(app).login_as(members(engine)["root"])  # a superuser
    assert client.edit(ClDelivery, 1, state="home", size="l").ok  # a history to show
    return client


def _screens(client, language: str) -> dict[str, str]:
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    pages = {}
    for url in ("/admin/cl_deliveries/", "/admin/cl_deliveries/?state=home&size=l",
                "/admin/cl_deliveries/facets?field=state&field=size", "/admin/cl_deliveries/1/",
                "/admin/cl_deliveries/1/edit", "/admin/cl_deliveries/new",
                "/admin/cl_deliveries/1/history"):
        response = client.get(url, headers={"HX-Request": "true"} if "facets" in url else {})
        assert response.status_code == 200, url
        pages[url] = " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
                              .split())
    exported = client.get("/admin/cl_deliveries/export?format=csv").get_data(as_text=True)
    pages["csv"] = " | ".join(next(csv.reader(io.StringIO(exported.lstrip("\ufeff")))))
    return pages


WORDS = {ENGLISH: ["State", "Parcel size", "Waiting", "On the way", "Delivered home", "Small",
                   "Large"],
         FRENCH: ["État", "Taille du colis", "En attente", "En route", "Livrée à domicile",
                  "Petit", "Grand"]}


@pytest.mark.parametrize("language, other", [(FRENCH, ENGLISH), (ENGLISH, FRENCH)])
def test_every_screen_says_labels_and_choices_in_the_requests_language(deliveries, language,
                                                                       other):
    client = deliveries
    _screens(client, other)  # the other language first: nothing of it may stay behind
    pages = _screens(client, language)
    said_words, other_words = WORDS[language], WORDS[other]
    header, state, size = said_words[0], said_words[4], said_words[6]
    for url in ("/admin/cl_deliveries/", "/admin/cl_deliveries/1/", "/admin/cl_deliveries/1/edit"):
        assert header in pages[url] and state in pages[url] and size in pages[url], url
    assert said_words[2] in pages["/admin/cl_deliveries/facets?field=state&field=size"]
    chips = pages["/admin/cl_deliveries/?state=home&size=l"]
    assert f"{header} = {state}" in chips and f"{said_words[1]} = {size}" in chips
    history = pages["/admin/cl_deliveries/1/history"]
    assert {header, said_words[2], state, said_words[5], size} <= {
        w for w in said_words if w in history}
    assert pages["csv"] == f"ID | {header} | Speed | {said_words[1]}"
    for url, text in pages.items():
        leaked = [w for w in other_words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]
        assert not leaked, (url, leaked)
