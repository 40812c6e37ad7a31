"""The index advisor (``hyper-admin doctor``, hyper_admin/doctor.py and index_advisor.py): on
tables with no index but their keys, what each list needs is advised, in SQL each database
runs; once it ran, nothing is; what existing indexes already serve is not advised; the CLI and
its --check; the list's search hint for superusers on a big PostgreSQL table."""

import dataclasses
import datetime as dt
import re
import sys
import types
import typing as t

import pytest
from flask import Flask
from flask_login import LoginManager
from sqlorm import Column, Model, PrimaryKey, Relationship

from apps import as_user
from hyper_admin import Admin, ModelAdmin
from hyper_admin.cli import main as cli_main
from hyper_admin.doctor import examine, script
from hyper_admin.fts import fts_script
from hyper_admin.index_advisor import ExistingIndex, _normalised, _serves
from hyper_admin.sql import dialect_of
from hyper_admin.sqlorm_compat import is_postgresql


class DocAuthor(Model):
    __table__ = "doc_authors"

    id: PrimaryKey[int] = Column(type="INTEGER", primary_key=True)
    name: str = Column(type="VARCHAR(100)", nullable=False)


class DocBook(Model):
    __table__ = "doc_books"

    id: PrimaryKey[int] = Column(type="INTEGER", primary_key=True)
    title: str = Column(type="VARCHAR(200)", nullable=False)
    status: str = Column(type="VARCHAR(20)", nullable=False)
    published_at: dt.datetime = Column(type="TIMESTAMP", nullable=False)
    author_id: int = Column(type="INTEGER", nullable=False, references="doc_authors(id)")
    author: DocAuthor = Relationship(DocAuthor, "id", "author_id", single=True)


class DocStaff:
    def __init__(self, roles):
        self.roles = roles
        self.is_authenticated = self.is_active = True
        self.is_anonymous = False

    def get_id(self):
        return ",".join(sorted(self.roles)) or "-"


class BookAdmin(ModelAdmin):
    search_fields = ["title", "author.name"]
    list_filter = ["status"]
    ordering = ["-published_at"]
    date_hierarchy = "published_at"


def _site(engine):
    app = Flask(__name__)
    app.config.update(SECRET_KEY="doctor", TESTING=True)
    login = LoginManager(app)
    login.user_loader(lambda user_id: DocStaff(set(user_id.split(",")) - {"-"}))
    admin = Admin(app, engine=engine, access_roles={"admin", "agent"})
    admin.register(DocAuthor, permissions={"view": {"agent"}})
    admin.register(DocBook, BookAdmin, permissions={"view": {"agent"}})
    return app, admin


@pytest.fixture
def site(engine):
    with engine as tx:
        tx.execute("CREATE TABLE doc_authors (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL)")
        tx.execute("CREATE TABLE doc_books (id INTEGER PRIMARY KEY, title VARCHAR(200) NOT NULL, "
                   "status VARCHAR(20) NOT NULL, published_at TIMESTAMP NOT NULL, "
                   "author_id INTEGER NOT NULL REFERENCES doc_authors(id))")
        tx.execute("INSERT INTO doc_authors (id, name) VALUES (1, 'Ursula Le Guin'), "
                   "(2, 'Terry Pratchett')")
        for i in range(1, 41):
            tx.execute(f"INSERT INTO doc_books (id, title, status, published_at, author_id) "
                       f"VALUES ({i}, 'Book {i}', '{('draft', 'live')[i % 2]}', "
                       f"'2020-01-{1 + i % 28:02d} 10:00:00', {1 + i % 2})")
    app, admin = _site(engine)
    return app, admin, engine


def _run(engine, statements: t.Iterable[str]) -> None:
    """The advised statements, as psql would run them (CONCURRENTLY: outside a transaction;
    the test's schema comes first in its search_path, pg_trgm's is public)."""
    pg = is_postgresql(engine)
    if pg:
        _trigram_extension(engine)
    for script_text in statements:
        for text in script_text.splitlines():  # a script: one statement per line
            with engine as tx:
                if pg:
                    tx.execute("SET LOCAL search_path TO " + _search_path(tx) + ", public")
                    text = text.replace(" CONCURRENTLY", "")
                tx.execute(text)


def _trigram_extension(engine) -> None:
    """pg_trgm in the test database's public schema (kept: other runs may be using it)."""
    import psycopg

    for _ in range(3):  # two workers creating it at once: one of them gets a unique violation
        try:
            with engine as tx:
                tx.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
            return
        except psycopg.errors.UniqueViolation:
            continue


def _search_path(tx) -> str:
    return tx.fetchscalar("SELECT current_schema() AS v")


def test_what_each_list_needs_is_advised_and_nothing_once_it_ran(site):
    app, admin, engine = site
    pg = is_postgresql(engine)
    with app.app_context():
        dialect = dialect_of(engine)
        reports = examine(admin, engine, dialect)
        advice = {r.model_admin.slug: r.advice for r in reports}
        text = script(reports, engine, dialect)
    books = {(a.kind, a.statement) for a in advice["doc_books"]}
    create = "CREATE INDEX CONCURRENTLY IF NOT EXISTS" if pg else "CREATE INDEX IF NOT EXISTS"
    # The default order with its key (SQLite: the rowid ends every index already); each filter
    # then the order; the exact/prefix search. The date drill-down is served
    # by the order's index (its first column): not advised again.
    expected = {
        ("order", f"{create} doc_books_published_at_id_idx ON doc_books (published_at, id);"
         if pg else f"{create} doc_books_published_at_idx ON doc_books (published_at);"),
        ("filter", f"{create} doc_books_status_published_at_id_idx ON doc_books "
                   "(status, published_at, id);" if pg else
         f"{create} doc_books_status_published_at_idx ON doc_books (status, published_at);"),
        # A foreign key is a filter too (the author's page links the books by it): that index
        # serves the key's lookups as well, so no index of the key alone is advised.
        ("filter", f"{create} doc_books_author_id_published_at_id_idx ON doc_books "
                   "(author_id, published_at, id);" if pg else
         f"{create} doc_books_author_id_published_at_idx ON doc_books (author_id, published_at);"),
        ("search", f"{create} doc_books_title_idx ON doc_books (title);"),
        # The author's name, searched through the book's list: an index of the authors' table.
        ("search", f"{create} doc_authors_name_idx ON doc_authors (name);"),
    }
    if pg:  # the search for part of a word: a trigram index
        expected |= {
            ("search", f"{create} doc_books_title_trgm ON doc_books USING gin "
                       "(lower(title) gin_trgm_ops);"),
            ("search", f"{create} doc_authors_name_trgm ON doc_authors USING gin "
                       "(lower(name) gin_trgm_ops);"),
        }
    else:  # SQLite: an FTS5 trigram table over the book's own columns, and its triggers
        expected.add(("search", fts_script("doc_books", "id", ["title"])))
    assert books == expected
    assert all(a.kind != "dates" for a in advice["doc_books"])
    assert "serves the filter on status" in text and "-- doc_books (doc_books):" in text
    if pg:
        assert text.count("gin_trgm_ops") == 2  # the authors' name once, not per model
    # Run what was advised: the database takes every statement, and the doctor then finds
    # nothing missing.
    _run(engine, [a.statement for r in advice.values() for a in r])
    with app.app_context():
        after = examine(admin, engine, dialect_of(engine))
    assert [a.statement for r in after for a in r.advice] == []
    assert "nothing missing" in script(after, engine, dialect_of(engine))


def test_an_existing_index_that_serves_is_taken_into_account(site):
    app, admin, engine = site
    pg = is_postgresql(engine)
    # Descending, the other way round from the order (a B-tree is read both ways), and longer
    # than needed; the filter's index in the order's direction.
    _run(engine, ["CREATE INDEX books_by_date ON doc_books (published_at DESC, id DESC, title)",
                  "CREATE INDEX books_by_status ON doc_books (status DESC, published_at DESC)",
                  "CREATE INDEX books_by_author ON doc_books (author_id, status)"])
    with app.app_context():
        kinds = {a.kind for r in examine(admin, engine, dialect_of(engine))
                 if r.model_admin.slug == "doc_books" for a in r.advice}
    assert "order" not in kinds and "foreign key" not in kinds
    with app.app_context():
        filters = {a.statement for r in examine(admin, engine, dialect_of(engine))
                   for a in r.advice if a.kind == "filter"}
    # The author filter in the list's order is not served by (author_id, status); (status DESC,
    # published_at DESC) lacks the key on PostgreSQL, on SQLite the rowid ends it.
    assert any("(author_id, published_at" in f for f in filters)
    assert any("(status, published_at, id)" in f for f in filters) == pg
    assert not any("(status, published_at)" in f for f in filters)


def test_the_command_prints_the_script_and_check_fails_while_one_is_missing(site, capsys,
                                                                              monkeypatch):
    app, admin, engine = site
    module = types.ModuleType("doctor_site")
    module.app = app
    module.factory = lambda: app
    monkeypatch.setitem(sys.modules, "doctor_site", module)
    assert cli_main(["doctor", "--app", "doctor_site:app"]) == 0
    out = capsys.readouterr().out
    assert "doc_books_author_id_published_at" in out and out.startswith("-- hyper-admin doctor")
    assert cli_main(["doctor", "--app", "doctor_site:factory", "--check"]) == 1
    statements = [line for line in capsys.readouterr().out.splitlines()
                  if line and not line.startswith("--")]
    _run(engine, statements)
    assert cli_main(["doctor", "--app", "doctor_site:app", "--check"]) == 0
    assert "CREATE " not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli_main(["doctor"])  # --app is required


def test_a_superuser_sees_the_index_a_search_of_a_big_table_lacks(site, monkeypatch):
    app, admin, engine = site
    from hyper_admin.views import listing

    monkeypatch.setattr(listing, "SEARCH_HINT_ROWS", 20)  # 40 books make a "big" table here
    with engine as tx:
        tx.execute("ANALYZE doc_books")
    superuser = as_user(app, DocStaff({"admin"}))
    agent = as_user(app, DocStaff({"agent"}))
    html = superuser.get("/admin/doc_books/?q=book").get_data(as_text=True)
    if not is_postgresql(engine):
        # SQLite has no index for it: no hint, whatever the size.
        assert "data-search-hint" not in html
        return
    assert "data-search-hint" in html and "about 40 doc books" in html.lower()
    assert "doc_books_title_trgm" in html and "doc_authors_name_trgm" in html
    # Only for superusers, only for the plain search, only on a big table.
    assert "data-search-hint" not in agent.get("/admin/doc_books/?q=book").get_data(as_text=True)
    assert "data-search-hint" not in superuser.get(
        "/admin/doc_books/?q=%3DBook 1").get_data(as_text=True)
    monkeypatch.setattr(listing, "SEARCH_HINT_ROWS", 1000)
    assert "data-search-hint" not in superuser.get("/admin/doc_books/?q=b").get_data(as_text=True)


def test_index_keys_are_compared_as_the_database_writes_them():
    assert _normalised("lower((name)::text)") == "lower(name)"
    assert _normalised('lower("Name"::character varying)') == "lower(name)"
    assert _normalised('"Title"') == "title"
    assert _serves([("a", True), ("b", True), ("c", False)], [("a", False), ("b", False)])
    assert _serves([("a", False), ("b", True)], [("a", False), ("b", True)])
    assert not _serves([("a", False), ("b", False)], [("a", False), ("b", True)])
    assert not _serves([("b", False), ("a", False)], [("a", False)])
    assert _serves([("a", True)], [("a", False)])
    assert ExistingIndex(name="x", keys=("a",), descending=(False,)).method == "btree"


@pytest.mark.parametrize("backend", ["sqlite"])  # FTS5 is SQLite's (PostgreSQL: trigram indexes)
def test_sqlite_searches_through_an_fts5_trigram_table_when_one_exists(site, monkeypatch):
    app, admin, engine = site
    from hyper_admin import fts

    monkeypatch.setattr(fts, "FTS_TTL", 0)  # the table is made during the test
    superuser = as_user(app, DocStaff({"admin"}))

    def found(q):
        html = superuser.get(f"/admin/doc_books/?q={q}&per_page=100").get_data(as_text=True)
        return set(re.findall(r'href="/admin/doc_books/(\d+)/"', html))

    before = {q: found(q) for q in ("book 1", "BOOK 2", "ok", "zzz")}
    assert len(before["book 1"]) == 11 and before["zzz"] == set()
    _run(engine, [fts_script("doc_books", "id", ["title"])])
    assert {q: found(q) for q in before} == before  # the same rows, case-insensitively
    # Served by the FTS table: emptied, it finds nothing for a term of three characters or
    # more; a shorter term has no trigram and is still a LIKE over the table.
    with engine as tx:
        tx.execute("INSERT INTO doc_books_search(doc_books_search) VALUES ('delete-all')")
    assert found("book 1") == set() and found("ok") == before["ok"]
    with engine as tx:
        tx.execute("INSERT INTO doc_books_search(doc_books_search) VALUES ('rebuild')")
        # Its triggers keep it in step with the table.
        tx.execute("INSERT INTO doc_books (id, title, status, published_at, author_id) "
                   "VALUES (99, 'A Wizard of Earthsea', 'live', '2020-02-01 10:00:00', 1)")
        tx.execute("UPDATE doc_books SET title = 'Mort' WHERE id = 2")
    assert found("earthsea") == {"99"} and found("Mort") == {"2"}
    # A quote in the term is a character of it, not FTS5's syntax.
    assert found('book" OR "x') == set()


def test_fts5_declarations_are_read_as_sqlite_keeps_them():
    from hyper_admin.fts import match_phrase, parse_fts5

    assert parse_fts5("CREATE VIRTUAL TABLE s USING fts5(subject, \"body text\", note UNINDEXED, "
                      "content='tickets', content_rowid = 'id', tokenize = 'trigram "
                      "case_sensitive 0')") == (
        ["subject", "body text"],
        {"content": "tickets", "content_rowid": "id", "tokenize": "trigram case_sensitive 0"})
    assert parse_fts5("CREATE VIRTUAL TABLE s USING rtree(id, a, b)") is None
    assert parse_fts5("CREATE TABLE t (a)") is None
    assert match_phrase('say "hi"') == '"say ""hi"""'


@pytest.mark.parametrize("backend", ["postgresql"])  # the planner's: PostgreSQL's alone
def test_a_contains_search_that_matches_few_rows_finds_its_keys_first(site):
    """Under ORDER BY ... LIMIT the planner walks the sort's index testing every row; a term
    matching few rows then reads the whole table. With every searched column trigram-indexed,
    a probe of at most FEW_MATCHES keys decides: few, the keys first; many, as before."""
    from sqlorm.engine import Transaction

    from hyper_admin.index_advisor import FEW_MATCHES

    app, admin, engine = site
    with engine as tx:  # many books whose title holds "common", one holding "rare"
        tx.execute("INSERT INTO doc_books (id, title, status, published_at, author_id) "
                   "SELECT 100 + n, 'A common title ' || n, 'live', "
                   "TIMESTAMP '2021-01-01' + n * INTERVAL '1 minute', 1 "
                   f"FROM generate_series(1, {FEW_MATCHES + 50}) AS n")
        tx.execute("UPDATE doc_books SET title = 'A rare one' WHERE id = 7")
    superuser = as_user(app, DocStaff({"admin"}))
    statements: list[str] = []

    def capture(sender, stmt=None, **kw):
        statements.append(str(stmt))

    def search(q):
        statements.clear()
        html = superuser.get(f"/admin/doc_books/?q={q}&per_page=100").get_data(as_text=True)
        page = [s for s in statements if "ORDER BY" in s and "FROM doc_books" in s]
        return set(re.findall(r'href="/admin/doc_books/(\d+)/"', html)), page, list(statements)

    Transaction.before_execute.connect(capture, weak=False)
    try:
        plain = {q: search(q) for q in ("rare", "common", "ook 1")}
        assert not any("LIMIT 1001" in s for _, _, every in plain.values() for s in every)
        _run(engine, [a.statement for r in examine(admin, engine, dialect_of(engine))
                      for a in r.advice if a.trigram])
        from hyper_admin import index_advisor

        index_advisor.forget_indexes()  # the indexes were read before they were made
        for q, (rows, _page, _every) in plain.items():
            found, page, every = search(q)
            assert found == rows, q  # the same rows either way
            assert any(f"LIMIT {FEW_MATCHES + 1}" in s for s in every), q
            keys_first = any("= ANY(ARRAY(SELECT doc_books.id FROM doc_books" in s for s in page)
            assert keys_first == (q != "common"), q
        assert plain["rare"][0] == {"7"} and len(plain["common"][0]) == 100
        # An exact search needs no probe.
        assert not any("LIMIT 1001" in s for s in search("%3DA rare one")[2])
    finally:
        Transaction.before_execute.disconnect(capture)


@pytest.mark.parametrize("backend", ["postgresql"])  # the planner's: PostgreSQL's alone
def test_a_search_the_planner_expects_in_many_rows_is_walked_without_a_probe(site):
    """The probe reads the GIN bitmap of every match (3 ms for 14,000 tickets) to learn what
    the planner's estimate already says for a common term: past MANY_SHARE of the rows (and
    ten times FEW_MATCHES), the list walks its order at once, as it would after the probe."""
    from sqlorm.engine import Transaction

    from hyper_admin import index_advisor
    from hyper_admin.changelist import list_spec
    from hyper_admin.query import ListParams

    app, admin, engine = site
    with engine as tx:
        tx.execute("INSERT INTO doc_books (id, title, status, published_at, author_id) "
                   "SELECT 100 + n, CASE WHEN n % 2 = 0 THEN 'A common title ' ELSE 'Other ' END "
                   "|| n, 'live', TIMESTAMP '2021-01-01' + n * INTERVAL '1 minute', 1 "
                   f"FROM generate_series(1, {index_advisor.FEW_MATCHES * 30}) AS n")
        tx.execute("UPDATE doc_books SET title = 'A rare one' WHERE id = 7")
    _run(engine, [a.statement for r in examine(admin, engine, dialect_of(engine))
                  for a in r.advice if a.trigram])
    with engine as tx:
        tx.execute("ANALYZE doc_books")
    index_advisor.forget_indexes()
    statements: list[str] = []

    def capture(sender, stmt=None, **kw):
        statements.append(str(stmt))

    with app.test_request_context():
        model_admin = admin.model_admin("doc_books")
        spec = list_spec(model_admin, DocStaff({"admin"}), per_page=50, max_per_page=500,
                         secret_key="doctor")
        # The title alone: an arm through a relation is estimated at half the rows.
        spec = dataclasses.replace(spec, search=[model_admin.info.by_attribute["title"]])
        Transaction.before_execute.connect(capture)
        try:
            for q, few in (("common", False), ("rare", True)):
                statements.clear()
                params = ListParams(q=q, sort=spec.ordering)
                assert index_advisor.search_matches_few(engine, dialect_of(engine), spec,
                                                        params) is few, q
                assert any(s.startswith("EXPLAIN") for s in statements), q
                probed = any(f"LIMIT {index_advisor.FEW_MATCHES + 1}" in s for s in statements)
                assert probed is few, q  # a common term needs no probe
        finally:
            Transaction.before_execute.disconnect(capture)


def test_the_command_says_when_no_admin_is_mounted(capsys, monkeypatch):
    module = types.ModuleType("doctor_bare")
    module.app = Flask("bare")
    monkeypatch.setitem(sys.modules, "doctor_bare", module)
    for command in ("doctor", "migrate"):
        assert cli_main([command, "--app", "doctor_bare:app"]) == 2
        assert f"hyper-admin {command}: no hyper_admin Admin is mounted" in capsys.readouterr().err
