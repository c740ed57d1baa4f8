"""Deciding at the same moment, with real concurrent transactions on PostgreSQL: two chairs
deciding one request leave one decision (the other chair gets 409), and a vote arriving while
the chair decides is either counted in the decision or refused with 409 — never lost.

Each client runs in its own thread with its own application context and database session,
released together by a barrier, against a database of its own (committed data: the tests'
rolled-back transaction would hide each session's work from the other). SQLite takes one
writer at a time by design, so these races exist only on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from core import audit, create_app, migrate
from core.db import get_session, writing
from core.models import Role
from core.policies import SYSTEM
from governance.requests.models import AccessRequest, Decision, Vote
from tests.conftest import TEST_ENV
from tests.dbutil import fresh_database, postgres_base_url
from tests.factories import Maker
from tests.governance.requests.world import RequestWorld, build_world, submit_request

pytestmark = pytest.mark.skipif(
    postgres_base_url() is None,
    reason="concurrent transactions need PostgreSQL (set TEST_DATABASE_URL); SQLite admits one "
    "writer at a time, so the race cannot happen there",
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, RequestWorld]]:
    from ontologies.bundled import load_bundled

    with fresh_database(tmp_path_factory.mktemp("review-race"), "review_race") as url:
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url}, env=TEST_ENV)
        try:
            with app.app_context():
                load_bundled(SYSTEM)
            make = Maker(app)
            world = build_world(app, make)
            second_chair = make.user(Role.DAC_CHAIR, name="Second Chair")
            with app.app_context(), writing():
                from core.models import RoleGrant

                grant = get_session().scalar(
                    select(RoleGrant).where(RoleGrant.user_id == second_chair.id)
                )
                grant.committee_id = world.committee  # type: ignore[union-attr]
                get_session().commit()
            world.people["chair_2"] = second_chair.id
            world.tokens["chair_2"] = make.token(second_chair)
            yield app, world
        finally:
            app.extensions["harmony_db"].engine.dispose()


def _at_once(work: list[Callable[[], Any]]) -> list[Any]:
    start = Barrier(len(work))

    def run(job: Callable[[], Any]) -> Any:
        start.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        return list(pool.map(run, work))


def _call(
    app: Flask, world: RequestWorld, who: str, path: str, body: dict[str, Any], **headers: str
) -> Any:
    client = app.test_client()  # one per thread: its own request and session
    return client.post(
        f"/api/v1/access-requests/{path}", json=body, headers=world.auth(who) | headers
    )


def _ready(app: Flask, world: RequestWorld, voters: tuple[str, ...]) -> tuple[str, str]:
    """A request with its sign-off and the votes of ``voters``; its id and ETag."""
    with app.app_context(), writing():
        request_id = submit_request(world)
    assert _call(app, world, "aml_custodian", f"{request_id}/signoffs",
                 {"dataset": "req-aml", "approve": True}).status_code == 201  # fmt: skip
    for who in voters:
        assert (
            _call(app, world, who, f"{request_id}/votes", {"choice": "approve"}).status_code == 201
        )
    answer = app.test_client().get(
        f"/api/v1/access-requests/{request_id}", headers=world.auth("chair")
    )
    return request_id, answer.headers["ETag"]


def test_two_chairs_deciding_at_once_leave_one_decision(served):
    app, world = served
    request_id, etag = _ready(app, world, ("member_2", "member_3", "chair_2"))  # quorum 3 of 4
    decisions = [
        ("chair", {"outcome": "approve", "reasons": "A sound project."}),
        ("chair_2", {"outcome": "reject", "reasons": "No public benefit."}),
    ]
    answers = _at_once(
        [
            (lambda who=who, body=body: _call(app, world, who, f"{request_id}/decision", body,
                                              **{"If-Match": etag}))
            for who, body in decisions
        ]
    )  # fmt: skip
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409], [a.get_json() for a in answers]
    winner = next(a.get_json() for a in answers if a.status_code == 201)
    with app.app_context():
        session = get_session()
        stored = list(session.scalars(select(Decision).where(Decision.request_id == request_id)))
        request = session.get(AccessRequest, request_id)
        assert [d.outcome.value for d in stored] == [winner["outcome"]]
        assert request is not None
        assert request.state.value == ("approved" if winner["outcome"] == "approve" else "rejected")
        assert audit.verify(session).ok


@pytest.mark.parametrize("attempt", [1, 2])
def test_a_vote_during_the_decision_is_counted_or_refused_never_lost(served, attempt):
    app, world = served
    request_id, etag = _ready(app, world, ("member_2", "chair", "chair_2"))  # quorum 3 of 4
    decision, vote = _at_once(
        [
            lambda: _call(app, world, "chair", f"{request_id}/decision",
                          {"outcome": "approve", "reasons": "Good."}, **{"If-Match": etag}),
            lambda: _call(app, world, "member_3", f"{request_id}/votes",
                          {"choice": "reject", "comment": "Too broad."}),
        ]
    )  # fmt: skip
    assert decision.status_code == 201, decision.get_json()
    assert vote.status_code in (201, 409), vote.get_json()
    with app.app_context():
        session = get_session()
        late = session.scalar(
            select(func.count())
            .select_from(Vote)
            .where(Vote.request_id == request_id, Vote.member_id == world.people["member_3"])
        )
        tally = decision.get_json()["tally"]
    if vote.status_code == 201:  # it came first: the decision counted it
        assert late == 1 and tally["votes"] == 4 and tally["reject"] == 1
    else:  # it came after the decision: refused, and nothing stored
        assert late == 0 and tally["votes"] == 3
        assert "approved" in vote.get_json()["detail"]
