"""Which fields of a posted edit form the user left as the form showed them.

A form cannot show every stored value exactly: one empty input stands for both ``''`` and NULL,
a number shows its column's places, a timestamp what a browser's input keeps, JSON comes back
re-indented. Saving an edit form must still change nothing the user did not change (docs/forms.md,
"Unchanged means unchanged"): a field whose input is what the form showed keeps the row's own
value, exactly, and is not validated again (a legacy value the validators would now refuse is
not the user's to fix when they edit another field).

How: the stored row is shown in the form again, each field's widget rendered and read back as a
browser would post it (so custom widgets and fields need nothing of their own), and what that
parses to is compared with what the posted input parses to. Comparing parsed values rather
than text lets a browser's own rewriting pass ("10:00:00" sent back as "10:00", line breaks
sent as CRLF).
"""

from __future__ import annotations

import typing as t
from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict

from .fields import initial_data
from .introspect import ColumnInfo


def untouched(form: t.Any, columns: t.Sequence[ColumnInfo], row: t.Any) -> set[str]:
    """The attributes of ``columns`` whose posted input in ``form`` (bound to the request's
    form data) is what the form showed for ``row`` (the stored row, keyed by column name)."""
    form_class = type(form)
    initial = initial_data(columns, row)
    shown = form_class(formdata=None, data=initial)
    posted_back = MultiDict()
    for column in columns:
        field = _bound(shown, column)
        if field is None:
            continue
        try:
            html = str(field())
        except Exception:  # noqa: BLE001 - a widget that needs more than itself: compared as typed
            continue
        for name, value in _browser_post(html):
            posted_back.add(name, value)
    echo = form_class(formdata=posted_back, data=initial)
    found = set()
    for column in columns:
        posted, echoed = _bound(form, column), _bound(echo, column)
        if posted is None or echoed is None or not _rendered(echoed, posted_back):
            continue
        if _same_text(posted.raw_data, echoed.raw_data) or (
                not posted.process_errors and not echoed.process_errors
                and _same_value(posted.data, echoed.data)):
            found.add(column.attribute)
    return found


def _bound(form: t.Any, column: ColumnInfo) -> t.Any:
    """The field of ``column`` in ``form`` (None when the form has none)."""
    try:
        return form.field(column.attribute)  # an AdminForm: its key may differ from the name
    except AttributeError:
        return form._fields.get(column.attribute)
    except KeyError:
        return None


def forgive(form: t.Any, attributes: t.Collection[str]) -> bool:
    """Drop the errors of the fields ``attributes`` (left as shown: their stored value is
    kept, not validated); whether the form is valid without them."""
    for attribute in attributes:
        try:
            field = form.field(attribute)
        except (KeyError, AttributeError):
            continue
        field.errors = []
    return not getattr(form, "form_errors", None) and not any(field.errors for field in form)


def _rendered(field: t.Any, posted_back: MultiDict) -> bool:
    """Whether ``field`` was read back from its widget (its name, or a checkbox left out)."""
    return field.name in posted_back or field.type == "BooleanField"


def _normalized(text: t.Any) -> t.Any:
    # Browsers send a textarea's line breaks as CRLF whatever the text held.
    return text.replace("\r\n", "\n") if isinstance(text, str) else text


def _same_text(posted: t.Sequence[t.Any] | None, echoed: t.Sequence[t.Any] | None) -> bool:
    if not posted or not echoed or len(posted) != len(echoed):
        return False
    return all(_normalized(a) == _normalized(b) for a, b in zip(posted, echoed))


def _same_value(posted: t.Any, echoed: t.Any) -> bool:
    if posted is None or echoed is None:
        return posted is None and echoed is None
    if type(posted) is not type(echoed):
        return False
    return _normalized(posted) == _normalized(echoed)


class _BrowserPost(HTMLParser):
    """What a browser posts from a fragment of a form: named inputs (checked boxes only),
    the selected options of selects (else their first), textareas (less the newline that
    follows the opening tag)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self._select: tuple[str, bool] | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((name, a.get("value") or "on"))
            elif kind not in ("submit", "button", "reset", "image", "file"):
                self.pairs.append((name, a.get("value", "")))
        elif tag == "select" and name and "disabled" not in a:
            self._select, self._options = (name, "multiple" in a), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name and "disabled" not in a:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            self.pairs += [(name, value) for value in (chosen if multiple else chosen[-1:])]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            if text.startswith("\r\n"):
                text = text[2:]
            elif text.startswith("\n"):
                text = text[1:]
            self.pairs.append((self._textarea, text))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def _browser_post(html: str) -> list[tuple[str, str]]:
    reader = _BrowserPost()
    reader.feed(html)
    reader.close()
    return reader.pairs
