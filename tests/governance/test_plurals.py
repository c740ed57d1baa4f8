"""Counts in the governance pages and messages agree with their nouns, with one and with two:
the committee's mail about a submitted request ("for 1 dataset", not "1 dataset(s)"), the
register's count and its verb ("1 approved data use matches"), the quorum on the review page
and in the refusal to decide ("of 1 vote needed"), the requested duration ("1 month"), the
consent check's time limit and the committee dashboard's median days."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from core import workflow
from core.db import get_session, writing
from core.errors import Conflict
from core.etags import UNCHECKED
from core.models import DataAccessCommittee
from core.notifications import Notification
from governance.matching.check import GRU, INCOMPATIBLE, TS, check
from governance.oversight.views import _days
from governance.review import services as review_services
from tests.conftest import login, shared_world
from tests.governance.matching.haem import HIERARCHY, conditions, mod, purpose
from tests.governance.oversight.journey import approved
from tests.governance.requests.world import (
    RequestWorld,
    build_world,
    create_request,
    submit_request,
)

ONE_DATASET = [{"dataset": "req-myeloma"}]


@pytest.fixture(scope="module")
def world(app: Flask, reference_engine: Any) -> Iterator[RequestWorld]:
    with shared_world(app, reference_engine) as make:
        world = build_world(app, make)
        with app.app_context(), writing():
            approved(world, title="Plural alpha: relapse after FLT3 inhibitors")
            approved(world, title="Plural beta: staging in myeloma", datasets=ONE_DATASET)
            approved(world, title="Plural beta: survival in myeloma", datasets=ONE_DATASET)
        yield world


def _text(response: Any) -> str:
    """The page's text with its tags removed and its spaces collapsed."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(
    ("datasets", "words"),
    [(ONE_DATASET, "for 1 dataset. It waits"), (None, "for 2 datasets. It waits")],
)
def test_the_committee_is_told_how_many_datasets_a_request_asks_for(app, world, datasets, words):
    with app.app_context(), writing():
        overrides = {"datasets": datasets} if datasets else {}
        request_id = submit_request(world, title="Plural gamma", **overrides)
        bodies = (
            get_session()
            .scalars(
                select(Notification.body).where(
                    Notification.object_id == request_id,
                    Notification.kind == "access_request.submitted",
                )
            )
            .all()
        )
    assert bodies and all(words in body for body in bodies), bodies
    assert not any("(s)" in body for body in bodies)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("alpha", "1 approved data use matches “alpha”."),
        ("beta", "2 approved data uses match “beta”."),
    ],
)
def test_the_register_counts_its_matches_with_the_verb_agreeing(client, world, query, words):
    assert words in _text(client.get(f"/register?q={query}"))


@pytest.fixture
def under_review(app: Flask, world: RequestWorld) -> str:
    """A request under review, with no vote yet."""
    with app.app_context(), writing():
        request_id = submit_request(world, title="Plural delta", datasets=ONE_DATASET)
        workflow.apply(
            "access_request", world.actor("chair"), request_id, "start_review", if_match=UNCHECKED
        )
    return request_id


@pytest.mark.parametrize(("quorum", "words"), [(1, "1 vote needed"), (2, "2 votes needed")])
def test_the_quorum_is_counted_in_words(app, world, client, under_review, quorum, words):
    with app.app_context(), writing():
        committee = get_session().get(DataAccessCommittee, world.committee)
        assert committee is not None
        committee.quorum = quorum
        get_session().commit()
    assert login(client, world.emails["chair"]).status_code in (200, 302)
    assert f"0 of {words} for the quorum" in _text(client.get(f"/review/{under_review}"))
    with app.app_context(), writing(), pytest.raises(Conflict, match=f"0 of the {words} "):
        review_services.decide(
            world.actor("chair"), under_review, {"outcome": "approve", "reasons": "Fine."},
            UNCHECKED,
        )  # fmt: skip


@pytest.mark.parametrize(("months", "words"), [(1, "1 month"), (2, "2 months")])
def test_the_requested_duration_is_written_in_months(app, world, client, months, words):
    with app.app_context(), writing():
        request_id = create_request(world, title="Plural epsilon", requested_months=months)
    assert login(client, world.emails["applicant"]).status_code in (200, 302)
    assert f"Duration of access {words} " in _text(client.get(f"/requests/{request_id}"))


@pytest.mark.parametrize(
    ("limit", "needed", "words"),
    [
        (1, 2, "at most 1 month (time limit on use, TS, DUO:0000025); the purpose needs 2 months."),
        (
            2,
            3,
            "at most 2 months (time limit on use, TS, DUO:0000025); the purpose needs 3 months.",
        ),
    ],
)
def test_the_consent_check_writes_the_time_limit_in_months(limit, needed, words):
    result = check(
        purpose(GRU, duration_months=needed),
        conditions(GRU, modifiers=(mod(TS, months=limit),)),
        HIERARCHY,
    )
    assert result.outcome == INCOMPATIBLE
    assert any(reason.message.endswith(words) for reason in result.reasons), result.reasons
    unit = "month" if limit == 1 else "months"
    assert result.obligations[0].text.startswith(f"Access ends {limit} {unit} after it is granted")


@pytest.mark.parametrize(("days", "words"), [(1.0, "1 day"), (2.0, "2 days"), (1.5, "1.5 days")])
def test_the_dashboard_writes_median_days_in_words(days, words):
    assert _days(days) == words
