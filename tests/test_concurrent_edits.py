"""Two agents, two processes, one row (issue 6): both open the edit form, then both save at
the same moment. The database's conditional UPDATE lets exactly one through; the other gets
the conflict page with the winner's value and its own input kept, and saves again after
merging. Nothing is lost, on SQLite and on PostgreSQL.

The same through real gunicorn workers, four editors on two instances (sync and gthread):
tests/reliability/test_shared_state.py."""

import multiprocessing

import pytest
from sqlorm import SQL

from crud_app import seeded

CTX = multiprocessing.get_context("spawn")  # fresh interpreters: no connection shared by fork


def agent(db_url, username, field, value, order, barrier, results):
    import sys

    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from sqlorm import Engine

    from apps import as_user, form_data
    from crud_app import create_app, staff
    from hyper_admin import enable_postgresql

    kwargs = {"foreign_keys": True} if db_url.startswith("sqlite") else {}
    engine = enable_postgresql(Engine.from_uri(db_url, **kwargs))
    app, _ = create_app(engine)
    client = as_user(app, staff(engine)[username])
    page = client.get(f"/admin/orders/{order}/edit").get_data(as_text=True)
    data = form_data(page)
    data[field] = value
    barrier.wait(timeout=30)  # both forms are open: save together
    response = client.post(f"/admin/orders/{order}/edit", data=data)
    body = response.get_data(as_text=True)
    retried = None
    if response.status_code == 409:
        # The conflict page keeps this agent's input and carries the new version: save again.
        retried = client.post(f"/admin/orders/{order}/edit", data=form_data(body)).status_code
    results.put((username, response.status_code, retried, "What changed meanwhile" in body))
    engine.disconnect_all()


@pytest.mark.slow
def test_two_processes_save_the_same_row(db_url, engine):
    seeded(engine, rows=10)
    with engine as tx:
        order = tx.fetchscalar("SELECT id AS v FROM orders WHERE status <> 'cancelled' ORDER BY id LIMIT 1")
    barrier, results = CTX.Barrier(2), CTX.Queue()
    workers = [CTX.Process(target=agent, args=(db_url, "support", "status", "cancelled", order, barrier, results)),
               CTX.Process(target=agent, args=(db_url, "admin", "currency", "XTS", order, barrier, results))]
    for w in workers:
        w.start()
    outcomes = sorted(results.get(timeout=60) for _ in workers)
    for w in workers:
        w.join(timeout=30)
    codes = sorted(code for _, code, _, _ in outcomes)
    assert codes == [303, 409], outcomes  # exactly one wins the race
    loser = next(o for o in outcomes if o[1] == 409)
    assert loser[3] and loser[2] == 303  # shown the conflict, then saved after merging
    with engine as tx:
        row = dict(tx.fetchone(SQL("SELECT status, currency FROM orders WHERE id =", SQL.Param(order))))
        entries = tx.fetchall(SQL("SELECT action FROM hyper_admin_audit WHERE pk =", SQL.Param(str(order))))
    assert row == {"status": "cancelled", "currency": "XTS"}  # nothing lost
    assert len(entries) == 2 and {e["action"] for e in entries} == {"update"}
