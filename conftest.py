"""Fixtures for every test, unit and browser (tests/ and e2e/)."""

import pytest

from hyper_admin.testing import app_context_receivers_dropped


@pytest.fixture(autouse=True)
def _forget_flask_sqlorm_receivers_of_the_test():
    with app_context_receivers_dropped():
        yield


@pytest.fixture(autouse=True, scope="module")
def _forget_flask_sqlorm_receivers_of_the_module():
    """The same for the apps of module fixtures (the browser tests' demo servers): with the
    test files spread over workers (pytest-xdist), any file may come after them in a process."""
    with app_context_receivers_dropped():
        yield
