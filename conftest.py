"""Fixtures for every test, unit and browser (tests/ and e2e/)."""

import contextlib
import weakref

import pytest
from flask import appcontext_pushed, appcontext_tearing_down


@contextlib.contextmanager
def _new_app_context_receivers_dropped():
    """flask-sqlorm connects process-wide app-context receivers on every init_app and never
    disconnects them: the ones added meanwhile are dropped on exit, so that apps created later
    do not carry them (a stale one pushes a session of another database)."""
    before = {sig: set(sig.receivers) for sig in (appcontext_pushed, appcontext_tearing_down)}
    yield
    for sig, keys in before.items():
        for key in set(sig.receivers) - keys:
            receiver = sig.receivers[key]
            if isinstance(receiver, weakref.ref):
                receiver = receiver()
            if receiver is not None:
                sig.disconnect(receiver)


@pytest.fixture(autouse=True)
def _forget_flask_sqlorm_receivers_of_the_test():
    with _new_app_context_receivers_dropped():
        yield


@pytest.fixture(autouse=True, scope="module")
def _forget_flask_sqlorm_receivers_of_the_module():
    """The same for apps of module fixtures (the browser tests' demo servers): with the tests
    spread over workers (pytest-xdist), any test file may come after them in a process."""
    with _new_app_context_receivers_dropped():
        yield
