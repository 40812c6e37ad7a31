"""A small cache for the dashboard's panels and the lists' counts (shared_counts.py): text
values with a time to live, and a lock per key.

Two backends, chosen by URI (the ``cache_uri`` setting):

- ``memory://``: a dict in the process, bounded (least recently used entries go first). Each
  worker process has its own.
- ``redis://host:6379/0`` (or ``rediss://``, ``unix://``): shared by every worker and host, so
  that ten people on call looking at one dashboard cost one query per panel and TTL, however
  many workers serve them.

Values are text (the panels store JSON), never pickles: whatever can write to the cache cannot
make a worker run code. A cache that fails (Redis restarting, unreachable) behaves as an empty
one: the panels compute their data and say nothing; the error is logged once a minute.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
import typing as t

log = logging.getLogger("hyper_admin.cache")


class Cache:
    """The interface: ``get``, ``set`` with a TTL in seconds, ``delete``, and ``lock``.

    ``clock`` (seconds, like ``time.time``) is what entries are dated with and, for the memory
    backend, what decides when they expire: tests replace it.
    """

    clock: t.Callable[[], float] = staticmethod(time.time)

    def now(self) -> float:
        return self.clock()

    def get(self, key: str) -> str | None:
        raise NotImplementedError

    def get_many(self, keys: t.Sequence[str]) -> list[str | None]:
        """The values of ``keys``, in order (None for a missing one)."""
        return [self.get(key) for key in keys]

    def set(self, key: str, value: str, ttl: float) -> None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def lock(self, key: str, wait: float) -> t.ContextManager[bool]:
        """Hold the lock of ``key`` while computing its value (so that others wait for it
        instead of computing it too). Yields whether it was acquired within ``wait`` seconds;
        a caller that did not get it computes anyway."""
        raise NotImplementedError


class MemoryCache(Cache):
    """Entries in this process, at most ``max_entries`` (least recently used go first)."""

    def __init__(self, max_entries: int = 2048, clock: t.Callable[[], float] | None = None):
        self.max_entries = max_entries
        if clock is not None:
            self.clock = clock
        self._entries: collections.OrderedDict[str, tuple[float, str]] = collections.OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._mutex = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._mutex:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if self.clock() >= expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: str, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._mutex:
            self._entries[key] = (self.clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._mutex:
            self._entries.pop(key, None)

    @contextlib.contextmanager
    def lock(self, key: str, wait: float):
        with self._mutex:
            lock = self._locks.get(key)
            if lock is None:
                if len(self._locks) > self.max_entries:
                    # Forget the locks nobody holds (bounded like the entries).
                    self._locks = {k: v for k, v in self._locks.items() if v.locked()}
                lock = self._locks[key] = threading.Lock()
        acquired = lock.acquire(timeout=max(0.0, wait))
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()


class RedisCache(Cache):
    """Entries in Redis under ``prefix``; expiry is Redis's own (``SET ... PX``).

    After a failure Redis is left alone for ``RETRY_AFTER`` seconds (every call is a miss),
    so that a Redis that does not answer costs one timeout every few seconds, not one per call.
    """

    RETRY_AFTER = 5.0

    def __init__(self, uri: str, prefix: str = "hyper_admin:cache:"):
        import redis

        self.prefix = prefix
        # Short timeouts: a slow or absent Redis must not hold a page up longer than its query.
        self.client = redis.Redis.from_url(uri, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._errors = redis.RedisError
        self._last_complaint = 0.0
        self._down_until = 0.0

    def _failed(self, exc: Exception) -> None:
        now = time.monotonic()
        self._down_until = now + self.RETRY_AFTER
        if now - self._last_complaint > 60:
            self._last_complaint = now
            log.warning("hyper_admin: the panel cache (Redis) failed, computing without it: %s", exc)

    def _down(self) -> bool:
        return time.monotonic() < self._down_until

    def get(self, key: str) -> str | None:
        if self._down():
            return None
        try:
            value = self.client.get(self.prefix + key)
        except self._errors as exc:
            self._failed(exc)
            return None
        return value.decode("utf-8") if value is not None else None

    def get_many(self, keys: t.Sequence[str]) -> list[str | None]:
        # One round trip (MGET) rather than one per key.
        if not keys:
            return []
        if self._down():
            return [None] * len(keys)
        try:
            values = self.client.mget([self.prefix + key for key in keys])
        except self._errors as exc:
            self._failed(exc)
            return [None] * len(keys)
        return [v.decode("utf-8") if v is not None else None for v in values]

    def set(self, key: str, value: str, ttl: float) -> None:
        if ttl <= 0 or self._down():
            return
        try:
            self.client.set(self.prefix + key, value.encode("utf-8"), px=max(1, int(ttl * 1000)))
        except self._errors as exc:
            self._failed(exc)

    def delete(self, key: str) -> None:
        if self._down():
            return
        try:
            self.client.delete(self.prefix + key)
        except self._errors as exc:
            self._failed(exc)

    @contextlib.contextmanager
    def lock(self, key: str, wait: float):
        if self._down():
            yield False
            return
        # redis-py's Lock: SET NX PX with a token, released by a script only by its owner; it
        # expires by itself should this worker die while holding it.
        lock = self.client.lock(self.prefix + "lock:" + key, timeout=max(1.0, wait + 1.0),
                                blocking_timeout=max(0.0, wait), sleep=0.05)
        try:
            acquired = bool(lock.acquire())
        except self._errors as exc:
            self._failed(exc)
            acquired = False
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    lock.release()
                except Exception as exc:  # noqa: BLE001 - expired meanwhile, or Redis gone
                    self._failed(exc)


def cache_from_uri(uri: str) -> Cache:
    """``memory://`` or a Redis URL (``redis://``, ``rediss://``, ``unix://``)."""
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme == "memory":
        return MemoryCache()
    if scheme in ("redis", "rediss", "unix"):
        try:
            import redis  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the installation
            raise RuntimeError(
                f"cache_uri {uri!r} needs the redis package: pip install 'hyper-admin[redis]'"
            ) from None
        return RedisCache(uri)
    raise ValueError(f"cache_uri {uri!r}: use memory:// or redis://host:6379/0")
