"""The deployment entry (hyper_admin.demo.wsgi): configured by the environment only, refusing
to start without what several workers must share, and opening no connection at start-up."""

import subprocess
import sys

import pytest

from harness import REPO, free_port
from hyper_admin.demo.app import ConfigurationError, create_app_from_env, settings_from_env

GOOD = {"DATABASE_URL": "postgresql://app@127.0.0.1:1/nowhere",
        "SECRET_KEY": "k" * 32,
        "HYPER_ADMIN_LOGIN_STORAGE_URI": "memory://"}


@pytest.mark.parametrize("missing", sorted(GOOD))
def test_each_required_setting_is_named_when_missing(missing):
    environ = {k: v for k, v in GOOD.items() if k != missing}
    with pytest.raises(ConfigurationError, match=f"{missing} is not set"):
        create_app_from_env(environ)


def test_every_missing_setting_is_named_at_once():
    with pytest.raises(ConfigurationError) as caught:
        create_app_from_env({})
    assert all(name in str(caught.value) for name in GOOD)


def test_a_short_secret_key_is_refused():
    with pytest.raises(ConfigurationError, match="SECRET_KEY is too short"):
        create_app_from_env({**GOOD, "SECRET_KEY": "short"})


def test_admin_settings_come_from_the_environment():
    config = settings_from_env({"HYPER_ADMIN_STATEMENT_TIMEOUT": "2.5",
                                "HYPER_ADMIN_LOGIN_MAX_FAILURES": "3",
                                "HYPER_ADMIN_ACCESS_ROLES": "support, viewer",
                                "HYPER_ADMIN_NOT_A_SETTING": "x", "OTHER": "y"})
    assert config == {"HYPER_ADMIN_STATEMENT_TIMEOUT": "2.5",
                      "HYPER_ADMIN_LOGIN_MAX_FAILURES": "3",
                      "HYPER_ADMIN_ACCESS_ROLES": frozenset({"support", "viewer"})}


def test_the_app_starts_while_the_database_is_down():
    """No connection at start-up: a worker booted (or replaced) during an outage starts, where
    a failed boot would make gunicorn's master exit."""
    app = create_app_from_env({**GOOD, "HYPER_ADMIN_STATEMENT_TIMEOUT": "2.5"})
    state = app.extensions["hyper_admin"]["hyper_admin"]
    assert app.secret_key == GOOD["SECRET_KEY"]
    assert state.statement_timeout == 2.5
    assert state.login_storage_uri == "memory://"
    engine = app.extensions["hyper_admin_demo"]["engine"]
    assert engine.pool == [] and engine.active_conns == []


def test_gunicorn_refuses_to_start_without_a_shared_secret_key(tmp_path):
    environ = {"PATH": "/usr/bin:/bin", "DATABASE_URL": GOOD["DATABASE_URL"],
               "HYPER_ADMIN_LOGIN_STORAGE_URI": "memory://", "PYTHONPATH": REPO}
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:hyper_admin.demo.gunicorn_conf",
         "-b", f"127.0.0.1:{free_port()}", "-w", "1", "hyper_admin.demo.wsgi:app"],
        env=environ, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY is not set: one key for every worker" in result.stdout + result.stderr
