"""A small, safe subset of Markdown for notes on dashboards (the Markdown panel).

Everything is escaped first; only then are a few constructs turned into HTML: ``#`` headings,
paragraphs, ``-``/``*`` and ``1.`` lists, fenced code blocks, ``inline code``, ``**bold**``,
``*italic*`` / ``_italic_`` and ``[links](url)`` to http(s) or relative URLs. No raw HTML, no
images, no other schemes (``javascript:``, ``data:``...): such a link stays text. Written here
rather than taken from a library: the subset is a page long, and a full Markdown library would
be a dependency that allows raw HTML by default.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,9}[.)]\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^()\s]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])[*_](?=\S)([^*_\n]+?)(?<=\S)[*_](?![\w*])")
# Placeholders for code spans while the other inline rules run (NUL cannot be in escaped text).
_HOLD = "\x00{}\x00"
_HELD = re.compile(r"\x00(\d+)\x00")

HEADING_CLASSES = {1: "text-sm font-semibold", 2: "text-sm font-semibold", 3: "text-sm font-medium"}


def safe_url(url: str) -> str | None:
    """``url`` if it is http(s) or relative to this site, else None."""
    url = url.strip()
    if not url or len(url) > 2048 or any(ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    if url.startswith("//") or "\\" in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme:
        return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None
    # No scheme: a path, a query or a fragment. A colon before the first slash would be read
    # as a scheme by some browsers ("javascript&colon;" is not possible: & is escaped first).
    head = url.split("/", 1)[0]
    return None if ":" in head else url


def _inline(text: str) -> str:
    """One line or paragraph of escaped text with inline constructs as HTML."""
    held: list[str] = []

    def hold(match: re.Match) -> str:
        held.append(f"<code>{match.group(1)}</code>")
        return _HOLD.format(len(held) - 1)

    text = _CODE_SPAN.sub(hold, text)

    def link(match: re.Match) -> str:
        label, target = match.group(1), match.group(2)
        url = safe_url(html.unescape(target))
        if url is None:
            return match.group(0)
        external = "://" in url
        attrs = ' rel="noopener noreferrer" target="_blank" hx-boost="false"' if external else ""
        return f'<a class="link" href="{escape(url)}"{attrs}>{label}</a>'

    text = _LINK.sub(link, text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    return _HELD.sub(lambda m: held[int(m.group(1))], text)


def render(source: str) -> Markup:
    """``source`` (Markdown of the subset above) as safe HTML."""
    lines = str(escape((source or "").replace("\x00", ""))).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag: str | None = None

    def flush_paragraph() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(s.strip() for s in paragraph))}</p>")
            paragraph.clear()

    def flush_list() -> None:
        nonlocal list_tag
        if list_tag:
            cls = "list-disc" if list_tag == "ul" else "list-decimal"
            body = "".join(f"<li>{_inline(item)}</li>" for item in items)
            out.append(f'<{list_tag} class="{cls} space-y-0.5 pl-5">{body}</{list_tag}>')
            items.clear()
            list_tag = None

    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            flush_paragraph()
            flush_list()
            fence = _FENCE.match(line).group(1)
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                code.append(lines[i])
                i += 1
            out.append('<pre class="overflow-x-auto rounded-field bg-base-200 p-2 text-xs">'
                       f"<code>{chr(10).join(code)}</code></pre>")
            i += 1
            continue
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line)
        numbered = _NUMBERED.match(line)
        if not line.strip():
            flush_paragraph()
            flush_list()
        elif heading:
            flush_paragraph()
            flush_list()
            level = min(len(heading.group(1)), 3)
            out.append(f'<h{level + 2} class="{HEADING_CLASSES[level]}">'
                       f"{_inline(heading.group(2))}</h{level + 2}>")
        elif bullet or numbered:
            flush_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                flush_list()
                list_tag = tag
            items.append((bullet or numbered).group(1))
        elif list_tag and line.startswith(("  ", "\t")) and items:
            items[-1] += " " + line.strip()  # a wrapped list item
        else:
            flush_list()
            paragraph.append(line)
        i += 1
    flush_paragraph()
    flush_list()
    return Markup("\n".join(out))
