"""The demo as a support agent uses it (issue 16, item 13), on SQLite and PostgreSQL: a
ticket's conversation with its reply box, authors set from the signed-in user, ``updated_at``
kept by a hook, order lines named as agents read them, dashboard cards without developer
words."""

import datetime as dt
import html as html_lib
import re

import pytest

from apps import as_user, csrf_from

HX = {"HX-Request": "true"}
OLD = dt.datetime(2020, 1, 2, 3, 4, 5)


@pytest.fixture
def demo(db_url, tmp_path, monkeypatch, request):
    """The demo app, seeded small, on this test's database; (app, engine, staff by username)."""
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
        people = {u.username: u for u in StaffUser.find_all().all()}
    yield app, engine, people
    engine.disconnect_all()


def scalar(engine, sql):
    with engine as tx:
        return tx.fetchscalar(sql)


def add_comment(engine, ticket, author, body, *, internal, at):
    from sqlorm import SQL

    with engine as tx:
        tx.execute(SQL("INSERT INTO ticket_comments (ticket_id, author_id, body, is_internal, "
                       "created_at) VALUES (", SQL.Param(ticket, "t"), ",", SQL.Param(author, "a"),
                       ",", SQL.Param(body, "b"), ",", SQL.Param(internal, "i"), ",",
                       SQL.Param(at, "c"), ")"))


def rows(engine, sql):
    with engine as tx:
        return [dict(r) for r in tx.fetchall(sql)]


def as_datetime(value):
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def text_of(page: str) -> str:
    """What a person reads: the page without its tags, attributes and scripts."""
    page = re.sub(r"<(script|style|template)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def conversation(client, ticket) -> str:
    response = client.get(f"/admin/tickets/{ticket}/panels/conversation", headers=HX)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def busiest_ticket(engine) -> int:
    return scalar(engine, "SELECT ticket_id AS v FROM ticket_comments GROUP BY ticket_id "
                          "ORDER BY count(*) DESC, ticket_id LIMIT 1")


# ---------------------------------------------------------------------------------------------
# The conversation


def test_a_ticket_shows_its_conversation_in_full_oldest_first(demo):
    app, engine, people = demo
    ticket = busiest_ticket(engine)
    long_body = "The invoice shows the wrong VAT number. " * 20 + "END-OF-NOTE"
    # Written last (a date after every seeded comment), by an agent, as an internal note.
    add_comment(engine, ticket, people["maria"].id, long_body, internal=True,
                at=dt.datetime(2030, 1, 1, 12, 0, 0))
    support = as_user(app, people["support"])
    page = support.get(f"/admin/tickets/{ticket}/").get_data(as_text=True)
    # The conversation loads below the ticket's fields (nothing moves while it loads).
    assert page.index('id="fields-heading"') < page.index('id="panel-conversation"')
    panel = conversation(support, ticket)
    expected = rows(engine, f"SELECT author_id, body, is_internal FROM ticket_comments "
                            f"WHERE ticket_id = {int(ticket)} ORDER BY created_at, id")
    assert len(expected) >= 3
    items = re.findall(r'<li id="comment-\d+"(.*?)</li>', panel, re.S)
    assert len(items) == len(expected)
    names = {u.id: u.name for u in people.values()}
    for item, comment in zip(items, expected):
        shown = text_of(item)
        assert " ".join(comment["body"].split()) in shown  # in full, never cut
        assert (names[comment["author_id"]] if comment["author_id"] else "Customer") in shown
        assert ("Internal note" in shown) == bool(comment["is_internal"])
        assert re.search(r'<time [^>]*datetime="\d{4}-\d\d-\d\dT', item)
    assert "END-OF-NOTE" in text_of(items[-1]) and "—" not in text_of(panel)
    # Without htmx the panel's URL is a page of the admin.
    assert "<html" in support.get(f"/admin/tickets/{ticket}/panels/conversation").get_data(as_text=True)


def test_a_reply_posted_with_htmx_refreshes_the_conversation_in_place(demo):
    app, engine, people = demo
    ticket = busiest_ticket(engine)
    support = as_user(app, people["support"])
    panel = conversation(support, ticket)
    form = re.search(r'<form method="post"[^>]*data-reply.*?</form>', panel, re.S).group(0)
    hx_post = html_lib.unescape(re.search(r'hx-post="([^"]+)"', form).group(1))
    assert hx_post == f"/admin/ticket_comments/new?next=/admin/tickets/{ticket}/panels/conversation"
    assert 'name="author_id"' not in form  # the author is who writes, not a field
    headers = {**HX, "HX-Target": "panel-conversation",
               "HX-Current-URL": f"http://localhost/admin/tickets/{ticket}/"}
    response = support.post(hx_post, headers=headers, data={
        "csrf_token": csrf_from(panel), "ticket_id": str(ticket),
        "body": "We shipped a replacement today.\nTracking follows.", "is_internal": "y"})
    # A 303 the browser's XHR follows: htmx swaps the answer into the panel, no history entry.
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/tickets/{ticket}/panels/conversation"
    assert "HX-Location" not in response.headers
    refreshed = support.get(response.headers["Location"], headers=headers).get_data(as_text=True)
    assert refreshed.startswith('<section id="panel-conversation"')
    last = re.findall(r'<li id="comment-\d+"(.*?)</li>', refreshed, re.S)[-1]
    assert "We shipped a replacement today." in last and "Internal note" in last
    assert people["support"].name in text_of(last)
    assert "<textarea" in refreshed and "</textarea>" in refreshed  # an empty box again
    saved = rows(engine, "SELECT author_id, is_internal, body FROM ticket_comments "
                         "ORDER BY id DESC LIMIT 1")[0]
    assert saved["author_id"] == people["support"].id and bool(saved["is_internal"])
    assert scalar(engine, "SELECT count(*) AS n FROM hyper_admin_audit WHERE model_slug = "
                          "'ticket_comments' AND action = 'create'") == 1


def test_a_reply_without_javascript_comes_back_to_the_ticket(demo):
    app, engine, people = demo
    ticket = busiest_ticket(engine)
    support = as_user(app, people["support"])
    panel = conversation(support, ticket)
    action = html_lib.unescape(re.search(r'<form method="post" action="([^"]+)"', panel).group(1))
    assert action == f"/admin/ticket_comments/new?next=/admin/tickets/{ticket}/"
    # author_id posted by hand is not a field: the signed-in agent is the author.
    response = support.post(action, data={"csrf_token": csrf_from(panel), "ticket_id": str(ticket),
                                          "body": "Plain reply", "author_id": str(people["admin"].id)})
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/tickets/{ticket}/"
    page = support.get(response.headers["Location"]).get_data(as_text=True)
    assert "was added" in text_of(page)  # the toast, on the ticket's page
    assert "Plain reply" in conversation(support, ticket)
    assert scalar(engine, "SELECT author_id AS v FROM ticket_comments ORDER BY id DESC LIMIT 1") \
        == people["support"].id


def test_a_comment_added_in_its_own_form_gets_its_author_too(demo):
    app, engine, people = demo
    from hyper_admin.testing import AdminClient

    client = AdminClient(app).login_as(people["support"])
    response, fields = client.form("/admin/ticket_comments/new")
    assert response.status_code == 200 and "author_id" not in fields
    created = client.create("ticket_comments", ticket_id=busiest_ticket(engine), body="Called them")
    assert created.ok, created.html[:500]
    detail = client.detail("ticket_comments", created.pk)
    assert detail.fields["Author"] == people["support"].name


def test_the_viewer_sees_no_conversation_and_a_reply_needs_add_permission(demo):
    app, engine, people = demo
    ticket = busiest_ticket(engine)
    viewer = as_user(app, people["viewer"])
    page = viewer.get(f"/admin/tickets/{ticket}/").get_data(as_text=True)
    assert "panel-conversation" not in page  # viewers may not read comments
    assert viewer.get(f"/admin/tickets/{ticket}/panels/conversation", headers=HX).status_code == 403


# ---------------------------------------------------------------------------------------------
# updated_at


def _age(engine, table):
    """Every row of ``table`` updated long ago, so that a new stamp shows."""
    with engine as tx:
        tx.execute(f"UPDATE {table} SET updated_at = '2020-01-02 03:04:05'")


def _updated_at(engine, table, pk):
    return as_datetime(scalar(engine, f"SELECT updated_at AS v FROM {table} WHERE id = {int(pk)}"))


def test_updated_at_moves_on_with_forms_inline_cells_and_bulk_actions(demo):
    app, engine, people = demo
    from hyper_admin.testing import AdminClient

    _age(engine, "tickets")
    _age(engine, "orders")
    client = AdminClient(app).login_as(people["support"])
    ticket = busiest_ticket(engine)
    order = scalar(engine, "SELECT min(id) AS v FROM orders WHERE status <> 'shipped'")
    # Read-only in the forms: shown, not an input.
    for path in (f"/admin/tickets/{ticket}/edit", f"/admin/orders/{order}/edit",
                 "/admin/tickets/new"):
        _response, fields = client.form(path)
        assert "updated_at" not in fields, path
    # A save that changes nothing leaves it alone.
    assert client.edit("tickets", ticket).ok
    assert _updated_at(engine, "tickets", ticket) == OLD
    # The edit form.
    assert client.edit("tickets", ticket, subject="Refund requested twice").ok
    assert _updated_at(engine, "tickets", ticket) > OLD
    assert client.edit("orders", order, currency="USD").ok
    assert _updated_at(engine, "orders", order) > OLD
    # An inline cell of the tickets' list.
    other = scalar(engine, f"SELECT min(id) AS v FROM tickets WHERE id <> {int(ticket)} "
                           "AND status <> 'closed'")
    cell = client.get(f"/admin/tickets/{other}/cell/status", headers=HX).get_data(as_text=True)
    version = re.search(r'name="_version" value="([^"]+)"', cell).group(1)
    response = client.post(f"/admin/tickets/{other}/cell/status", headers=HX,
                           data={"status": "closed", "_version": version})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert _updated_at(engine, "tickets", other) > OLD
    # A bulk action.
    _age(engine, "orders")
    response = client.action("orders", "mark_shipped", [order])
    assert response.status_code in (200, 303)
    assert _updated_at(engine, "orders", order) > OLD
    # A new ticket: created and updated together.
    account = scalar(engine, "SELECT min(id) AS v FROM accounts")
    created = client.create("tickets", account_id=account, subject="Login fails")
    assert created.ok, created.html[:500]
    stamps = rows(engine, f"SELECT created_at, updated_at FROM tickets WHERE id = {int(created.pk)}")[0]
    assert as_datetime(stamps["updated_at"]) == as_datetime(stamps["created_at"])


# ---------------------------------------------------------------------------------------------
# What agents read


def test_order_lines_read_quantity_and_product_name(demo):
    app, engine, people = demo
    line = rows(engine, "SELECT l.id, l.order_id, l.quantity, p.name FROM order_lines l "
                        "JOIN products p ON p.id = l.product_id ORDER BY l.id LIMIT 1")[0]
    support = as_user(app, people["support"])
    label = f"{line['quantity']} × {line['name']}"
    order_page = text_of(support.get(f"/admin/orders/{line['order_id']}/").get_data(as_text=True))
    assert label in order_page
    line_page = support.get(f"/admin/order_lines/{line['id']}/").get_data(as_text=True)
    title = re.search(r"<h1[^>]*>(.*?)</h1>", line_page, re.S).group(1)
    assert text_of(title) == label
    assert "Line #" not in order_page and "product #" not in order_page


def test_dashboard_cards_speak_to_users(demo):
    app, engine, people = demo
    page = as_user(app, people["admin"]).get("/admin/").get_data(as_text=True)
    models = page[page.index('id="models-heading"'):page.index('id="recent-heading"')]
    assert "font-mono" not in models
    shown = text_of(models)
    for developer_word in ("--rows", "?days=", "ticket_comments", "order_lines", "staff_users",
                           "stuck_orders"):
        assert developer_word not in shown, developer_word
    assert "Stuck orders" in shown and "Paid but not shipped after 3 days." in shown
