"""Demo application: a customer-support back office on hyper_admin.

``python -m hyper_admin.demo`` (or ``hyper-admin demo``) seeds a SQLite file under ``instance/``
and serves the admin at http://127.0.0.1:5000/admin. See ``app.run_demo``.
"""


def create_app(*args, **kwargs):
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)


def run_demo(*args, **kwargs):
    from .app import run_demo as _run_demo

    return _run_demo(*args, **kwargs)


__all__ = ["create_app", "run_demo"]
