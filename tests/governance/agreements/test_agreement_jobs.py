"""Timed work and what it changes for the catalogue: agreements expire by date through the
periodic job (no one acts; the day is passed in, nothing sleeps), custodians are reminded 60
and 14 days before expiry — once each, by mail through the outbox to a real SMTP server on the
loopback — and a dataset is requestable exactly while an active agreement in effect covers it
and it has data-use conditions (dataset JSON, search filter condition, dataset page)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from catalogue.models import Dataset
from core import audit, events
from core.db import get_session
from core.etags import UNCHECKED
from governance.agreements import jobs, services
from governance.agreements.models import AgreementReminder, AgreementStatus
from tests.conftest import login
from tests.core.test_mail import loopback_smtp
from tests.governance.agreements.conftest import TODAY, make_agreement


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


# --- expiry ----------------------------------------------------------------------------------


def test_an_agreement_expires_on_its_date_through_the_job(world, ctx):
    agreement = services.find(world.agreements["aml"])
    expires = agreement.expires_on
    report = jobs.run_daily(expires - dt.timedelta(days=1))
    assert services.find(agreement.id).status is AgreementStatus.ACTIVE
    assert "DSA-AML v1" not in report.expired
    report = jobs.run_daily(expires)
    assert "DSA-AML v1" in report.expired
    assert services.find(agreement.id).status is AgreementStatus.EXPIRED
    event = audit.events_for("agreement", agreement.id)[0]
    assert event.action == "agreement.expired" and event.actor_label == audit.SYSTEM_LABEL
    assert jobs.run_daily(expires).expired == []  # nothing twice


def test_the_cli_runs_the_same_job(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["agreements", "expire", "--today", days(4000).isoformat()])
    assert result.exit_code == 0, result.output
    assert "DSA-AML v1" in result.output


# --- reminders -------------------------------------------------------------------------------


def reminders(agreement_id: str) -> list[int]:
    return sorted(
        get_session().scalars(
            select(AgreementReminder.days_before).where(
                AgreementReminder.agreement_id == agreement_id
            )
        )
    )


def test_reminders_go_out_60_and_14_days_before_expiry_once_each(world, ctx):
    agreement = services.find(world.agreements["aml"])
    expires = agreement.expires_on

    def reminded(days_left: int) -> list[str]:
        report = jobs.send_reminders(expires - dt.timedelta(days=days_left))
        return [r for r in report.reminded if r.startswith("DSA-AML ")]

    assert reminded(61) == []
    assert reminded(60) == ["DSA-AML v1 (60 days)"]
    assert reminded(59) == []
    assert reminded(30) == []
    assert reminded(14) == ["DSA-AML v1 (14 days)"]
    assert reminded(1) == []
    assert reminders(agreement.id) == [14, 60]


def test_the_reminder_mails_the_custodians_once(app, world):
    with loopback_smtp(app) as server, app.app_context():
        # an agreement of the owner's organisation expiring in 60 days
        from core.db import writing

        with writing():
            agreement_id = make_agreement(
                world.organisations["leiden"], "DSA-SOON", "active", ["agr-mds"],
                expires_on=days(60),
            )  # fmt: skip
            report = jobs.run_daily(TODAY)
            assert "DSA-SOON v1 (60 days)" in report.reminded
            events.deliver()  # the worker's delivery (the tests' queue ran it at the commit)
            jobs.run_daily(TODAY)  # the job again: no second reminder
            events.deliver()
            reminder = get_session().get(AgreementReminder, (agreement_id, 60))
            assert reminder is not None and reminder.mailed_at is not None
    mails = [(rcpt, m) for rcpt, m in server.messages if "DSA-SOON" in m["Subject"]]
    assert len(mails) == 1
    recipients, mail = mails[0]
    assert world.emails["owner"] in recipients
    assert world.emails["other_custodian"] not in recipients
    assert days(60).isoformat() in mail["Subject"]


# --- requestable -----------------------------------------------------------------------------


def test_requestable_until_needs_an_agreement_in_effect_and_conditions(world, ctx):
    aml, mds, lyon, bare = (
        world.datasets[i] for i in ("agr-aml", "agr-mds", "agr-lyon", "agr-bare")
    )
    expires = services.find(world.agreements["aml"]).expires_on
    until = services.requestable_until([aml, mds, lyon, bare])
    assert until[aml] == expires
    assert lyon in until
    assert mds not in until  # covered by active agreements, but no data-use conditions
    assert bare not in until  # no agreement
    assert services.requestable_until([aml], today=expires) == {}  # its last day has passed
    effective = services.find(world.agreements["aml"]).effective_on
    assert services.requestable_until([aml], today=effective - dt.timedelta(days=1)) == {}


def test_requestable_stops_when_the_agreement_ends(world, ctx):
    aml = world.datasets["agr-aml"]
    services.terminate(ctx["owner"], world.agreements["aml"], "Ended.", UNCHECKED)
    assert services.requestable_until([aml]) == {}


def test_the_search_condition_agrees(world, ctx):
    query = select(Dataset.identifier).where(
        Dataset.identifier.like("agr-%"), services.requestable_condition(Dataset.id)
    )
    assert set(get_session().scalars(query)) == {"agr-aml", "agr-lyon"}
    far = get_session().scalars(query, {"requestable_today": days(5000)})
    assert set(far) == set()


def test_obligations_come_with_the_agreement(world, ctx):
    obligations = services.agreement_obligations([world.datasets["agr-aml"]])
    terms = [o.term for o in obligations[world.datasets["agr-aml"]]]
    assert terms == [
        "agreement:acknowledgement", "agreement:publication_review", "DUO:0000029",
        "DUO:0000024",
    ]  # fmt: skip
    assert world.datasets["agr-bare"] not in services.agreement_obligations(
        [world.datasets["agr-bare"]]
    )


def test_the_dataset_json_and_page_say_until_when(app, client, world):
    with app.app_context():
        expires = services.find(world.agreements["aml"]).expires_on
    body = client.get("/api/v1/datasets/agr-aml").get_json()
    assert body["requestable"] is True and body["requestable_until"] == expires.isoformat()
    body = client.get("/api/v1/datasets/agr-mds").get_json()
    assert body["requestable"] is False and body["requestable_until"] is None
    page = client.get("/datasets/agr-aml").get_data(as_text=True)
    assert f"expires on {expires.day} {expires.strftime('%B %Y')}" in page
    assert "No data-use conditions yet" in client.get("/datasets/agr-mds").get_data(as_text=True)
    assert "No active data-sharing agreement" in client.get("/datasets/agr-bare").get_data(
        as_text=True
    )
    login(client, world.emails["researcher"])
    page = client.get("/datasets/agr-aml").get_data(as_text=True)
    assert "DSA-AML" in page


def test_search_hits_say_until_when(app, client, world):
    with app.app_context():
        expires = services.find(world.agreements["aml"]).expires_on
    body = client.get("/api/v1/search?q=&per_page=100").get_json()
    hits = {h["identifier"]: h for h in body["items"] if h["identifier"].startswith("agr-")}
    assert hits["agr-aml"]["requestable"] is True
    assert hits["agr-aml"]["requestable_until"] == expires.isoformat()
    assert hits["agr-mds"]["requestable"] is False and hits["agr-mds"]["requestable_until"] is None


def test_the_annotator_fills_hits_the_search_left_empty(world, ctx):
    from dataclasses import dataclass, field

    from governance.agreements.hooks import annotate_hits

    @dataclass
    class Hit:
        identifier: str
        extras: dict = field(default_factory=dict)

    hits = [Hit("agr-aml"), Hit("agr-bare")]
    annotate_hits(None, None, hits)
    assert hits[0].extras["requestable"] is True and hits[0].extras["requestable_until"]
    assert hits[1].extras == {"requestable": False, "requestable_until": None}


def test_the_search_page_shows_until_when_on_each_requestable_hit(app, client, world):
    import re

    with app.app_context():
        expires = services.find(world.agreements["aml"]).expires_on
    page = client.get("/search?q=&per_page=100").get_data(as_text=True)
    cards = {}
    for card in page.split('<li class="card dataset-card search-hit">')[1:]:
        found = re.search(r'href="/datasets/([\w-]+)"', card)
        cards[found.group(1)] = card
    assert f"Requestable until {expires.isoformat()}" in cards["agr-aml"]
    assert "Requestable" not in cards["agr-mds"]
