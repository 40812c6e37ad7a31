"""Signals an application connects to, to hear about what is done through the admin.

Blinker signals in their own namespace, sent like Flask's own: the sender is the application
(None outside one), the rest are keyword arguments. ``model_changed`` and ``model_deleted`` are
sent inside the change's transaction, after the write and its audit row: a receiver that
raises rolls the change back (and the user sees the error like any other refusal). Work that
must only happen once the change is committed (an email, a job) connects to
``change_committed``, sent after the commit and never for a change rolled back.

    from hyper_admin.signals import model_changed

    @model_changed.connect_via(app)
    def on_change(sender, model_admin, user, pk, action, before, after, **extra):
        ...
"""

from __future__ import annotations

import typing as t

from blinker import Namespace

_signals = Namespace()


def current_sender() -> t.Any:
    """What signals are sent by: the current Flask application, None outside one (a job)."""
    from flask import current_app, has_app_context

    return current_app._get_current_object() if has_app_context() else None


#: A row was created or updated through the admin: the create and edit forms, an inline
#: edit in the list, a revert, a restore, a custom action that changed it.
#: Keyword arguments: ``model_admin``, ``user``, ``pk`` (tuple), ``action`` (``"create"``,
#: ``"update"``, ``"revert"``, ``"restore"``, ``"action:<name>"``: what the audit trail
#: records), ``created`` (bool), ``before`` (the row's values by column name, None on create),
#: ``after`` (the values now).
model_changed = _signals.signal("hyper-admin-model-changed")

#: A row was deleted through the admin (delete page, bulk delete, a custom action that
#: deleted it). Keyword arguments: ``model_admin``, ``user``, ``pk``, ``action``,
#: ``before`` (its values).
model_deleted = _signals.signal("hyper-admin-model-deleted")

#: A bulk delete or a custom action ran to its end. Keyword arguments: ``model_admin``,
#: ``user``, ``name`` (``"delete"`` or the action's name), ``pks`` (list of tuples: the rows
#: it ran on), ``message`` (what the user is told).
action_performed = _signals.signal("hyper-admin-action-performed")

#: A change recorded by ``model_changed`` or ``model_deleted`` was committed: sent once the
#: transaction that made it committed (never when it rolled back), for notifications and jobs.
#: Keyword arguments: ``model_admin``, ``user``, ``pk``, ``action``, ``before``, ``after``
#: (None for a delete).
change_committed = _signals.signal("hyper-admin-change-committed")
