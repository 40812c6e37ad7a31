"""The committed front-end assets match the templates.

static/admin.css is compiled by Tailwind (`npm run build:css`) and committed, so a template
edited without rebuilding would ship classes that style nothing. These tests catch that,
and check the vendored htmx and that no template loads anything from another origin.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CSS = ROOT / "static" / "admin.css"
HTMX = ROOT / "static" / "vendor" / "htmx-2.0.11.min.js"

# Classes that carry no style of ours: hooks that htmx or admin.js look up, or that htmx
# adds itself. Keep this list short; a styling class belongs in the CSS.
HOOK_CLASSES = {
    "htmx-indicator",  # htmx shows it during a request (styled in assets/admin.css)
    "htmx-request",  # added by htmx while a request is in flight
    "htmx-added",
    "htmx-settling",
    "htmx-swapping",
}

JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
CLASS_ATTR = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.S)
# icon("name", "size-4 ...") or icon(name, class="...") — the macro in partials/icons.html.
ICON_CALL = re.compile(r"""\bicon\(\s*[^,()]+?\s*,\s*(?:class\s*=\s*)?(["'])([^"'\n]*)\1\s*\)""")


def template_files():
    return sorted(TEMPLATES.rglob("*.html"))


def css_escape(token: str) -> str:
    """Serialise a class name as a CSS identifier (CSSOM `CSS.escape`), as Tailwind does."""
    out = []
    for i, ch in enumerate(token):
        code = ord(ch)
        if code == 0:
            out.append("\ufffd")
        elif 0x1 <= code <= 0x1F or code == 0x7F or (ch.isdigit() and (i == 0 or (i == 1 and token[0] == "-"))):
            out.append(f"\\{code:x} ")
        elif i == 0 and ch == "-" and len(token) == 1:
            out.append("\\-")
        elif code >= 0x80 or ch in "-_" or ch.isalnum():
            out.append(ch)
        else:
            out.append("\\" + ch)
    return "".join(out)


def static_classes(text: str):
    """Class tokens written literally in a template (Jinja expressions dropped)."""
    for match in CLASS_ATTR.finditer(text):
        yield from JINJA.sub(" ", match.group(1) or match.group(2) or "").split()
    for match in ICON_CALL.finditer(text):
        yield from match.group(2).split()


def test_escape_matches_tailwind():
    assert css_escape("lg:drawer-open") == r"lg\:drawer-open"
    assert css_escape("size-4") == "size-4"
    assert css_escape("w-1/2") == r"w-1\/2"
    assert css_escape("max-w-[calc(100vw-2rem)]") == r"max-w-\[calc\(100vw-2rem\)\]"
    assert css_escape("size-3.5") == r"size-3\.5"
    assert css_escape("2xl:grid-cols-4") == r"\32 xl\:grid-cols-4"


def test_every_template_class_is_in_the_compiled_css():
    css = CSS.read_text(encoding="utf-8")
    missing = {}
    for path in template_files():
        for token in static_classes(path.read_text(encoding="utf-8")):
            if token in HOOK_CLASSES:
                continue
            selector = re.compile(r"\." + re.escape(css_escape(token)) + r"(?![\w-]|\\)")
            if not selector.search(css):
                missing.setdefault(token, path.relative_to(ROOT).as_posix())
    assert not missing, (
        "classes used in templates but absent from static/admin.css "
        f"(run `npm run build:css`): {missing}"
    )


def test_css_has_both_themes_and_is_minified():
    css = CSS.read_text(encoding="utf-8")
    assert "[data-theme=dark]" in css
    assert "[data-theme=light]" in css
    assert "prefers-color-scheme:dark" in css.replace(" ", "")
    assert css.count("\n") < 20, "static/admin.css should be built with --minify"


def test_vendored_htmx_is_the_pinned_release():
    assert HTMX.is_file(), "run `npm run vendor`"
    head = HTMX.read_text(encoding="utf-8")
    assert head.startswith("var htmx=function()")
    assert 'version:"2.0.11"' in head
    assert (ROOT / "static" / "vendor" / "htmx.LICENSE").is_file()


def test_icon_sprite_has_every_icon_the_templates_use():
    sprite = (ROOT / "static" / "icons.svg").read_text(encoding="utf-8")
    symbols = set(re.findall(r'<symbol id="([^"]+)" viewBox="0 0 24 24"', sprite))
    used = set()
    for path in template_files():
        used.update(re.findall(r"""\bicon\(\s*["']([\w-]+)["']""", path.read_text(encoding="utf-8")))
    used.update({"table"})  # the fallback for models without an icon
    assert used <= symbols, f"missing from static/icons.svg (add to scripts/vendor.mjs): {used - symbols}"


REMOTE_ASSET = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""" r"""|@import\s+url\(\s*["']?(?:https?:)?//""" r"""|url\(\s*["']?(?:https?:)?//""",
    re.I,
)


@pytest.mark.parametrize("path", template_files(), ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_templates_load_nothing_from_other_origins(path):
    text = path.read_text(encoding="utf-8")
    assert not REMOTE_ASSET.search(text), f"{path.name} loads a remote script, stylesheet or font"
