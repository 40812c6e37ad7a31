"""The column chooser: ?columns= picks which list_display columns show, in which order."""

import csv
import io

import pytest

from apps import as_user
from crud_app import create_app, staff
from demo_db import seeded_engine


@pytest.fixture
def site(request, backend):
    with seeded_engine(request, rows=20) as engine:
        app, _ = create_app(engine)
        yield app, staff(engine)


def headers_of(page: str) -> list[str]:
    import re

    head = page[page.index("<thead>"):page.index("</thead>")]
    # The columns' headers, not the row menu's (its "Actions", for screen readers only).
    return [re.sub(r"<[^>]+>", "", h).strip() for attrs, h in re.findall(
        r"<th scope=\"col\"([^>]*)>(.*?)</th>", head, re.S) if 'class="m ' not in attrs]


@pytest.mark.reads_only
def test_choose_and_order_columns(site):
    app, people = site
    client = as_user(app, people["support"])
    full = client.get("/admin/orders/").get_data(as_text=True)
    assert headers_of(full)[1:] == ["Reference", "Account", "Status", "Total", "Created at"]
    assert 'id="column-chooser"' in full
    chosen = client.get("/admin/orders/?columns=total,reference").get_data(as_text=True)
    assert headers_of(chosen)[1:] == ["Total", "Reference"]
    assert "/admin/orders/" in chosen and 'class="r"' in chosen  # rows still link their detail
    repeated = client.get("/admin/orders/?columns=status&columns=account").get_data(as_text=True)
    assert headers_of(repeated)[1:] == ["Status", "Account"]
    assert 'class="r"' in repeated  # a foreign key alone: the first plain column links rows


@pytest.mark.reads_only
def test_unknown_or_empty_columns_are_400(site):
    app, people = site
    client = as_user(app, people["support"])
    for query in ("columns=password_hash", "columns=nope", "columns=,"):
        assert client.get(f"/admin/orders/?{query}").status_code == 400, query


@pytest.mark.reads_only
def test_export_follows_the_chosen_columns(site):
    app, people = site
    client = as_user(app, people["support"])
    rows = list(csv.reader(io.StringIO(
        client.get("/admin/orders/export?format=csv&columns=total,reference").get_data(as_text=True))))
    assert rows[0] == ["ID", "Total", "Reference"]
