"""Actions that ask for input: ``@action(..., form=AssignForm)`` (docs/extending.md).

The form is a plain WTForms ``Form`` class. The confirmation dialog shows it; the action runs
only once it validates, and is then called as ``function(objects, user, form)``; each row's
audit entry notes the form's values (:func:`audit_note`). A foreign key is picked with
:class:`ForeignKeyPicker`, which searches what the model's own form field of that column
searches (GET /<slug>/lookup/<column>), never a select of the whole table.

A model-admin layer module: the view (views/action_forms.py) binds the request to the form.
"""

from __future__ import annotations

import inspect
import typing as t

import wtforms

from .fields import ForeignKeyField, _FormTranslations, _wtforms_translations
from .i18n import current_locale, gettext
from .problems import Problem

#: Names the action's POST uses itself (CONTRACT §6): no field of an action's form may take one.
RESERVED_NAMES = frozenset({"action", "pk", "confirmed", "csrf_token", "all", "progress", "next"})

CHECK_ID = "hyper_admin.E040"


class ForeignKeyPicker(ForeignKeyField):
    """A row of the model a foreign key ``column`` of the action's model points at, picked as
    that column is on the model's form: ``ForeignKeyPicker("Agent", column="assignee_id")``.
    The data is the key (None when left empty); the view checks that it names a row within
    the target's scope and sets ``current_label``."""

    def __init__(self, label: t.Any = None, validators: t.Any = None, *, column: str,
                 **kwargs: t.Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.column = column
        self.type = "ForeignKeyField"  # the templates show it as the model form's picker


def make_form(form_class: type, formdata: t.Any) -> wtforms.Form:
    """The action's form, bound to ``formdata`` (None: its defaults), with WTForms' own
    messages in the user's language. CSRF is the pipeline's (every POST is checked)."""
    translations = _FormTranslations(_wtforms_translations(current_locale().language))
    form = form_class(formdata, meta={"csrf": False,
                                     "get_translations": lambda form: translations})
    for field in form:
        _dress(field)
    return form


#: The admin's look of a field by its WTForms type, when the form's author gave it no class.
_CLASSES = {"TextAreaField": "textarea w-full", "SelectField": "select w-full",
            "SelectMultipleField": "select w-full", "BooleanField": "toggle",
            "RadioField": "radio radio-sm"}


def _dress(field: t.Any) -> None:
    render_kw = dict(field.render_kw or {})
    render_kw.setdefault("class", _CLASSES.get(field.type, "input w-full"))
    if field.type == "TextAreaField":
        render_kw.setdefault("rows", 3)
    field.render_kw = render_kw


def pickers(form: wtforms.Form) -> list[ForeignKeyPicker]:
    return [field for field in form if isinstance(field, ForeignKeyPicker)]


def shown_value(field: t.Any) -> str:
    """A field's value as a person reads it: a picked row's label, a choice's label."""
    if isinstance(field, ForeignKeyPicker):
        return "" if field.data is None else (field.current_label or f"#{field.data}")
    choices = getattr(field, "choices", None)
    if choices and not isinstance(field, wtforms.SelectMultipleField):
        for choice in choices:
            value, label = (choice if isinstance(choice, (tuple, list)) else (choice, choice))[:2]
            if str(value) == str(field.data):
                return str(label)
    if isinstance(field, wtforms.BooleanField):
        return gettext("Yes") if field.data else gettext("No")
    data = field.data
    if isinstance(data, (list, tuple)):
        return ", ".join(str(item) for item in data)
    return "" if data is None else str(data)


def audit_note(form: wtforms.Form) -> str:
    """The form's values as each row's audit entry notes them: ``Agent: Alice; Note: VIP``
    (empty fields left out)."""
    parts = []
    for field in form:
        if field.type in ("CSRFTokenField", "HiddenField", "SubmitField"):
            continue
        text = shown_value(field).strip()
        if text:
            parts.append(f"{field.label.text}: {text}")
    return "; ".join(parts)


def check(owner: str, info: t.Any, actions: t.Iterable[t.Any]) -> list[Problem]:
    """hyper_admin.E040: an action's ``form`` is not a WTForms Form class, names a field after
    one of the action POST's own names, or has a ForeignKeyPicker whose ``column`` is no
    foreign key of the model."""
    problems = []
    for action in actions:
        form = getattr(action, "form", None)
        if form is None:
            continue
        where = f"{owner}: @action {action.name!r} form"
        if not (isinstance(form, type) and issubclass(form, wtforms.Form)):
            problems.append(Problem(CHECK_ID, f"{where} {form!r} is not a WTForms Form class"))
            continue
        if not _takes_the_form(action.function):
            problems.append(Problem(CHECK_ID, (
                f"{where}: {action.name}() must take the form: "
                "def {0}(self, objects, user, form)".format(action.name))))
        for name, unbound in _unbound_fields(form):
            if name in RESERVED_NAMES:
                problems.append(Problem(CHECK_ID, (
                    f"{where}: field {name!r} takes a name the action's POST uses itself "
                    f"({', '.join(sorted(RESERVED_NAMES))}): rename it")))
            if getattr(unbound, "field_class", None) is not None and issubclass(
                    unbound.field_class, ForeignKeyPicker):
                column = info.column(unbound.kwargs.get("column", ""))
                # A key only the database declares is known once its catalog was read.
                if column is None or not (column.is_foreign_key or not info.catalog_read):
                    problems.append(Problem(CHECK_ID, (
                        f"{where}: field {name!r} picks through column "
                        f"{unbound.kwargs.get('column')!r}, which is not a foreign key of "
                        "the model")))
    return problems


def _takes_the_form(function: t.Callable) -> bool:
    """Whether ``function`` (a method as declared, or a function given the ModelAdmin first)
    can be called as (model_admin, objects, user, form)."""
    try:
        inspect.signature(function).bind(None, [], None, None)
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): it will tell when called
        return True
    return True


def _unbound_fields(form_class: type) -> list[tuple[str, t.Any]]:
    return [(name, value) for name in dir(form_class) if not name.startswith("_")
            for value in [getattr(form_class, name, None)]
            if isinstance(value, wtforms.fields.core.UnboundField)]
