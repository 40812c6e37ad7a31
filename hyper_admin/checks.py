"""Checks of a ModelAdmin's configuration, run when it is registered (as Django's system checks):
a mistake in the options fails at start-up, with an id to look up in docs/checks.md, never in
front of a user on a first request.

Checks that need the database's catalog (what the table declares) run once it was read: at
registration when the database answers, else when the first request reads it, which can only
log them (``warn_about``), since raising there would be a user's 500.
"""

from __future__ import annotations

import logging
import typing as t
from .problems import ConfigurationError, Problem  # noqa: F401 - ConfigurationError: this module's API

if t.TYPE_CHECKING:
    from .introspect import ColumnInfo, ModelInfo
    from .options import ModelAdmin

log = logging.getLogger("hyper_admin")


def raise_errors(problems: t.Sequence[Problem]) -> None:
    if problems:
        raise ConfigurationError(problems)


def warn_about(problems: t.Sequence[Problem]) -> None:
    for problem in problems:
        log.warning("%s (%s)", problem.message, problem.id)


# ---------------------------------------------------------------------------------------------
# Forms that cannot create a row


def unfillable_on_insert(model_admin: "ModelAdmin", fillable: t.Collection[str]) -> list["ColumnInfo"]:
    """Columns an INSERT needs (NOT NULL, no default of the model's or the database's) that a
    form filling the attributes ``fillable`` leaves out."""
    info = model_admin.info
    return [c for c in info.columns
            if c.required_on_insert and c.attribute not in fillable
            and not (c.primary_key and info.key_filled_by_database)]


def _declared_form(model_admin: "ModelAdmin") -> tuple[set[str], set[str]]:
    """(attributes the add form fills, attributes the options themselves keep out of it) as
    the declarative options say, whatever a get_* override does per user."""
    from .options import ModelAdmin

    fields = ModelAdmin.get_fields(model_admin, None, None)
    readonly = set(ModelAdmin.get_readonly_fields(model_admin, None, None))
    readonly |= {c.attribute for c in model_admin.info.columns if c.hint.readonly}
    declared_out = set(model_admin.exclude) | readonly
    if model_admin.fields is not None or model_admin.fieldsets:
        declared_out |= {c.attribute for c in model_admin.info.columns} - set(fields)
    return set(fields) - readonly, declared_out


def fills_values_in_a_hook(model_admin: "ModelAdmin") -> bool:
    from .options import ModelAdmin

    return type(model_admin).on_model_change is not ModelAdmin.on_model_change


def check_catalog(model_admin: "ModelAdmin") -> list[Problem]:
    """hyper_admin.E101: a required column the options keep out of the add form (excluded,
    read-only, or left out of ``fields``/``fieldsets``), which no default and no
    ``on_model_change`` fills: nobody could ever add a row."""
    if (model_admin.is_query_view or not model_admin.info.catalog_read
            or fills_values_in_a_hook(model_admin)):
        return []
    fillable, declared_out = _declared_form(model_admin)
    problems = []
    for column in unfillable_on_insert(model_admin, fillable):
        if column.attribute in declared_out:
            problems.append(Problem("hyper_admin.E101", (
                f"{type(model_admin).__name__} of {model_admin.model.__name__}: column "
                f"{column.attribute!r} is required (NOT NULL, no default) but the add form "
                "cannot fill it (excluded, read-only or not in fields): add it to the form, "
                "give it a default, or set it in on_model_change")))
    return problems


# ---------------------------------------------------------------------------------------------
# Option names


def check_options(model_admin: "ModelAdmin") -> list[Problem]:
    """Every declarative option of ``model_admin`` names what exists: columns, relation paths,
    methods, @action functions; types that would fail on the first request. A path through a
    foreign key only the database declares is checked once its catalog was read."""
    if model_admin.is_query_view:
        return []
    checker = _OptionChecker(model_admin)
    for check in _OPTION_CHECKS:
        check(checker)
    return checker.problems


class _OptionChecker:
    def __init__(self, model_admin: "ModelAdmin"):
        self.model_admin = model_admin
        self.info = model_admin.info
        self.visible = {c.attribute: c for c in model_admin.visible_columns()}
        self.problems: list[Problem] = []
        from .many_to_many import field_names
        #: Many-to-many fields (many_to_many.py): names list_display, list_filter and the
        #: form's and detail page's options may use besides columns.
        self.joined = field_names(model_admin)
        self.owner = f"{type(model_admin).__name__} of {model_admin.model.__name__}"

    def fail(self, id: str, option: str, name: t.Any, why: str) -> None:
        self.problems.append(Problem(id, f"{self.owner}: {option} {name!r} {why}"))

    def column(self, name: t.Any) -> "ColumnInfo | None":
        return self.visible.get(name) if isinstance(name, str) else None

    def foreign_key(self, name: str, info: "ModelInfo | None" = None) -> "ColumnInfo | None":
        for column in (info or self.info).columns:
            if column.attribute == name or column.relation_attribute == name:
                return column if column.is_foreign_key else None
        return None

    def path(self, option: str, name: str, id: str) -> "ColumnInfo | None":
        """``fk.column``, ``fk.fk.column``...: each name but the last a foreign key (attribute
        or relation name) of the model the one before leads to, the last a column of the last
        model. Returns that column; None when the path is wrong (a problem is added) or can
        only be checked later (a key the database may declare, a target not registered yet)."""
        from .introspect import model_info

        names = name.split(".")
        info = self.info
        for depth, hop_name in enumerate(names[:-1]):
            hop = self.foreign_key(hop_name, info)
            if hop is None:
                if depth == 0 and not info.catalog_read and hop_name in info.by_attribute:
                    return None  # a plain column the database may declare a key of: known once read
                why = (f"does not start with a foreign key ({hop_name!r})" if depth == 0
                       else f"goes on through {hop_name!r}, no foreign key of {info.model.__name__}")
                self.fail(id, option, name, why)
                return None
            if hop.target_model is None:
                return None  # its target is registered later: checked when the list is built
            info = model_info(hop.target_model)
            if len(info.primary_key) != 1:
                self.fail(id, option, name, f"goes through {info.model.__name__}, whose key has "
                          "several columns (a join needs one)")
                return None
        column = info.column(names[-1]) if names[-1] else None
        if column is None:
            self.fail(id, option, name, f"names no column of {info.model.__name__}")
        elif column.secret:
            self.fail(id, option, name, "names a secret column of the related model")
            return None
        return column

    def columns(self, option: str, names: t.Iterable[t.Any], id: str, *, strip: str = "") -> None:
        for name in names or ():
            if not isinstance(name, str) or self.column(name.lstrip(strip)) is None:
                why = ("is not a column of the model" if not isinstance(name, str)
                       or name.lstrip(strip) not in self.info.by_attribute
                       else "is a secret column: name it in fields or list_display to show it")
                self.fail(id, option, name, why)


def _check_list_display(c: _OptionChecker) -> None:
    ma = c.model_admin
    if ma.list_display is None:
        return
    keys = set()
    for item in ma.list_display:
        if callable(item) and not isinstance(item, str):
            keys.add(getattr(item, "__name__", ""))
            continue
        if not isinstance(item, str):
            c.fail("hyper_admin.E001", "list_display", item, "is neither a name nor a callable")
            continue
        keys.add(item)
        if item in c.joined:
            continue
        if "." in item:
            c.path("list_display", item, "hyper_admin.E002")
        elif c.column(item) is None and c.foreign_key(item) is None and not callable(getattr(ma, item, None)):
            c.fail("hyper_admin.E001", "list_display", item,
                   "is not a column, a foreign key path or a method of the ModelAdmin")
    for name in ma.list_display_links or ():
        if name not in keys:
            c.fail("hyper_admin.E003", "list_display_links", name, "is not in list_display")
    for name in ma.list_editable or ():
        column = c.column(name)
        if name not in keys or column is None or column.primary_key or column.is_foreign_key:
            c.fail("hyper_admin.E009", "list_editable", name,
                   "must be a plain column of list_display (not a key, not a foreign key)")


def _check_search_fields(c: _OptionChecker) -> None:
    for name in c.model_admin.search_fields or ():
        if not isinstance(name, str):
            c.fail("hyper_admin.E004", "search_fields", name, "is not a name")
        elif "." in name:
            c.path("search_fields", name, "hyper_admin.E004")
        elif c.column(name) is None:
            c.fail("hyper_admin.E004", "search_fields", name, "is not a visible column")


def _check_list_options(c: _OptionChecker) -> None:
    ma = c.model_admin
    from .list_filters import is_custom
    _check_custom_filters(c)
    for option, names, id, strip in (("list_filter", [n for n in ma.list_filter or () if not is_custom(n)],
                                      "hyper_admin.E005", ""),
                                      ("sortable_fields", ma.sortable_fields, "hyper_admin.E006", ""),
                                      ("ordering", ma.ordering or (), "hyper_admin.E006", "-")):
        plain = [n for n in names or () if not (isinstance(n, str) and "." in n)
                 and not (option == "list_filter" and n in c.joined)]
        c.columns(option, plain, id, strip=strip)
        for name in names or ():
            if isinstance(name, str) and "." in name:
                c.path(option, name.lstrip(strip), id)
    if ma.date_hierarchy is not None:
        _check_date_hierarchy(c, ma.date_hierarchy)
    for option in ("per_page", "list_max_chars", "inline_per_page"):
        value = getattr(ma, option)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            c.fail("hyper_admin.E013", option, value, "must be a positive integer")


CUSTOM_FILTER_ID = "hyper_admin.E035"


def _check_custom_filters(c: _OptionChecker) -> None:
    """Custom list filters (list_filters.ListFilter): a title, a parameter_name of their own
    in the query string (no column's, field's, other filter's or the list's own parameter),
    choices() and condition() written."""
    from .list_filters import PARAMETER_NAME, RESERVED_EXTRA, ListFilter, as_list_filter
    from .query import RESERVED

    taken = {*c.info.by_attribute, *(col.relation_attribute for col in c.info.columns
                                     if col.relation_attribute), *c.joined}
    for item in c.model_admin.list_filter or ():
        custom = as_list_filter(item)
        if custom is None:
            if isinstance(item, str) and "." not in item:
                taken.add(item)
            continue
        name = custom.parameter_name
        kind = type(custom)
        if not str(custom.title or ""):
            c.fail(CUSTOM_FILTER_ID, "list_filter", kind.__name__, "has no title")
        if not isinstance(name, str) or not PARAMETER_NAME.fullmatch(name):
            c.fail(CUSTOM_FILTER_ID, "list_filter", kind.__name__, f"has parameter_name {name!r}: give a "
                   "lower-case name (letters, digits, single underscores)")
        elif name in RESERVED or name in RESERVED_EXTRA or name in taken:
            c.fail(CUSTOM_FILTER_ID, "list_filter", kind.__name__, f"has parameter_name {name!r}, which "
                   "the list already uses (a column, a field, another filter or its own parameter)")
        else:
            taken.add(name)
        for method in ("choices", "condition"):
            if getattr(kind, method) is getattr(ListFilter, method):
                c.fail(CUSTOM_FILTER_ID, "list_filter", kind.__name__, f"does not define {method}()")


def _check_date_hierarchy(c: _OptionChecker, name: t.Any) -> None:
    if isinstance(name, str) and "." in name:
        problems = len(c.problems)
        column = c.path("date_hierarchy", name, "hyper_admin.E007")
        if len(c.problems) > problems or column is None:
            return  # said, or known once the catalog is read
    else:
        column = c.column(name)
    if column is None or column.kind not in ("date", "datetime") or column.lazy:
        c.fail("hyper_admin.E007", "date_hierarchy", name,
               "is not a visible date or datetime column (or a path to one)")


def _check_form_options(c: _OptionChecker) -> None:
    ma = c.model_admin
    def own(names: t.Iterable[t.Any]) -> list[t.Any]:
        return [n for n in names or () if n not in c.joined]
    c.columns("fields", own(ma.fields), "hyper_admin.E008")
    c.columns("fieldsets", own(f for _, group in ma.fieldsets or () for f in group.get("fields", ())),
              "hyper_admin.E008")
    c.columns("detail_fields", own(ma.detail_fields), "hyper_admin.E008")
    for option in ("exclude", "readonly_fields"):
        for name in getattr(ma, option) or ():
            if name in c.joined:
                continue
            if not isinstance(name, str) or name not in c.info.by_attribute:
                c.fail("hyper_admin.E008", option, name, "is not a column of the model")
    for option in ("formatters", "form_overrides", "form_args"):
        for name in dict(getattr(ma, option) or {}):
            if name not in c.info.by_attribute:
                c.fail("hyper_admin.E011", option, name, "is not a column of the model")


def _check_actions_and_permissions(c: _OptionChecker) -> None:
    ma = c.model_admin
    for item in ma.actions or ():
        function = getattr(ma, item, None) if isinstance(item, str) else item
        if getattr(function, "_hyper_admin_action", None) is None:
            c.fail("hyper_admin.E010", "actions", item, "is not an @action method or function")
    from .action_forms import check as check_action_forms
    c.problems += check_action_forms(c.owner, c.info, [
        info for item in ma.actions or ()
        for info in [getattr(getattr(ma, item, None) if isinstance(item, str) else item,
                             "_hyper_admin_action", None)] if info is not None])
    for action_name, roles in dict(ma.permissions).items():
        if not isinstance(action_name, str) or isinstance(roles, str) or not all(
                isinstance(role, str) for role in roles):
            c.fail("hyper_admin.E014", "permissions", action_name,
                   "must map an action name to a set of role names ({\"view\": {\"support\"}})")


def _check_prepopulated_fields(c: _OptionChecker) -> None:
    """``prepopulated_fields``: {text column: (columns it is filled from, ...)}."""
    option = c.model_admin.prepopulated_fields
    if not isinstance(option, t.Mapping):
        c.fail(PREPOPULATED_ID, "prepopulated_fields", option,
               "must map a field to the fields it is filled from ({\"slug\": (\"title\",)})")
        return
    for target, sources in option.items():
        column = c.column(target)
        if column is None or column.kind != "text" or column.is_foreign_key:
            c.fail(PREPOPULATED_ID, "prepopulated_fields", target,
                   "is not a visible text column of the model")
        if isinstance(sources, str) or not isinstance(sources, t.Iterable):
            c.fail(PREPOPULATED_ID, "prepopulated_fields", target,
                   "must name its sources as a tuple or list, e.g. (\"title\",)")
            continue
        for source in sources:
            if c.column(source) is None or source == target:
                c.fail(PREPOPULATED_ID, f"prepopulated_fields[{target!r}]", source,
                       "is not another visible column of the model")


PREPOPULATED_ID = "hyper_admin.E024"
INLINE_ID = "hyper_admin.E031"


def _check_inlines(c: _OptionChecker) -> None:
    """``inlines``: each Inline's foreign key to this model (one, or the one ``fk`` names), its
    column names, layout and row counts; plain models and slugs are the detail page's lists."""
    from .inlines import Inline

    for index, inline in enumerate(c.model_admin.inlines or ()):
        if isinstance(inline, Inline):
            _check_inline(c, f"inlines[{index}]", inline)


def _check_inline(c: _OptionChecker, option: str, inline: t.Any) -> None:
    from .inlines import LAYOUTS
    from .introspect import model_info

    try:
        child = model_info(inline.model)
    except Exception:  # noqa: BLE001 - whatever model_info refuses: not a sqlorm model
        c.fail(INLINE_ID, option, inline.model, "is not a sqlorm model")
        return
    _check_inline_key(c, option, inline, child)
    for name, names in (("fields", inline.fields or ()), ("readonly_fields", inline.readonly_fields),
                        ("ordering", [n.lstrip("-") if isinstance(n, str) else n
                                      for n in inline.ordering])):
        for column_name in names:
            if not isinstance(column_name, str) or child.column(column_name) is None:
                c.fail(INLINE_ID, f"{option}.{name}", column_name,
                       f"is not a column of {inline.model.__name__}")
    if inline.layout not in LAYOUTS:
        c.fail(INLINE_ID, f"{option}.layout", inline.layout, "must be \"tabular\" or \"stacked\"")
    _check_inline_counts(c, option, inline)
    _check_inline_uploads(c, option, inline, child)


def _check_inline_uploads(c: _OptionChecker, option: str, inline: t.Any, child: "ModelInfo") -> None:
    """An inline row's form posts no file (its rows are added as fragments of the parent's
    form): a file, image or bytes column there must be read-only or left out, never silently
    unsaved."""
    from .uploads import is_upload_column

    names = inline.fields if inline.fields is not None else [col.attribute for col in child.columns]
    for name in names:
        column = child.column(name) if isinstance(name, str) else None
        if column is not None and is_upload_column(column) and name not in inline.readonly_fields:
            c.fail(INLINE_ID, f"{option}.fields", name, "is a file column: an inline row "
                   "takes no upload (list it in readonly_fields, or leave it out of fields)")


def _check_inline_key(c: _OptionChecker, option: str, inline: t.Any, child: "ModelInfo") -> None:
    found = inline.foreign_keys(c.info)
    parent = c.info.model.__name__
    known = child.catalog_read or bool(found)  # else keys only the database declares, unread yet
    if inline.fk is not None and inline.foreign_key(c.info) is None and known:
        c.fail(INLINE_ID, f"{option}.fk", inline.fk,
               f"is not a foreign key of {inline.model.__name__} to {parent}")
    elif inline.fk is None and len(found) > 1:
        c.fail(INLINE_ID, option, inline, f"has several foreign keys to {parent} "
               f"({', '.join(k.attribute for k in found)}): name one with fk=")
    elif child.catalog_read and not found:
        c.fail(INLINE_ID, option, inline, f"has no foreign key to {parent}")


def _check_inline_counts(c: _OptionChecker, option: str, inline: t.Any) -> None:
    for name in ("extra", "min_num"):
        value = getattr(inline, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            c.fail(INLINE_ID, f"{option}.{name}", value, "must be an integer of at least 0")
    top = inline.max_num
    if top is not None and (not isinstance(top, int) or isinstance(top, bool) or top < 1
                            or (isinstance(inline.min_num, int) and top < inline.min_num)):
        c.fail(INLINE_ID, f"{option}.max_num", top, "must be an integer of at least 1 and min_num")
    if inline.permissions is not None and any(
            not isinstance(action, str) or isinstance(roles, str)
            for action, roles in dict(inline.permissions).items()):
        c.fail(INLINE_ID, f"{option}.permissions", inline.permissions,
               "must map an action name to a set of role names ({\"change\": {\"support\"}})")

FILES_ID = "hyper_admin.E032"


def _check_file_columns(c: _OptionChecker) -> None:
    """File and image hints on string columns only (they hold a storage key); no upload
    column in ``list_editable`` (a list cell's form sends no file)."""
    from .uploads import FILE_KINDS, is_upload_column

    for column in c.info.columns:
        if column.hint.kind in FILE_KINDS and column.kind != "text":
            c.fail(FILES_ID, "column", column.attribute,
                   f"has Hint(kind={column.hint.kind!r}) but is not a string column (a bytes "
                   "column takes uploads without a hint)")
    for name in c.model_admin.list_editable or ():
        column = c.column(name)
        if column is not None and is_upload_column(column):
            c.fail(FILES_ID, "list_editable", name,
                   "is a file column: files are uploaded through the form")


_OPTION_CHECKS = (_check_list_display, _check_search_fields, _check_list_options,
                  _check_form_options, _check_actions_and_permissions,
                  _check_prepopulated_fields, _check_inlines, _check_file_columns)


def check(model_admin: "ModelAdmin") -> list[Problem]:
    """Every check of a registered ModelAdmin."""
    from .many_to_many import check as check_many_to_many

    joined = check_many_to_many(model_admin)
    if joined:
        return joined  # the other options' names depend on these fields
    return [*check_options(model_admin), *check_catalog(model_admin)]
