"""Many-to-many fields on the row screens: the form's chips picker (its field, chips, lookup
URL, the keys it was opened with), checking posted keys within the target's scope, the changes
a save hands the write service, a conflict on them, and the detail page's chips."""

from __future__ import annotations

import typing as t

from flask import current_app, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from ..many_to_many import (JoinChange, ManyToManyField, Relation, chips_html, labelled,
                            relations, row_token)
from ..i18n import _
from ..options import ModelAdmin
from .common import detail_url, may_view, model_admin_for

#: The hidden field of an edit form holding, signed, the keys each many-to-many field held
#: when the form was opened (conflict detection; docs/contract.md).
VERSION_FIELD = "_m2m_version"


def form_relations(model_admin: ModelAdmin, obj: t.Any = None) -> list[Relation]:
    """The many-to-many fields of ``model_admin``'s form for the signed-in user: those named
    in ``fields``/``fieldsets`` when the options list the form's fields, else all of them
    but the excluded ones."""
    found = relations(model_admin)
    if not found:
        return []
    if model_admin.fields is not None or model_admin.fieldsets:
        names = [n for n in model_admin.get_fields(current_user, obj) if n in found]
    else:
        names = [n for n in found if n not in model_admin.exclude]
    return [found[n] for n in names]


def with_fields(model_admin: ModelAdmin, form_class: type, obj: t.Any = None) -> type:
    """``form_class`` with a field per many-to-many relation of the form."""
    chosen = form_relations(model_admin, obj)
    if not chosen:
        return form_class
    fields = {r.name: ManyToManyField(r.label, relation=r, description=r.help) for r in chosen}
    return type(form_class.__name__, (form_class,), fields)


def _fields(form) -> list[ManyToManyField]:
    return [f for f in form if isinstance(f, ManyToManyField)]


def prepare(model_admin: ModelAdmin, form, pk: t.Any = None, *, posted: bool = False) -> None:
    """Fill each many-to-many field: its lookup URL, whether this user may change it, and its
    chips: the row's (on an edit form's GET), or the posted keys within the target's scope."""
    readonly = set(model_admin.get_readonly_fields(current_user, None))
    for field in _fields(form):
        relation = field.relation
        field.readonly = relation.name in readonly
        field.lookup_url = url_for(".field_lookup", slug=model_admin.slug, field=relation.name)
        if posted and not field.readonly:
            try:
                keys = field.keys()
            except Exception:  # noqa: BLE001 - malformed keys: validate() says so
                keys = []
            field.chips = labelled(relation, keys, user=current_user)
        elif pk is not None:
            token = row_token([relation], pk)
            field.data = token[relation.name]
            keys = [relation.target_key.coerce(k) for k in field.data]
            field.chips = labelled(relation, keys)
        else:
            preset = request.args.getlist(relation.name)
            field.data = preset
            field.chips = labelled(relation, _parsed(field), user=current_user)
            field.data = [str(k) for k, _label in field.chips]


def _parsed(field: ManyToManyField) -> list[t.Any]:
    try:
        return field.keys()
    except Exception:  # noqa: BLE001 - a preset that is no key: ignored
        return []


def validate(model_admin: ModelAdmin, form) -> bool:
    """Every posted key names a row of the target within its scope for the user (the same
    refusal for a key that does not exist and one outside the scope)."""
    ok = True
    for field in _fields(form):
        if field.readonly or field.errors:
            ok = ok and not field.errors
            continue
        keys = _parsed(field)
        known = {k for k, _label in field.chips}
        if any(k not in known for k in keys):
            target = model_admin_for(field.relation.target)
            field.errors = list(field.errors) + [
                target.phrase("Choose existing %(models)s.") if target is not None
                else _("Choose existing rows.")]
            ok = False
    return ok


def changes(form, *, expected: dict[str, list[str]] | None = None) -> list[JoinChange]:
    """What the save does to each many-to-many field the user may change."""
    out = []
    for field in _fields(form):
        if field.readonly:
            continue
        was = None if expected is None else expected.get(field.relation.name, [])
        out.append(JoinChange(field.relation, [k for k, _label in field.chips], was))
    return out


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="hyper_admin.m2m-version")


def version(model_admin: ModelAdmin, form, pk: t.Any) -> str | None:
    """The signed keys each field of ``form`` holds now for the row at ``pk``."""
    chosen = [f.relation for f in _fields(form)]
    if not chosen:
        return None
    return _serializer().dumps(row_token(chosen, pk))


def posted_version() -> dict[str, list[str]] | None:
    """What the posted form's fields held when it was opened; None: not one of ours."""
    raw = request.form.get(VERSION_FIELD, "")
    try:
        found = _serializer().loads(raw)
    except BadSignature:
        return None
    return found if isinstance(found, dict) else None


def conflict_rows(form, original: dict[str, list[str]] | None, pk: t.Any) -> list[dict]:
    """The conflict table's rows of the fields someone else changed meanwhile (labels when
    opened, now, and the user's choice kept in the form)."""
    rows = []
    current = row_token([f.relation for f in _fields(form)], pk)
    for field in _fields(form):
        relation = field.relation
        was = (original or {}).get(relation.name)
        if was == current[relation.name]:
            continue

        def text(keys: t.Iterable[t.Any]) -> str:
            labels = [label for _key, label in labelled(
                relation, [relation.target_key.coerce(k) for k in keys])]
            return ", ".join(labels) or "—"
        rows.append({"label": str(relation.label),
                     "was": _("(unknown)") if was is None else text(was),
                     "current": text(current[relation.name]),
                     "mine": ", ".join(label for _key, label in field.chips) or "—",
                     "field_id": None, "theirs_value": None, "merged": False})
    return rows


def place(fieldsets: list[dict], form) -> None:
    """Put each many-to-many field not named in a fieldset at the end of the last one."""
    placed = {id(e["field"]) for fs in fieldsets for e in fs["entries"] if "field" in e}
    missing = [{"field": f} for f in _fields(form) if id(f) not in placed]
    if missing and fieldsets:
        fieldsets[-1]["entries"].extend(missing)


def detail_fields(model_admin: ModelAdmin, pk: tuple, field_class: type) -> list:
    """The detail page's entries of the many-to-many fields it shows (``detail_fields`` when
    given, else all): chips, linked where the user may view the target."""
    found = relations(model_admin)
    names = (list(found) if model_admin.detail_fields is None
             else [n for n in model_admin.detail_fields if n in found])
    out = []
    for name in names:
        relation = found[name]
        keys = row_token([relation], pk[0])[name]
        pairs = labelled(relation, [relation.target_key.coerce(k) for k in keys])
        target = model_admin_for(relation.target)
        url_of = ((lambda key, target=target: detail_url(target, (key,)))
                  if target is not None and may_view(relation.target) else None)
        out.append(field_class(str(relation.label), chips_html(pairs, url_of)))
    return out


def list_url_of(model_admin: ModelAdmin, relation_target: type):
    """How list chips link the target's rows (None: the user may not view them)."""
    target = model_admin_for(relation_target)
    if target is None or not may_view(relation_target):
        return None
    return lambda key: detail_url(target, (key,))
