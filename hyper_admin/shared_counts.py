"""Counts shared between users and workers for a short time: the list's count, the filter
panel's counts and the date bar, kept in the admin's cache (cache.py: memory or Redis).

Under load the lists' side requests were most of the database's work: each user's filter
panel asked for the same GROUP BYs as every other user's. Here a count is computed once per
key and TTL (``count_cache_seconds``) and served to whoever asks the same question:

- **The key is the question**: a hash of the admin, the model's slug, the database (its URI),
  the dialect, the counting statement's text and parameter values (the user's scope, the base
  query, the search and the filters are all in them) and what else shapes the answer (the cap,
  the values counted). Two users of one scope share an entry; a user of another scope asks
  another question. Nothing is keyed by user or by URL.
- **Generations**: every table a counting statement reads (``tables_read``) has a generation
  token in the cache (``count:gen:<table>``), part of the key. A write through the admin's
  write service replaces the tokens of the tables it wrote, once its transaction committed
  (``bump``, called by changes.py): the next count of any list reading those tables misses.
  Writes made outside the admin are seen when the entries expire (the TTL).
- **Only answers worth showing again are kept**: an exact count, an estimate (shown as one), a
  "more than" that counted up to its cap; never a count that ran out of time (None, or what
  the time limit left: ``Count.timed_out``).
- **Single flight**: on a miss, ``cache.lock`` lets one request count while the others with
  the same key wait for its answer (at most the count's time limit, then they count too).
- **Text only** (JSON), never pickles; a cache that fails is an empty one: counts are computed
  and the failure logged once a minute.

A data-layer module: it is given the cache, the TTL and the engine; it never reads Flask's
request or the user.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import re
import secrets
import time
import typing as t

from . import dates as dates_sql
from . import facets as facets_sql
from .cache import Cache
from .dates import MAX_YEARS, Selection, year_range_statement
from .facets import FacetCounts, facet_statement
from .introspect import ColumnInfo
from .query import COUNT_CAP, Count, ListParams, ListSpec, count_matching, count_statement
from .replicas import lsn_value
from .sql import Dialect, Statement, dialect_of, run

log = logging.getLogger("hyper_admin.shared_counts")

#: Part of every key: entries of an older layout are never read.
KEY_VERSION = "v1"
#: How long a table's generation token lives: far longer than any count (a token that is gone
#: is replaced by a new one, which only costs a miss).
GENERATION_TTL = 86_400.0
#: Count kinds worth showing again (query.Count): "unknown" and "deferred" say nothing.
KEPT_KINDS = ("exact", "estimate", "more_than")
#: Seconds a request waits for another's count beyond that count's own time limit.
WAIT_MARGIN = 1.0
#: Seconds a request waits for another to make up a table's first generation token.
GENERATION_WAIT = 1.0

_MISS = object()


class SharedCounts:
    """The counts of one model's lists in ``cache`` for ``ttl`` seconds (0 or None: not kept,
    every count computed). ``namespace``: the admin's name; ``wait``: the longest a list's count
    may take (the statement time limit), what a request waits for another's."""

    def __init__(self, cache: Cache | None, ttl: float | None, *, namespace: str, slug: str,
                 wait: float = 10.0, replica: bool = False):
        self.cache = cache
        self.ttl = float(ttl or 0)
        self.namespace = namespace
        self.slug = slug
        self.wait = float(wait)
        #: The counts are read from a read replica: one is kept only when the replica had
        #: replayed the last write of the tables it read (_replayed).
        self.replica = replica

    @property
    def enabled(self) -> bool:
        return self.cache is not None and self.ttl > 0

    # -- what the views ask ----------------------------------------------------------------

    def count(self, engine, dialect: Dialect, spec: ListSpec, params: ListParams, *,
              cap: int = COUNT_CAP, compute: t.Callable[[], Count] | None = None) -> Count:
        """How many rows the list matches (query.count_matching, or ``compute``), shared."""
        if compute is None:
            def compute() -> Count:
                return count_matching(engine, dialect, spec, params, cap=cap)
        if not self.enabled:
            return compute()
        key, tokens = self._count_key(engine, dialect, spec, params, cap)
        return self._shared(key, compute, _encode_count, _decode_count, self.wait,
                            self._kept_after(engine, tokens))

    def cached_count(self, engine, dialect: Dialect, spec: ListSpec, params: ListParams, *,
                     cap: int = COUNT_CAP) -> Count | None:
        """The list's count when another request already counted it (else None, nothing
        counted): the list page shows it at once instead of asking for it."""
        if not self.enabled:
            return None
        found = _decode_count(self._read(self._count_key(engine, dialect, spec, params, cap)[0]))
        return None if found is _MISS else t.cast(Count, found)

    def facet_counts(self, engine, dialect: Dialect, spec: ListSpec, params: ListParams,
                     column: ColumnInfo, *, cap: int = facets_sql.FACET_CAP,
                     time_limit_ms: int = facets_sql.FACET_TIME_LIMIT_MS) -> FacetCounts | None:
        """facets.facet_counts, shared (a count past the time limit, None, is not kept)."""
        def compute() -> FacetCounts | None:
            return facets_sql.facet_counts(engine, dialect, spec, params, column, cap=cap,
                                           time_limit_ms=time_limit_ms)

        branches = facets_sql._branches(column)
        if not self.enabled or not branches:
            return compute()
        stmt = facet_statement(dialect, spec, params, column, cap=cap)
        # Which value each branch stands for is not in the SQL of a relation path or a custom
        # filter (their branches are numbered): the values are part of the question.
        key, tokens = self._key("facets", engine, stmt, {"field": column.attribute, "cap": cap,
                                                          "branches": branches})
        return self._shared(key, compute, _encode_facets, _decode_facets,
                            time_limit_ms / 1000 + WAIT_MARGIN, self._kept_after(engine, tokens))

    def periods_with_rows(self, engine, dialect: Dialect, spec: ListSpec, params: ListParams,
                          column: ColumnInfo, selection: Selection, *,
                          time_limit_ms: int = facets_sql.FACET_TIME_LIMIT_MS) -> list[int] | None:
        """dates.periods_with_rows, shared (None, past the time limit, is not kept)."""
        def compute() -> list[int] | None:
            return dates_sql.periods_with_rows(engine, dialect, spec, params, column, selection,
                                               time_limit_ms=time_limit_ms)

        if not self.enabled or selection.level == "none":
            return compute()
        # The probes depend on the years found; their conditions are the year range's.
        stmt = year_range_statement(dialect, spec, params, column)
        key, tokens = self._key("dates", engine, stmt, {
            "field": column.attribute, "kind": column.kind, "max_years": MAX_YEARS,
            "selection": [selection.year, selection.month, selection.day]})
        return self._shared(key, compute, _encode_periods, _decode_periods,
                            time_limit_ms / 1000 + WAIT_MARGIN, self._kept_after(engine, tokens))

    # -- keys --------------------------------------------------------------------------------

    def _count_key(self, engine, dialect: Dialect, spec: ListSpec, params: ListParams,
                   cap: int) -> tuple[str, list[str]]:
        stmt = count_statement(dialect, spec, params, cap)
        return self._key("count", engine, stmt, {"cap": cap, "exact": params.exact_count})

    def _key(self, what: str, engine, stmt: Statement, extra: dict[str, t.Any]
             ) -> tuple[str, list[str]]:
        """The entry's key: the question (statement, parameters, ``extra``), the database and
        the generations of the tables the statement reads; and those generations."""
        compiled = stmt.compiled()
        text, params = compiled.stmt, list(compiled.params or ())
        tables = sorted(tables_read(text))
        tokens = generations(t.cast(Cache, self.cache), tables)
        question = [what, self.namespace, self.slug, _database_of(engine), stmt.dialect.name,
                    text, params, extra, tables, tokens]
        digest = hashlib.sha256(json.dumps(question, default=_typed, sort_keys=True,
                                           separators=(",", ":")).encode()).hexdigest()[:40]
        return f"count:{KEY_VERSION}:{self.namespace}:{self.slug}:{what}:{digest}", tokens

    def _kept_after(self, engine, tokens: list[str]) -> t.Callable[[], bool]:
        """Whether a value just counted may be kept: always on the primary; on a replica only
        when it had replayed the last write of every table read (the positions the tokens
        carry, bump). A count a lagging replica made after a write would otherwise be kept
        under the write's generation, and served for the TTL after the replica caught up."""
        if not self.replica:
            return lambda: True
        written = [lsn_value(token.partition("@")[2]) for token in tokens]
        last = max((position for position in written if position is not None), default=None)
        if last is None:
            return lambda: True
        return lambda: _replayed(engine, last)

    # -- the cache ---------------------------------------------------------------------------

    def _read(self, key: str) -> str | None:
        try:
            return t.cast(Cache, self.cache).get(key)
        except Exception as exc:  # noqa: BLE001 - a failing cache is an empty one
            _complain(exc)
            return None

    def _shared(self, key: str, compute: t.Callable[[], t.Any],
                encode: t.Callable[[t.Any], str | None], decode: t.Callable[[str | None], t.Any],
                wait: float, keep: t.Callable[[], bool]) -> t.Any:
        """The entry at ``key``, else ``compute()`` by one request at a time (the others wait
        for it, up to ``wait`` seconds, then read it or compute themselves), kept when
        ``encode`` and ``keep`` say it may be."""
        found = decode(self._read(key))
        if found is not _MISS:
            return found
        with _locked(t.cast(Cache, self.cache), key, wait):
            found = decode(self._read(key))
            if found is not _MISS:
                return found
            value = compute()
            payload = encode(value)
            if payload is not None and keep():
                try:
                    t.cast(Cache, self.cache).set(key, payload, self.ttl)
                except Exception as exc:  # noqa: BLE001 - a failing cache is an empty one
                    _complain(exc)
            return value


# ---------------------------------------------------------------------------------------------
# Generations


def generation_key(table: str) -> str:
    return f"count:gen:{table.lower()}"


def generations(cache: Cache, tables: t.Sequence[str]) -> list[str]:
    """The generation token of each table. A table without one (never written, or its token
    expired or evicted) gets a new one, never an older one again: entries kept under an older
    token are never read, whatever the cache dropped meanwhile. One request makes it up while
    the others wait for it (else each would count under a token of its own)."""
    if not tables:
        return []
    keys = [generation_key(table) for table in tables]
    tokens = _get_many(cache, keys)
    for i, key in enumerate(keys):
        if tokens[i] is None:
            with _locked(cache, key, GENERATION_WAIT):
                tokens[i] = _get_many(cache, [key])[0]
                if tokens[i] is None:
                    tokens[i] = secrets.token_hex(8)
                    _set(cache, key, tokens[i])
    return t.cast(list[str], tokens)


def bump(cache: Cache, tables: t.Iterable[str], position: str | None = None) -> None:
    """Rows of ``tables`` were written (and committed): every count kept for a statement that
    reads one of them is not read again. ``position``: the primary's WAL position after the
    commit (replicas.write_position), carried by the new tokens (``<random>@<position>``) for
    counts read from replicas (SharedCounts._kept_after)."""
    suffix = f"@{position}" if position else ""
    for table in sorted({table.lower() for table in tables}):
        _set(cache, generation_key(table), secrets.token_hex(8) + suffix)


def _replayed(engine, position: int) -> bool:
    """Whether the standby behind ``engine`` has replayed the WAL up to ``position``."""
    try:
        rows = run(engine, Statement(dialect_of(engine),
                                     "SELECT pg_last_wal_replay_lsn()::text AS replayed"))
    except Exception:  # noqa: BLE001 - unknown: nothing is kept
        return False
    replayed = lsn_value(rows[0]["replayed"]) if rows else None
    return replayed is not None and replayed >= position


def _get_many(cache: Cache, keys: list[str]) -> list[str | None]:
    try:
        return list(cache.get_many(keys))
    except Exception as exc:  # noqa: BLE001 - a failing cache is an empty one
        _complain(exc)
        return [None] * len(keys)


def _set(cache: Cache, key: str, token: str) -> None:
    try:
        cache.set(key, token, GENERATION_TTL)
    except Exception as exc:  # noqa: BLE001 - a failing cache is an empty one
        _complain(exc)


# ---------------------------------------------------------------------------------------------
# The tables a statement reads

_TOKEN = re.compile(r"""'(?:[^']|'')*'|"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)|(\S)""")
#: Words after a table name that are no alias: where its FROM item ends.
_NOT_ALIAS = frozenset("""
    WHERE JOIN LEFT RIGHT INNER OUTER FULL CROSS NATURAL ON USING GROUP ORDER LIMIT OFFSET UNION
    EXCEPT INTERSECT HAVING WINDOW FETCH FOR RETURNING SELECT FROM WITH AND OR NOT AS
    """.split())
_BEFORE_TABLE = frozenset(("ONLY", "LATERAL"))


class _Token(t.NamedTuple):
    text: str  # a name (unquoted), a word, one character of punctuation; "" otherwise
    kind: str  # "word", "quoted", "punct", "string" (a literal), "end"

    @property
    def is_name(self) -> bool:
        return self.kind in ("word", "quoted")

    def is_word(self, words: t.Collection[str]) -> bool:
        return self.kind == "word" and self.text.upper() in words

    def is_punct(self, char: str) -> bool:
        return self.kind == "punct" and self.text == char


def _tokens(sql_text: str) -> list[_Token]:
    out = []
    for quoted, word, punct in _TOKEN.findall(sql_text):
        if word:
            out.append(_Token(word, "word"))
        elif quoted:
            out.append(_Token(quoted.replace('""', '"'), "quoted"))
        else:
            out.append(_Token(punct, "punct" if punct else "string"))
    out.append(_Token("", "end"))  # so that looking one token ahead never runs off the end
    return out


@functools.lru_cache(maxsize=1024)  # a list's statements repeat: the text, not the values
def tables_read(sql_text: str) -> frozenset[str]:
    """The names (lower case) after FROM and JOIN in ``sql_text``, and after the commas of a
    FROM list; ``schema.table`` gives ``table``. A word that is no table (``EXTRACT(YEAR FROM
    col)``, a common table expression) is harmless: a generation nobody bumps."""
    tokens = _tokens(sql_text)
    found: set[str] = set()
    i = 0
    while i < len(tokens):
        i += 1
        if tokens[i - 1].is_word(("FROM", "JOIN")):
            i = _from_items(tokens, i, found)
    return frozenset(found)


def _from_items(tokens: list[_Token], i: int, found: set[str]) -> int:
    """Read ``table [[AS] alias] [, table ...]`` from ``tokens[i]``; return where it ended."""
    while True:
        while tokens[i].is_word(_BEFORE_TABLE):
            i += 1
        if not tokens[i].is_name:
            return i  # a subquery (its own FROM is read on its own), or nothing
        name, i = tokens[i].text, i + 1
        while tokens[i].is_punct(".") and tokens[i + 1].is_name:
            name, i = tokens[i + 1].text, i + 2
        found.add(name.lower())
        i = _past_alias(tokens, i)
        if not tokens[i].is_punct(","):
            return i
        i += 1


def _past_alias(tokens: list[_Token], i: int) -> int:
    if tokens[i].is_word(("AS",)):
        return min(i + 2, len(tokens) - 1)
    if tokens[i].is_name and not tokens[i].is_word(_NOT_ALIAS):
        return i + 1
    return i


# ---------------------------------------------------------------------------------------------
# Values as JSON


def _encode_count(count: Count) -> str | None:
    if count.kind not in KEPT_KINDS or count.value is None or count.timed_out:
        return None
    return json.dumps({"value": int(count.value), "kind": count.kind})


def _decode_count(raw: str | None) -> t.Any:
    if raw is None:
        return _MISS
    try:
        payload = json.loads(raw)
        kind, value = payload["kind"], payload["value"]
    except (ValueError, KeyError, TypeError):
        return _MISS
    if kind not in KEPT_KINDS or not isinstance(value, int):
        return _MISS
    return Count(value, kind)


def _encode_facets(counts: FacetCounts | None) -> str | None:
    if counts is None:
        return None  # past the time limit: the next request tries again
    pairs = [[key, int(n)] for key, n in counts.counts.items()]
    try:
        text = json.dumps({"cap": counts.cap, "counts": pairs})
    except (TypeError, ValueError):
        return None
    # Keys that JSON would give back as something else (a date, a Decimal) are not kept.
    back = json.loads(text)["counts"]
    if any(type(a[0]) is not type(b[0]) or a[0] != b[0] for a, b in zip(pairs, back)):
        return None
    return text


def _decode_facets(raw: str | None) -> t.Any:
    if raw is None:
        return _MISS
    try:
        payload = json.loads(raw)
        return FacetCounts({key: int(n) for key, n in payload["counts"]}, int(payload["cap"]))
    except (ValueError, KeyError, TypeError):
        return _MISS


def _encode_periods(found: list[int] | None) -> str | None:
    return None if found is None else json.dumps([int(k) for k in found])


def _decode_periods(raw: str | None) -> t.Any:
    if raw is None:
        return _MISS
    try:
        found = json.loads(raw)
    except ValueError:
        return _MISS
    if not isinstance(found, list) or not all(isinstance(k, int) for k in found):
        return _MISS
    return found


def _typed(value: t.Any) -> t.Any:
    """A parameter JSON has no type for, with its type: a date and its text differ."""
    return [type(value).__name__, str(value)]


def _database_of(engine) -> str:
    """Which database: its URI, hashed (two applications sharing a Redis never share counts);
    empty for an engine made otherwise, which the admin's name then tells apart."""
    uri = getattr(getattr(engine, "connection_factory", None), "uri", None)
    return hashlib.sha256(str(uri).encode()).hexdigest()[:16] if uri else ""


# ---------------------------------------------------------------------------------------------
# A cache that fails is an empty one

_last_complaint = [0.0]


def _complain(exc: Exception) -> None:
    now = time.monotonic()
    if now - _last_complaint[0] > 60:
        _last_complaint[0] = now
        log.warning("hyper_admin: the count cache failed, counting without it: %r", exc)


@contextlib.contextmanager
def _locked(cache: Cache, key: str, wait: float) -> t.Iterator[bool]:
    """``cache.lock(key, wait)``; a lock that fails is one not acquired."""
    try:
        manager = cache.lock(key, wait)
        acquired = manager.__enter__()
    except Exception as exc:  # noqa: BLE001 - a failing cache is an empty one
        _complain(exc)
        yield False
        return
    try:
        yield bool(acquired)
    finally:
        try:
            manager.__exit__(None, None, None)
        except Exception as exc:  # noqa: BLE001 - released or expired meanwhile
            _complain(exc)
