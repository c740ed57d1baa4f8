"""The audit chain stays one line when many writers append at once: the app served by gunicorn
(two worker processes with threads) on a database of its own, administrators' clients
registering organisations at the same moment, each registration one audit event."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import requests
from sqlalchemy import select

from core import audit, create_app, migrate
from core.db import get_session
from core.models import Organisation, Role
from tests.dbutil import fresh_database
from tests.factories import Maker
from tests.gunicorn import gunicorn, server_errors

CLIENTS = 24
EACH = 3


def test_concurrent_writers_leave_one_unbroken_chain(tmp_path_factory):
    with fresh_database(tmp_path_factory.mktemp("audit-chain"), "audit_chain") as url:
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url}, env={"HARMONY_ENV": "testing"})
        make = Maker(app)
        token = make.token(make.user(Role.ADMIN))
        app.extensions["harmony_db"].engine.dispose()
        log_path = tmp_path_factory.mktemp("audit-chain-log") / "gunicorn.log"
        options = ("--workers", "2", "--threads", "8", "--worker-class", "gthread")
        start = Barrier(CLIENTS)

        def register(client: int) -> list[int]:
            start.wait()
            statuses = []
            for n in range(EACH):
                answer = requests.post(
                    f"{base}/api/v1/organisations",
                    json={"name": f"Centre {client}-{n}", "country": "FR", "kind": "hospital"},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=120,
                )
                statuses.append(answer.status_code)
            return statuses

        try:
            with (
                gunicorn(url, log_path, *options, "--timeout", "120") as base,
                ThreadPoolExecutor(max_workers=CLIENTS) as pool,
            ):
                statuses = [s for batch in pool.map(register, range(CLIENTS)) for s in batch]
            with app.app_context():
                session = get_session()
                events = list(
                    session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.seq))
                )
                organisations = set(session.scalars(select(Organisation.id)))
                result = audit.verify(session)
                head = audit.head()
        finally:
            app.extensions["harmony_db"].engine.dispose()
        assert statuses == [201] * (CLIENTS * EACH)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[0].prev_hash == audit.GENESIS
        assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(events))
        created = [e for e in events if e.action == "organisation.created"]
        assert len(created) == CLIENTS * EACH == len(organisations)
        assert {e.object_id for e in created} == organisations
        assert (
            result.ok and result.count == len(events) and head == (events[-1].seq, events[-1].hash)
        )
        errors = server_errors(log_path)
        assert not errors, errors[:5]
