"""Two gunicorn instances of the demo as deployed (hyper_admin.demo.wsgi) — one with sync
workers, one with threaded (gthread) workers — on one PostgreSQL schema and one Redis: separate
processes on separate ports, sharing nothing but the database, Redis and the secret key, as
several hosts behind a load balancer would. Whatever one instance remembers, the other sees:
sessions and signed forms, sign-in throttling, saved views, the audit trail; and editors saving
one row at once through both lose nothing (issue 5, across processes).
"""

import threading
import uuid

import psycopg
import pytest

from harness import (PG_URL, Browser, Gunicorn, csrf_token, demo_env, drop_schema, form_fields,
                     loopback_source, new_schema_name, pg_schema_url, redis_problem, require,
                     seed_demo)
from pg import require_pg

APP = "hyper_admin.demo.wsgi:app"


@pytest.fixture(scope="module")
def instances():
    require_pg()
    require(redis_problem())
    schema = new_schema_name()
    seed_demo(PG_URL, schema, rows=300)
    env = demo_env(PG_URL, schema, HYPER_ADMIN_LOGIN_MAX_FAILURES="3")
    a = Gunicorn(APP, env, workers=2, name="a")
    b = Gunicorn(APP, env, workers=2, worker_class="gthread", threads=4, name="b")
    try:
        a.start()
        b.start()
        yield a, b, schema
    finally:
        a.close()
        b.close()
        drop_schema(schema)


def _db(schema):
    return psycopg.connect(pg_schema_url(schema), autocommit=True)


def _signed_in(url, username="support"):
    browser = Browser(url)
    assert browser.sign_in(username, username).status == 303
    return browser


def test_a_session_and_its_forms_work_on_every_instance(instances):
    a, b, schema = instances
    on_a = _signed_in(a.url)
    on_b = on_a.at(b.url)  # the same cookie, sent to the other instance
    for browser in (on_a, on_b) * 4:  # several requests: every worker of each instance
        page = browser.get("/admin/")
        assert page.status == 200 and "Sam Support" in page.body
    with _db(schema) as conn:
        ticket = conn.execute("SELECT min(id) FROM tickets").fetchone()[0]
    path = f"/admin/tickets/{ticket}/edit"
    data = form_fields(on_a.get(path).body, path)  # CSRF token and version signed by A
    data["subject"] = "opened on A, saved on B"
    assert on_b.post(path, data).status == 303
    with _db(schema) as conn:
        assert conn.execute("SELECT subject FROM tickets WHERE id = %s",
                            (ticket,)).fetchone()[0] == "opened on A, saved on B"


def test_failed_sign_ins_are_counted_across_instances(instances):
    a, b, _ = instances
    source = loopback_source()
    username = f"ghost-{uuid.uuid4().hex[:8]}"
    on_a, on_b = Browser(a.url, source=source), Browser(b.url, source=source)

    def attempt(browser):
        page = browser.get("/admin/login")
        return browser.post("/admin/login", {"username": username, "password": "wrong",
                                             "csrf_token": csrf_token(page.body), "next": ""})

    assert [attempt(on_a).status, attempt(on_b).status, attempt(on_a).status] == [401] * 3
    blocked = attempt(on_b)  # the fourth, on the instance that saw one failure only
    assert blocked.status == 429 and "Too many" in blocked.body


def test_a_view_saved_on_one_instance_is_listed_on_the_other(instances):
    a, b, _ = instances
    on_a = _signed_in(a.url)
    name = f"Shipped in EUR {uuid.uuid4().hex[:6]}"
    page = on_a.get("/admin/orders/?status=shipped&currency=EUR")
    saved = on_a.post("/admin/orders/views", {"csrf_token": csrf_token(page.body), "name": name,
                                              "query": "status=shipped&currency=EUR"})
    assert saved.status == 303
    listed = on_a.at(b.url).get("/admin/orders/views")
    assert listed.status == 200 and name in listed.body


def test_a_change_made_on_one_instance_is_in_the_history_on_the_other(instances):
    a, b, schema = instances
    on_b = _signed_in(b.url, "admin")
    with _db(schema) as conn:
        account = conn.execute("SELECT max(id) FROM accounts").fetchone()[0]
    path = f"/admin/accounts/{account}/edit"
    data = form_fields(on_b.get(path).body, path)
    data["notes"] = note = f"changed on B {uuid.uuid4().hex[:6]}"
    assert on_b.post(path, data).status == 303
    history = on_b.at(a.url).get(f"/admin/accounts/{account}/history")
    assert history.status == 200 and note in history.body and "Ada Admin" in history.body


EDITS = {"status": "cancelled", "currency": "XTS", "total": "123.45"}


def _editor(url, username, field, value, order, opened, results):
    browser = _signed_in(url, username)
    path = f"/admin/orders/{order}/edit"
    data = form_fields(browser.get(path).body, path)
    data[field] = value
    opened.wait(timeout=30)  # every editor has the form open: save together
    codes = []
    for _ in range(len(EDITS) + 2):
        response = browser.post(path, data)
        codes.append(response.status)
        if response.status != 409:
            break
        # The conflict page keeps this editor's input and takes the others' changes: save it.
        data = form_fields(response.body, path)
        assert data[field] == value
    results.append((field, codes))


@pytest.mark.parametrize("round_", range(3))
def test_editors_saving_one_row_through_both_instances_lose_nothing(instances, round_):
    a, b, schema = instances
    with _db(schema) as conn:
        order = conn.execute("SELECT id FROM orders WHERE status <> 'cancelled' ORDER BY id "
                             "OFFSET %s LIMIT 1", (round_,)).fetchone()[0]
    edits = {**EDITS, "reference": f"REL-{uuid.uuid4().hex[:8]}"}
    opened, results = threading.Barrier(len(edits)), []
    editors = [threading.Thread(target=_editor,
                                args=((a, b)[i % 2].url, ("support", "admin")[i % 2], field,
                                      value, order, opened, results))
               for i, (field, value) in enumerate(edits.items())]
    for editor in editors:
        editor.start()
    for editor in editors:
        editor.join(timeout=60)
    assert len(results) == len(edits), results
    assert all(codes[-1] == 303 for _, codes in results), results  # every editor saved
    first = sorted(codes[0] for _, codes in results)
    assert first == [303] + [409] * (len(edits) - 1), results  # one wins each race
    with _db(schema) as conn:
        row = conn.execute("SELECT status, currency, total::text, reference FROM orders "
                           "WHERE id = %s", (order,)).fetchone()
        entries = conn.execute("SELECT changes FROM hyper_admin_audit WHERE model_slug = "
                               "'orders' AND pk = %s AND action = 'update'",
                               (str(order),)).fetchall()
    assert dict(zip(("status", "currency", "total", "reference"), row)) == edits  # all kept
    saves = sum(len(codes) - codes.count(409) for _, codes in results)
    assert len(entries) == saves == len(edits)  # one audit entry per save, none lost
