"""The sidebar's entries in groups: what a ModelAdmin, a query view or a page of the admin
shows in the navigation (NavEntry), and group_entries(), which puts entries into their groups
in the order the Admin declares (``Admin(nav_groups=[...])``), then the order groups first
appear, the default group ("Models") last. No Flask: views/render.py builds the entries of
the current user and request (navigation(), page_navigation()) and grouped_navigation()
groups them; anything else listed in the sidebar gives NavEntry objects with ``group``.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from . import problems
from .i18n import _

#: Check id of the navigation options (docs/checks.md).
NAV_CHECK = "hyper_admin.E041"
#: The cookie the collapsed groups are kept in (static/nav_groups.js writes it).
CLOSED_COOKIE = "hyper_admin_nav_closed"
MAX_CLOSED = 50


@dataclass(frozen=True, slots=True)
class NavEntry:
    """One link of the sidebar. ``group``: the group's label (None: the default group);
    ``order``: its place in the group (lower first; equal orders keep the entries' order)."""

    label: str
    url: str | None
    icon: str
    table: str
    description: str = ""
    active: bool = False
    group: t.Any = None
    order: int = 0


@dataclass(frozen=True)
class NavGroup:
    label: t.Any
    icon: str | None
    key: str                     # the group's id in the page and in the cookie
    entries: tuple[NavEntry, ...]
    default: bool = False        # the group of entries that name none
    open: bool = True            # shown expanded (the current page's group always is)

    @property
    def active(self) -> bool:
        return any(entry.active for entry in self.entries)


def group_key(label: t.Any) -> str:
    """A stable id for a group: its label's text in the source (a lazy string's message,
    not its translation, so that a collapsed group stays collapsed in every language)."""
    text = getattr(label, "_args", None)
    text = text[0] if text else str(label)
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "group"


def declared_groups(value: t.Any) -> list[tuple[t.Any, str | None]]:
    """``Admin(nav_groups=...)`` as (label, icon) pairs: each item a label, or a (label,
    icon) pair. A wrong type fails at once (hyper_admin.E041)."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, t.Iterable):
        problems.fail(NAV_CHECK, "Admin(nav_groups=...) takes a list of labels or (label, icon) "
                      f"pairs, not {value!r}")
    groups = [_declared_group(item) for item in value]
    keys = [group_key(label) for label, _icon in groups]
    if len(set(keys)) != len(keys):
        problems.fail(NAV_CHECK, "Admin(nav_groups=...) names a group twice")
    return groups


def _declared_group(item: t.Any) -> tuple[t.Any, str | None]:
    if isinstance(item, (tuple, list)):
        if len(item) not in (1, 2):
            problems.fail(NAV_CHECK, f"Admin(nav_groups=...): {item!r} is not a (label, icon) pair")
        label, icon = (tuple(item) + (None,))[:2]
    else:
        label, icon = item, None
    if not _is_label(label):
        problems.fail(NAV_CHECK, f"Admin(nav_groups=...): the label {label!r} is not a string")
    if icon is not None and not isinstance(icon, str):
        problems.fail(NAV_CHECK, f"Admin(nav_groups=...): the icon {icon!r} of {label!r} is not "
                      "a string")
    return label, icon


def check_options(owner: str, *, group: t.Any, order: t.Any, icon: t.Any) -> None:
    """A ModelAdmin's or a page's ``nav_group``, ``nav_order`` and ``icon``, checked when it is
    registered (hyper_admin.E041)."""
    if group is not None and not _is_label(group):
        problems.fail(NAV_CHECK, f"{owner}: nav_group {group!r} must be a string (a label)")
    if isinstance(order, bool) or not isinstance(order, int):
        problems.fail(NAV_CHECK, f"{owner}: nav_order {order!r} must be an integer")
    if icon is not None and not isinstance(icon, str):
        problems.fail(NAV_CHECK, f"{owner}: icon {icon!r} must be a string (a lucide icon name)")


def _is_label(value: t.Any) -> bool:
    # A lazy string (lazy_gettext) is a label too: it is a string once translated.
    return isinstance(value, str) or (hasattr(value, "_func") and hasattr(value, "_args"))


def group_entries(entries: t.Iterable[NavEntry], declared: t.Sequence[tuple] = (), *,
                  closed: t.Iterable[str] = (), default_label: t.Any = None) -> list[NavGroup]:
    """``entries`` in their groups: the declared groups first, in their order (those with no
    entry left out: a user who may see nothing of a group does not see the group), then the
    groups entries name that were not declared, as they first appear, then the default group.
    Within a group, by ``order``, then as given."""
    declared_icons = {group_key(label): (label, icon) for label, icon in declared}
    buckets: dict[str, list[NavEntry]] = {key: [] for key in declared_icons}
    labels: dict[str, t.Any] = {key: label for key, (label, _icon) in declared_icons.items()}
    default: list[NavEntry] = []
    for entry in entries:
        if entry.group is None:
            default.append(entry)
            continue
        key = group_key(entry.group)
        buckets.setdefault(key, []).append(entry)
        labels.setdefault(key, entry.group)
    closed = frozenset(closed)
    groups = [_group(labels[key], declared_icons.get(key, (None, None))[1], key, items, closed)
              for key, items in buckets.items() if items]
    if default:
        label = default_label if default_label is not None else _("Models")
        key = "models" if "models" not in buckets else "models-default"
        groups.append(_group(label, None, key, default, closed, default=True))
    return groups


def _group(label: t.Any, icon: str | None, key: str, items: list[NavEntry],
           closed: frozenset[str], *, default: bool = False) -> NavGroup:
    ordered = tuple(sorted(items, key=lambda entry: entry.order))  # stable: ties keep order
    active = any(entry.active for entry in ordered)
    return NavGroup(label=label, icon=icon, key=key, entries=ordered, default=default,
                    open=active or key not in closed)


def closed_groups(cookie: str | None) -> frozenset[str]:
    """The group keys a ``hyper_admin_nav_closed`` cookie names (anything else ignored)."""
    if not cookie:
        return frozenset()
    keys = [part for part in cookie.split(",") if re.fullmatch(r"[a-z0-9-]{1,80}", part)]
    return frozenset(keys[:MAX_CLOSED])


__all__ = ["NavEntry", "NavGroup", "group_entries", "declared_groups",
           "check_options", "closed_groups", "group_key", "CLOSED_COOKIE"]
