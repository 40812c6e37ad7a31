"""The Markdown panel's renderer: a small subset, and nothing a note could run."""

import pytest

from hyper_admin.markdown import render, safe_url


def test_the_subset():
    html = str(render("# Title\n\nSome **bold**, *italic*, _also_ and `code`.\nSame paragraph.\n\n"
                      "- one\n- [two](/admin/orders/?status=paid&x=1)\n\n1. first\n2. second\n\n"
                      "```\n<b>raw</b>\n```"))
    assert '<h3 class="text-sm font-semibold">Title</h3>' in html
    assert "<p>Some <strong>bold</strong>, <em>italic</em>, <em>also</em> and <code>code</code>. Same paragraph.</p>" in html
    assert '<li><a class="link" href="/admin/orders/?status=paid&amp;x=1">two</a></li>' in html
    assert '<ol class="list-decimal' in html and "<li>second</li>" in html
    assert "<code>&lt;b&gt;raw&lt;/b&gt;</code></pre>" in html
    assert 'href="https://example.com/a" rel="noopener noreferrer" target="_blank"' in str(
        render("[x](https://example.com/a)"))
    assert str(render("snake_case_name and 2*3*4")) == "<p>snake_case_name and 2*3*4</p>"


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](vbscript:msgbox)",
    "[x](//evil.example/path)",
    "[x](/\\evil.example)",
    '[x](https://ok.example/"onmouseover="alert(1))',
    "[x](java&#x09;script:alert(1))",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "**<b onclick=alert(1)>x</b>**",
    "`<script>`",
    "# <svg onload=alert(1)>",
    "- <iframe src=javascript:alert(1)>",
    "\x00<script>\x00",
])
def test_nothing_runs(source):
    """Only the subset's own tags and attributes come out, and links only to safe URLs."""
    tags = _tags(str(render(source)))
    for tag, attrs in tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES, (tag, name)
            if name == "href":
                assert value.startswith(("https://", "http://", "/")) and not value.startswith("//")


ALLOWED_TAGS = {"p", "strong", "em", "code", "pre", "a", "ul", "ol", "li", "h3", "h4", "h5"}
ALLOWED_ATTRIBUTES = {"class", "href", "rel", "target", "hx-boost"}


def _tags(html):
    from html.parser import HTMLParser

    found = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Reader().feed(html)
    return found


def test_safe_urls():
    assert safe_url("https://example.com/x") == "https://example.com/x"
    assert safe_url("/admin/") == "/admin/" and safe_url("?q=1") == "?q=1" and safe_url("#top") == "#top"
    for bad in ("javascript:x", "mailto:a@b", "//x.example", "http:/x", "java\tscript:x", "", "a:b/c"):
        assert safe_url(bad) is None, bad
