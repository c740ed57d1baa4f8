"""The access-request generator of the committee benchmark (bench/generate_requests.py), at a
test size on the database of the run (SQLite, or PostgreSQL with TEST_DATABASE_URL): the rows
it writes are what the application's pages and API read, its audit trail verifies, and the
committee's rules hold in it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bench import generate_catalogue, generate_governance, generate_requests
from core import create_app, migrate
from core.policies import SYSTEM
from tests.dbutil import fresh_database

ENV = {"HARMONY_ENV": "testing"}
REQUESTS = 150


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    with fresh_database(tmp_path_factory.mktemp("genreq"), "genreq") as url:
        migrate.upgrade(url)
        generate_catalogue.generate(
            url, datasets=60, variables=600, mappings=60, seed=3, progress=False, hooks=False
        )
        generate_governance.generate(url, 3)
        summary = generate_requests.generate(url, REQUESTS, 3)
        yield url, summary


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_every_state_is_there_as_the_summary_says(generated):
    url, summary = generated
    states = dict(rows(url, "SELECT state, COUNT(*) FROM access_requests GROUP BY state"))
    assert states == summary["states"]
    assert sum(states.values()) == REQUESTS
    assert set(states) == {
        "draft", "submitted", "under_review", "returned", "approved", "rejected", "withdrawn",
        "closed",
    }  # fmt: skip


def test_the_committee_rules_hold_in_the_rows(generated):
    url, _summary = generated
    # a decision per decided round, never two; the decided ones reached their quorum
    assert rows(
        url,
        "SELECT COUNT(*) FROM access_requests r WHERE r.state IN ('approved', 'rejected', "
        "'returned', 'closed') AND NOT EXISTS (SELECT 1 FROM request_decisions d "
        "WHERE d.request_id = r.id AND d.round = r.round)",
    ) == [(0,)]
    for (tally,) in rows(url, "SELECT tally FROM request_decisions"):
        counted = json.loads(tally) if isinstance(tally, str) else tally
        assert counted["votes"] >= counted["quorum"] == counted["eligible"] // 2 + 1
    # no vote from a member recused in that round
    assert rows(
        url,
        "SELECT COUNT(*) FROM request_votes v JOIN request_recusals x ON x.request_id = "
        "v.request_id AND x.round = v.round AND x.member_id = v.member_id",
    ) == [(0,)]
    # no entitlement without an approval; none live on a closed request
    assert rows(
        url,
        "SELECT COUNT(*) FROM entitlements e JOIN access_requests r ON r.id = e.request_id "
        "WHERE r.state NOT IN ('approved', 'closed') OR (r.state = 'closed' AND "
        "e.state IN ('active', 'awaiting_acceptance'))",
    ) == [(0,)]
    # an active entitlement's holder accepted the terms
    assert rows(
        url,
        "SELECT COUNT(*) FROM entitlements e WHERE e.state = 'active' AND NOT EXISTS "
        "(SELECT 1 FROM request_acceptances a WHERE a.request_id = e.request_id "
        "AND a.user_id = e.user_id)",
    ) == [(0,)]


def test_the_app_reads_it_and_the_audit_chain_verifies(generated):
    url, summary = generated
    from sqlalchemy import select

    from core import audit
    from core import services as accounts
    from core.db import get_session
    from core.models import User
    from governance.requests.models import AccessRequest, RequestState

    app = create_app({"DATABASE_URL": url}, env=ENV)
    try:
        with app.app_context():
            session = get_session()
            verified = audit.verify(session)
            assert verified.ok, verified.problem
            assert verified.count >= summary["audit_events"]
            chair = session.scalar(
                select(User).where(User.email == f"chair@{generate_requests.DOMAIN}")
            )
            _, token = accounts.create_token(SYSTEM, chair, "test", 1)
            session.commit()
            by_state = {
                state: session.scalar(
                    select(AccessRequest.id).where(AccessRequest.state == state).limit(1)
                )
                for state in RequestState
                if state is not RequestState.DRAFT
            }
            open_refs = set(
                session.scalars(
                    select(AccessRequest.reference).where(
                        AccessRequest.state.in_([RequestState.SUBMITTED, RequestState.UNDER_REVIEW])
                    )
                )
            )
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        queue = client.get("/review", headers=headers)
        assert queue.status_code == 200
        html = queue.get_data(as_text=True)
        assert open_refs and all(ref in html for ref in open_refs)
        for state, request_id in by_state.items():
            assert request_id is not None, state
            page = client.get(f"/review/{request_id}", headers=headers)
            assert page.status_code == 200, state
            api = client.get(f"/api/v1/access-requests/{request_id}", headers=headers)
            assert api.status_code == 200 and api.json["state"] == state.value
    finally:
        app.extensions["harmony_db"].engine.dispose()


def test_it_refuses_a_database_with_requests(generated):
    url, _summary = generated
    with pytest.raises(SystemExit, match="access requests already"):
        generate_requests.generate(url, 5, 3)
