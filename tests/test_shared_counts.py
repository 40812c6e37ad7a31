"""Counts shared between users and workers for a short time (shared_counts.py): the list's
count, the filter panel's counts and the date bar, on SQLite and PostgreSQL."""

import json
import re
import threading
import time
from html import unescape

import pytest
from flask import Flask
from sqlorm import SQL
from sqlorm.engine import Transaction

from apps import as_user
from crud_app import TicketAdmin, create_app, seeded, staff
from redis_service import empty_redis_database
from hyper_admin import ManyToMany
from hyper_admin.cache import Cache, MemoryCache
from hyper_admin.demo.models import Order, Tag, Ticket, TicketTag
from hyper_admin.query import Count
from hyper_admin.shared_counts import SharedCounts, generation_key, tables_read
from hyper_admin.sql import QueryTimeout
from hyper_admin.testing import AdminClient

#: A database of Redis no other test module empties.
REDIS_URL = "redis://127.0.0.1:6379/11"
#: Orders seeded: 40 tickets, 19 of EU accounts, of every status but one.
ROWS = 200
EU = "tickets.account_id IN (SELECT id FROM accounts WHERE region = 'eu')"

FACETS = "AS facet GROUP BY v"     # facets.facet_statement
COUNT = "SELECT count(*) AS n FROM"  # query.count_matching (exact or capped)
DATES = "AS lo"                    # dates.year_range_statement


class TicketsWithDates(TicketAdmin):
    """The crud app's tickets (support agents see EU accounts' only) with a date bar."""

    date_hierarchy = "created_at"


class TaggedTickets(TicketAdmin):
    many_to_many = {"tags": ManyToMany(TicketTag, source="ticket_id", target="tag_id", to=Tag)}
    fields = ["subject", "account_id", "status", "tags"]


def build(engine, **options):
    app, admin = create_app(engine, **options)
    admin.register(Ticket, TicketsWithDates)
    return app, admin


@pytest.fixture
def site(engine):
    seeded(engine, rows=ROWS)
    app, admin = build(engine)
    return app, admin, staff(engine), engine


class Statements:
    """The SELECTs sqlorm runs meanwhile, in any thread."""

    def __init__(self):
        self.texts: list[str] = []

    def __enter__(self):
        Transaction.before_execute.connect(self._seen)
        return self

    def __exit__(self, *exc):
        Transaction.before_execute.disconnect(self._seen)

    def _seen(self, sender, **kw):
        self.texts.append(str(kw.get("stmt", "")))

    def count(self, marker: str) -> int:
        return sum(1 for text in self.texts if marker in text)


def get(client, url: str) -> str:
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def fetched(client, url: str, marker: str) -> tuple[str, int]:
    """(the answer, how many statements containing ``marker`` it ran)."""
    with Statements() as seen:
        page = get(client, url)
    return page, seen.count(marker)


def facet_numbers(page: str) -> dict[str, int]:
    """Option label -> count, from a facets response."""
    found = re.findall(r'truncate">([^<]+)</span>\s*<span class="text-xs tabular-nums[^"]*">'
                       r'<span class="sr-only">, </span>([\d,+]+)<', page)
    return {unescape(label): int(n.replace(",", "")) for label, n in found}


def count_number(page: str) -> int:
    match = re.search(r'id="list-count">\s*([\d,]+) (?:ticket|order|row|tag)', page)
    assert match, page[:400]
    return int(match.group(1).replace(",", ""))


def period_links(page: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"created_at__gte=(\d{4}-\d\d-\d\d)&amp;created_at__lte=", page)))


def rows(engine, sql: str) -> list[dict]:
    with engine as tx:
        return [dict(r) for r in tx.fetchall(sql)]


def status_counts(engine, admin, where: str = "") -> dict[str, int]:
    """Label -> tickets per status, counted by the test's own SQL."""
    labels = {str(v): str(label) for v, label in admin.registry["tickets"].info.column("status").choices}
    found = rows(engine, "SELECT status AS k, count(*) AS n FROM tickets "
                         f"{'WHERE ' + where if where else ''} GROUP BY status")
    counts = dict.fromkeys(labels.values(), 0)
    counts.update({labels[str(r["k"])]: int(r["n"]) for r in found})
    return counts


def scalar(engine, sql: str) -> int:
    return int(rows(engine, sql)[0]["n"])


def years(engine, where: str = "") -> list[str]:
    found = rows(engine, "SELECT created_at AS d FROM tickets" + (f" WHERE {where}" if where else ""))
    return sorted({f"{str(r['d'])[:4]}-01-01" for r in found})


def generation(admin_state, table: str) -> str | None:
    return admin_state.panel_cache.get(generation_key(table))


def state_of(app):
    return app.extensions["hyper_admin"]["hyper_admin"]


# --- one scope, one count; another scope, its own ------------------------------------------------


def test_users_of_one_scope_share_counts_and_another_scope_never_gets_them(site):
    app, admin, people, engine = site
    support, maria, boss = (as_user(app, people[name]) for name in ("support", "maria", "admin"))
    eu_counts, all_counts = status_counts(engine, admin, EU), status_counts(engine, admin)
    assert eu_counts != all_counts

    url = "/admin/tickets/facets?field=status"
    first, ran = fetched(support, url, FACETS)
    assert ran == 1 and facet_numbers(first) == eu_counts
    second, ran = fetched(maria, url, FACETS)          # the same scope: the same entry
    assert ran == 0 and facet_numbers(second) == eu_counts
    everyone, ran = fetched(boss, url, FACETS)          # another scope: counted for it
    assert ran == 1 and facet_numbers(everyone) == all_counts

    url = "/admin/tickets/count?priority=high"
    eu_high = scalar(engine, f"SELECT count(*) AS n FROM tickets WHERE priority = 'high' AND {EU}")
    all_high = scalar(engine, "SELECT count(*) AS n FROM tickets WHERE priority = 'high'")
    assert eu_high != all_high
    page, ran = fetched(support, url, COUNT)
    assert ran == 1 and count_number(page) == eu_high
    page, ran = fetched(maria, url, COUNT)
    assert ran == 0 and count_number(page) == eu_high
    page, ran = fetched(boss, url, COUNT)
    assert ran == 1 and count_number(page) == all_high

    url = "/admin/tickets/dates"
    page, ran = fetched(support, url, DATES)
    assert ran == 1 and period_links(page) == years(engine, EU)
    page, ran = fetched(maria, url, DATES)
    assert ran == 0 and period_links(page) == years(engine, EU)
    page, ran = fetched(boss, url, DATES)
    assert ran == 1 and period_links(page) == years(engine)


def test_a_search_or_another_filter_is_another_question(site):
    app, admin, people, engine = site
    support = as_user(app, people["support"])
    assert fetched(support, "/admin/tickets/facets?field=status", FACETS)[1] == 1
    page, ran = fetched(support, "/admin/tickets/facets?field=status&priority=high", FACETS)
    assert ran == 1
    assert facet_numbers(page) == status_counts(engine, admin, f"priority = 'high' AND {EU}")
    # The field's own filter is left out of its counts: the same question as without it.
    assert fetched(support, "/admin/tickets/facets?field=status&status=open", FACETS)[1] == 0


def test_the_list_page_shows_a_count_another_request_made(site):
    app, admin, people, engine = site
    support, maria = as_user(app, people["support"]), as_user(app, people["maria"])
    page = get(support, "/admin/tickets/?priority=normal&per_page=5")
    assert 'hx-get="/admin/tickets/count?priority=normal&amp;per_page=5"' in page  # deferred
    counted = count_number(get(support, "/admin/tickets/count?priority=normal&per_page=5"))
    with Statements() as seen:
        page = get(maria, "/admin/tickets/?priority=normal&per_page=5")
    assert seen.count(COUNT) == 0 and "/admin/tickets/count?" not in page
    assert count_number(page) == counted == scalar(
        engine, f"SELECT count(*) AS n FROM tickets WHERE priority = 'normal' AND {EU}")


# --- the admin's own writes ---------------------------------------------------------------------


def test_an_edit_through_the_admin_is_counted_at_once(site):
    app, admin, people, engine = site
    agent = AdminClient(app).login_as(people["support"])
    ticket = rows(engine, f"SELECT id FROM tickets WHERE status = 'open' AND {EU} "
                          "ORDER BY id LIMIT 1")[0]["id"]
    url = "/admin/tickets/facets?field=status"
    before = facet_numbers(get(agent.client, url))
    assert fetched(agent.client, url, FACETS)[1] == 0  # kept
    assert agent.edit(Ticket, ticket, status="closed").ok
    after, ran = fetched(agent.client, url, FACETS)
    assert ran == 1
    open_label, closed_label = (str(label) for value, label in
                                admin.registry["tickets"].info.column("status").choices
                                if str(value) in ("open", "closed"))
    assert facet_numbers(after)[open_label] == before[open_label] - 1
    assert facet_numbers(after).get(closed_label, 0) == before.get(closed_label, 0) + 1
    assert facet_numbers(after) == status_counts(engine, admin, EU)


def test_a_bulk_action_and_a_delete_are_counted_at_once(site):
    app, admin, people, engine = site
    agent = AdminClient(app).login_as(people["support"])
    url = "/admin/orders/count?status=paid"
    paid = count_number(get(agent.client, url))
    assert fetched(agent.client, url, COUNT)[1] == 0
    pending = [r["id"] for r in rows(engine, "SELECT id FROM orders WHERE status = 'pending' "
                                             "ORDER BY id LIMIT 2")]
    assert len(pending) == 2
    assert agent.action(Order, "mark_paid", pending).status_code == 303
    page, ran = fetched(agent.client, url, COUNT)
    assert ran == 1 and count_number(page) == paid + 2

    tickets = "/admin/tickets/count?priority=normal"
    before = count_number(get(agent.client, tickets))
    doomed = rows(engine, f"SELECT id FROM tickets WHERE priority = 'normal' AND {EU} "
                          "ORDER BY id LIMIT 1")[0]["id"]
    with engine as tx:  # what refers to it: no ticket count reads these tables
        for table in ("ticket_comments", "ticket_tags"):
            tx.execute(SQL(f"DELETE FROM {table} WHERE ticket_id =", SQL.Param(doomed)))
    assert fetched(agent.client, tickets, COUNT)[1] == 0
    assert agent.delete(Ticket, doomed).status_code == 303
    page, ran = fetched(agent.client, tickets, COUNT)
    assert ran == 1 and count_number(page) == before - 1


def test_a_change_of_another_table_the_scope_reads_is_counted_at_once(site):
    """The support scope reads accounts: an account moved out of the EU changes the tickets'
    counts, and its edit replaces the accounts' generation."""
    app, admin, people, engine = site
    support = as_user(app, people["support"])
    url = "/admin/tickets/count?priority=normal"
    before = count_number(get(support, url))
    state = state_of(app)
    tokens = (generation(state, "tickets"), generation(state, "accounts"))
    account = rows(engine, "SELECT account_id AS id, count(*) AS n FROM tickets WHERE "
                           f"priority = 'normal' AND {EU} GROUP BY account_id ORDER BY 2 DESC, 1 "
                           "LIMIT 1")[0]
    boss = AdminClient(app).login_as(people["admin"])
    assert boss.edit("accounts", account["id"], region="us").ok
    assert generation(state, "accounts") != tokens[1]
    assert generation(state, "tickets") == tokens[0]
    page, ran = fetched(support, url, COUNT)
    assert ran == 1 and count_number(page) == before - account["n"]


def test_a_many_to_many_save_renews_the_join_table(engine):
    """Tags saved with a ticket are rows of ticket_tags: the lists reading that table (here
    the join table's own list) count again."""
    seeded(engine, rows=ROWS)
    app, admin = create_app(engine)
    admin.register(Tag, permissions={"view": {"support"}})
    admin.register(Ticket, TaggedTickets)
    admin.register(TicketTag, permissions={"view": {"support"}})
    people = staff(engine)
    agent = AdminClient(app).login_as(people["support"])
    ticket = rows(engine, f"SELECT id FROM tickets WHERE {EU} ORDER BY id LIMIT 1")[0]["id"]
    tag = rows(engine, "SELECT id FROM tags WHERE id NOT IN (SELECT tag_id FROM ticket_tags "
                       f"WHERE ticket_id = {int(ticket)}) ORDER BY id LIMIT 1")[0]["id"]
    url = f"/admin/ticket_tags/count?tag_id={int(tag)}"
    before = count_number(get(agent.client, url))
    assert fetched(agent.client, url, COUNT)[1] == 0
    kept = [r["tag_id"] for r in rows(engine, "SELECT tag_id FROM ticket_tags WHERE "
                                              f"ticket_id = {int(ticket)}")]
    assert agent.edit(Ticket, ticket, tags=[*kept, tag]).ok
    page, ran = fetched(agent.client, url, COUNT)
    assert ran == 1 and count_number(page) == before + 1


def test_a_rolled_back_write_keeps_the_counts(site):
    app, admin, people, engine = site
    state = state_of(app)
    get(as_user(app, people["support"]), "/admin/tickets/count?priority=normal")
    token = generation(state, "tickets")
    changes = admin.changes(Ticket, people["support"], app=app)
    ticket = rows(engine, f"SELECT id FROM tickets WHERE {EU} ORDER BY id LIMIT 1")[0]["id"]
    with pytest.raises(RuntimeError):
        with changes.transaction():
            before = changes.read((ticket,))
            changes.update((ticket,), {"subject": "Never saved"}, expected=before)
            raise RuntimeError("rolled back")
    assert generation(state, "tickets") == token
    with changes.transaction():
        before = changes.read((ticket,))
        changes.update((ticket,), {"subject": "Saved by a job"}, expected=before)
    assert generation(state, "tickets") != token  # a job's change through the write service


# --- the time they are kept ---------------------------------------------------------------------


def test_counts_expire_after_the_ttl(site):
    app, admin, people, engine = site
    now = [1_000_000.0]
    state_of(app).panel_cache.clock = lambda: now[0]
    support = as_user(app, people["support"])
    url = "/admin/tickets/facets?field=priority"
    assert fetched(support, url, FACETS)[1] == 1
    now[0] += 29.0
    assert fetched(support, url, FACETS)[1] == 0
    # Written outside the admin: seen once the entry expired.
    with engine as tx:
        tx.execute(f"UPDATE tickets SET priority = 'urgent' WHERE {EU}")
    now[0] += 1.5
    page, ran = fetched(support, url, FACETS)
    assert ran == 1 and sum(facet_numbers(page).values()) == facet_numbers(page)["Urgent"]


def test_zero_seconds_keeps_nothing(engine):
    seeded(engine, rows=ROWS)
    app, admin = build(engine, count_cache_seconds=0)
    assert state_of(app).count_cache_seconds is None
    support = as_user(app, staff(engine)["support"])
    for _ in range(2):
        assert fetched(support, "/admin/tickets/facets?field=status", FACETS)[1] == 1
        assert fetched(support, "/admin/tickets/count?priority=high", COUNT)[1] == 1
        assert fetched(support, "/admin/tickets/dates", DATES)[1] == 1
    assert not any(key.startswith("count:v1") for key in state_of(app).panel_cache._entries)


def test_the_setting_comes_from_the_config_and_the_environment(monkeypatch):
    from hyper_admin import Admin
    from hyper_admin.demo.app import settings_from_env

    app = Flask(__name__)
    app.config.update(settings_from_env({"HYPER_ADMIN_COUNT_CACHE_SECONDS": "5"}))
    Admin(app)
    assert state_of(app).count_cache_seconds == 5.0
    app = Flask(__name__)
    app.config["HYPER_ADMIN_COUNT_CACHE_SECONDS"] = "5"
    Admin(app, count_cache_seconds=0)  # an argument wins over the config
    assert state_of(app).count_cache_seconds is None
    app = Flask(__name__)
    Admin(app)
    assert state_of(app).count_cache_seconds == 30.0


def test_entries_are_json_text(site):
    app, admin, people, engine = site
    support = as_user(app, people["support"])
    get(support, "/admin/tickets/facets?field=status")
    get(support, "/admin/tickets/count?priority=high")
    get(support, "/admin/tickets/dates")
    entries = {key: value for key, (_expires, value) in state_of(app).panel_cache._entries.items()
               if key.startswith("count:v1:hyper_admin:tickets:")}
    assert {key.split(":")[4] for key in entries} == {"facets", "count", "dates"}
    for value in entries.values():
        assert isinstance(value, str) and json.loads(value) is not None


# --- what is not kept -----------------------------------------------------------------------------


def test_counts_that_ran_out_of_time_are_not_kept(site, monkeypatch):
    app, admin, people, engine = site
    support = as_user(app, people["support"])

    def too_slow(*args, **kwargs):
        raise QueryTimeout("canceling statement due to statement timeout")

    from hyper_admin import dates, facets, query

    real_facets, real_dates, real_query = facets.run, dates.run, query.run
    monkeypatch.setattr(facets, "run", too_slow)
    monkeypatch.setattr(dates, "run", too_slow)

    def counts_time_out(engine_, stmt):
        if COUNT in str(stmt):
            raise QueryTimeout("canceling statement due to statement timeout")
        return real_query(engine_, stmt)

    monkeypatch.setattr(query, "run", counts_time_out)
    assert facet_numbers(get(support, "/admin/tickets/facets?field=status")) == {}
    assert period_links(get(support, "/admin/tickets/dates")) == []
    assert "more than" in get(support, "/admin/tickets/count?priority=normal&count=exact") or \
        "about" in get(support, "/admin/tickets/count?priority=normal&count=exact")

    monkeypatch.setattr(facets, "run", real_facets)
    monkeypatch.setattr(dates, "run", real_dates)
    monkeypatch.setattr(query, "run", real_query)
    page, ran = fetched(support, "/admin/tickets/facets?field=status", FACETS)
    assert ran == 1 and facet_numbers(page) == status_counts(engine, admin, EU)
    page, ran = fetched(support, "/admin/tickets/dates", DATES)
    assert ran == 1 and period_links(page) == years(engine, EU)
    page, ran = fetched(support, "/admin/tickets/count?priority=normal&count=exact", COUNT)
    assert ran == 1 and count_number(page) == scalar(
        engine, f"SELECT count(*) AS n FROM tickets WHERE priority = 'normal' AND {EU}")


def test_only_counts_worth_showing_again_are_kept():
    from hyper_admin.shared_counts import _decode_count, _encode_count

    assert _encode_count(Count(12, "exact")) is not None
    assert _encode_count(Count(9_800_000, "estimate")) is not None
    assert _encode_count(Count(10_000, "more_than")) is not None      # counted up to its cap
    assert _encode_count(Count(10_000, "more_than", timed_out=True)) is None
    assert _encode_count(Count(10_001, "estimate", timed_out=True)) is None
    assert _encode_count(Count(None, "deferred")) is None
    assert _encode_count(Count(None, "unknown")) is None
    assert _decode_count(_encode_count(Count(12, "exact"))) == Count(12, "exact")


# --- a cache that fails ---------------------------------------------------------------------------


class BrokenCache(Cache):
    """Every call fails, as a cache of an application's own that broke might."""

    def get(self, key):
        raise ConnectionError("cache down")

    def set(self, key, value, ttl):
        raise ConnectionError("cache down")

    def delete(self, key):
        raise ConnectionError("cache down")

    def lock(self, key, wait):
        raise ConnectionError("cache down")


@pytest.mark.parametrize("broken", ["raising", "redis-closed-port"])
def test_a_failing_cache_still_counts_right(engine, broken, caplog, monkeypatch):
    from hyper_admin import shared_counts

    monkeypatch.setattr(shared_counts, "_last_complaint", [0.0])  # said once a minute
    seeded(engine, rows=ROWS)
    if broken == "raising":
        app, admin = build(engine)
        state_of(app).panel_cache = BrokenCache()
    else:
        app, admin = build(engine, cache_uri="redis://127.0.0.1:1/0")  # nothing listens
    people = staff(engine)
    agent = AdminClient(app).login_as(people["support"])
    for _ in range(2):
        page, ran = fetched(agent.client, "/admin/tickets/facets?field=status", FACETS)
        assert ran == 1 and facet_numbers(page) == status_counts(engine, admin, EU)
        page, ran = fetched(agent.client, "/admin/tickets/dates", DATES)
        assert ran == 1 and period_links(page) == years(engine, EU)
    ticket = rows(engine, f"SELECT id FROM tickets WHERE status = 'open' AND {EU} "
                          "ORDER BY id LIMIT 1")[0]["id"]
    assert agent.edit(Ticket, ticket, status="closed").ok  # the write does not fail
    page = get(agent.client, "/admin/tickets/facets?field=status")
    assert facet_numbers(page) == status_counts(engine, admin, EU)
    assert any("cache" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)


# --- two workers sharing Redis ----------------------------------------------------------------------


@pytest.fixture
def redis_url():
    with empty_redis_database(REDIS_URL) as url:
        yield url


def test_two_workers_share_counts_through_redis(engine, redis_url):
    seeded(engine, rows=ROWS)
    people = staff(engine)
    one, _ = build(engine, cache_uri=redis_url)
    two, admin = build(engine, cache_uri=redis_url)
    first, second = as_user(one, people["support"]), as_user(two, people["maria"])
    url = "/admin/tickets/facets?field=status"
    page, ran = fetched(first, url, FACETS)
    assert ran == 1 and facet_numbers(page) == status_counts(engine, admin, EU)
    page, ran = fetched(second, url, FACETS)
    assert ran == 0 and facet_numbers(page) == status_counts(engine, admin, EU)
    count_url = "/admin/tickets/count?priority=normal"
    assert fetched(first, count_url, COUNT)[1] == 1
    assert fetched(second, count_url, COUNT)[1] == 0

    # A write through one worker: the other counts again at once.
    ticket = rows(engine, f"SELECT id FROM tickets WHERE status = 'open' AND {EU} "
                          "ORDER BY id LIMIT 1")[0]["id"]
    assert AdminClient(one).login_as(people["support"]).edit(Ticket, ticket, status="closed").ok
    page, ran = fetched(second, url, FACETS)
    assert ran == 1 and facet_numbers(page) == status_counts(engine, admin, EU)


# --- one request counts, the others wait for it ------------------------------------------------------


def test_one_request_counts_while_the_others_wait(site):
    from werkzeug.datastructures import MultiDict
    from flask_login import login_user

    from hyper_admin.sql import dialect_of
    from hyper_admin.views.common import list_request

    app, admin, people, engine = site
    with app.test_request_context("/admin/tickets/"):
        login_user(people["support"])
        listing = list_request(admin.registry["tickets"], MultiDict([("priority", "high")]))
    shared = SharedCounts(MemoryCache(), 30, namespace="hyper_admin", slug="tickets", wait=5)
    calls, answers = [], []

    def slow() -> Count:
        calls.append(1)
        time.sleep(0.3)
        return Count(7, "exact")

    def ask():
        answers.append(shared.count(engine, dialect_of(engine), listing.spec, listing.params,
                                    compute=slow))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and answers == [Count(7, "exact")] * 4


# --- which tables a statement reads -----------------------------------------------------------------


def test_the_tables_a_statement_reads():
    assert tables_read("SELECT count(*) AS n FROM (SELECT 1 FROM tickets WHERE (tickets.account_id "
                       "IN (SELECT id FROM accounts WHERE region = ?)) LIMIT 10001) AS capped"
                       ) == {"tickets", "accounts"}
    assert tables_read('SELECT * FROM "Album" AS a JOIN public."Track" t ON t.a = a.id '
                       "LEFT JOIN artists ON true") == {"album", "track", "artists"}
    assert tables_read("SELECT 1 FROM orders o, accounts AS a, only_me WHERE o.x = 'FROM fake'"
                       ) == {"orders", "accounts", "only_me"}
    assert tables_read("SELECT k FROM (SELECT 3 AS k FROM (SELECT 1 AS one FROM orders "
                       "WHERE x LIMIT 1) AS p3) AS probes") == {"orders"}
    assert tables_read("SELECT 1 FROM ONLY public.parts AS") == {"parts"}
    assert tables_read("SELECT 1") == frozenset()
