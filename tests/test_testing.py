"""hyper_admin.testing: the AdminClient and the pytest plugin apps get with hyper_admin."""

import subprocess
import sys
import textwrap

import pytest

from apps import Customer, Invoice, create_app, create_schema, members
from hyper_admin.testing import AdminClient, parse_forms


@pytest.fixture
def site(engine):
    create_schema(engine)
    with engine:
        for i in range(5):
            Customer.create(name=f"Customer {i}", email=f"c{i}@example.com")
    app, _ = create_app(engine, access_roles={"support", "viewer"})
    return app, members(engine), engine


def test_list_reads_rows_keys_count_and_next_page(site):
    app, people, _ = site
    page = AdminClient(app).login_as(people["root"]).list(Customer, sort="name", per_page=2)
    assert page.status == 200
    assert page.rows == [{"ID": "1", "Name": "Customer 0", "Email": "c0@example.com"},
                         {"ID": "2", "Name": "Customer 1", "Email": "c1@example.com"}]
    assert page.pks == ["1", "2"] and page.count == 5 and page.count_text == "5 customers"
    assert page.next_url.startswith("/admin/customers/?sort=name&per_page=2&")
    filtered = AdminClient(app).login_as(people["root"]).list("customers", q="Customer 3")
    assert [r["Name"] for r in filtered.rows] == ["Customer 3"] and filtered.count == 1


def test_create_and_edit_post_the_form_as_a_browser(site):
    app, people, engine = site
    client = AdminClient(app).login_as(people["root"])
    created = client.create(Customer, name="Ada", email="ada@example.com")
    assert created.ok and created.pk == "6"
    assert client.detail(Customer, created.pk).fields["Name"] == "Ada"
    edited = client.edit(Customer, created.pk, email="ada@lovelace.org")
    assert edited.status == 303 and edited.pk == "6"
    with engine:
        assert Customer.get(6).email == "ada@lovelace.org"
    invalid = client.create(Invoice, customer_id="999", amount="lots")
    assert invalid.status == 422 and not invalid.ok and invalid.pk is None
    assert invalid.errors == {"amount": ["Not a valid integer value.",
                                         "Number must be between -2147483648 and 2147483647."]}
    # The table's REFERENCES makes customer_id a foreign key: a key that names no customer is
    # refused on its field before the database would.
    missing = client.create(Invoice, customer_id="999", amount=5)
    assert missing.status == 422 and missing.pk is None
    assert missing.errors == {"customer_id": ["Choose an existing customer."]}


def test_posts_without_a_token_are_refused_and_the_client_adds_one(site):
    app, people, _ = site
    client = AdminClient(app).login_as(people["root"])
    assert client.client.post("/admin/customers/1/delete").status_code == 400
    assert client.delete(Customer, 1).status_code == 303
    assert client.detail(Customer, 1).status == 404


def test_permission_assertions(site):
    app, people, _ = site
    client = AdminClient(app)
    client.assert_can(people["agent"], "view", Customer)
    client.assert_can(people["agent"], "view", Invoice)
    client.assert_cannot(people["agent"], "change", Customer)
    client.assert_cannot(people["agent"], "add", Customer)
    client.assert_can(people["reader"], "view", Customer, pk=1)
    client.assert_cannot(people["reader"], "view", Invoice)
    client.assert_cannot(people["nobody"], "view", Customer)
    client.assert_cannot(None, "view", Customer)  # not signed in: sent to the sign-in page
    client.assert_can(people["root"], "delete", Customer)
    client.assert_cannot(people["root"], "view", Customer, pk=999)
    with pytest.raises(AssertionError, match="may not change customers"):
        client.assert_can(people["agent"], "change", Customer)
    with pytest.raises(AssertionError, match="may view customers"):
        client.assert_cannot(people["root"], "view", Customer)


def test_parse_forms_reads_what_a_browser_posts():
    html = """<form method="post" action="/x"><input type="hidden" name="csrf_token" value="t">
      <input name="a" value="1"><input type="checkbox" name="b" value="y" checked>
      <input type="checkbox" name="c"><select name="s"><option value="1">1</option>
      <option value="2" selected>2</option></select><textarea name="t">
hello</textarea><button type="submit" name="go">Go</button></form><form method="get"></form>"""
    post, get = parse_forms(html)
    assert (post.method, post.action, get.method) == ("post", "/x", "get")
    assert post.data == {"csrf_token": "t", "a": "1", "b": "y", "s": "2", "t": "hello"}


def test_importing_the_plugin_imports_nothing_heavy():
    code = ("import sys, hyper_admin.testing; "
            "print(sorted(m for m in ('flask', 'sqlorm', 'wtforms', 'hyper_admin.site') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_plugin_gives_a_fresh_test_module_its_fixture(tmp_path):
    """A project that only installs hyper_admin: pytest loads the plugin from its entry point
    and ``admin_client`` is built from the project's ``app`` fixture."""
    (tmp_path / "conftest.py").write_text(textwrap.dedent("""
        import pytest
        from flask import Flask
        from flask_login import LoginManager, UserMixin
        from sqlorm import Engine
        from hyper_admin import Admin

        class User(UserMixin):
            def __init__(self, id, roles):
                self.id, self.roles = id, roles

        USERS = {"1": User("1", {"admin"}), "2": User("2", set())}

        @pytest.fixture
        def app(tmp_path):
            app = Flask(__name__)
            app.config.update(SECRET_KEY="s", TESTING=True)
            LoginManager(app).user_loader(USERS.get)
            Admin(app, engine=Engine.from_uri(f"sqlite://{tmp_path / 'db.sqlite'}"))
            return app
    """))
    (tmp_path / "test_admin.py").write_text(textwrap.dedent("""
        from conftest import USERS

        def test_dashboard(admin_client):
            assert admin_client.get("/admin/").status_code == 401  # nobody signed in, no login view
            admin_client.login_as(USERS["1"])
            assert admin_client.get("/admin/").status_code == 200
            admin_client.login_as(USERS["2"])
            assert admin_client.get("/admin/").status_code == 403
    """))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--rootdir", str(tmp_path), str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_app_context_receivers_dropped_keeps_earlier_apps_out_of_later_ones(tmp_path):
    """flask-sqlorm pushes a session of its database on every app's context, forever: an app of
    an earlier test would put its database under the next test's queries (which one ends on
    top is up to blinker's set order). Inside the helper, an app's receivers go with it."""
    from flask import Flask
    from flask_sqlorm import FlaskSQLORM
    from sqlorm.engine import session_context

    from hyper_admin.testing import app_context_receivers_dropped

    def engines_in_context_of(app) -> list:
        with app.app_context():
            return [session.engine for session in session_context.stack]

    with app_context_receivers_dropped():
        leaked = FlaskSQLORM(Flask("leaked"), f"sqlite://{tmp_path / 'leaked.db'}")
        before = FlaskSQLORM(Flask("before"), f"sqlite://{tmp_path / 'before.db'}")
        # What the helper prevents: the other app's session comes along in this app's context.
        assert leaked.engine in engines_in_context_of(before.app)
    later = FlaskSQLORM(Flask("later"), f"sqlite://{tmp_path / 'later.db'}")
    engines = engines_in_context_of(later.app)
    assert later.engine in engines
    assert leaked.engine not in engines and before.engine not in engines
