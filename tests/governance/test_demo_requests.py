"""The governance demo (``harmony demo load``), loaded once for the module. Its access
requests: a fresh ``make run`` shows the committee a queue with a request in every state,
written through the services and workflows, so the audit chain holds; a second load adds
nothing. Its data-use conditions: every kind, on the demo datasets, set once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import audit
from core import demo as core_demo
from core.db import get_session
from core.models import User
from core.policies import SYSTEM
from governance.data_use import demo as data_use_demo
from governance.data_use import services as data_use
from governance.data_use import vocabulary
from governance.requests import demo as requests_demo
from governance.requests.models import (
    Acceptance,
    AccessRequest,
    Entitlement,
    EntitlementState,
    Recusal,
    RequestState,
    Vote,
)
from tests.conftest import login, shared_world

DEMO_PASSWORD = "demo requests test password 42"
TITLES = {spec.fate: spec.content["title"] for spec in requests_demo.DEMO_REQUESTS}


def _counts() -> tuple[int, ...]:
    session = get_session()
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (AccessRequest, Vote, Recusal, Entitlement, Acceptance, User)
    )


@pytest.fixture(scope="module")
def demo(app, reference_engine):
    """The whole demo, loaded twice, once for the module."""
    with shared_world(app, reference_engine):
        requests_demo.register_demo_step()  # as governance.init_app does (idempotent)
        with app.app_context():
            first = core_demo.load_demo(password=DEMO_PASSWORD, with_steps=True)
            before = _counts()
            again = core_demo.load_demo(password=DEMO_PASSWORD, with_steps=True)
            after = _counts()
        yield {"first": first, "again": again, "before": before, "after": after}


def _request(fate: str) -> AccessRequest:
    request = get_session().scalar(select(AccessRequest).where(AccessRequest.title == TITLES[fate]))
    assert request is not None, fate
    return request


def test_every_state_is_made_and_a_second_load_adds_nothing(app, demo):
    assert demo["first"] is not None
    note = next(n for n in demo["first"].notes if n.startswith("demo requests:"))
    assert "not made" not in note
    assert demo["before"] == demo["after"]
    assert not any(n.startswith("demo requests:") for n in demo["again"].notes)
    with app.app_context():
        states = {fate: _request(fate).state.value for fate in TITLES}
    assert states == {
        "draft": "draft",
        "submitted": "submitted",
        "under_review": "under_review",
        "returned": "returned",
        "approved": "approved",
        "approved_with_conditions": "approved",
        "rejected": "rejected",
        "withdrawn": "withdrawn",
        "closed": "closed",
    }
    assert set(RequestState) == {RequestState(s) for s in states.values()}


@pytest.mark.parametrize(
    "state, fates",
    [
        ("", ["submitted", "under_review"]),  # the default: what the committee must act on
        ("returned", ["returned"]),
        ("approved", ["approved", "approved_with_conditions"]),
        ("rejected", ["rejected"]),
        ("withdrawn", ["withdrawn"]),
        ("closed", ["closed"]),
    ],
)
def test_the_chair_sees_the_queue_by_state(app, demo, state, fates):
    client = app.test_client()
    login(client, f"dac-chair@{core_demo.DEMO_DOMAIN}", DEMO_PASSWORD)
    page = client.get(f"/review?state={state}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for fate, title in TITLES.items():
        shown = title.replace("'", "&#39;") in html
        assert shown is (fate in fates), (fate, state)


def test_the_review_stages_are_real(app, demo):
    with app.app_context():
        session = get_session()
        ulrike = session.scalar(
            select(User.id).where(User.email == f"dac-member-2@{core_demo.DEMO_DOMAIN}")
        )
        waiting = _request("submitted")
        assert [d.state.value for d in waiting.datasets] == ["pending_signoff"]
        reviewing = _request("under_review")
        votes = session.scalars(select(Vote).where(Vote.request_id == reviewing.id)).all()
        assert sorted(v.choice.value for v in votes) == ["abstain", "approve"]
        recused = session.scalars(
            select(Recusal.member_id).where(Recusal.request_id == reviewing.id)
        ).all()
        assert recused == [ulrike]  # from the applicant's university
        assert [d.state.value for d in reviewing.datasets] == ["signed_off", "requested"]
        assert "list the variables" in (_request("returned").return_comments or "")


def test_access_follows_the_decisions(app, demo):
    with app.app_context():
        session = get_session()

        def entitlement_states(fate: str) -> list[str]:
            request = _request(fate)
            return sorted(
                e.state.value
                for e in session.scalars(
                    select(Entitlement).where(Entitlement.request_id == request.id)
                )
            )

        active = EntitlementState.ACTIVE.value
        assert entitlement_states("approved") == [active, active]  # applicant and teammate
        accepted = session.scalar(
            select(func.count())
            .select_from(Acceptance)
            .where(Acceptance.request_id == _request("approved").id)
        )
        assert accepted == 2
        assert entitlement_states("approved_with_conditions") == ["awaiting_acceptance"]
        assert entitlement_states("closed") == ["revoked"]
        for fate in ("draft", "submitted", "under_review", "returned", "rejected", "withdrawn"):
            assert entitlement_states(fate) == [], fate


def test_the_audit_chain_verifies_after_the_demo(app, demo):
    with app.app_context():
        result = audit.verify(get_session())
    assert result.first_bad is None and result.problem is None
    assert result.count > 0


def test_the_demo_datasets_get_their_conditions_once(app, client, demo):
    with app.app_context():
        assert data_use_demo.set_demo_conditions() == []  # the step ran; a reload changes nothing
        codes = {}
        for identifier in data_use_demo.DEMO_CONDITIONS:
            row = data_use.get_conditions(SYSTEM, identifier).row
            assert row is not None and row.revision == 1, identifier
            codes[identifier] = [
                vocabulary.TERMS[t].code
                for t in [row.permission, *(m["term"] for m in row.modifiers)]
            ]
    assert codes["aml-ic-2016"] == ["DS", "PUB", "IRB"]
    assert codes["mds-registry-it"] == ["HMB", "NPU"]
    assert codes["mm-te-2015"] == ["DS", "GS", "MOR"]
    assert {c[0] for c in codes.values()} == {"NRES", "GRU", "HMB", "DS"}
    facet = client.get("/api/v1/search").json["facets"]["data_use"]
    assert {v["value"] for v in facet} >= {"DUO:0000007", "DUO:0000045", "DUO:0000024"}
