"""The demo as deployed (``hyper_admin.demo.wsgi``), plus what only the fault tests need.

Served by gunicorn as ``fault_app:app`` (tests/reliability is on the workers' PYTHONPATH):

- every response says which worker answered (``X-Worker-Pid``), so that a test can tell that
  each worker recovered; the product itself has no such header;
- orders get an action ``hold`` that changes the selected rows one at a time inside the
  action's single transaction and, after the second, writes ``<pid> <backend pid>`` to
  ``$RELIABILITY_HOLD_DIR/held`` and waits there to be killed: the transaction is open, one
  audit entry and two updates written, nothing committed;
- ``/admin/sleepy-products/`` lists products through a scope that sleeps in the database
  (``pg_sleep``), for the statement timeout.
"""

import os
import time

from flask import g
from sqlorm import SQL, Model, PrimaryKey

from hyper_admin import ModelAdmin, action
from hyper_admin.demo.app import create_app_from_env
from hyper_admin.demo.models import Order

app = create_app_from_env()
_demo = app.extensions["hyper_admin_demo"]
admin, engine = _demo["admin"], _demo["engine"]


@app.after_request
def _worker_pid(response):
    response.headers["X-Worker-Pid"] = str(os.getpid())
    return response


_DemoOrderAdmin = type(admin.model_admin(Order))


class HoldingOrderAdmin(_DemoOrderAdmin):
    actions = [*_DemoOrderAdmin.actions, "hold"]

    @action("Hold (test)", permission="change", batch_size=1)
    def hold(self, objects, user):
        done = g.setdefault("_held_rows", 0)
        with engine as tx:
            for order in objects:
                tx.execute(SQL("UPDATE orders SET currency = 'XTS' WHERE id =",
                               SQL.Param(order.id)))
            g._held_rows = done + len(objects)
            if g._held_rows >= 2:
                backend = tx.fetchscalar("SELECT pg_backend_pid() AS pid")
                path = os.path.join(os.environ["RELIABILITY_HOLD_DIR"], "held")
                with open(path + ".tmp", "w") as f:
                    f.write(f"{os.getpid()} {backend}")
                os.replace(path + ".tmp", path)  # the test never reads half a file
                time.sleep(600)  # killed by the test long before
        return "held"


admin.register(Order, HoldingOrderAdmin)


# No ``from __future__ import annotations`` here: sqlorm reads the raw annotations.
class ReliabilitySleepyProduct(Model):
    __table__ = "products"
    id: PrimaryKey[int]
    sku: str
    name: str


class SleepyProductAdmin(ModelAdmin):
    slug = "sleepy-products"
    permissions = {"view": {"support", "viewer"}}
    list_display = ["sku", "name"]

    def scope(self, user):
        return SQL("(SELECT pg_sleep(5)) IS NOT NULL")


admin.register(ReliabilitySleepyProduct, SleepyProductAdmin)
