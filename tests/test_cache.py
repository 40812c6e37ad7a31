"""The panel cache: memory and Redis backends, chosen by URI; what a failing Redis does."""

import threading
import time

import pytest

from apps import as_user
from crud_app import create_app, seeded, staff
from redis_service import empty_redis_database
from hyper_admin.cache import MemoryCache, RedisCache, cache_from_uri

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_url():
    with empty_redis_database(REDIS_URL) as url:
        yield url


def test_memory_entries_expire_and_the_oldest_go_first():
    now = [0.0]
    cache = MemoryCache(max_entries=3, clock=lambda: now[0])
    cache.set("a", "1", 10)
    assert cache.get("a") == "1" and cache.get("b") is None
    now[0] = 9.9
    assert cache.get("a") == "1"
    now[0] = 10.0
    assert cache.get("a") is None  # expired
    for key in "bcd":
        cache.set(key, key, 100)
    cache.get("b")                  # b was used: c is the least recently used
    cache.set("e", "e", 100)
    assert [cache.get(k) for k in "bcde"] == ["b", None, "d", "e"]
    cache.set("x", "y", 0)          # no TTL: not kept
    assert cache.get("x") is None
    cache.delete("b")
    assert cache.get("b") is None


def test_memory_lock_lets_one_compute_while_others_wait():
    cache = MemoryCache()
    order = []

    def worker(name):
        with cache.lock("k", wait=2) as got:
            order.append((name, got))
            time.sleep(0.05)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(order) == 4 and all(got for _, got in order)
    with cache.lock("k", wait=1):
        started = time.monotonic()
        with cache.lock("k", wait=0.1) as got:  # held: gives up after the wait
            assert got is False and time.monotonic() - started >= 0.09


def test_uris_choose_the_backend():
    assert isinstance(cache_from_uri("memory://"), MemoryCache)
    assert isinstance(cache_from_uri("redis://127.0.0.1:6379/0"), RedisCache)  # connects lazily
    with pytest.raises(ValueError, match="memory:// or redis://"):
        cache_from_uri("memcached://x")


def test_redis_entries_expire(redis_url):
    cache = RedisCache(redis_url)
    cache.set("a", "é", 0.15)
    assert cache.get("a") == "é"
    time.sleep(0.25)
    assert cache.get("a") is None
    with cache.lock("k", wait=1) as got:
        assert got
        with RedisCache(redis_url).lock("k", wait=0.1) as other:
            assert other is False
    with RedisCache(redis_url).lock("k", wait=0.1) as again:
        assert again


def test_workers_share_panel_results_through_redis(engine, redis_url):
    """Two apps stand for two workers: with cache_uri=redis://, a panel computed by one is
    served by the other; with the memory cache each computes its own."""
    seeded(engine, rows=10)
    people = staff(engine)
    calls = []

    def counted(ctx):
        calls.append(1)
        return len(calls)

    def worker(**options):
        app, admin = create_app(engine, **options)
        admin.dashboard.panel("Counted", kind="metric")(counted)
        return as_user(app, people["admin"])

    a, b = worker(cache_uri=redis_url), worker(cache_uri=redis_url)
    assert a.get("/admin/-/panels/counted").status_code == 200
    assert b.get("/admin/-/panels/counted").status_code == 200
    assert len(calls) == 1
    solo_a, solo_b = worker(), worker()
    solo_a.get("/admin/-/panels/counted"), solo_b.get("/admin/-/panels/counted")
    assert len(calls) == 3


def test_an_unreachable_redis_is_an_empty_cache(engine, caplog):
    seeded(engine, rows=10)
    app, admin = create_app(engine, cache_uri="redis://127.0.0.1:1/0")  # nothing listens
    admin.dashboard.panel("Counted", kind="metric")(lambda ctx: 7)
    response = as_user(app, staff(engine)["admin"]).get("/admin/-/panels/counted",
                                                         headers={"HX-Request": "true"})
    assert response.status_code == 200 and ">7<" in response.get_data(as_text=True)
    assert any("panel cache (Redis) failed" in r.getMessage() for r in caplog.records)
    # Then Redis is left alone for a few seconds: no connection attempt per call.
    cache = app.extensions["hyper_admin"]["hyper_admin"].panel_cache
    cache.client = None  # any use would raise AttributeError
    assert cache.get("x") is None
    cache.set("x", "y", 10)
    with cache.lock("x", 1) as got:
        assert got is False
