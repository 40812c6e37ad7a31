r"""gunicorn settings for the demo (docs/reliability.md)::

    gunicorn -c python:hyper_admin.demo.gunicorn_conf hyper_admin.demo.wsgi:app
    gunicorn -c python:hyper_admin.demo.gunicorn_conf -k gthread --threads 4 \
        hyper_admin.demo.wsgi:app

Options given on the command line override these.
"""

import os

bind = os.environ.get("HYPER_ADMIN_DEMO_BIND", "127.0.0.1:8000")
# Four processes: each has its own connection pool and memory, and shares nothing with the
# others but the database and Redis.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "sync"
# With -k gthread, at most sqlorm's pool size (10 connections per process) threads.
threads = 1
# A request running longer than this is killed with its worker (its transaction rolls back)
# and the worker replaced; the admin's own statement_timeout (10 s) stops slow queries first.
timeout = 30
graceful_timeout = 20
keepalive = 5
# Each worker imports the app after the fork: nothing opened at import time (a connection, a
# socket to Redis) is shared between processes.
preload_app = False
# gunicorn >= 24 opens a control socket at one path per user: several instances on one host
# would fight over it. (Older versions ignore this setting.)
control_socket_disable = True
