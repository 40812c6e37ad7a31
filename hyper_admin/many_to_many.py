"""Many-to-many fields through a join table: declared on a ModelAdmin or found in the registry.

sqlorm has no many-to-many: a join table is a model of its own (``TicketTag`` over
``ticket_tags(ticket_id, tag_id)``). A ModelAdmin names such a field in ``many_to_many``::

    class TicketAdmin(ModelAdmin):
        many_to_many = {"tags": ManyToMany(TicketTag, source="ticket_id", target="tag_id",
                                           to=Tag)}
        list_display = ["subject", "tags"]
        list_filter = ["tags"]

and every registered model whose table's primary key is exactly two foreign keys joins the
two models it points at: both get the field, named after the other side's slug, unless
``discover_many_to_many = False`` (or the name is given ``None`` in ``many_to_many``).

The field is a multi-picker of the other side's labels on the forms (posted as a repeated
field, ``tags=3&tags=7``, checked within the target's scope), its join rows written in the
row's own transaction and audited as one change of the field (labels before and after); chips
in lists (one query per page for all rows), on the detail page and in exports; a list filter
(``tags=3``, ``tags__in=3,7``). A model-admin layer module: it is given the user.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from markupsafe import Markup
from wtforms import Field, ValidationError

from . import problems
from .changes import Conflict
from .context import current_state
from .i18n import lazy_gettext as _l
from .introspect import ColumnInfo, humanize, model_info
from .join_tables import JoinedColumn, JoinTable, lock_row, target_keys, two_key_tables, write_keys
from .problems import Problem
from .query import BadQuery, parse_value
from .sql import dialect_of
from .values import labels_of, model_admin_for

if t.TYPE_CHECKING:
    from .options import ModelAdmin

#: Keys one field may hold in one save (a form posting thousands is refused, not run).
MAX_CHOSEN = 200


class ManyToMany:
    """A many-to-many field of a ModelAdmin through a join table.

    ``through``: the join table's sqlorm model, or its table name (a model of it must exist);
    ``source``: its column (attribute) holding this model's key; ``target``: the one holding
    the other model's key; ``to``: the other model (default: the model ``target`` references);
    ``label``: the field's name on screens; ``help``: a sentence under it on the form.
    ``source`` and ``target`` may be left out when the join table has one foreign key to each
    side."""

    def __init__(self, through: t.Any, *, source: str | None = None, target: str | None = None,
                 to: type | None = None, label: t.Any = None, help: t.Any = None):
        self.through = through
        self.source = source
        self.target = target
        self.to = to
        self.label = label
        self.help = help

    def __repr__(self) -> str:
        through = getattr(self.through, "__name__", self.through)
        return f"ManyToMany({through!r}, source={self.source!r}, target={self.target!r})"


@dataclass(eq=False)
class Relation:
    """A many-to-many field as resolved: its name, join table and target model."""

    name: str
    label: t.Any
    join: JoinTable
    target: type
    owner_key: ColumnInfo
    help: t.Any = None
    discovered: bool = False

    @property
    def target_key(self) -> ColumnInfo:
        return model_info(self.target).primary_key[0]

    def target_admin(self) -> "ModelAdmin | None":
        return model_admin_for(self.target)

    def filter_column(self) -> JoinedColumn:
        column = JoinedColumn(self.name, self.owner_key, self.join, str(self.label))
        # The join model is seldom registered: the panel's picker looks up the target's labels.
        column.target_model = self.target
        return column


# ---------------------------------------------------------------------------------------------
# Declared and discovered fields


def relations(model_admin: "ModelAdmin") -> dict[str, Relation]:
    """The many-to-many fields of ``model_admin``: the declared ones, then those the registry's
    join tables give it (worked out per call: the registry and catalog grow)."""
    if model_admin.is_query_view:
        return {}
    declared = _declared(model_admin)
    found = dict(declared)
    if not getattr(model_admin, "discover_many_to_many", True):
        return found
    disabled = {name for name, item in dict(getattr(model_admin, "many_to_many", {}) or {}).items()
                if item is None}
    joined = {id(r.join.info) for r in declared.values()}
    for relation in _discovered(model_admin):
        if (relation.name in found or relation.name in disabled or id(relation.join.info) in joined
                or relation.name in model_admin.info.by_attribute):
            continue
        found[relation.name] = relation
    return found


def relation(model_admin: "ModelAdmin", name: t.Any) -> Relation | None:
    return relations(model_admin).get(name) if isinstance(name, str) else None


def _declared(model_admin: "ModelAdmin") -> dict[str, Relation]:
    cached = model_admin.__dict__.get("_many_to_many")
    if cached is None:
        cached = {}
        for name, item in dict(getattr(model_admin, "many_to_many", {}) or {}).items():
            if item is not None:
                cached[name] = _resolve(model_admin, name, item)
        model_admin._many_to_many = cached
    return cached


def _discovered(model_admin: "ModelAdmin") -> list[Relation]:
    registered = [ma for ma in model_admin.admin.registry.values() if not ma.is_query_view]
    owner = model_admin.model
    out = []
    for join in two_key_tables(ma.info for ma in registered):
        if join.source.target_model is not owner or join.info.model is owner:
            continue
        target_admin = next((ma for ma in registered if ma.model is join.target.target_model), None)
        if target_admin is None:
            continue
        out.append(Relation(name=target_admin.slug, label=target_admin.verbose_name_plural,
                            join=join, target=target_admin.model,
                            owner_key=model_admin.info.primary_key[0], discovered=True))
    return out


def _fail(model_admin: "ModelAdmin", name: str, why: str) -> t.NoReturn:
    problems.fail("hyper_admin.E030", f"{type(model_admin).__name__} of "
                  f"{model_admin.model.__name__}: many_to_many {name!r} {why}")


def _join_model(model_admin: "ModelAdmin", name: str, through: t.Any) -> type:
    if isinstance(through, str):
        from sqlorm import Model

        models = [ma.model for ma in model_admin.admin.registry.values() if not ma.is_query_view]
        models += list(Model.__model_registry__.values())
        found = next((m for m in models if _table_of(m) == through), None)
        if found is None:
            _fail(model_admin, name, f"names the join table {through!r}, of which no sqlorm "
                  "model exists (declare one, or pass the model)")
        return found
    if not hasattr(through, "__mapper__"):
        _fail(model_admin, name, f"joins through {through!r}, which is neither a sqlorm model "
              "nor a table name")
    return through


def _table_of(model: type) -> str | None:
    try:
        return model_info(model).table
    except Exception:  # noqa: BLE001 - an abstract or broken model of another registry
        return None


def _resolve(model_admin: "ModelAdmin", name: str, item: t.Any) -> Relation:
    """A declared field, checked (hyper_admin.E030 for what cannot work)."""
    if not isinstance(item, ManyToMany):
        _fail(model_admin, name, "is not a ManyToMany(...)")
    owner = model_admin.info
    if len(owner.primary_key) != 1:
        _fail(model_admin, name, "is on a model whose key has several columns")
    if name in owner.by_attribute:
        _fail(model_admin, name, "is the name of a column of the model")
    join_model = _join_model(model_admin, name, item.through)
    info = model_info(join_model)
    source = _join_column(info, item.source, lambda c: _points_at(c, owner.model, owner.table),
                          model_admin, name, "source")
    target_model = item.to
    target = _join_column(info, item.target,
                          lambda c: c is not source and (target_model is None
                                                         or _points_at(c, target_model, None)),
                          model_admin, name, "target")
    if target_model is None:
        target_model = target.target_model or _registered_for(model_admin, target)
    elif (target.references is not None or target.target_model is not None) and not _points_at(
            target, target_model, None):
        _fail(model_admin, name, f"target={target.attribute!r} does not point at "
              f"{target_model.__name__}")
    if target_model is None or not hasattr(target_model, "__mapper__"):
        _fail(model_admin, name, f"cannot tell which model {target.attribute!r} points at: "
              "give to=Model")
    if len(model_info(target_model).primary_key) != 1:
        _fail(model_admin, name, f"picks {target_model.__name__}, whose key has several columns")
    return Relation(name=name, label=item.label or humanize(name), help=item.help,
                    join=JoinTable(info, source, target), target=target_model,
                    owner_key=owner.primary_key[0])


def _points_at(column: ColumnInfo, model: type, table: str | None) -> bool:
    if column.target_model is not None:
        return column.target_model is model
    table = table or model_info(model).table
    return column.references is not None and column.references[0] == table


def _registered_for(model_admin: "ModelAdmin", column: ColumnInfo) -> type | None:
    if column.references is None:
        return None
    return next((ma.model for ma in model_admin.admin.registry.values()
                 if not ma.is_query_view and ma.info.table == column.references[0]), None)


def _join_column(info, attribute: str | None, fits: t.Callable[[ColumnInfo], bool],
                 model_admin: "ModelAdmin", name: str, role: str) -> ColumnInfo:
    if attribute is not None:
        column = info.column(attribute)
        if column is None:
            _fail(model_admin, name, f"{role}={attribute!r} is no column of "
                  f"{info.model.__name__}")
        return column
    candidates = [c for c in info.columns if c.is_foreign_key and fits(c)]
    if len(candidates) != 1:
        _fail(model_admin, name, f"cannot tell the join table's {role} column: give "
              f"{role}=\"<column>\"")
    return candidates[0]


def check(model_admin: "ModelAdmin") -> list[Problem]:
    """Registration checks of ``many_to_many`` (hyper_admin.E030)."""
    if model_admin.is_query_view:
        return []
    model_admin.__dict__.pop("_many_to_many", None)
    try:
        _declared(model_admin)
    except problems.ConfigurationError as exc:
        return exc.problems
    return []


def field_names(model_admin: "ModelAdmin") -> set[str]:
    """The names options may use for this ModelAdmin's many-to-many fields (declared ones
    always, discovered ones when their join model is registered already)."""
    names = {n for n, item in dict(getattr(model_admin, "many_to_many", {}) or {}).items()
             if item is not None}
    try:
        names |= set(relations(model_admin))
    except problems.ConfigurationError:
        pass
    return names


# ---------------------------------------------------------------------------------------------
# Reading: keys, labels, chips


def keys_by_row(relation: Relation, owner_keys: t.Sequence[t.Any]) -> dict[t.Any, list[t.Any]]:
    engine = current_state().engine
    return target_keys(engine, dialect_of(engine), relation.join, owner_keys)


def labelled(relation: Relation, keys: t.Iterable[t.Any], user: t.Any = None
             ) -> list[tuple[t.Any, str]]:
    """``(key, label)`` of ``keys``, sorted by label; with ``user``, only those within the
    target's scope for them."""
    keys = list(keys)
    labels = labels_of(relation.target, keys, user=user)
    return sorted(((k, labels[k]) for k in keys if k in labels),
                  key=lambda pair: (str(pair[1]).lower(), str(pair[0])))


def chips_html(pairs: t.Iterable[tuple[t.Any, str]], url_of: t.Callable[[t.Any], str | None] | None = None
               ) -> Markup:
    """Labels as badges (escaped), linked where ``url_of`` gives a URL."""
    out = []
    for key, label in pairs:
        url = url_of(key) if url_of is not None else None
        if url:
            out.append(Markup('<a href="{}" class="badge badge-soft badge-primary badge-sm '
                              'link-hover" data-chip>{}</a>').format(url, label))
        else:
            out.append(Markup('<span class="badge badge-soft badge-primary badge-sm" '
                              'data-chip>{}</span>').format(label))
    if not out:
        return Markup('<span class="text-base-content/60">—</span>')
    return Markup('<span class="inline-flex flex-wrap gap-1">{}</span>').format(
        Markup("").join(out))


class ChipsColumn:
    """A list column of a many-to-many field: called per row with the row's object, it reads
    what ``prefetch`` read for the whole page (one statement for the keys, one for their
    labels), never a query per row. ``texts`` gives the labels (exports)."""

    def __init__(self, relation: Relation, owner_info, url_of=None):
        self.relation = relation
        self.__name__ = relation.name
        self.label = relation.label
        self.ordering = None
        self._owner_key = owner_info.primary_key[0]
        self._url_of = url_of
        self._keys: dict[t.Any, list[t.Any]] = {}
        self._labels: dict[t.Any, str] = {}

    def prefetch(self, rows: t.Iterable[t.Any]) -> None:
        key = self._owner_key
        owners = [key.coerce(row[key.name]) for row in rows]
        self._keys = keys_by_row(self.relation, owners)
        wanted = {k for keys in self._keys.values() for k in keys}
        self._labels = labels_of(self.relation.target, wanted)
        for owner in owners:
            self._keys.setdefault(owner, [])

    def pairs(self, obj: t.Any) -> list[tuple[t.Any, str]]:
        return self.pairs_of(getattr(obj, self._owner_key.attribute, None))

    def pairs_of(self, owner: t.Any) -> list[tuple[t.Any, str]]:
        """(key, label) of the row whose key is ``owner``, sorted by label."""
        if owner not in self._keys:  # a row no page prefetched (a single row's refresh)
            self.prefetch([{self._owner_key.name: owner}])
        keys = self._keys.get(owner, [])
        pairs = [(k, self._labels.get(k) or f"#{k}") for k in keys]
        return sorted(pairs, key=lambda pair: (str(pair[1]).lower(), str(pair[0])))

    def texts(self, values: t.Mapping[str, t.Any]) -> list[str]:
        """The labels of a row given as its values by column name (exports)."""
        return [str(label) for _key, label in self.pairs_of(values.get(self._owner_key.name))]

    def __call__(self, obj: t.Any) -> Markup:
        return chips_html(self.pairs(obj), self._url_of)


def display_items(model_admin: "ModelAdmin", items: t.Sequence[t.Any], url_of=None) -> list[t.Any]:
    """``list_display`` with its many-to-many names as :class:`ChipsColumn` callables."""
    found = None
    out = []
    for item in items:
        if isinstance(item, str) and item not in model_admin.info.by_attribute:
            found = relations(model_admin) if found is None else found
            if item in found:
                out.append(ChipsColumn(found[item], model_admin.info, url_of))
                continue
        out.append(item)
    return out


def filter_columns(model_admin: "ModelAdmin", names: t.Iterable[str]) -> dict[str, JoinedColumn]:
    """The list filters among ``names`` that are many-to-many fields, by name."""
    found = relations(model_admin)
    return {name: found[name].filter_column() for name in names if name in found}


# ---------------------------------------------------------------------------------------------
# Forms: the field, what a save changes


class ManyToManyField(Field):
    """The form field of a many-to-many relation: the chosen keys, posted as a repeated field
    (``tags=3&tags=7``). The view fills ``lookup_url`` and ``chips`` ((key, label) pairs)."""

    widget = None
    relation: Relation | None = None

    def __init__(self, label=None, validators=None, relation: Relation | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.relation = relation
        self.lookup_url: str | None = None
        self.chips: list[tuple[t.Any, str]] = []
        self.readonly = False

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = list(dict.fromkeys(v.strip() for v in valuelist if v and v.strip()))

    def process_data(self, value: t.Any) -> None:
        self.data = list(value or [])

    def _value(self) -> str:
        return ",".join(str(v) for v in self.data or [])

    def keys(self) -> list[t.Any]:
        """The chosen keys, parsed as the target's key (ValidationError when malformed)."""
        if len(self.data or []) > MAX_CHOSEN:
            raise ValidationError(str(_l("Choose at most %(count)s.", count=MAX_CHOSEN)))
        key = self.relation.target_key
        try:
            return [parse_value(key, str(raw)) for raw in self.data or []]
        except BadQuery:
            raise ValidationError(str(_l("Choose existing rows."))) from None

    def pre_validate(self, form) -> None:
        self.keys()


class JoinChange:
    """What a save does to one many-to-many field of a row: make its join rows hold ``wanted``.
    ``expected``: the keys the form was opened with (None: not known, e.g. on create); the
    write service (changes.py) calls :meth:`verify` in the row's transaction (a
    :class:`~hyper_admin.changes.Conflict` when someone changed them meanwhile), then
    :meth:`apply`, whose audit values it records in the row's entry."""

    def __init__(self, relation: Relation, wanted: t.Iterable[t.Any],
                 expected: t.Iterable[t.Any] | None = None):
        self.relation = relation
        self.wanted = list(dict.fromkeys(wanted))
        self.expected = None if expected is None else sorted(map(str, expected))
        self.before: list[t.Any] = []

    def verify(self, changes: t.Any, pk: t.Sequence[t.Any]) -> None:
        engine = changes.engine
        lock_row(engine, changes.dialect, changes.info, tuple(pk))
        self.before = target_keys(engine, changes.dialect, self.relation.join,
                                  [pk[0]]).get(pk[0], [])
        if self.expected is not None and sorted(map(str, self.before)) != self.expected:
            raise Conflict()

    @property
    def changed(self) -> bool:
        return set(map(str, self.before)) != set(map(str, self.wanted))

    def apply(self, changes: t.Any, tx: t.Any, pk: t.Sequence[t.Any]) -> dict[str, list[t.Any]]:
        """Write the join rows; return the audit entry's change of the field."""
        before = {str(k): k for k in self.before}
        wanted = {str(k): k for k in self.wanted}
        write_keys(tx, changes.dialect, self.relation.join, pk[0],
                   add=[wanted[k] for k in wanted.keys() - before.keys()],
                   remove=[before[k] for k in before.keys() - wanted.keys()])
        return {self.relation.name: [self.audit_value(self.before), self.audit_value(self.wanted)]}

    def audit_value(self, keys: t.Sequence[t.Any]) -> list[str]:
        labels = labels_of(self.relation.target, keys)
        return sorted(str(labels.get(k) or f"#{k}") for k in keys)


def audit_text(value: t.Any) -> str | None:
    """An audit value of a many-to-many field as a history line reads it."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "—"
    return None


def row_token(relations_: t.Iterable[Relation], pk: t.Any) -> dict[str, list[str]]:
    """The keys each field holds for the row at ``pk`` (sorted text): what an edit form saw."""
    return {r.name: sorted(str(k) for k in keys_by_row(r, [pk]).get(pk, [])) for r in relations_}
