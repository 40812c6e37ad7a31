"""hyper_admin/htmx.py's response helpers, and that no other module writes an HX-* header."""

import json
import re
from pathlib import Path

import pytest
from flask import Response

from hyper_admin import htmx

PACKAGE = Path(htmx.__file__).resolve().parent


def test_push_url_sets_the_url_or_false():
    assert htmx.push_url(Response(), "/admin/orders/?sort=total").headers["HX-Push-Url"] \
        == "/admin/orders/?sort=total"
    assert htmx.push_url(Response(), False).headers["HX-Push-Url"] == "false"


def test_replace_url_sets_the_url_or_false():
    assert htmx.replace_url(Response(), "/admin/orders/?page=2").headers["HX-Replace-Url"] \
        == "/admin/orders/?page=2"
    assert htmx.replace_url(Response(), False).headers["HX-Replace-Url"] == "false"


def test_a_non_ascii_url_is_percent_encoded_for_the_header():
    # A string primary key in the path: headers are Latin-1, browsers read UTF-8 escapes.
    response = htmx.push_url(Response(), "/admin/tags/日本/?q=café")
    assert response.headers["HX-Push-Url"] == "/admin/tags/%E6%97%A5%E6%9C%AC/?q=caf%C3%A9"


def test_a_url_cannot_split_the_header():
    value = htmx.push_url(Response(), "/admin/x\r\nSet-Cookie: a=b").headers["HX-Push-Url"]
    assert "\r" not in value and "\n" not in value


def test_location_is_json_with_only_the_options_given():
    response = htmx.location(Response(), "/admin/orders/7", target="#main",
                             swap="outerHTML show:window:top")
    assert json.loads(response.headers["HX-Location"]) == {
        "path": "/admin/orders/7", "target": "#main", "swap": "outerHTML show:window:top"}
    assert json.loads(htmx.location(Response(), "/admin/").headers["HX-Location"]) \
        == {"path": "/admin/"}


def test_location_takes_every_option_htmx_knows():
    response = htmx.location(Response(), "/a", source="#s", event="click", target="#t",
                             swap="innerHTML", select="#part", values={"n": 1},
                             headers={"X-Extra": "1"})
    assert json.loads(response.headers["HX-Location"]) == {
        "path": "/a", "source": "#s", "event": "click", "target": "#t", "swap": "innerHTML",
        "select": "#part", "values": {"n": 1}, "headers": {"X-Extra": "1"}}


def test_location_escapes_the_url_inside_its_json():
    url = '/admin/notes/?q=say "hi" \\ bye&next=/admin/'
    header = htmx.location(Response(), url, target="#main").headers["HX-Location"]
    assert json.loads(header)["path"] == url  # quotes and backslash escaped, not breaking out
    assert header.count('"path"') == 1 and '"target": "#main"' in header


def test_location_of_a_non_ascii_url_is_ascii_json():
    header = htmx.location(Response(), "/admin/tags/été/").headers["HX-Location"]
    assert header.isascii()
    assert json.loads(header)["path"] == "/admin/tags/%C3%A9t%C3%A9/"


def test_client_redirect_is_an_empty_response_with_hx_redirect():
    response = htmx.client_redirect("/admin/login?next=/admin/", status=401)
    assert response.status_code == 401 and response.get_data() == b""
    assert response.headers["HX-Redirect"] == "/admin/login?next=/admin/"


def test_redirect_and_refresh_set_their_headers():
    assert htmx.redirect(Response(), "/admin/").headers["HX-Redirect"] == "/admin/"
    assert htmx.refresh(Response()).headers["HX-Refresh"] == "true"


def test_retarget_reswap_reselect():
    response = htmx.reselect(htmx.reswap(htmx.retarget(Response(), "#main"), "outerHTML"),
                             "#list-results")
    assert response.headers["HX-Retarget"] == "#main"
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert response.headers["HX-Reselect"] == "#list-results"


def test_an_event_without_params_is_a_json_object_too():
    response = htmx.trigger_client_event(Response(), "saved")
    assert json.loads(response.headers["HX-Trigger"]) == {"saved": {}}


def test_several_events_merge_into_one_json_object():
    response = Response()
    htmx.trigger_client_event(response, "hyper-admin-live", {"since": "2024-05-01 10:00:00"})
    htmx.trigger_client_event(response, "saved")
    htmx.trigger_client_event(response, "counted", {"n": 3})
    assert json.loads(response.headers["HX-Trigger"]) == {
        "hyper-admin-live": {"since": "2024-05-01 10:00:00"}, "saved": {}, "counted": {"n": 3}}
    assert len(response.headers.getlist("HX-Trigger")) == 1


def test_the_same_event_twice_keeps_the_last_params():
    response = htmx.trigger_client_event(Response(), "progress", {"done": 1})
    htmx.trigger_client_event(response, "progress", {"done": 2})
    assert json.loads(response.headers["HX-Trigger"]) == {"progress": {"done": 2}}


def test_params_with_quotes_stay_valid_json():
    response = htmx.trigger_client_event(Response(), "note", {"text": 'a "b", c\\d'})
    htmx.trigger_client_event(response, "other")
    assert json.loads(response.headers["HX-Trigger"])["note"] == {"text": 'a "b", c\\d'}


def test_a_plain_names_header_is_turned_into_the_json_object():
    response = Response(headers={"HX-Trigger": "first, second"})
    htmx.trigger_client_event(response, "third", {"x": 1})
    assert json.loads(response.headers["HX-Trigger"]) == {
        "first": {}, "second": {}, "third": {"x": 1}}


@pytest.mark.parametrize(("after", "header"), [
    ("receive", "HX-Trigger"), ("settle", "HX-Trigger-After-Settle"),
    ("swap", "HX-Trigger-After-Swap")])
def test_each_moment_has_its_own_header(after, header):
    response = htmx.trigger_client_event(Response(), "done", {"ok": True}, after=after)
    assert json.loads(response.headers[header]) == {"done": {"ok": True}}
    assert [h for h in response.headers.keys() if h.startswith("HX-")] == [header]


def test_an_unknown_moment_is_refused():
    with pytest.raises(ValueError, match="after must be one of"):
        htmx.trigger_client_event(Response(), "done", after="load")


# A response header written by hand: headers["HX-..."], headers.setdefault/set/add("HX-..."),
# headers.update({"HX-...": ...}) or headers={"HX-...": ...}.
HAND_WRITTEN = re.compile(
    r"""headers\s*(?:\[|\.(?:setdefault|set|add|update)\(\s*\{?|=\s*\{)\s*f?["']HX-""")


def test_the_pattern_finds_hand_written_headers():
    for line in ('response.headers["HX-Push-Url"] = url',
                 "response.headers.setdefault('HX-Trigger', 'x')",
                 'r.headers.update({"HX-Retarget": "#main"})',
                 'Response("", headers={"HX-Redirect": url})'):
        assert HAND_WRITTEN.search(line), line
    assert not HAND_WRITTEN.search('request.headers.get("HX-Request")')


def test_no_module_but_htmx_py_writes_an_hx_header():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py")) if path != PACKAGE / "htmx.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if HAND_WRITTEN.search(line)
    ]
    assert not offenders, "use hyper_admin.htmx's helpers:\n" + "\n".join(offenders)
