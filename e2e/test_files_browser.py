"""Files in the demo, in Chromium (docs/files.md): a support agent attaches a file and a
screenshot to a ticket, saves, sees the download link and the thumbnail, and downloads the
file as an attachment; the forms with file inputs pass axe."""

import io
import re

import pytest

from conftest import serve_demo, shot, sign_in
from test_accessibility_browser import format_violations, run_axe


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    root = tmp_path_factory.mktemp("demo_files_storage")
    yield from serve_demo(tmp_path_factory, "demo_files", rows=200,
                          config={"HYPER_ADMIN_FILE_ROOT": str(root)})


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (400, 300), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def _first_ticket(page, base) -> str:
    sign_in(page, f"{base}/admin/tickets/", "support")
    page.locator("table tbody tr a.r").first.click()
    page.wait_for_url(re.compile(r"/admin/tickets/\d+/$"))
    return page.url


def test_an_agent_attaches_a_file_and_a_screenshot_to_a_ticket(page, demo):
    ticket_url = _first_ticket(page, demo.url)
    page.goto(ticket_url + "edit")
    form = page.locator("form[data-uploads]")
    assert form.get_attribute("enctype") == "multipart/form-data"
    page.set_input_files("input[type=file][name=attachment]", files=[{
        "name": "invoice copy.pdf", "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4 the customer's invoice"}])
    page.set_input_files("input[type=file][name=screenshot]", files=[{
        "name": "error.png", "mimeType": "image/png", "buffer": _png()}])
    form.locator("button[type=submit][name=_save], button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/admin/tickets/\d+/$"))

    download_link = page.locator("main a[href$='/file/attachment']")
    download_link.wait_for()
    assert download_link.inner_text().strip() == "invoice_copy.pdf"
    thumbnail = page.locator("main img[src$='/thumbnail/screenshot']")
    thumbnail.wait_for()
    # The thumbnail loaded: a real image of at most 160 pixels a side, drawn by the browser.
    assert page.evaluate("img => img.complete && img.naturalWidth > 0 && img.naturalWidth <= 160",
                         thumbnail.element_handle())
    shot(page, "ticket-attachments")

    with page.expect_download() as caught:
        download_link.click()
    download = caught.value
    assert download.suggested_filename == "invoice_copy.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read() == b"%PDF-1.4 the customer's invoice"
    response = page.request.get(demo.url + download_link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="invoice_copy.pdf"')
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"] == "application/pdf"

    # The edit form shows the current files, kept when nothing new is chosen.
    page.goto(ticket_url + "edit")
    current = page.locator("[data-current-file]")
    assert current.count() == 2
    assert "invoice_copy.pdf" in current.first.inner_text()


def test_forms_with_file_inputs_pass_axe(page, demo):
    ticket_url = _first_ticket(page, demo.url)
    for url, shown in ((ticket_url + "edit", "input[type=file]"),
                       (f"{demo.url}/admin/tickets/new", "input[type=file]"),
                       (f"{demo.url}/admin/products/", "img[src$='/thumbnail/picture']"),
                       (f"{demo.url}/admin/products/10/", "img[src$='/thumbnail/picture']")):
        page.goto(url)
        page.locator(shown).first.wait_for()
        violations = run_axe(page)
        assert not violations, f"{url}:\n" + format_violations(violations)
