"""The committee's pages: the queue (waiting time, filters, empty state) and the review page
(purpose next to each dataset's conditions and the check, votes and the recusal notice, the
chair's decision form with its errors next to the fields, stages and the EHDS deadline, the
timeline), and the forms' round trip."""

from __future__ import annotations

import re

from tests.conftest import csrf_token, login
from tests.governance.review.conftest import Api, load


def _as(client, world, who):
    assert login(client, world.emails[who]).status_code in (200, 302)


def test_the_queue_lists_the_committees_requests_and_filters_them(app, world, submitted, client):
    _as(client, world, "member_2")
    page = client.get("/review")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "AR-" in html and "Outcomes of FLT3-ITD AML" in html and "Leiden AML trials" in html
    assert "1 sign-off awaited" in html
    none = client.get("/review?check=incompatible").get_data(as_text=True)
    assert "No request matches these filters." in none and "Outcomes of FLT3-ITD" not in none
    by_dataset = client.get("/review?dataset=req-myeloma&state=submitted").get_data(as_text=True)
    assert "Outcomes of FLT3-ITD" in by_dataset
    bad = client.get("/review?state=nonsense")
    assert bad.status_code == 200 and "Choose one of the listed states." in bad.get_data(
        as_text=True
    )


def test_the_queue_has_a_clear_empty_state_and_is_for_the_committee(app, world, client):
    _as(client, world, "chair")
    html = client.get("/review").get_data(as_text=True)
    assert "Nothing is waiting for your committee." in html
    other = app.test_client()
    _as(other, world, "outsider")
    assert other.get("/review").status_code == 403


def test_the_review_page_shows_purpose_conditions_check_and_stages(app, world, submitted, client):
    _as(client, world, "chair")
    html = client.get(f"/review/{submitted}").get_data(as_text=True)
    assert "The applicant's purpose" in html and "The dataset's conditions" in html
    assert "du-badge" in html  # the conditions as DUO badges
    assert "review-check-compatible" in html
    assert "Art. 68" in html and "90 days" in html
    assert "Complete application to decision" in html
    assert "Mia Amsterdam" in html  # recused, listed
    assert 'name="outcome"' not in html  # no decision before the review started


def test_a_recused_member_sees_the_notice_not_the_vote_form(app, world, submitted, client):
    _as(client, world, "member_1")
    html = client.get(f"/review/{submitted}").get_data(as_text=True)
    assert "You are recused from this request and cannot vote" in html
    assert f'action="/review/{submitted}/vote"' not in html


def test_a_member_votes_with_the_form(app, world, submitted, client):
    _as(client, world, "member_2")
    token = csrf_token(client, f"/review/{submitted}")
    answer = client.post(
        f"/review/{submitted}/vote",
        data={"choice": "approve", "comment": "Fine.", "csrf_token": token},
    )
    assert answer.status_code == 302
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Your vote (approve) is recorded." in html and "Change your vote (now: approve)" in html
    assert "Max Member voted approve." in html  # the timeline


def test_the_decision_form_puts_each_error_next_to_its_field(
    app, world, submitted, client, api: Api
):
    api.sign(submitted, approve=False, reason="Not for this use.")
    for who in ("member_2", "member_3"):
        api.vote(who, submitted)
    _as(client, world, "chair")
    page = client.get(f"/review/{submitted}").get_data(as_text=True)
    assert 'name="outcome"' in page and "Override justification" in page
    revision = re.search(r'name="revision" value="([^"]+)"', page)
    assert revision
    answer = client.post(
        f"/review/{submitted}/decision",
        data={"outcome": "approve_with_conditions", "reasons": "", "dataset-req-aml": "approve",
              "revision": revision.group(1).replace("&#34;", '"'),
              "csrf_token": csrf_token(client, f"/review/{submitted}")},
    )  # fmt: skip
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'id="reasons-error"' in html and 'id="conditions-error"' in html
    assert 'id="overrides.req-aml-error"' in html
    assert load(app, submitted).state.value == "under_review"
    done = client.post(
        f"/review/{submitted}/decision",
        data={"outcome": "approve", "reasons": "Myeloma only: the AML custodian declined.",
              "revision": revision.group(1).replace("&#34;", '"'),
              "csrf_token": csrf_token(client, f"/review/{submitted}")},
    )  # fmt: skip
    assert done.status_code == 302
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Decision recorded: approve." in html and "Round 1: Approve" in html
    assert load(app, submitted).state.value == "approved"


def test_the_queue_is_paged_longest_waiting_first(app, world, client, monkeypatch):
    import datetime as dt

    from core.db import get_session, utcnow, writing
    from governance.requests.models import AccessRequest
    from governance.review import services
    from tests.governance.requests.world import submit_request

    with app.app_context(), writing():
        made = [submit_request(world, title=f"Study {n}") for n in range(3)]
        for n, request_id in enumerate(made):  # Study 0 has waited longest
            get_session().get(AccessRequest, request_id).state_changed_at = utcnow() - dt.timedelta(
                days=10 - n
            )
        get_session().commit()
    monkeypatch.setattr(services, "QUEUE_PAGE_SIZE", 2)
    _as(client, world, "chair")
    first = client.get("/review").get_data(as_text=True)
    assert "Page 1 of 2 · 3 in all" in first
    assert "Study 0" in first and "Study 1" in first and "Study 2" not in first
    second = client.get("/review?page=2").get_data(as_text=True)
    assert "Study 2" in second and "Study 0" not in second and "Page 2 of 2" in second
    assert len(made) == 3


def test_a_custodian_finds_what_waits_for_their_sign_off(app, world, submitted, client):
    _as(client, world, "aml_custodian")
    html = client.get("/signoffs").get_data(as_text=True)
    assert "Sign-offs waiting for you" in html and "1 dataset waiting." in html
    assert f"/review/{submitted}#signoff-" in html and "req-aml" in html
    assert "req-myeloma" not in html  # its agreement asks no sign-off, and it is Lyon's
    other = app.test_client()
    _as(other, world, "myeloma_custodian")
    assert "Nothing waits for your sign-off." in other.get("/signoffs").get_data(as_text=True)
    Api(client, world).sign(submitted)  # signed off: no longer waiting
    assert "Nothing waits for your sign-off." in client.get("/signoffs").get_data(as_text=True)
