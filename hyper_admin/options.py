"""ModelAdmin: declarative options (data) with per-request hook methods (behaviour).

As in Django admin, every option is a class attribute, and where it may depend on who asks, a
``get_<option>(user)`` method computes it: simple things are one line, unusual things one
override.
"""

from __future__ import annotations

import dataclasses
import functools
import typing as t
from dataclasses import dataclass

from . import i18n, navigation, problems
from .context import principal_of
from .file_changes import file_formatters
from .introspect import (BADGE_TONES, ColumnInfo, ModelInfo, default_label, humanize, model_info,
                         model_names)
from .panels import bind_detail_panels

if t.TYPE_CHECKING:
    from .site import Admin

@dataclass(frozen=True)
class ActionInfo:
    name: str
    label: str
    function: t.Callable
    permission: str
    confirm: str | None
    destructive: bool
    batch_size: int | None = None
    #: A WTForms ``Form`` class the confirmation asks the user to fill (action_forms.py).
    form: t.Any = None


def action(label: str | None = None, *, permission: str | None = None, confirm: str | None = None,
           destructive: bool = False, name: str | None = None, batch_size: int | None = None,
           form: t.Any = None):
    """Mark a ModelAdmin method (or a function) as a bulk action on selected rows::

        @action("Mark as shipped", permission="change", confirm="Ship {count} orders?")
        def ship(self, objects, user): ...

    ``permission`` is the action checked (default: the action's own name, granted through
    ``permissions``). The function gets the selected model objects (scoped) and the user, and may
    return a message for the toast.

    ``batch_size``: call the function with at most that many objects at a time (all calls in
    one transaction), so that an action on thousands of rows shows its progress; the message
    is then the last call's.

    ``form``: a WTForms ``Form`` class shown in the confirmation dialog (docs/extending.md,
    "Actions that ask for input"); once it validates, the function is called as
    ``function(objects, user, form)`` and each row's audit entry notes the form's values.
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")

    def decorate(function: t.Callable) -> t.Callable:
        action_name = name or function.__name__
        function._hyper_admin_action = ActionInfo(
            name=action_name,
            label=label or humanize(action_name.lower()),
            function=function,
            permission=permission or action_name,
            confirm=confirm,
            destructive=destructive,
            batch_size=batch_size,
            form=form,
        )
        return function

    return decorate


def display(label: str | None = None, *, ordering: str | None = None):
    """Give a list_display callable/method its column header (and a column to sort it by)."""

    def decorate(function: t.Callable) -> t.Callable:
        function.label = label or humanize(function.__name__.lower())
        function.ordering = ordering
        return function

    return decorate


class ModelAdmin:
    """Options for one model. Subclass it, or pass options to ``admin.register(Model, **options)``."""

    # -- naming ---------------------------------------------------------------------------------
    #: URL segment; defaults to the model's table name.
    slug: str | None = None
    #: Human names; default from the class name ("OrderLine" -> "Order line", "Order lines").
    #: Capitalised as a title; sentences use them in lower case ("Add order line"). May be
    #: lazy strings of the app's catalog (``lazy_gettext``), translated when a page renders.
    verbose_name: str | None = None
    verbose_name_plural: str | None = None
    #: The grammatical gender of ``verbose_name`` in the user's language, for the languages
    #: whose sentences agree with it ("Ajouter une commande", "Produit « X » ajouté"): a
    #: mapping language -> gender (``{"fr": "feminine"}``), or a (lazy) string. French knows
    #: "masculine", "feminine" and "masculine elided" ("cet article"); see docs/i18n.md.
    verbose_name_gender: t.Any = None
    #: A lucide icon name shown in navigation (see static/icons.svg).
    icon: str | None = None
    #: The navigation group this model is listed under (a label, e.g. "Sales"; None: the
    #: default group, "Models"). Groups' order and icons: ``Admin(nav_groups=...)``.
    nav_group: t.Any = None
    #: The model's place in its group: lower first; equal orders keep registration order.
    nav_order: int = 0
    #: A sentence shown under the model's name on the dashboard.
    description: str = ""

    # -- who may do what ------------------------------------------------------------------------
    #: action -> roles allowed to do it. Superusers may do everything; the rest is denied.
    permissions: t.Mapping[str, t.Iterable[str]] = {}
    #: True: rows are listed, shown and exported, never written: no add, change, delete or
    #: action for anyone, superusers included (``hyper-admin serve --read-only``). None: as
    #: the model says (``__hyper_admin_read_only__``: a reflected view, or a table without a
    #: key to write rows by).
    read_only: bool | None = None

    # -- list -----------------------------------------------------------------------------------
    #: Columns of the list: attribute names, ``fk.column`` paths, callables or method names
    #: (decorate with ``@display("Header")``). Default: every visible non-lazy column, up to 8.
    list_display: t.Sequence[t.Any] | None = None
    #: Which list columns link to the row's detail page (default: the first one).
    list_display_links: t.Sequence[str] | None = None
    #: Searched by ``q=``: attribute names or ``fk.column`` paths. Default: text columns.
    search_fields: t.Sequence[str] | None = None
    #: Fields usable as ``<field>=`` filters in the query string and the filter panel.
    list_filter: t.Sequence[t.Any] = ()  # names, and ListFilter classes or instances
    #: A date or datetime column: a drill-down bar above the list (years, months, days), as
    #: Django's ``date_hierarchy``; its links are ``<field>__gte``/``__lte`` filters.
    date_hierarchy: str | None = None
    #: Extra sortable fields besides the displayed columns and the primary key.
    sortable_fields: t.Sequence[str] = ()
    #: Default order, e.g. ``["-created_at"]``. Default: primary key descending.
    ordering: t.Sequence[str] | None = None
    #: Rows per page (default: the Admin's ``per_page``).
    per_page: int | None = None
    #: Text cells longer than this are truncated in lists (full text in the title).
    list_max_chars: int = 80
    #: "Show all (N)" on a list of at most this many rows (``?all=1``: every row on one page,
    #: streamed); 0 turns it off. See docs/lists.md#show-all.
    list_max_show_all: int = 2000
    #: Custom bulk actions: names of ``@action`` methods, or ``@action`` functions.
    actions: t.Sequence[t.Any] = ()
    #: Displayed plain columns editable in place in the list (click, Enter saves, Esc cancels),
    #: for users with the ``change`` permission, with the edit form's field and validation.
    #: Not a primary key nor a foreign key.
    list_editable: t.Sequence[str] = ()

    #: Offer a "Live" toggle on the list: while it is on, the page follows new rows matching
    #: its filters (Server-Sent Events) and shows "N new rows" to prepend. See
    #: docs/dashboards.md#live-lists.
    live: bool = False
    #: The increasing column that tells new rows (an integer key or a creation timestamp).
    #: Default: the integer primary key.
    live_column: str | None = None
    #: Whether this model's lists, counts, filter counts, date bars, exports and lookups may
    #: be read from a read replica when the Admin has some (``read_urls``, docs/replicas.md).
    #: ``False`` keeps every read of the model on the primary.
    read_from_replica: bool = True

    # -- detail and forms -----------------------------------------------------------------------
    #: Fields shown on the detail page (default: every visible column).
    detail_fields: t.Sequence[str] | None = None
    #: Fields of the create/edit form (default: every visible, non-primary-key column).
    fields: t.Sequence[str] | None = None
    #: Fields left out of the form.
    exclude: t.Sequence[str] = ()
    #: Groups of form fields: ``[("Customer", {"fields": [...], "description": "..."}), ...]``.
    fieldsets: t.Sequence[tuple[str | None, t.Mapping[str, t.Any]]] | None = None
    #: Fields shown but never written.
    readonly_fields: t.Sequence[str] = ()
    #: Child models (one-to-many) shown on the detail page, paged: model classes or slugs.
    inlines: t.Sequence[t.Any] = ()
    #: Rows per inline on the detail page.
    inline_per_page: int = 10
    #: Many-to-many fields through a join table: name -> ``ManyToMany(JoinModel,
    #: source=..., target=..., to=...)`` (hyper_admin.many_to_many); ``None`` turns off a
    #: field found by discovery. Usable in list_display, list_filter, fields and fieldsets.
    many_to_many: t.Mapping[str, t.Any] = {}
    #: Give this model a many-to-many field for each registered join table (a primary key of
    #: exactly two foreign keys) that points at it, named after the other side's slug.
    discover_many_to_many: bool = True
    #: Panels shown on the detail page (Metric, TimeSeries, Breakdown, Table... from
    #: hyper_admin.panels), each filtered to the row shown; see docs/dashboards.md.
    detail_panels: t.Sequence[t.Any] = ()
    #: attribute -> WTForms field class replacing the converter's choice.
    form_overrides: t.Mapping[str, type] = {}
    #: Converters of this model's form fields, tried before the global registry
    #: (``hyper_admin.converters``): key -> ``fn(column, ctx) -> UnboundField``, keys as
    #: ``converters.register`` takes them (a Python class, a column kind such as ``"decimal"``,
    #: a Hint kind, ``"choices"``, ``"foreign_key"``).
    form_converters: t.Mapping[t.Any, t.Callable[..., t.Any]] = {}
    #: attribute -> extra keyword arguments of the form field (label, description, validators…).
    form_args: t.Mapping[str, t.Mapping[str, t.Any]] = {}
    #: attribute -> ``fn(value, row) -> str | Markup`` used wherever the value is shown.
    formatters: t.Mapping[str, t.Callable[[t.Any, t.Any], t.Any]] = {}
    #: attribute -> {value: tone}: the colours of a choice column's badges in the list, the
    #: detail page and the filter panel, e.g. ``{"priority": {"urgent": "error"}}``. Tones:
    #: "success", "warning", "error", "info", "neutral". Values not named take the column's
    #: ``Hint(badges=...)``, else the default for their name (paid green, urgent red...).
    badges: t.Mapping[str, t.Mapping[t.Any, str]] = {}
    #: The largest file a form accepts for a file or image column, in bytes (a column's
    #: ``Hint(max_size=...)`` wins). docs/files.md.
    max_upload_size: int = 10 * 1024 * 1024
    #: The largest file a form accepts for a bytes (BLOB, bytea) column, kept in the database.
    max_bytes_size: int = 5 * 1024 * 1024
    #: A column every save moves on (an integer counter, incremented; or a timestamp such as
    #: ``updated_at``, set to now), carried by edit forms and checked by the UPDATE, so that a
    #: change by anyone who maintains it is caught even in columns the form does not show.
    version_field: str | None = None
    #: Form fields filled from others while the user types (Django's): ``{"slug": ("title",)}``
    #: slugifies the title into the slug on the add form, and on the edit form while the slug
    #: was not typed by hand; it stays editable (static/admin.js). See docs/forms.md.
    prepopulated_fields: t.Mapping[str, t.Sequence[str]] = {}
    #: What an empty value (NULL, empty text) shows in lists and detail pages of this model;
    #: None: the column's ``Hint(empty_value_display=...)``, else the Admin's, else "—".
    empty_value_display: str | None = None

    #: A registered SQL query (Admin.register_query), not a table: read-only, no rows to open.
    is_query_view: t.ClassVar[bool] = False
    #: The endpoints this model's URLs answer (None: all of them; a query view: its list's).
    served_endpoints: t.ClassVar[frozenset[str] | None] = None

    def __init__(self, model: type, admin: "Admin"):
        self.model = model
        self.admin = admin
        names = model_names(model)
        self.slug = self.slug or names.table
        self.verbose_name = self.verbose_name or names.verbose_name
        self.verbose_name_plural = self.verbose_name_plural or names.verbose_name_plural
        self._permissions = {
            action_name: frozenset(roles) for action_name, roles in dict(self.permissions).items()
        }
        self._detail_panels = bind_detail_panels(self)
        shown_as_files = {} if self.is_query_view else file_formatters(self)
        if shown_as_files:  # file columns read as links and thumbnails (file_changes)
            self.formatters = {**shown_as_files, **dict(self.formatters)}
        if self.live:
            self._live_column()  # checked at registration
        self._check_badges()
        navigation.check_options(type(self).__name__, group=self.nav_group, order=self.nav_order,
                                 icon=self.icon)
        show_all = self.list_max_show_all
        if not isinstance(show_all, int) or isinstance(show_all, bool) or show_all < 0:
            problems.fail("hyper_admin.E013", f"{type(self).__name__}: list_max_show_all "
                          f"{show_all!r} must be an integer, 0 or more (0: no Show all)")
        if self.version_field is not None:
            column = model_info(model).column(self.version_field)
            if column is None or column.kind not in ("int", "datetime") or column.primary_key:
                problems.fail("hyper_admin.E015", f"version_field {self.version_field!r} of "
                            f"{type(self).__name__} must name an integer or timestamp column "
                            "of the model")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model.__name__} at {self.slug!r}>"

    def _check_badges(self) -> None:
        """``badges`` names columns of the model and known tones (checked at registration)."""
        info = model_info(self.model)
        for name, tones in dict(self.badges).items():
            if info.column(name) is None:
                problems.fail("hyper_admin.E016", f"badges of {type(self).__name__} names {name!r}, "
                            f"which is no column of {self.model.__name__}")
            unknown = sorted({str(tone) for tone in dict(tones).values()} - set(BADGE_TONES))
            if unknown:
                problems.fail("hyper_admin.E016", f"badges of {type(self).__name__} for {name!r}: "
                            f"unknown tone {unknown[0]!r} (use one of {', '.join(BADGE_TONES)})")

    def _live_column(self) -> ColumnInfo:
        """The column of ``live_column`` (default: an integer primary key), which must be a
        NOT NULL integer or timestamp."""
        info = model_info(self.model)
        if self.live_column is not None:
            column = info.column(self.live_column)
        else:
            column = info.primary_key[0] if len(info.primary_key) == 1 else None
        if column is None or column.kind not in ("int", "datetime") or column.nullable or column.secret:
            problems.fail("hyper_admin.E017", f"live_column of {type(self).__name__}: name a NOT "
                          "NULL integer or timestamp column (the default, an integer primary "
                          "key, is missing)")
        return column

    @property
    def info(self) -> ModelInfo:
        return model_info(self.model)

    @property
    def is_read_only(self) -> bool:
        """``read_only``, or the model's own say when it is None, or the catalog's: a view or
        a materialized view (ModelInfo.read_only) is read-only unless ``read_only=False``."""
        if self.read_only is not None:
            return bool(self.read_only)
        return bool(getattr(self.model, "__hyper_admin_read_only__", False)) or self.info.read_only

    # -- who may do what ----------------------------------------------------------------------

    def has_permission(self, action: str, user: t.Any, obj: t.Any = None) -> bool:
        """Whether ``user`` may do ``action`` (on ``obj`` when given). Override for fine control."""
        if action not in ("view", "export") and self.is_read_only:
            return False
        principal = principal_of(user)
        if principal.superuser:
            return True
        return bool(principal.roles & self._permissions.get(action, frozenset()))

    def scope(self, user: t.Any):
        """A sqlorm SQL condition limiting the rows ``user`` may reach, or None for every row."""
        return None

    def list_scope(self, user: t.Any):
        """The scope a list of this model applies around its rows (a query view applies it
        inside its query instead)."""
        return self.scope(user)

    def bind_query(self, user: t.Any, args: t.Any, engine: t.Any = None) -> t.Any:
        """The list's query string with what the model's own query takes out of it (a query
        view binds its parameters); a model's lists take it as it is."""
        return args

    def rows_have_pages(self, user: t.Any) -> bool:
        """Whether the list's rows link pages of their own (a query view's may link another
        model's rows, or nothing)."""
        return True

    def row_link_for(self, user: t.Any) -> tuple[ColumnInfo, "ModelAdmin"] | None:
        """Where rows link when not to their own page: (the column holding another model's
        key, that model's ModelAdmin). None: their own page (a model's rows always)."""
        return None

    def base_query(self, user: t.Any):
        """A sqlorm SQL condition every list of this model starts from (e.g. hide archived
        rows), or None. Unlike ``scope`` it is a default, not a security boundary."""
        return None

    # -- per-request options ------------------------------------------------------------------

    def visible_columns(self) -> list[ColumnInfo]:
        """Columns that may be shown: secret ones only when this ModelAdmin names them."""
        named = self._named_fields()
        return [c for c in self.info.columns if not c.secret or c.attribute in named]

    def _named_fields(self) -> set[str]:
        named: set[str] = set()
        for option in (self.list_display, self.search_fields, self.list_filter,
                       self.sortable_fields, self.detail_fields, self.fields,
                       self.readonly_fields, self.list_editable):
            for item in option or ():
                if isinstance(item, str):
                    named.add(item.split(".")[0].lstrip("-"))
        for _, group in self.fieldsets or ():
            named.update(group.get("fields", ()))
        return named

    def get_list_display(self, user: t.Any) -> list[t.Any]:
        if self.list_display is not None:
            return list(self.list_display)
        return [c.attribute for c in self.visible_columns() if not c.lazy][:8]

    def get_list_display_links(self, user: t.Any) -> list[str]:
        """Default: the first displayed column, whatever it shows (CONTRACT §6: a row always
        links its own page, even when that column is a foreign key)."""
        if self.list_display_links is not None:
            return list(self.list_display_links)
        for item in self.get_list_display(user):
            return [item if isinstance(item, str) else getattr(item, "__name__", "")]
        return []

    def get_search_fields(self, user: t.Any) -> list[str]:
        if self.search_fields is not None:
            return list(self.search_fields)
        # Text-like columns: text, and enums and other choices by their labels (query.py's
        # search_test); never a tsvector, a uuid, an array or a number.
        return [c.attribute for c in self.visible_columns()
                if c.text_like and not c.lazy and not c.is_foreign_key]

    def get_list_filter(self, user: t.Any) -> list[t.Any]:
        return list(self.list_filter)

    def get_ordering(self, user: t.Any) -> list[str]:
        if self.ordering:
            return list(self.ordering)
        return ["-" + c.attribute for c in self.info.primary_key]

    def get_detail_fields(self, user: t.Any) -> list[str]:
        if self.detail_fields is not None:
            return list(self.detail_fields)
        return [c.attribute for c in self.visible_columns()]

    def get_fields(self, user: t.Any, obj: t.Any = None) -> list[str]:
        if self.fieldsets:
            return [f for _, group in self.fieldsets for f in group.get("fields", ())]
        if self.fields is not None:
            return [f for f in self.fields if f not in self.exclude]
        auto_pk = self.info.key_filled_by_database
        return [c.attribute for c in self.visible_columns()
                if not (c.primary_key and auto_pk) and not c.lazy and c.attribute not in self.exclude]

    def get_fieldsets(self, user: t.Any, obj: t.Any = None) -> list[tuple[str | None, dict]]:
        if self.fieldsets:
            return [(title, dict(group)) for title, group in self.fieldsets]
        return [(None, {"fields": self.get_fields(user, obj)})]

    def get_readonly_fields(self, user: t.Any, obj: t.Any = None) -> list[str]:
        readonly = list(self.readonly_fields)
        if obj is not None:
            # A primary key is set once: changing it would orphan every reference to the row.
            readonly += [c.attribute for c in self.info.primary_key if c.attribute not in readonly]
        return readonly

    def form_class(self, columns: t.Sequence[ColumnInfo]):
        """The WTForms form class of ``columns`` (fields named after their attributes), built
        with this model's converters, ``form_overrides`` and ``form_args``."""
        from .fields import build_form_class

        return build_form_class(columns, registry=self.converter_registry(),
                                overrides=dict(self.form_overrides), args=dict(self.form_args))

    def converter_registry(self):
        """The converters this model's forms use: ``form_converters`` over the global ones."""
        from .fields import converters

        if not self.form_converters:
            return converters
        registry = converters.copy()
        for key, converter in dict(self.form_converters).items():
            registry.register(key)(converter)
        return registry

    def _all_actions(self) -> list[ActionInfo]:
        found = []
        for item in self.actions:
            function = getattr(self, item, None) if isinstance(item, str) else item
            info = getattr(function, "_hyper_admin_action", None)
            if info is None:
                raise TypeError(f"{item!r} in {type(self).__name__}.actions is not an @action")
            if not isinstance(item, str):
                # A plain function gets the ModelAdmin first, like a method.
                function = functools.partial(function, self)
            found.append(dataclasses.replace(info, function=function))
        return found

    def action_names(self) -> set[str]:
        return {info.name for info in self._all_actions()}

    def get_actions(self, user: t.Any) -> list[ActionInfo]:
        """The custom actions ``user`` may run; each is called as ``function(objects, user)``
        (``function(objects, user, form)`` for one with a ``form``)."""
        return [info for info in self._all_actions() if self.has_permission(info.permission, user)]

    def get_inlines(self, user: t.Any) -> list[t.Any]:
        return list(self.inlines)

    def many_to_many_fields(self) -> dict[str, t.Any]:
        """The many-to-many fields (declared and discovered) by name (many_to_many.Relation)."""
        from .many_to_many import relations

        return relations(self)

    def site_url(self, obj: t.Any) -> str | None:
        """The row's page on the public site, linked as "View on site" from its detail and
        edit pages (a new tab); None: no link. Only http(s) and site-relative URLs are
        linked (form_extras.site_link)."""
        return None

    def empty_text(self, column: ColumnInfo | None = None) -> str:
        """What an empty value of ``column`` shows: its ``Hint(empty_value_display=...)``,
        else this model's ``empty_value_display``, else the Admin's (default "—")."""
        hinted = getattr(column.hint, "empty_value_display", None) if column is not None else None
        for text in (hinted, self.empty_value_display,
                     getattr(self.admin, "empty_value_display", None)):
            if text is not None:
                return str(text)
        return "—"

    # -- labels ---------------------------------------------------------------------------------

    def row_label(self, obj: t.Any) -> str:
        """CONTRACT §3: ``label(obj)`` if defined, else the model's ``__str__``, else the first
        column named like a label, else ``<Model> #<pk>``."""
        custom = getattr(self, "label", None)
        if callable(custom):
            return str(custom(obj))
        return default_label(self.model, obj, self.verbose_name)

    def get_verbose_name_gender(self) -> str | None:
        """``verbose_name_gender`` for the request's language (None: not given for it)."""
        gender = self.verbose_name_gender
        if isinstance(gender, t.Mapping):
            locale = i18n.current_locale()
            gender = gender.get(str(locale)) or gender.get(locale.language)
        return str(gender) if gender else None

    def phrase(self, message: str, **variables: t.Any) -> str:
        """One of the admin's sentences about this model in the user's language, worded for
        the gender of its name where the language needs it (i18n.GENDERED_MESSAGES).
        ``%(model)s`` and ``%(models)s`` default to the names as words of a sentence."""
        variables.setdefault("model", i18n.in_sentence(self.verbose_name))
        variables.setdefault("models", i18n.in_sentence(self.verbose_name_plural))
        return i18n.gendered(self.get_verbose_name_gender(), message, **variables)

    def count_text(self, num: int, shown: str | None = None) -> str:
        """``num`` rows of this model in words: "1 order", "12 orders", "12 commandes".
        ``shown``: the number as written, when not plainly ("about 9.8M")."""
        return i18n.ngettext("%(num)s %(model)s", "%(num)s %(models)s", num,
                             num=shown if shown is not None else i18n.format_number(num),
                             model=i18n.in_sentence(self.verbose_name),
                             models=i18n.in_sentence(self.verbose_name_plural))

    # -- hooks around writes --------------------------------------------------------------------

    def on_model_change(self, values: dict[str, t.Any], obj: t.Any, is_created: bool) -> None:
        """Before a create/update is written: adjust ``values`` (attribute -> value) in place,
        or raise ``wtforms.ValidationError`` to refuse with a message. ``obj`` is the row as
        it was (None on create)."""

    def after_model_change(self, obj: t.Any, is_created: bool) -> None:
        """After the row is written, in the same transaction: ``obj`` is the row as saved
        (its new values, the database's defaults included); raising rolls the write back."""

    def on_model_delete(self, obj: t.Any) -> None:
        """Before a row is deleted, in the same transaction; raise to refuse."""

    def after_model_delete(self, obj: t.Any) -> None:
        """After the row is deleted, in the same transaction; raising rolls the delete back."""

    def after_commit(self, obj: t.Any, action: str) -> None:
        """Once the transaction that changed ``obj`` committed (never when it rolled back):
        the place for notifications and jobs. ``action``: ``"create"``, ``"update"``,
        ``"delete"`` (``obj`` as it was), ``"revert"``, ``"restore"``, ``"action:<name>"``...
        An error here is logged; the change stays."""
