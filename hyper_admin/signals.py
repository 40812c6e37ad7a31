"""Signals an application connects to, to hear about what is done through the admin.

Blinker signals in their own namespace, sent like Flask's own: the sender is the application,
the rest are keyword arguments. Each is sent inside the change's transaction, after the write
and its audit row: a receiver that raises rolls the change back (and the user sees the error
like any other refusal). Work that must only happen once the change is committed (an email, a
job) belongs in a queue the receiver fills, or in ``flask.after_this_request``.

    from hyper_admin.signals import model_changed

    @model_changed.connect_via(app)
    def on_change(sender, model_admin, user, pk, action, before, after, **extra):
        ...
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

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
