"""The demo as a WSGI application for a production server, configured by the environment.

    python -m hyper_admin.demo --seed-only          # once: schema and rows ($DATABASE_URL)
    gunicorn -c python:hyper_admin.demo.gunicorn_conf hyper_admin.demo.wsgi:app

Required: ``DATABASE_URL``, ``SECRET_KEY`` (the same for every worker) and
``HYPER_ADMIN_LOGIN_STORAGE_URI`` (``redis://...`` to share sign-in throttling between workers).
Optional: ``DEMO_PG_SCHEMA`` and any ``HYPER_ADMIN_<SETTING>``. See docs/reliability.md.
"""

from .app import create_app_from_env

app = create_app_from_env()
