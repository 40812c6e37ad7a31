"""Testing an application's admin: ``AdminClient`` and a pytest plugin.

``AdminClient`` wraps Flask's test client and talks to the admin the way a browser does: it
signs a user in through flask-login's session, reads the pages, and posts forms back with
their hidden fields (CSRF token, the edit form's ``_version``).

    from hyper_admin.testing import AdminClient

    client = AdminClient(app).login_as(user)
    page = client.list(Order, status="paid", sort="-total")
    assert page.status == 200 and page.rows[0]["Reference"] == "ORD-000042"
    created = client.create(Customer, name="Ada", email="ada@example.com")
    assert created.status == 303 and created.pk == "17"

The pytest plugin (registered under the ``pytest11`` entry point, so installed with
hyper_admin) adds one fixture, ``admin_client``, built from the ``app`` fixture your tests
define. Nothing else happens when pytest loads it: Flask, sqlorm and the admin are imported
the first time a test uses the fixture.
"""

from __future__ import annotations

import contextlib
import re
import typing as t
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest

__all__ = ["AdminClient", "ListPage", "DetailPage", "FormResult", "parse_forms", "admin_client",
           "app_context_receivers_dropped"]

#: Statuses that mean "allowed": the page (200), the redirect after a write (303).
ALLOWED = (200, 303)
#: Statuses that mean "not allowed": sent to sign in (302, or 401 without a login view),
#: forbidden, or hidden as if it did not exist.
DENIED = (302, 401, 403, 404)


# ---------------------------------------------------------------------------------------------
# Reading pages


@dataclass
class HtmlForm:
    """One ``<form>`` of a page: its method and action, and the values a browser would post."""

    method: str
    action: str | None
    data: dict[str, t.Any]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._select: str | None = None
        self._select_multiple = False
        self._first_option: str | None = None
        self._textarea: str | None = None

    def _put(self, name: str, value: str, multiple: bool = False) -> None:
        data = self._form.data
        if multiple:
            data.setdefault(name, [])
            if not isinstance(data[name], list):
                data[name] = [data[name]]
            data[name].append(value)
        else:
            data[name] = value

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = HtmlForm((a.get("method") or "get").lower(), a.get("action"), {})
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._put(name, a.get("value") or "on", multiple=kind == "checkbox"
                              and name in self._form.data)
            elif kind not in ("submit", "button", "image", "reset", "file"):
                # Inputs sharing a name are all posted (a range's two bounds).
                self._put(name, a.get("value") or "", multiple=name in self._form.data)
        elif tag == "select" and name:
            self._select, self._first_option = name, None
            self._select_multiple = "multiple" in a
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None and not self._select_multiple:
                self._first_option = value
                self._form.data.setdefault(self._select, value)
            if "selected" in a:
                self._put(self._select, value, multiple=self._select_multiple)
        elif tag == "textarea" and name:
            self._textarea = name
            self._form.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form.data[self._textarea] += data


def parse_forms(html: str) -> list[HtmlForm]:
    """Every form of a page, with the values a browser would submit for it as it stands
    (checked boxes, selected options, textareas without the newline after their tag)."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    for form in parser.forms:
        for name, value in form.data.items():
            if isinstance(value, str) and value.startswith(("\r\n", "\n")):
                # HTML drops the line break that opens a textarea (WTForms writes "\r\n").
                form.data[name] = value[2:] if value.startswith("\r\n") else value[1:]
    return parser.forms


def _text(fragment: str) -> str:
    """The text of an HTML fragment, whitespace collapsed."""

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data):
            self.parts.append(data)

    collect = Collect()
    collect.feed(fragment)
    return " ".join(" ".join(collect.parts).split())


def _cells(row_html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", row_html, re.S)


@dataclass
class ListPage:
    """One page of a model's list, as the user sees it."""

    response: t.Any
    status: int
    #: One dict per row: column heading -> the cell's text.
    rows: list[dict[str, str]] = field(default_factory=list)
    #: Each row's primary key as the URL writes it (``"5"``, ``"3,7"`` for composite keys).
    pks: list[str] = field(default_factory=list)
    #: How many rows the list matches, when it says so exactly (else None; see count_text).
    count: int | None = None
    count_text: str = ""
    next_url: str | None = None
    html: str = ""


@dataclass
class DetailPage:
    response: t.Any
    status: int
    #: Field label -> the shown value's text.
    fields: dict[str, str] = field(default_factory=dict)
    html: str = ""


@dataclass
class FormResult:
    """What a form post answered: the response, and on success the row's key."""

    response: t.Any
    status: int
    #: The created or saved row's key as the URL writes it (None unless the post succeeded).
    pk: str | None = None
    #: Field name -> its error messages, when the form came back invalid (422, 409).
    errors: dict[str, list[str]] = field(default_factory=dict)
    html: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 303


# ---------------------------------------------------------------------------------------------
# The client


class AdminClient:
    """A browser-like client for one admin of an application.

    ``AdminClient(app)`` uses the application's only admin (``prefix=`` picks one of several
    by its URL prefix). ``client`` is a Flask test client to reuse (a new one by default).
    """

    def __init__(self, app, client=None, *, prefix: str | None = None) -> None:
        self.app = app
        self.client = client if client is not None else app.test_client()
        states = list(app.extensions.get("hyper_admin", {}).values())
        if prefix is not None:
            states = [s for s in states if s.url_prefix.rstrip("/") == prefix.rstrip("/")]
        if len(states) != 1:
            raise LookupError(
                "AdminClient needs exactly one admin on the app; "
                f"found {len(states)} (give prefix= to choose)")
        self.state = states[0]
        self.prefix = self.state.url_prefix.rstrip("/")
        self.user = None

    # -- who ----------------------------------------------------------------------------------

    def login_as(self, user) -> "AdminClient":
        """Sign ``user`` in (flask-login's session keys: ``user.get_id()``); None signs out.
        Returns the client, so that ``AdminClient(app).login_as(user).list(...)`` reads."""
        with self.client.session_transaction() as session:
            session.clear()
            if user is not None:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
        self.user = user
        return self

    def logout(self) -> "AdminClient":
        return self.login_as(None)

    # -- addresses ----------------------------------------------------------------------------

    def slug(self, model_or_slug) -> str:
        if isinstance(model_or_slug, str):
            return model_or_slug
        return self.state.admin.model_admin(model_or_slug).slug

    def url(self, model_or_slug=None, pk=None, screen: str = "", **query) -> str:
        """``/admin/``, ``/admin/<slug>/``, ``/admin/<slug>/<pk>/`` or ``.../<screen>``,
        with ``query`` as its query string (lists repeat their key)."""
        path = self.prefix + "/"
        if model_or_slug is not None:
            path += self.slug(model_or_slug) + "/"
            if pk is not None:
                path += self._pk_segment(pk) + "/"
            if screen:
                path = path + screen if pk is None else path.rstrip("/") + "/" + screen
        if query:
            path += "?" + urlencode(query, doseq=True)
        return path

    @staticmethod
    def _pk_segment(pk) -> str:
        """The key as the admin's URLs write it: a tuple of a composite key's values, a
        value, or the key's text (``"3,7"``, as ``ListPage.pks`` holds it)."""
        from .cells import pk_segment, url_pk

        if isinstance(pk, str):
            return pk_segment(pk)
        return url_pk(tuple(pk) if isinstance(pk, (tuple, list)) else (pk,))

    @staticmethod
    def _pk_text(pk) -> str:
        """The key as a list's selection posts it (``pk=``): a tuple's values each quoted, a
        text as given."""
        from .cells import encode_pk

        if isinstance(pk, str):
            return pk
        return encode_pk(tuple(pk) if isinstance(pk, (tuple, list)) else (pk,))

    # -- requests -----------------------------------------------------------------------------

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        """POST with a CSRF token added when ``data`` has none (read from the dashboard)."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.client.post(path, data=data, **kwargs)

    def csrf_token(self) -> str:
        page = self.client.get(self.prefix + "/").get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        if match is None:
            raise AssertionError("no CSRF token: is the user signed in and allowed in the admin?")
        return match.group(1)

    def list(self, model_or_slug, **query) -> ListPage:
        """GET the list with ``query`` as its query string (``q=``, ``sort=``, filters such as
        ``status="paid"`` or ``total__gte=100``, ``per_page=``): the rows as shown."""
        response = self.client.get(self.url(model_or_slug, **query))
        page = ListPage(response, response.status_code, html=response.get_data(as_text=True))
        if page.status != 200:
            return page
        html = page.html
        headers = [_text(h) for h in _cells(html.split("<thead>", 1)[-1].split("</thead>", 1)[0], "th")]
        body = html.split('<tbody class="ha-rows">', 1)[-1].split("</tbody>", 1)[0] \
            if '<tbody class="ha-rows">' in html else ""
        for row in re.findall(r"<tr\b[^>]*>(.*?)</tr>", body, re.S):
            cells = [_text(c) for c in _cells(row, "td")]
            # The selection checkbox's column has no heading: zip drops nothing, `if h` it.
            page.rows.append({h: c for h, c in zip(headers, cells) if h})
            key = re.search(r'name="pk" value="([^"!]+)', row) or re.search(
                rf'href="{re.escape(self.prefix)}/{re.escape(self.slug(model_or_slug))}/([^/"]+)/"', row)
            page.pks.append(_unquote(key.group(1)) if key else "")
        count = re.search(r'<span id="list-count"([^>]*)>(.*?)</span>', html, re.S)
        if count and "hx-get" in count.group(1):
            # Counted after the rows, in a request of its own (as the browser does).
            url = re.search(r'hx-get="([^"]+)"', count.group(1)).group(1).replace("&amp;", "&")
            count = re.search(r'<span id="list-count"([^>]*)>(.*?)</span>',
                              self.client.get(url).get_data(as_text=True), re.S)
        if count:
            page.count_text = _text(count.group(2))
            exact = re.match(r"([\d,]+) ", page.count_text + " ")
            if exact and "about" not in page.count_text and "more than" not in page.count_text:
                page.count = int(exact.group(1).replace(",", ""))
        nxt = re.search(r'<a href="([^"]+)" rel="next"', html)
        page.next_url = nxt.group(1).replace("&amp;", "&") if nxt else None
        return page

    def detail(self, model_or_slug, pk) -> DetailPage:
        response = self.client.get(self.url(model_or_slug, pk))
        page = DetailPage(response, response.status_code, html=response.get_data(as_text=True))
        if page.status == 200:
            pairs = re.findall(r"<dt\b[^>]*>(.*?)</dt>\s*<dd\b[^>]*>(.*?)</dd>", page.html, re.S)
            page.fields = {_text(k): _text(v) for k, v in pairs}
        return page

    def create(self, model_or_slug, **fields) -> FormResult:
        """Open the create form, fill ``fields`` (attribute names), submit it as a browser."""
        return self._submit(self.url(model_or_slug, screen="new"), fields)

    def edit(self, model_or_slug, pk, **fields) -> FormResult:
        """Open the edit form of row ``pk``, change ``fields``, submit it (with the form's
        ``_version``, so a row changed since is a 409 like in a browser)."""
        return self._submit(self.url(model_or_slug, pk, "edit"), fields)

    def delete(self, model_or_slug, pk):
        """POST the delete confirmation of row ``pk``; the response (303 when deleted)."""
        return self.post(self.url(model_or_slug, pk, "delete"))

    def action(self, model_or_slug, name: str, pks: t.Iterable[t.Any], *, confirmed: bool = True,
               **extra):
        """POST a bulk or custom action (``"delete"`` or an action's name) on the rows
        ``pks``, confirmed unless ``confirmed=False`` (then a confirmation page is 200)."""
        data = {"action": name, "pk": [self._pk_text(pk) for pk in pks], **extra}
        if confirmed:
            data["confirmed"] = "1"
        return self.post(self.url(model_or_slug, screen="action"), data)

    def form(self, path: str) -> tuple[t.Any, dict[str, t.Any]]:
        """GET ``path`` and return (response, the values its form would post)."""
        response = self.client.get(path)
        forms = [f for f in parse_forms(response.get_data(as_text=True)) if f.method == "post"]
        target = urlsplit(path).path
        chosen = [f for f in forms if f.action and urlsplit(f.action).path == target]
        data = dict((chosen or forms or [HtmlForm("post", None, {})])[0].data)
        return response, data

    def _submit(self, path: str, fields: dict[str, t.Any]) -> FormResult:
        response, data = self.form(path)
        if response.status_code != 200:
            return FormResult(response, response.status_code)
        for name, value in fields.items():
            if value is None:
                data[name] = ""
            elif value is True:
                data[name] = "y"
            elif value is False:
                data.pop(name, None)  # an unchecked box is not posted
            elif isinstance(value, tuple) and value and hasattr(value[0], "read"):
                data[name] = value  # a file: (stream, filename), posted as multipart
            elif isinstance(value, (list, tuple)):
                data[name] = [_form_text(v) for v in value]
            else:
                data[name] = _form_text(value)
        response = self.client.post(path, data=data)
        result = FormResult(response, response.status_code, html=response.get_data(as_text=True))
        location = response.headers.get("Location", "")
        if result.ok and location:
            key = re.match(rf"{re.escape(self.prefix)}/[^/]+/([^/]+)/$", urlsplit(location).path)
            result.pk = _unquote(key.group(1)) if key else None
        elif not result.ok:
            result.errors = _form_errors(result.html)
        return result

    # -- permissions --------------------------------------------------------------------------

    def can(self, action: str, model_or_slug, pk=None) -> bool:
        """Whether the signed-in user may do ``action`` on the model (or row ``pk``), asked
        the way the screens answer it, without changing anything: ``view`` (the list, or the
        row's detail), ``add`` (the create form), ``change``/``delete`` (the row's edit form
        or delete confirmation; the first listed row when no ``pk`` is given), ``export``, or
        a custom action's name (posted with no row selected)."""
        if action in ("change", "delete") and pk is None:
            listed = self.list(model_or_slug, per_page=1)
            if listed.status != 200:
                return self._judge(listed.response)
            if not listed.pks:
                raise AssertionError(f"no row to try {action!r} on: give pk=")
            pk = listed.pks[0]
        if action == "view":
            response = self.client.get(self.url(model_or_slug, pk))
        elif action == "add":
            response = self.client.get(self.url(model_or_slug, screen="new"))
        elif action in ("change", "delete"):
            response = self.client.get(self.url(model_or_slug, pk, "edit" if action == "change" else "delete"))
        elif action == "export":
            response = self.client.get(self.url(model_or_slug, screen="export", format="csv"))
        else:
            listed = self.client.get(self.url(model_or_slug))
            if listed.status_code != 200:
                return self._judge(listed)
            response = self.post(self.url(model_or_slug, screen="action"), {"action": action})
        return self._judge(response)

    @staticmethod
    def _judge(response) -> bool:
        if response.status_code in ALLOWED:
            return True
        if response.status_code in DENIED:
            return False
        raise AssertionError(f"{response.request.path}: unexpected status {response.status_code}")

    def assert_can(self, user, action: str, model_or_slug, pk=None) -> None:
        """Sign ``user`` in and assert they may do ``action`` (see ``can``)."""
        self.login_as(user)
        assert self.can(action, model_or_slug, pk), \
            f"{_who(user)} may not {action} {self.slug(model_or_slug)}{'/' + str(pk) if pk else ''}"

    def assert_cannot(self, user, action: str, model_or_slug, pk=None) -> None:
        """Sign ``user`` in and assert they may not do ``action`` (403 or 404)."""
        self.login_as(user)
        assert not self.can(action, model_or_slug, pk), \
            f"{_who(user)} may {action} {self.slug(model_or_slug)}{'/' + str(pk) if pk else ''}"


def _who(user) -> str:
    return "nobody" if user is None else repr(getattr(user, "username", None) or user.get_id())


def _form_text(value) -> str:
    if hasattr(value, "isoformat") and not isinstance(value, str):
        text = value.isoformat()
        return text[:16] if "T" in text and len(text) > 16 else text  # datetime-local
    return str(value)


def _unquote(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text)


def _form_errors(html: str) -> dict[str, list[str]]:
    """The messages the form shows under each field (its ``<ul id="<field>-error">``)."""
    errors: dict[str, list[str]] = {}
    for name, body in re.findall(r'<fieldset\b[^>]*data-field="([^"]+)"[^>]*>(.*?)</fieldset>',
                                 html, re.S):
        listed = re.search(r'<ul\b[^>]*id="[^"]*-error"[^>]*>(.*?)</ul>', body, re.S)
        if listed:
            errors[name] = [_text(item) for item in _cells(listed.group(1), "li")]
    return errors


# ---------------------------------------------------------------------------------------------
# One app per test


@contextlib.contextmanager
def app_context_receivers_dropped() -> t.Iterator[None]:
    """Disconnect, on exit, the Flask app-context receivers connected meanwhile.

    flask-sqlorm's ``init_app`` connects receivers to ``appcontext_pushed`` and
    ``appcontext_tearing_down`` for every app (not only its own) and never disconnects them:
    each pushes its database session whenever any app's context is pushed. A test run that
    creates an app per test piles them up, and blinker calls them in no fixed order, so that a
    later test's queries may go to an earlier test's database. Wrap each test, or each fixture
    that creates apps, in this (see docs/testing.md).
    """
    import weakref

    from flask import appcontext_pushed, appcontext_tearing_down

    signals = (appcontext_pushed, appcontext_tearing_down)
    before = {signal: set(signal.receivers) for signal in signals}
    try:
        yield
    finally:
        for signal, known in before.items():
            for key in set(signal.receivers) - known:
                receiver = signal.receivers[key]
                if isinstance(receiver, weakref.ref):
                    receiver = receiver()
                if receiver is not None:
                    signal.disconnect(receiver)


# ---------------------------------------------------------------------------------------------
# pytest plugin


@pytest.fixture
def admin_client(request):
    """An ``AdminClient`` for the ``app`` fixture your tests define (no one signed in)."""
    app = request.getfixturevalue("app")
    return AdminClient(app)
