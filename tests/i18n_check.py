"""Finds text in our templates that a translator would never see: words written straight into
the markup, or into a user-visible attribute, instead of passed through ``_()``.

A template is reduced to its literal markup (``{{ ... }}`` becomes a placeholder, ``{% %}``
structure disappears), then read by an HTML parser: text nodes and the attributes a person sees
or hears (title, aria-label, placeholder, alt...) must not hold a word of two letters or more.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment, nodes

PLACEHOLDER = "\x00"
VISIBLE_ATTRIBUTES = frozenset({
    "title", "aria-label", "aria-description", "aria-placeholder", "aria-roledescription",
    "aria-valuetext", "placeholder", "alt", "label", "data-confirm", "data-tooltip",
})
#: Key names on keycaps are the same in every language we ship.
KEY_NAMES = frozenset({"Ctrl", "Esc", "Enter", "Tab", "Shift", "Alt"})
WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Untranslated:
    template: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: {self.text!r}"


TRANSLATING_CALLS = frozenset({"_", "gettext", "ngettext", "pgettext"})
#: Methods that translate their message: ``model_admin.phrase("Add %(model)s")`` (a sentence
#: about a model, worded per gender: hyper_admin.i18n.GENDERED_MESSAGES).
TRANSLATING_METHODS = frozenset({"phrase"})
#: Calls whose string arguments are names, not prose.
NAME_CALLS = frozenset({"icon", "url_for", "static_url", "format_count"})
#: Prose: a capitalised word or two words, and none of the characters of class lists, URLs,
#: selectors or markup.
PROSE = re.compile(r"^(?=[^-_/=:#.{}<>]*$)(?:[A-Z][a-z]+\b|.*[^\W\d_]{2,} [^\W\d_])")


def prose_in_expressions(source: str, env: Environment) -> list[tuple[int, str]]:
    """String literals printed by ``{{ ... }}`` that read like prose (``{{ "Yes" if x else
    "No" }}``, ``{{ title or "Overview" }}``, a macro's label argument): they need ``_()`` too.
    Literals compared against (``x == "Ctrl"``) and the arguments of ``_()`` or ``icon()``
    are not shown as such."""
    tree = env.parse(source)
    found: list[tuple[int, str]] = []

    def visit(node: nodes.Node) -> None:
        if isinstance(node, nodes.Compare):
            return
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and (
            node.node.name in TRANSLATING_CALLS or node.node.name in NAME_CALLS
        ):
            return
        if (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr)
                and node.node.attr in TRANSLATING_METHODS):
            return
        if (isinstance(node, nodes.Const) and isinstance(node.value, str)
                and node.value not in KEY_NAMES and PROSE.search(node.value)):
            found.append((node.lineno, node.value))
        for child in node.iter_child_nodes():
            visit(child)

    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            if not isinstance(child, nodes.TemplateData):
                visit(child)
    for assign in tree.find_all(nodes.Assign):  # {% set sections = [("Lists", ...)] %}
        visit(assign.node)
    return found


def literal_markup(source: str, env: Environment) -> list[tuple[int, str]]:
    """The template's literal pieces with their line numbers, expressions replaced by a
    placeholder, in source order."""
    tree = env.parse(source)
    pieces: list[tuple[int, str]] = []

    def visit(node: nodes.Node) -> None:
        if isinstance(node, nodes.TemplateData):
            pieces.append((node.lineno, node.data))
            return
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    pieces.append((child.lineno, child.data))
                else:
                    pieces.append((child.lineno, PLACEHOLDER))
            return
        if isinstance(node, nodes.Block) and node.name.endswith("_attrs"):
            return  # the markup of a tag's attributes (``{% block body_attrs %}``), not text
        if isinstance(node, (nodes.Macro, nodes.CallBlock, nodes.FilterBlock)):
            for child in node.body:
                visit(child)
            return
        for child in node.iter_child_nodes():
            visit(child)

    visit(tree)
    return pieces


class _Reader(HTMLParser):
    def __init__(self, template: str, found: list[Untranslated]):
        super().__init__(convert_charrefs=True)
        self.template = template
        self.found = found
        self.line_of_offset: list[tuple[int, int]] = []
        self.raw_text_depth = 0

    def _line(self) -> int:
        """The template line of the parser's position: the line its literal piece starts on,
        plus the newlines within the piece before it."""
        position = self._position()
        start, lineno = 0, 1
        for piece_start, piece_line in self.line_of_offset:
            if piece_start > position:
                break
            start, lineno = piece_start, piece_line
        return lineno + self.markup.count("\n", start, position)

    def _position(self) -> int:
        lineno, column = self.getpos()
        return sum(len(line) + 1 for line in self.markup.split("\n")[: lineno - 1]) + column

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.raw_text_depth += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self._check(value)

    def handle_startendtag(self, tag, attrs):
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self._check(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.raw_text_depth:
            self.raw_text_depth -= 1

    def handle_data(self, data):
        if not self.raw_text_depth:
            self._check(data)

    def _check(self, text: str) -> None:
        words = [w for w in WORD.findall(text.replace(PLACEHOLDER, " ")) if w not in KEY_NAMES]
        if words:
            self.found.append(Untranslated(self.template, self._line(), " ".join(text.split())))


def untranslated_in(path: Path, name: str, env: Environment) -> list[Untranslated]:
    pieces = literal_markup(path.read_text(), env)
    markup = ""
    found: list[Untranslated] = []
    reader = _Reader(name, found)
    for lineno, data in pieces:
        reader.line_of_offset.append((len(markup), lineno))
        markup += data
    reader.markup = markup
    reader.feed(markup)
    reader.close()
    found += [Untranslated(name, line, text) for line, text in prose_in_expressions(
        path.read_text(), env)]
    return found


def untranslated_in_templates(root: Path) -> list[Untranslated]:
    env = Environment()
    found: list[Untranslated] = []
    for path in sorted(root.rglob("*.html")):
        found += untranslated_in(path, str(path.relative_to(root)), env)
    return found
