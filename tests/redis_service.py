"""Redis for the tests, a module of its own so that test modules can import it (like pg.py)."""

import contextlib

import pytest


@contextlib.contextmanager
def empty_redis_database(url: str):
    """A Redis database emptied before and after (nothing left from an earlier run); the test
    skips without Redis, and fails under CI, where Redis must be there."""
    import os

    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.flushdb()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {url} unreachable: {exc} (CI is set)")
        pytest.skip(f"Redis at {url} unreachable: {exc}")
    try:
        yield url
    finally:
        client.flushdb()
