"""Custom list filters (hyper_admin.ListFilter): the demo's "SLA breached" and "Waiting on us
for 24 h" on tickets, on SQLite and PostgreSQL: the list, its count, search, other filters,
the scope, the panel's counts, chips, saved views, export, paging and the registration check."""

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from sqlorm import SQL

from apps import as_user, csrf_from
from crud_app import NOW, create_app, seeded, staff
from hyper_admin import Admin, ListFilter, ModelAdmin
from hyper_admin.checks import ConfigurationError
from hyper_admin.demo import filters as demo_filters
from hyper_admin.demo.models import Ticket

ROWS = 200  # 40 tickets, about 80 comments


class SlaBreached(demo_filters.SlaBreached):
    def now(self):
        return NOW  # the seed's clock: its tickets are hours to weeks old


class WaitingOnUs(demo_filters.WaitingOnUs):
    def now(self):
        return NOW


class Escalated(ListFilter):
    """Offered to superusers only: nobody else gets a choice."""

    title = "Escalated"
    parameter_name = "escalated"

    def choices(self, user):
        return [("yes", "Yes")] if "admin" in user.roles else []

    def condition(self, value, user):
        return SQL("tickets.priority =", SQL.Param("urgent"))


@pytest.fixture
def site(engine):
    seeded(engine, rows=ROWS)
    app, admin = create_app(engine)
    tickets = admin.model_admin(Ticket)
    tickets.list_filter = ["status", "priority", SlaBreached, WaitingOnUs, Escalated]
    tickets.search_fields = ["subject"]
    tickets._permissions = {**tickets._permissions, "export": frozenset({"support"})}
    return app, staff(engine), engine


# --- what the rows say, computed in Python from the same data --------------------------------


def tickets_of(engine) -> list[dict]:
    with engine as tx:
        rows = tx.fetchall(SQL("SELECT t.id, t.subject, t.status, t.priority, t.created_at, "
                               "t.assignee_id, a.region FROM tickets t "
                               "JOIN accounts a ON a.id = t.account_id"))
        comments = tx.fetchall(SQL("SELECT ticket_id, author_id, is_internal, created_at "
                                   "FROM ticket_comments"))
    out = [dict(row) for row in rows]
    by_ticket: dict[int, list[dict]] = {}
    for comment in comments:
        by_ticket.setdefault(comment["ticket_id"], []).append(dict(comment))
    for ticket in out:
        ticket["created_at"] = as_datetime(ticket["created_at"])
        ticket["comments"] = [{**c, "created_at": as_datetime(c["created_at"])}
                              for c in by_ticket.get(ticket["id"], [])]
    return out


def as_datetime(value):
    import datetime as dt

    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def breached(ticket) -> bool:
    return (ticket["status"] in ("open", "pending")
            and ticket["created_at"] < NOW - demo_filters.SLA[ticket["priority"]])


def waiting(ticket) -> bool:
    """A customer point (the ticket with no agent reply at all, or a public customer message)
    older than 24 h with no public agent reply at or after it."""
    if ticket["status"] not in ("open", "pending"):
        return False
    cutoff = NOW - demo_filters.REPLY_WITHIN
    public = [c for c in ticket["comments"] if not c["is_internal"]]
    replies = [c["created_at"] for c in public if c["author_id"] is not None]
    if ticket["created_at"] < cutoff and not replies:
        return True
    return any(c["author_id"] is None and c["created_at"] < cutoff
               and not any(r >= c["created_at"] for r in replies) for c in public)


def ids_on(page: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'name="pk" value="(\d+)[!"]', page)}


def html(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def listed(client, query: str) -> set[int]:
    return ids_on(html(client.get(f"/admin/tickets/?per_page=500&{query}")))


def counted(client, query: str) -> int:
    text = html(client.get(f"/admin/tickets/count?{query}",
                           headers={"HX-Request": "true", "HX-Target": "list-count"}))
    found = re.search(r"(\d+) tickets?|No tickets", text)
    assert found, text
    return int(found.group(1) or 0)


# --- the list -----------------------------------------------------------------------------


def test_filter_narrows_the_list_and_its_count(site):
    app, people, engine = site
    tickets = tickets_of(engine)
    expected = {t["id"] for t in tickets if breached(t)}
    assert 0 < len(expected) < len(tickets)  # the seed has both
    admin = as_user(app, people["admin"])
    assert listed(admin, "sla_breached=yes") == expected
    assert counted(admin, "sla_breached=yes") == len(expected)
    waiting_ids = {t["id"] for t in tickets if waiting(t)}
    assert 0 < len(waiting_ids) < len(tickets)
    assert listed(admin, "waiting_on_us=yes") == waiting_ids
    assert counted(admin, "waiting_on_us=yes") == len(waiting_ids)
    # Both: ANDed, as any two filters of a list.
    assert listed(admin, "sla_breached=yes&waiting_on_us=yes") == expected & waiting_ids


def test_combined_with_search_and_another_filter(site):
    app, people, engine = site
    tickets = tickets_of(engine)
    word = max({w for t in tickets for w in t["subject"].split()},
               key=lambda w: sum(w.lower() in t["subject"].lower() for t in tickets))
    expected = {t["id"] for t in tickets if breached(t) and t["priority"] == "high"}
    searched = {t["id"] for t in tickets if breached(t) and word.lower() in t["subject"].lower()}
    admin = as_user(app, people["admin"])
    assert listed(admin, "sla_breached=yes&priority=high") == expected
    assert listed(admin, f"sla_breached=yes&q={word}") == searched
    assert searched  # the word is in some breached ticket's subject


def test_scope_applies(site):
    """The demo's support agents see tickets of EU accounts only: a custom filter is ANDed
    with that scope, in the list, its count and the panel's counts."""
    app, people, engine = site
    tickets = tickets_of(engine)
    eu = {t["id"] for t in tickets if breached(t) and t["region"] == "eu"}
    everyone = {t["id"] for t in tickets if breached(t)}
    assert eu and eu != everyone
    support = as_user(app, people["support"])
    assert listed(support, "sla_breached=yes") == eu
    assert counted(support, "sla_breached=yes") == len(eu)
    assert facet_counts(support, "sla_breached") == {"Yes": str(len(eu))}


def test_choices_may_depend_on_the_user(site):
    app, people, engine = site
    tickets = tickets_of(engine)
    admin_user = people["admin"]
    mine = {t["id"] for t in tickets if waiting(t) and t["assignee_id"] == admin_user.id}
    client = as_user(app, admin_user)
    assert listed(client, "waiting_on_us=mine") == mine
    # Two choices at once: either (ORed), as status=open&status=pending is.
    everyone = {t["id"] for t in tickets if waiting(t)}
    assert listed(client, "waiting_on_us=yes&waiting_on_us=mine") == everyone
    page = html(client.get("/admin/tickets/"))
    assert "Assigned to me" in page


def test_a_filter_with_no_choice_for_a_user_is_not_offered_to_them(site):
    app, people, engine = site
    urgent = {t["id"] for t in tickets_of(engine) if t["priority"] == "urgent"}
    admin, support = as_user(app, people["admin"]), as_user(app, people["support"])
    assert "Escalated" in html(admin.get("/admin/tickets/"))
    assert listed(admin, "escalated=yes") == urgent
    assert "Escalated" not in html(support.get("/admin/tickets/"))
    assert support.get("/admin/tickets/?escalated=yes").status_code == 400
    assert facet_counts(support, "escalated") == {}


def test_keyset_pages_keep_the_filter(site):
    app, people, engine = site
    expected = {t["id"] for t in tickets_of(engine) if breached(t)}
    client = as_user(app, people["admin"])
    seen: list[int] = []
    url = "/admin/tickets/?sla_breached=yes&per_page=3"
    for _ in range(50):
        page = html(client.get(url))
        seen += sorted(ids_on(page))
        found = re.search(r'<a href="([^"]+)" rel="next"', page)
        if not found:
            break
        url = unescape(found.group(1))
        assert "sla_breached=yes" in url
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))


# --- the panel: counts, options, chips -------------------------------------------------------


def facet_counts(client, field: str, query: str = "") -> dict[str, str]:
    page = html(client.get(f"/admin/tickets/facets?field={field}&{query}"))
    found = re.findall(r'truncate">([^<]+)</span>\s*<span class="text-xs tabular-nums[^"]*">'
                       r'<span class="sr-only">, </span>([\d,+]+)<', page)
    return {unescape(label): n for label, n in found}


def test_panel_shows_the_filter_with_counts(site):
    app, people, engine = site
    tickets = tickets_of(engine)
    client = as_user(app, people["admin"])
    page = html(client.get("/admin/tickets/?priority=high"))
    assert "SLA breached" in page and "Waiting on us for 24 h" in page
    assert 'hx-get="/admin/tickets/facets?field=sla_breached&amp;priority=high"' in page
    assert 'href="/admin/tickets/?priority=high&amp;sla_breached=yes"' in page
    high = [t for t in tickets if t["priority"] == "high"]
    assert facet_counts(client, "sla_breached", "priority=high") == {
        "Yes": str(sum(breached(t) for t in high))}
    mine = sum(waiting(t) and t["assignee_id"] == people["admin"].id for t in high)
    assert facet_counts(client, "waiting_on_us", "priority=high") == {
        "Yes": str(sum(waiting(t) for t in high)), "Assigned to me": str(mine)}
    # Counts of another field take the custom filter as a condition of the list.
    by_priority = facet_counts(client, "priority", "sla_breached=yes")
    assert by_priority["Urgent"] == str(sum(breached(t) and t["priority"] == "urgent" for t in tickets))


def test_chip_and_its_removal(site):
    app, people, _ = site
    client = as_user(app, people["admin"])
    page = html(client.get("/admin/tickets/?status=open&sla_breached=yes&waiting_on_us=mine"))
    chips = re.findall(r'data-filter-chip>([^<]+?)\s*<a href="([^"]+)"', page)
    labels = [unescape(label) for label, _ in chips]
    assert "SLA breached = Yes" in labels and "Waiting on us for 24 h = Assigned to me" in labels
    remove = dict((unescape(label), unescape(url)) for label, url in chips)["SLA breached = Yes"]
    assert parse_qsl(urlsplit(remove).query) == [("status", "open"), ("waiting_on_us", "mine")]
    assert client.get(remove).status_code == 200
    assert "Filters (3)" in page


def test_saved_view_keeps_the_filter(site):
    app, people, engine = site
    support = as_user(app, people["support"])
    token = csrf_from(support.get("/admin/tickets/").get_data(as_text=True))
    response = support.post("/admin/tickets/views", data={
        "name": "Breached", "query": "sla_breached=yes&priority=high", "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/tickets/?sla_breached=yes&priority=high"
    menu = html(support.get("/admin/tickets/views",
                            headers={"HX-Request": "true", "HX-Target": "saved-views-list"}))
    assert "/admin/tickets/?sla_breached=yes&amp;priority=high" in menu
    expected = {t["id"] for t in tickets_of(engine)
                if breached(t) and t["priority"] == "high" and t["region"] == "eu"}
    assert listed(support, "sla_breached=yes&priority=high") == expected
    bad = support.post("/admin/tickets/views", data={
        "name": "Bad", "query": "sla_breached=maybe", "csrf_token": token})
    assert bad.status_code == 400


@pytest.mark.parametrize("query", [
    "sla_breached=no", "sla_breached=yes'--", "sla_breached=yes%27%20OR%201%3D1--",
    "sla_breached__in=yes", "sla_breached__isnull=1", "sla_breached=%00yes",
])
def test_a_value_outside_the_choices_is_refused(site, query):
    app, people, _ = site
    client = as_user(app, people["admin"])
    for path in ("/admin/tickets/", "/admin/tickets/count", "/admin/tickets/export",
                 "/admin/tickets/facets?field=priority&"):
        url = path + ("" if path.endswith("&") else "?") + query
        response = client.get(url)
        assert response.status_code == 400, url
        body = response.get_data(as_text=True)
        assert "SELECT" not in body and "tickets.status" not in body


def test_the_chosen_value_never_reaches_the_sql(site, monkeypatch):
    """condition() gets one of the choices, and its SQL carries values as parameters."""
    app, people, _ = site
    seen = []
    original = demo_filters.SlaBreached.condition

    def spy(self, value, user):
        seen.append(value)
        return original(self, value, user)

    monkeypatch.setattr(demo_filters.SlaBreached, "condition", spy)
    client = as_user(app, people["admin"])
    assert client.get("/admin/tickets/?sla_breached=%20yes%20").status_code == 200
    assert client.get("/admin/tickets/?sla_breached=yes'").status_code == 400
    assert seen and set(seen) == {"yes"}


def test_export_honours_the_filter(site):
    app, people, engine = site
    expected = {t["id"] for t in tickets_of(engine) if breached(t) and t["region"] == "eu"}
    support = as_user(app, people["support"])
    response = support.get("/admin/tickets/export?format=csv&sla_breached=yes")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    key = next(k for k in rows[0] if k.lower() in ("id", "#"))
    assert {int(row[key]) for row in rows} == expected


# --- registration ----------------------------------------------------------------------------


def register(engine, *filters):
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", TESTING=True)
    admin = Admin(app, engine=engine)

    class Tickets(ModelAdmin):
        list_filter = ["status", *filters]

    admin.register(Ticket, Tickets)
    return admin


class Good(ListFilter):
    title = "Good"
    parameter_name = "good"

    def choices(self, user):
        return [("yes", "Yes")]

    def condition(self, value, user):
        return SQL("tickets.priority =", SQL.Param("high"))


def problems_of(engine, *filters) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        register(engine, *filters)
    assert {p.id for p in caught.value.problems} == {"hyper_admin.E035"}
    return [p.message for p in caught.value.problems]


def test_registration_checks(engine):
    seeded(engine, rows=10)
    register(engine, Good, SlaBreached(), WaitingOnUs)  # classes and instances

    class NoTitle(Good):
        title = ""
        parameter_name = "no_title"

    class Clash(Good):
        parameter_name = "status"

    class Reserved(Good):
        parameter_name = "q"

    class CountsField(Good):
        parameter_name = "field"

    class Operator(Good):
        parameter_name = "good__in"

    class Relation(Good):
        parameter_name = "account"

    class Incomplete(ListFilter):
        title = "Incomplete"
        parameter_name = "incomplete"

    assert "has no title" in problems_of(engine, NoTitle)[0]
    for bad in (Clash, Reserved, CountsField, Relation):
        assert "already uses" in problems_of(engine, bad)[0], bad
    assert "lower-case name" in problems_of(engine, Operator)[0]
    assert "already uses" in problems_of(engine, Good, Good())[0]  # twice the same name
    messages = problems_of(engine, Incomplete)
    assert any("choices()" in m for m in messages) and any("condition()" in m for m in messages)
