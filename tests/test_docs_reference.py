"""docs/modeladmin.md documents every public option and hook of ModelAdmin, and nothing else.

Every public name defined on ``hyper_admin.ModelAdmin`` (and on its bases other than object)
must appear in the page as a heading or a code span; every ``### `name` `` heading of the
options sections must name something ModelAdmin has.
"""

import ast
import inspect
import re
from pathlib import Path

import hyper_admin
from hyper_admin import ModelAdmin

PAGE = Path(__file__).resolve().parent.parent / "docs" / "modeladmin.md"

#: Set per instance by ModelAdmin.__init__ (the model, the Admin) or read-only state
#: (introspected model info): described in the page's introduction, not options.
NOT_OPTIONS = {"model", "admin", "info"}

#: Documented names that are not attributes of the ModelAdmin class.
NOT_ON_CLASS = {
    # An optional method: ModelAdmin.row_label calls it when a subclass defines it.
    "label",
    # Decorators exported by hyper_admin, documented alongside the options they feed.
    "action",
    "display",
}


def _text() -> str:
    return PAGE.read_text(encoding="utf-8")


def _public_names() -> set[str]:
    names: set[str] = set()
    for klass in inspect.getmro(ModelAdmin):
        if klass is object:
            continue
        names.update(n for n in vars(klass) if not n.startswith("_"))
    return names - NOT_OPTIONS


def _headings(text: str) -> list[str]:
    return re.findall(r"^#{2,4} `([A-Za-z_][A-Za-z0-9_]*)`\s*$", text, re.M)


def _code_spans(text: str) -> set[str]:
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # code blocks are not spans
    return set(re.findall(r"`([^`\n]+)`", text))


def test_every_public_name_is_documented():
    text = _text()
    documented = set(_headings(text)) | _code_spans(text)
    missing = sorted(n for n in _public_names() if n not in documented)
    assert not missing, f"docs/modeladmin.md does not document: {missing}"


def test_every_public_name_has_its_own_heading():
    headings = set(_headings(_text()))
    missing = sorted(n for n in _public_names() if n not in headings)
    assert not missing, f"docs/modeladmin.md has no `### \\`name\\`` heading for: {missing}"


def test_every_documented_option_exists():
    unknown = sorted(
        n for n in _headings(_text()) if not hasattr(ModelAdmin, n) and n not in NOT_ON_CLASS
    )
    assert not unknown, f"docs/modeladmin.md documents names ModelAdmin does not have: {unknown}"


def test_headings_are_unique():
    headings = _headings(_text())
    assert len(headings) == len(set(headings))


def test_the_exceptions_are_still_what_the_code_says():
    # ``label`` is looked up on the instance by row_label, not defined on the class.
    assert not hasattr(ModelAdmin, "label")
    assert '"label"' in inspect.getsource(ModelAdmin.row_label)
    assert callable(hyper_admin.action) and callable(hyper_admin.display)


def test_documented_defaults_match_the_class():
    """Defaults written as "default `<literal>`" right under a heading match the class."""
    text = _text()
    for name, body in re.findall(r"^### `(\w+)`\n\n(.*?)(?=^#{2,3} |\Z)", text, re.M | re.S):
        match = re.search(r"default `([^`]+)`", body)
        if match is None or not hasattr(ModelAdmin, name):
            continue
        value = getattr(ModelAdmin, name)
        if callable(value):
            continue
        try:
            written = ast.literal_eval(match.group(1))
        except (ValueError, SyntaxError):
            continue  # prose such as "default: the table name"
        assert written == value and type(written) is type(value), (
            f"{name}: the page says default {match.group(1)}, the class has {value!r}"
        )
