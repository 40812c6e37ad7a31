"""Query views: a SQL query (or view) registered as a read-only list.

``admin.register_query(name, sql, columns={...})`` declares the query's result columns (names
and types); the admin builds a :class:`~hyper_admin.introspect.ModelInfo` of them and a
:class:`QueryAdmin`, so that the list machinery of every model (search, filters, sort, keyset
pages, counts, export, the filter panel) runs over the query unchanged. Statements read the
query as a common table expression (``sql.QuerySource``): its named parameters and the user's
scope are bound per request, and a statement that reads a query view nobody bound raises.

Identifiers come only from the declared columns, which are checked against the query's real
result columns (a ``LIMIT 0`` run) once per engine; values are only ever parameters.
"""

from __future__ import annotations

import re
import threading
import typing as t
import weakref
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from . import problems, sql
from .context import current_state
from .i18n import _
from .introspect import MISSING, ColumnInfo, Hint, ModelInfo, _kind, _unwrap, choices_of, model_info
from .options import ModelAdmin
from .query import BadQuery, parse_value

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: The endpoints a query view answers; every other URL of its slug is a 404.
QUERY_ENDPOINTS = frozenset({"list", "count", "facets", "export", "saved_views", "save_view",
                             "delete_view", "live", "live_rows"})
READ_ONLY = ("view", "export")


@dataclass(frozen=True)
class QueryParam:
    """A named parameter of a query view: its default, its type (default: the default's), and
    whether the query string may set it (``public``; then within ``min``..``max``)."""

    default: t.Any
    type: t.Any = None
    public: bool = False
    min: t.Any = None
    max: t.Any = None
    label: str | None = None


class QueryMismatch(TypeError):
    """The declared columns are not the query's result columns."""


class QueryAdmin(ModelAdmin):
    """The ModelAdmin of a query view: read-only (``view`` and ``export`` only), no actions,
    no rows of its own to open. Built by ``Admin.register_query``."""

    served_endpoints = QUERY_ENDPOINTS
    is_query_view = True
    #: Set by register_query.
    source: sql.QuerySource
    query_params: t.Mapping[str, QueryParam] = {}
    row_link: str | None = None
    scope_function: t.Callable[[t.Any], t.Any] | None = None

    def __init__(self, model: type, admin):
        super().__init__(model, admin)
        self._verified: "weakref.WeakSet[t.Any]" = weakref.WeakSet()
        self._verify_lock = threading.Lock()

    # -- who may do what ----------------------------------------------------------------------

    def has_permission(self, action: str, user: t.Any, obj: t.Any = None) -> bool:
        if action not in READ_ONLY:
            return False
        return super().has_permission(action, user, obj)

    def get_actions(self, user: t.Any) -> list:
        return []

    def scope(self, user: t.Any):
        function = type(self).scope_function
        return function(user) if function is not None else None

    # -- per request ----------------------------------------------------------------------------

    def list_scope(self, user: t.Any):
        return None  # bound inside the query by bind_query

    def rows_have_pages(self, user: t.Any) -> bool:
        return self.row_link_for(user) is not None

    def bind_query(self, user: t.Any, args: t.Any, engine: t.Any = None) -> MultiDict:
        """Bind the query's parameters (defaults, and public ones from ``args``: BadQuery when
        not valid) and the user's scope for this request; return ``args`` without them."""
        engine = engine if engine is not None else current_state().engine
        self.verify(engine)
        values = {}
        public = {name for name, param in self.query_params.items() if param.public}
        rest = MultiDict([(k, v) for k, v in args.items(multi=True) if k not in public])
        for name, param in self.query_params.items():
            raw = args.getlist(name) if param.public else []
            raw = [r for r in raw if r.strip() != ""]
            if not raw:
                values[name] = sql.to_db(_param_column(name, param), param.default,
                                         sql.dialect_of(engine))
                continue
            if len(raw) > 1:
                raise BadQuery(_("%(name)s takes one value", name=name))
            column = _param_column(name, param)
            value = parse_value(column, raw[0])
            if (param.min is not None and value < param.min) or (
                    param.max is not None and value > param.max):
                raise BadQuery(_("%(name)s must be between %(min)s and %(max)s",
                                 name=name, min=param.min, max=param.max))
            values[name] = sql.to_db(column, value, sql.dialect_of(engine))
        sql.bind_source(self.source, values, self.scope(user))
        return rest

    def row_link_for(self, user: t.Any) -> tuple[ColumnInfo, ModelAdmin] | None:
        """(the column holding the linked row's key, the ModelAdmin of that row), when the
        row links somewhere the user may go."""
        if self.row_link is None:
            return None
        column = self.info.column(self.row_link)
        target = next((ma for ma in current_state().model_admins()
                       if ma.model is column.target_model), None)
        if target is None or not target.has_permission("view", user):
            return None
        return column, target

    # -- checks ---------------------------------------------------------------------------------

    def verify(self, engine) -> None:
        """Check the declared columns against the query's result columns, once per engine."""
        if engine in self._verified:
            return
        with self._verify_lock:
            if engine in self._verified:
                return
            actual = result_columns(engine, self.source, self.query_params)
            declared = [c.name for c in self.info.columns]
            missing = [n for n in declared if n not in actual]
            extra = [n for n in actual if n not in declared]
            if missing or extra:
                raise QueryMismatch(
                    f"query view {self.slug!r}: the query returns {actual}, but columns= "
                    f"declares {declared}" + (f"; missing: {missing}" if missing else "")
                    + (f"; not declared: {extra}" if extra else ""))
            self._verified.add(engine)


def result_columns(engine, source: sql.QuerySource, params: t.Mapping[str, QueryParam]) -> list[str]:
    """The names of the query's result columns (run with ``LIMIT 0``, defaults bound)."""
    dialect = sql.dialect_of(engine)
    values = {name: sql.to_db(_param_column(name, p), p.default, dialect) for name, p in params.items()}
    text, args = source.render(dialect, values)
    stmt = sql.Statement(dialect, f"SELECT * FROM ({text}) AS probe LIMIT 0")
    stmt.params = args
    with engine as tx:
        cursor = tx.cursor(stmt.compiled())
        try:
            return [d[0] for d in cursor.description or ()]
        finally:
            cursor.close()


_PARAM_KINDS = {int: "int", float: "float", bool: "bool", str: "text"}


def _param_column(name: str, param: QueryParam) -> ColumnInfo:
    python_type = param.type or type(param.default)
    return _column(name, python_type, table="_", primary_key=False, target=None)


def _column(name: str, annotation: t.Any, *, table: str, primary_key: bool,
            target: type | None) -> ColumnInfo:
    python_type, optional, metadata = _unwrap(annotation)
    hint = next((m for m in metadata if isinstance(m, Hint)), Hint())
    enum_class = python_type if isinstance(python_type, type) and issubclass(python_type, __import__("enum").Enum) else None
    choices = choices_of(hint, enum_class)
    return ColumnInfo(
        name=name, attribute=name, kind=_kind(python_type, None, hint), python_type=python_type,
        sql_type=None, nullable=optional and not primary_key, primary_key=primary_key,
        unique=False, lazy=False, default=MISSING, max_length=hint.max_length, enum=enum_class,
        choices=choices, references=None, target_model=target, relation_attribute=None,
        secret=bool(hint.secret), hint=hint, table=table,
    )


def build_query_admin(admin, name: str, query: t.Any, *, columns: t.Mapping[str, t.Any],
                      key: str | t.Sequence[str] | None = None, label_column: str | None = None,
                      links: t.Mapping[str, type] | None = None, row_link: str | None = None,
                      params: t.Mapping[str, t.Any] | None = None,
                      scope: t.Callable[[t.Any], t.Any] | None = None,
                      **options: t.Any) -> QueryAdmin:
    """The QueryAdmin of ``admin.register_query`` (see its docstring)."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"query view name {name!r}: letters, digits and _, not starting with a digit")
    text = _query_text(query)
    _check_column_names(name, columns)
    keys = [key] if isinstance(key, str) else list(key or [next(iter(columns))])
    links = dict(links or {})
    row_link = _checked_row_link(name, columns, keys, links, label_column, row_link)
    query_params = _query_params(name, params or {})
    source = sql.query_source(name, text)
    _check_params_match(name, source, query_params)

    info = _result_info(name, source, columns, keys, links)
    class_name = "".join(part.title() for part in name.split("_")) + "Row"
    row_class = type(class_name, (), {"__hyper_admin_info__": info, "__module__": __name__,
                                      "__doc__": f"A row of the query view {name!r}."})
    info.model = row_class

    attrs: dict[str, t.Any] = {"slug": name, "source": source, "query_params": query_params,
                               "row_link": row_link, "scope_function": staticmethod(scope) if scope else None}
    if label_column is not None:
        attrs["list_display_links"] = [label_column]
    attrs.update(_class_options(name, options))
    admin_class = type(class_name + "Admin", (QueryAdmin,), attrs)
    model_admin = admin_class(row_class, admin)
    _check_names(model_admin)
    return model_admin


def _check_column_names(name: str, columns: t.Mapping[str, t.Any]) -> None:
    """Declared columns, each a plain identifier: they are written into the SQL as names."""
    if not columns:
        raise TypeError(f"query view {name!r}: declare its result columns with columns=")
    for column_name in columns:
        if not isinstance(column_name, str) or not _IDENTIFIER.match(column_name):
            raise ValueError(f"query view {name!r}: column name {column_name!r} is not a plain identifier")


def _checked_row_link(name: str, columns: t.Mapping[str, t.Any], keys: list[str],
                      links: dict[str, type], label_column: str | None,
                      row_link: str | None) -> str | None:
    """Check ``key``, ``links`` and ``label_column`` name declared columns and each link goes
    to a model with a one-column key; return the column whose link opens a row's page (by
    default the first of ``links``)."""
    label_columns = [label_column] if label_column else []
    for mapping_name, names in (("key", keys), ("links", links), ("label_column", label_columns)):
        for column_name in names:
            if column_name not in columns:
                problems.fail("hyper_admin.E020", f"query view {name!r}: {mapping_name} names "
                              f"{column_name!r}, which is not a declared column")
    for column_name, target in links.items():
        if not hasattr(target, "__mapper__") or len(model_info(target).primary_key) != 1:
            problems.fail("hyper_admin.E022", f"query view {name!r}: links[{column_name!r}] must "
                          "be a sqlorm model with a one-column primary key")
    if row_link is None and links:
        row_link = next(iter(links))
    if row_link is not None and row_link not in links:
        problems.fail("hyper_admin.E022",
                      f"query view {name!r}: row_link {row_link!r} is not one of links")
    return row_link


def _query_params(name: str, params: t.Mapping[str, t.Any]) -> dict[str, QueryParam]:
    """``params=`` as QueryParams (a bare value is the default); each needs a type to parse
    the query string's value with, from its default or ``type=``."""
    query_params = {}
    for param_name, value in params.items():
        param = value if isinstance(value, QueryParam) else QueryParam(value)
        if param.default is None and param.type is None:
            problems.fail("hyper_admin.E023", f"query view {name!r}: parameter {param_name!r} "
                          "needs a default or type=")
        query_params[param_name] = param
    return query_params


def _check_params_match(name: str, source: sql.QuerySource,
                        query_params: t.Mapping[str, QueryParam]) -> None:
    """The query's ``:name`` parameters are exactly those of ``params=``."""
    unknown = source.param_names - set(query_params)
    unused = set(query_params) - source.param_names
    if unknown or unused:
        problems.fail("hyper_admin.E023", f"query view {name!r}: the query's parameters "
                      f"{sorted(source.param_names)} and params= {sorted(query_params)} differ")


def _result_info(name: str, source: sql.QuerySource, columns: t.Mapping[str, t.Any],
                 keys: list[str], links: dict[str, type]) -> ModelInfo:
    """The ModelInfo of the query's rows, as a model's would be: the declared columns (keys
    and links among them) read from the query's common table expression. Its ``model`` is set
    by the caller, once the row class exists."""
    infos = [_column(n, annotation, table=source.identifier, primary_key=n in keys,
                     target=links.get(n)) for n, annotation in columns.items()]
    for column in infos:
        if column.primary_key and column.kind == "json":
            raise TypeError(f"query view {name!r}: key column {column.name!r} cannot be JSON")
    by_name = {c.name: c for c in infos}
    return ModelInfo(model=None, table=source.identifier, columns=infos,  # type: ignore[arg-type]
                     primary_key=[by_name[k] for k in keys], by_attribute=dict(by_name),
                     by_name=dict(by_name))


#: ModelAdmin options about writing rows or forms: a query view has neither.
_WRITE_OPTIONS = ("fields", "fieldsets", "inlines", "list_editable", "actions", "detail_panels",
                  "readonly_fields", "form_overrides", "form_args", "version_field",
                  "date_hierarchy")


def _class_options(name: str, options: dict[str, t.Any]) -> dict[str, t.Any]:
    """The QueryAdmin class attributes of ``register_query``'s other options: the names
    (by default from the view's name: "late_orders" is "Late order", "Late orders") and the
    list options a query view takes."""
    words = name.replace("_", " ")
    attrs = {
        "verbose_name": options.pop("verbose_name", None) or words[:1].upper() + words[1:].rstrip("s"),
        "verbose_name_plural": options.pop("verbose_name_plural", None) or words[:1].upper() + words[1:],
    }
    for option, value in options.items():
        if option.startswith("_") or not hasattr(QueryAdmin, option) or option in _WRITE_OPTIONS:
            problems.fail("hyper_admin.E021", f"unknown option {option!r} of a query view")
        attrs[option] = value
    return attrs


def _check_names(model_admin: QueryAdmin) -> None:
    """Every name the options use is a declared column (checked now, not on a request)."""
    declared = model_admin.info.by_attribute
    for option in ("list_display", "search_fields", "list_filter", "sortable_fields", "ordering",
                   "list_display_links"):
        for item in getattr(model_admin, option) or ():
            if isinstance(item, str) and item.lstrip("-") not in declared and not callable(
                    getattr(model_admin, item, None)):
                problems.fail("hyper_admin.E020", f"query view {model_admin.slug!r}: {option} names "
                              f"{item!r}, which is not a declared column")


def _query_text(query: t.Any) -> str:
    if isinstance(query, str):
        text = query
    else:
        from sqlorm.sql import render

        text, values = render(query, paramstyle="qmark")
        if values:
            raise TypeError("a query view's values are named parameters (:name, with params=), "
                            "not SQL.Param values")
    text = text.strip().rstrip(";").strip()
    if not text:
        raise ValueError("empty query")
    return text
