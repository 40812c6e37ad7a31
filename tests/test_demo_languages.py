"""The demo speaks one language at a time (issue 16, item 7), on SQLite and PostgreSQL.

A superuser's crawl of the demo's main screens (the dashboard and its panels, every model's
list with its filter panel, counts and chips, a row's page with its panels, the add and edit
forms, a row's history, the audit trail, the palette, CSV headers) must show none of the
demo's own English words in French, and none of their French in English. The words are read
from the demo itself (its models' field and choice labels, model names and descriptions,
actions, panels), so a label added later without a translation fails here too.
"""

import csv
import datetime as dt
import html as html_lib
import io
import re
from urllib.parse import urlsplit

import pytest
from sqlorm import SQL

from hyper_admin.testing import AdminClient

FRENCH = "fr-FR,fr;q=0.9"
ENGLISH = "en-US,en;q=0.9"
HX = {"HX-Request": "true"}

#: Words of the demo that French writes as English does.
SAME_IN_BOTH = frozenset({"Action", "Contact", "Contacts", "Conversation", "Date", "Message",
                          "Note", "Notes", "Pro", "Table", "Ticket", "Tickets", "Total"})
#: The admin's own French, which an English page must not show either (a page or panel cached
#: in the other language would).
ADMIN_FRENCH = ("Tableau de bord", "Rechercher", "Ajouter", "Filtres", "Enregistrer",
                "Historique", "Modifier", "Supprimer", "Aucun")


@pytest.fixture
def demo(db_url, tmp_path, monkeypatch, request):
    """The demo app, seeded small, on this test's database: (app, engine, its superuser)."""
    from hyper_admin.demo.app import create_app as create_demo
    from hyper_admin.demo.models import StaffUser

    if db_url.startswith("sqlite"):
        app = create_demo(str(tmp_path / "demo.db"), rows=40)
    else:
        schema, _ = request.getfixturevalue("pg_schema")
        monkeypatch.setenv("DEMO_PG_SCHEMA", schema)
        from pg import PG_URL

        app = create_demo(PG_URL, rows=40)
    app.config["TESTING"] = True
    engine = app.extensions["hyper_admin_demo"]["engine"]
    with engine:
        superuser = StaffUser.find_one(username="admin")
    yield app, engine, superuser
    engine.disconnect_all()


# ---------------------------------------------------------------------------------------------
# The demo's words


def demo_words(app, user) -> list:
    """Everything the demo names, as given (lazy strings mostly), and the names of the audit
    trail's columns, which the demo's superuser meets among its screens."""
    admin = app.extensions["hyper_admin_demo"]["admin"]
    state = next(iter(app.extensions["hyper_admin"].values()))
    words = [state.title, admin.dashboard.title]
    panels = list(admin.dashboard)
    for model_admin in state.model_admins():
        words += [model_admin.verbose_name, model_admin.verbose_name_plural,
                  model_admin.description]
        words += [action.label for action in model_admin.get_actions(user)]
        for column in model_admin.info.columns:
            if not column.secret:
                words.append(column.hint.label)
                words += [label for _value, label in column.choices or ()]
        panels += list(model_admin.detail_panels or ())
    for panel in panels:
        words += [panel.title, panel.description]
        words += [one.name for one, _query in getattr(panel, "series", ())]
    return [word for word in words if word is not None]


def vocabulary(app, user) -> set[tuple[str, str]]:
    """The demo's words as (English, French) pairs, each as a page of either language says it
    ("Closed" is "Fermé" for a ticket's state, "Fermés" for the chart's series). Codes ("EUR",
    "APAC", "SKU") are no words of either language."""
    said = {}
    for language in (ENGLISH, FRENCH):
        with app.test_request_context("/admin/", headers={"Accept-Language": language}):
            said[language] = [str(word) for word in demo_words(app, user)]
    return {(english, french) for english, french in zip(said[ENGLISH], said[FRENCH])
            if any(letter.islower() for letter in english)}


def test_every_word_of_the_demo_has_its_french(demo):
    app, _engine, superuser = demo
    words = vocabulary(app, superuser)
    assert {("Status", "Statut"), ("Created at", "Date de création"),
            ("Open tickets", "Tickets ouverts"), ("Support health", "Santé du support"),
            ("Mark as shipped", "Marquer comme expédiée")} <= words
    # Choices per Enum, agreeing with their noun: an order "Payée", a ticket "Fermé".
    assert {("Paid", "Payée"), ("Closed", "Fermé"), ("Urgent", "Urgente")} <= words
    untranslated = sorted(english for english, french in words
                          if english == french and english not in SAME_IN_BOTH)
    assert not untranslated, untranslated


# ---------------------------------------------------------------------------------------------
# What a person reads


_HIDDEN = re.compile(r"<(script|style)\b.*?</\1>", re.S)
#: The attributes a person sees (a tooltip, a placeholder) or hears (a screen reader's label).
_SPOKEN = re.compile(r'\s(?:title|aria-label|placeholder|alt)="([^"]*)"')


def readable(html: str) -> str:
    """A page's text as a person meets it: the text outside scripts and styles, and the
    attributes that are shown or read aloud; " | " between pieces."""
    html = _HIDDEN.sub(" ", html)
    spoken = [html_lib.unescape(value) for value in _SPOKEN.findall(html)]
    text = html_lib.unescape(re.sub(r"<[^>]*>", " | ", html))
    return re.sub(r"(?:\s*\|\s*)+", " | ", " | ".join([text, *spoken])).strip(" |")


def data_pattern(engine) -> re.Pattern:
    """The seeded rows' own text (names, subjects, comments, notes, roles), which stays in the
    language it was written in: a ticket "Order ORD-000003 arrived damaged" is no English of
    the demo's screens."""
    texts = set()
    with engine as tx:
        for table, columns in {
            "accounts": ["name", "email", "notes"], "contacts": ["name", "email", "role"],
            "products": ["sku", "name"], "orders": ["reference"], "tickets": ["subject"],
            "ticket_comments": ["body"], "staff_users": ["username", "name", "email", "roles_csv"],
        }.items():
            for column in columns:
                for row in tx.fetchall(f"SELECT {column} AS v FROM {table}"):
                    if row["v"]:
                        texts.add(" ".join(str(row["v"]).split()))
                        texts.update(part.strip() for part in str(row["v"]).split(". "))
    texts.discard("")
    return re.compile("|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True)))


def words_pattern(words) -> re.Pattern:
    """Any of ``words`` as a whole word or phrase ("Open", not "Opened"), longest first."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


# ---------------------------------------------------------------------------------------------
# The crawl


class Crawl:
    """Every main screen of the demo, as a superuser whose browser asks for ``language``."""

    def __init__(self, app, user, language: str):
        self.client = AdminClient(app).login_as(user)
        self.client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        self.pages: dict[str, str] = {}

    def get(self, url: str, *, fragment: bool = False) -> str:
        response = self.client.get(url, headers=HX if fragment else {})
        assert response.status_code == 200, (url, response.status_code)
        body = response.get_data(as_text=True)
        self.pages[url] = body
        return body

    def fragments(self, html: str, *prefixes: str) -> None:
        """What the page loads after itself (panels, facet counts, the count, the date bar)."""
        for url in sorted({u.replace("&amp;", "&") for u in re.findall(r'hx-get="([^"]+)"', html)}):
            if urlsplit(url).path.startswith(prefixes) and url not in self.pages:
                self.get(url, fragment=True)

    def run(self, rows: dict[str, object], filtered: dict[str, str]) -> dict[str, str]:
        dashboard = self.get("/admin/")
        self.fragments(dashboard, "/admin/-/panels/")
        self.get("/admin/-/palette?q=ord", fragment=True)
        slugs = list(dict.fromkeys(re.findall(r'href="/admin/([a-z_]+)/"', dashboard)))
        assert {"accounts", "orders", "tickets", "ticket_comments", "stuck_orders",
                "audit"} <= set(slugs)
        for slug in slugs:
            listed = self.get(f"/admin/{slug}/")
            self.fragments(listed, f"/admin/{slug}/facets", f"/admin/{slug}/count",
                           f"/admin/{slug}/dates")
            if slug in filtered:  # the filter panel with chips
                chips = self.get(f"/admin/{slug}/?{filtered[slug]}")
                self.fragments(chips, f"/admin/{slug}/facets")
            if f"/admin/{slug}/export" in listed:
                self.pages[f"/admin/{slug}/export (headers)"] = self.csv_headers(slug)
            pk = rows.get(slug) or self.client.list(slug).pks[0]
            detail = self.get(f"/admin/{slug}/{pk}/")
            self.fragments(detail, f"/admin/{slug}/{pk}/panels/")
            for screen in ("edit", "history"):
                if f'href="/admin/{slug}/{pk}/{screen}"' in detail:
                    self.get(f"/admin/{slug}/{pk}/{screen}")
            if f'href="/admin/{slug}/new' in listed:
                self.get(f"/admin/{slug}/new")
        return self.pages

    def csv_headers(self, slug: str) -> str:
        response = self.client.get(f"/admin/{slug}/export?format=csv")
        assert response.status_code == 200
        text = response.get_data(as_text=True).lstrip("\ufeff")
        return " | ".join(next(csv.reader(io.StringIO(text))))


def changed_rows(app, engine, user) -> dict[str, object]:
    """An order and a ticket changed through the admin, so that their history, the audit
    trail and the dashboard's recent actions have field labels and choices to show."""
    with engine as tx:
        order = tx.fetchscalar("SELECT id AS v FROM orders WHERE status = 'delivered' "
                               "ORDER BY id LIMIT 1")
        ticket = tx.fetchscalar("SELECT id AS v FROM tickets ORDER BY id LIMIT 1")
    client = AdminClient(app).login_as(user)
    assert client.edit("orders", order, status="refunded").ok
    assert client.edit("tickets", ticket, priority="urgent", status="open").ok
    return {"orders": order, "tickets": ticket}


FILTERED = {"orders": "status=paid&status=refunded&currency__contains=EU",
            "tickets": "priority=urgent&status=open",
            "accounts": "plan=pro&is_active=1"}


def crawl(app, engine, user, language) -> tuple[dict[str, str], re.Pattern]:
    rows = changed_rows(app, engine, user)
    return Crawl(app, user, language).run(rows, FILTERED), data_pattern(engine)


def leaks(pages: dict[str, str], data: re.Pattern, words) -> dict[str, list[str]]:
    """Per page, the ``words`` it shows outside the rows' own text."""
    pattern = words_pattern(words)
    found = {}
    for url, body in pages.items():
        text = body if url.endswith("(headers)") else readable(body)
        if pattern.search(text):  # rarely: only then is the rows' text worth taking out
            hits = sorted(set(pattern.findall(data.sub(" ", text))))
            if hits:
                found[url] = hits
    return found


def test_the_demo_in_french_shows_none_of_its_english(demo):
    app, engine, superuser = demo
    english = {word for word, french in vocabulary(app, superuser) if word != french}
    pages, data = crawl(app, engine, superuser, FRENCH)
    assert len(pages) > 60  # every model's screens, the panels, the fragments
    assert leaks(pages, data, english) == {}
    # It did read French: the words of the demo and its choices, where they are used.
    orders = readable(pages["/admin/orders/?" + FILTERED["orders"]])
    assert "Statut" in orders and "Payée" in orders and "Date de création" in orders
    history = readable(next(body for url, body in pages.items() if url.endswith("/history")
                            and url.startswith("/admin/orders/")))
    assert "Statut" in history and "Remboursée" in history and "Livrée" in history
    assert "Offre" in pages["/admin/accounts/export (headers)"]


def test_the_demo_in_english_shows_none_of_its_french(demo):
    """After a French crawl, so that nothing cached for French (panels, page shells, forms)
    comes back in English."""
    app, engine, superuser = demo
    french = {french for word, french in vocabulary(app, superuser) if word != french}
    crawl(app, engine, superuser, FRENCH)
    pages, data = crawl(app, engine, superuser, ENGLISH)
    assert len(pages) > 60
    assert leaks(pages, data, [*french, *ADMIN_FRENCH]) == {}
    orders = readable(pages["/admin/orders/?" + FILTERED["orders"]])
    assert "Status" in orders and "Paid" in orders and "Created at" in orders


def test_the_conflict_table_names_fields_and_choices_in_french(demo):
    app, engine, superuser = demo
    client = AdminClient(app).login_as(superuser)
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = FRENCH
    with engine as tx:
        order = tx.fetchscalar("SELECT id AS v FROM orders WHERE status = 'delivered' "
                               "ORDER BY id LIMIT 1")
    path = f"/admin/orders/{order}/edit"
    _response, data = client.form(path)
    with engine as tx:  # someone else changes the status meanwhile
        tx.execute(SQL("UPDATE orders SET status = 'refunded', updated_at =",
                       SQL.Param(dt.datetime(2030, 1, 1, 12, 0, 0)), "WHERE id =",
                       SQL.Param(order)))
    data.update(status="cancelled")
    response = client.client.post(path, data=data)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    row = readable("<tr" + html.split("data-conflict-field", 1)[1].split("</tr>", 1)[0])
    # The field, then its value before, theirs and mine: labels, in French.
    assert re.search(r"Statut \| Livrée \| Remboursée \| Annulée", row), row
