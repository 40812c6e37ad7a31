"""The cached page shell (hyper_admin/views/shell.py): a full page put together from the cached
shell and the screen's main.html is the page the layout renders whole, and what the shell
shows follows at once who asks, their permissions, their language and flashed messages."""

import re

import pytest
from flask import flash

from apps import Customer, Invoice, Member, create_app, create_schema, members
from hyper_admin.testing import AdminClient
from hyper_admin.views import shell


@pytest.fixture
def site(engine):
    create_schema(engine)
    with engine:
        customer = Customer.create(name="Ada", email="ada@example.com")
        Invoice.create(customer_id=customer.id, amount=120)
    app, _ = create_app(engine, access_roles={"support", "viewer"})

    @app.get("/flash-something")
    def flash_something():
        flash("Hello from the host", "success")
        return ""

    shell.shells.clear()
    yield app, engine, customer.id
    shell.shells.clear()


def client_for(app, engine, username: str) -> AdminClient:
    return AdminClient(app).login_as(members(engine)[username])


def normalized(html: str) -> str:
    """The page without the whitespace between tags (the shell's pieces are joined without
    the layout's indentation)."""
    return re.sub(r">\s+<", "><", html).strip()


def nav_labels(html: str) -> list[str]:
    nav = re.search(r'<nav id="nav".*?</nav>', html, re.S).group(0)
    return re.findall(r'<span class="truncate">([^<]+)</span>', nav)


PAGES = [
    "/admin/",
    "/admin/customers/",
    "/admin/customers/?sort=-name&q=Ad",
    "/admin/customers/{pk}/",
    "/admin/customers/{pk}/edit",
    "/admin/customers/new",
    "/admin/customers/{pk}/delete",
    "/admin/customers/{pk}/history",
    "/admin/customers/999999/",  # the error page, whose screen has its own title block
]


def test_every_screen_in_the_cached_shell_is_the_page_rendered_whole(site, monkeypatch):
    app, engine, pk = site
    client = client_for(app, engine, "root")
    for path in PAGES:
        path = path.format(pk=pk)
        cached = client.get(path)
        with monkeypatch.context() as patched:
            patched.setattr("hyper_admin.views.render.shell_applies", lambda: False)
            whole = client.get(path)
        assert cached.status_code == whole.status_code, path
        assert normalized(cached.get_data(as_text=True)) == normalized(whole.get_data(as_text=True)), path
    # The shell was cached (one per current endpoint, the only part of the key that changed),
    # and reused: nine pages, fewer shells.
    assert 0 < len(shell.shells._items) < len(PAGES)
    not_found = client.get("/admin/customers/999999/").get_data(as_text=True)
    assert re.search(r"<title>404 [^<]+ · ", not_found)


def test_the_same_page_twice_renders_the_shell_once(site, monkeypatch):
    app, engine, _ = site
    client = client_for(app, engine, "root")
    rendered = []
    real = shell.render_template_blocks

    def counting(names, context):
        rendered.append(list(names))
        return real(names, context)

    monkeypatch.setattr(shell, "render_template_blocks", counting)
    first = client.get("/admin/customers/").get_data(as_text=True)
    second = client.get("/admin/customers/").get_data(as_text=True)
    assert first == second
    assert rendered.count([shell.SHELL_TEMPLATE]) == 1
    assert rendered.count(["hyper_admin/list.html"]) == 2


def test_each_user_gets_their_own_menu_and_navigation(site):
    app, engine, _ = site
    root = client_for(app, engine, "root").get("/admin/customers/").get_data(as_text=True)
    agent = client_for(app, engine, "agent").get("/admin/customers/").get_data(as_text=True)
    reader = client_for(app, engine, "reader").get("/admin/customers/").get_data(as_text=True)
    assert ">Root<" in root and ">Agent<" in agent and ">Reader<" in reader
    assert ">Root<" not in agent and ">Agent<" not in reader
    assert nav_labels(agent) == ["Customers", "Invoices"]
    assert nav_labels(reader) == ["Customers"]


def test_a_permission_change_shows_in_the_navigation_on_the_next_page(site):
    app, engine, _ = site
    client = client_for(app, engine, "agent")
    assert nav_labels(client.get("/admin/customers/").get_data(as_text=True)) == ["Customers", "Invoices"]
    with engine:
        agent = Member.find_one(username="agent")
        agent.roles_csv = "viewer"
        agent.save()
    page = client.get("/admin/customers/").get_data(as_text=True)
    assert nav_labels(page) == ["Customers"]
    assert "badge-ghost badge-sm\">viewer<" in page and ">support<" not in page


def test_the_language_is_part_of_the_shell(site):
    app, engine, _ = site
    client = client_for(app, engine, "root")
    french = client.get("/admin/customers/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    english = client.get("/admin/customers/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="fr">' in french and "Se déconnecter" in french
    assert '<html lang="en">' in english and "Sign out" in english and "Se déconnecter" not in english


def test_flashed_messages_are_shown_once_in_the_toasts(site):
    app, engine, _ = site
    client = client_for(app, engine, "root")
    client.get("/admin/customers/")  # the shell is cached without toasts
    client.client.get("/flash-something")
    page = client.get("/admin/customers/").get_data(as_text=True)
    toasts = re.search(r'<div id="toasts".*?</div>\s*<template', page, re.S).group(0)
    assert "Hello from the host" in toasts
    assert "Hello from the host" not in client.get("/admin/customers/").get_data(as_text=True)


def host_page(engine, tmp_path, templates: dict[str, str]) -> str:
    """The customers list of an app whose templates/ folder holds ``templates``."""
    create_schema(engine)
    for name, source in templates.items():
        path = tmp_path / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    app, _ = create_app(engine)
    app.template_folder = str(tmp_path / "templates")
    shell.shells.clear()
    return client_for(app, engine, "root").get("/admin/customers/").get_data(as_text=True)


def test_an_overridden_layout_is_rendered_whole_on_every_page(engine, tmp_path):
    page = host_page(engine, tmp_path, {"hyper_admin/layout.html": (
        '{% extends "hyper_admin_original/layout.html" %}'
        "{% block body_attrs %}{{ super() }} data-host-layout{% endblock %}")})
    assert "data-host-layout" in page and '<main id="main"' in page
    assert not shell.shells._items


def test_a_screen_with_its_own_head_block_is_rendered_whole(engine, tmp_path):
    page = host_page(engine, tmp_path, {"hyper_admin/customers/list.html": (
        '{% extends "hyper_admin_original/list.html" %}'
        '{% block head %}<link rel="stylesheet" href="/host.css" data-host-head>{% endblock %}')})
    head = page[: page.index("</head>")]
    assert "data-host-head" in head
    assert page.count('<main id="main"') == 1


def test_a_csp_nonce_from_the_applications_context_processor_is_each_pages_own(site):
    import secrets

    from flask import g

    app, engine, _ = site

    def nonce():
        if "nonce" not in g:
            g.nonce = secrets.token_urlsafe(8)
        return g.nonce

    @app.context_processor
    def csp():
        return {"csp_nonce": nonce()}

    @app.after_request
    def header(response):
        response.headers["X-Test-Nonce"] = nonce()
        return response

    client = client_for(app, engine, "root")
    seen = []
    for _ in range(3):
        response = client.get("/admin/customers/")
        page = response.get_data(as_text=True)
        # Every script the page runs (theme.js first, before paint) carries the nonce.
        scripts = re.findall(r"<script src=[^>]*>", page)
        assert "theme.js" in scripts[0] and len(scripts) >= 2
        nonces = {re.search(r' nonce="([^"]+)"', tag).group(1) for tag in scripts}
        assert nonces == {response.headers["X-Test-Nonce"]}
        seen.append(nonces.pop())
    assert len(set(seen)) == 3
    assert not shell.shells._items  # never reused, so never kept


def test_without_a_nonce_the_theme_script_has_none(site):
    app, engine, _ = site
    page = client_for(app, engine, "root").get("/admin/customers/").get_data(as_text=True)
    assert re.search(r'<script src="[^"]*/theme\.js\?v=\w+"></script>', page)
    assert "nonce=" not in page


def test_no_page_has_an_inline_script(site):
    # The CSP allows no inline script: every <script> is a file, or a JSON data block.
    app, engine, _ = site
    client = client_for(app, engine, "root")
    pages = {url: client.get(url).get_data(as_text=True)
             for url in ("/admin/", "/admin/customers/", "/admin/customers/new")}
    pages["/admin/login"] = app.test_client().get("/admin/login").get_data(as_text=True)
    for url, page in pages.items():
        scripts = re.findall(r"<script\b[^>]*>", page)
        assert any("theme.js" in tag for tag in scripts), url
        for tag in scripts:
            assert " src=" in tag or 'type="application/json"' in tag, (url, tag)
