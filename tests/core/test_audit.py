"""The audit trail: appended in the change's transaction, chained, refused to editors of the
table, verified (edits and deletions found and named), browsed and exported by administrators,
and free of secrets."""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core import audit, services
from core.db import get_session
from core.models import Role, User
from core.policies import SYSTEM
from tests.conftest import PASSWORD, api_headers, login, post_form


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


class Colour(enum.Enum):
    RED = "red"


def _events(app, **where):
    with app.app_context():
        stmt = select(audit.AuditEvent).order_by(audit.AuditEvent.seq)
        for key, value in where.items():
            stmt = stmt.where(getattr(audit.AuditEvent, key) == value)
        return list(get_session().scalars(stmt))


def _dialect() -> str:
    return get_session().connection().dialect.name


def _tamper(sql: str, **params) -> None:
    """What the database's owner can do: switch the protection off, change the table."""
    session = get_session()
    if _dialect() == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))
    session.execute(text(sql), params)
    session.commit()  # (the test's transaction is rolled back at its end all the same)


def _three_events() -> list[audit.AuditEvent]:
    events = [
        audit.record(SYSTEM, "thing.made", "thing", f"t{i}", after={"n": i}, summary=f"Made {i}.")
        for i in range(3)
    ]
    get_session().commit()
    return events


# --- appending and the chain ------------------------------------------------------------------


def test_events_are_numbered_in_order_and_each_links_to_the_one_before(app):
    with app.app_context():
        start, start_hash = audit.head()
        events = _three_events()
        assert [e.seq for e in events] == [start + 1, start + 2, start + 3]
        assert events[0].prev_hash == start_hash
        assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
        assert audit.head() == (events[-1].seq, events[-1].hash)
        result = audit.verify(get_session())
        assert result.ok and result.count == start + 3 and result.head_hash == events[-1].hash


def test_an_event_belongs_to_its_transaction(app):
    with app.app_context():
        before = audit.head()
        audit.record(SYSTEM, "thing.made", "thing", "gone")
        get_session().rollback()
        assert audit.head() == before
        assert audit.events_for("thing", "gone") == []


def test_the_hash_is_the_same_after_a_round_trip_through_the_database(app):
    """Text in any script, floats, nested lists, dates, enums and decimals come back from the
    database giving the very bytes that were hashed (on SQLite and on PostgreSQL)."""
    when = dt.datetime(2026, 12, 7, 10, 11, 12, 345678, tzinfo=dt.UTC)
    with app.app_context():
        event = audit.record(
            SYSTEM,
            "thing.changed",
            "thing",
            "round-trip",
            before={"title": "Ärztekammer — 東京", "share": 0.1, "at": when},
            after={"title": "Straße 𝄞", "share": 1e-7, "tags": ["a", {"b": [1, 2.5, None]}]},
            context={"colour": Colour.RED, "amount": Decimal("1.10"), "day": when.date()},
            reason="  because  ",
        )
        get_session().commit()
        stored_hash, seq = event.hash, event.seq
        get_session().expunge_all()
        row = get_session().execute(
            select(*[getattr(audit.AuditEvent, n) for n in audit.HASHED_FIELDS]).where(
                audit.AuditEvent.seq == seq
            )
        )
        fields = row.one()._asdict()
        assert fields["before"]["at"] == "2026-12-07T10:11:12.345678Z"
        assert fields["context"] == {"colour": "red", "amount": "1.10", "day": "2026-12-07"}
        assert fields["reason"] == "because"
        assert audit.event_hash(fields) == stored_hash


def test_the_canonical_form_is_sorted_compact_json_with_utc_microseconds():
    fields = dict.fromkeys(audit.HASHED_FIELDS)
    fields |= {"seq": 1, "at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)}
    fields |= {"summary": "é", "prev_hash": audit.GENESIS}
    data = audit.canonical(fields)
    assert data.startswith(b'{"action":null,"actor_id":null,')
    assert b'"at":"2026-01-02T03:04:05.000000Z"' in data
    assert b'"summary":"\\u00e9"' in data and b" " not in data


def test_changed_keeps_only_what_differs_made_json_able():
    before = {"name": "A", "kind": Colour.RED, "since": dt.date(2026, 1, 1), "same": [1]}
    after = {"name": "B", "kind": "red", "since": dt.date(2026, 1, 2), "same": [1], "new": 1}
    assert audit.changed(before, after) == (
        {"name": "A", "since": "2026-01-01"},
        {"name": "B", "since": "2026-01-02", "new": 1},
    )


def test_a_long_summary_is_cut_to_500_characters(app):
    with app.app_context():
        event = audit.record(SYSTEM, "thing.made", "thing", "long", summary="word " * 200)
    assert len(event.summary) == 500 and event.summary.endswith("…")


def test_an_event_names_its_actor_and_request(app, client, make):
    admin = make.user(Role.ADMIN)
    token = make.token(admin)
    answer = client.post(
        "/api/v1/organisations",
        json={"name": "Registry of Pavia", "country": "IT", "kind": "registry"},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "trace-12345678"},
    )
    assert answer.status_code == 201
    (event,) = _events(app, object_id=answer.json["id"])
    assert event.request_id == "trace-12345678"
    assert event.actor_label == f"Test Person <{admin.email}>" and event.actor_id == admin.id
    assert event.summary == "Organisation “Registry of Pavia” (IT) registered."


# --- protection and verification --------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET summary = 'nothing happened'", "DELETE FROM audit_events"],
)
def test_the_database_refuses_to_change_or_delete_events(app, statement):
    with app.app_context():
        _three_events()
        session = get_session()
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement))
        assert audit.verify(session).ok


def test_the_database_refuses_truncate_on_postgresql(app):
    with app.app_context():
        if _dialect() != "postgresql":
            pytest.skip("SQLite has no TRUNCATE")
        session = get_session()
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text("TRUNCATE audit_events"))


def test_verify_names_an_edited_event(app, cli):
    with app.app_context():
        events = _three_events()
        _tamper(
            "UPDATE audit_events SET summary = 'Made nothing.' WHERE seq = :seq", seq=events[1].seq
        )
        result = audit.verify(get_session())
    assert result.first_bad == events[1].seq and "edited" in result.problem
    assert result.count == events[1].seq - 1
    answer = cli.invoke(args=["audit", "verify"])
    assert answer.exit_code == 1
    assert f"BROKEN at event {events[1].seq}" in answer.stdout and "edited" in answer.stdout


def test_verify_finds_an_event_rewritten_with_its_hash_recomputed(app):
    """Who recomputes the edited event's hash breaks the next event's link."""
    with app.app_context():
        events = _three_events()
        fields = events[1].hashed_fields() | {"summary": "Made nothing."}
        _tamper(
            "UPDATE audit_events SET summary = 'Made nothing.', hash = :hash WHERE seq = :seq",
            hash=audit.event_hash(fields),
            seq=events[1].seq,
        )
        result = audit.verify(get_session())
    assert result.first_bad == events[2].seq and "does not follow" in result.problem


def test_verify_names_a_deleted_event(app, cli):
    with app.app_context():
        events = _three_events()
        _tamper("DELETE FROM audit_events WHERE seq = :seq", seq=events[1].seq)
        result = audit.verify(get_session())
    assert result.first_bad == events[1].seq and "missing" in result.problem
    answer = cli.invoke(args=["audit", "verify"])
    assert answer.exit_code == 1
    assert f"BROKEN at event {events[1].seq}: event {events[1].seq} missing" in answer.stdout


def test_verify_finds_events_deleted_at_the_end(app):
    with app.app_context():
        events = _three_events()
        _tamper("DELETE FROM audit_events WHERE seq = :seq", seq=events[2].seq)
        result = audit.verify(get_session())
    assert result.first_bad == events[2].seq and "missing" in result.problem


def test_verify_and_head_on_the_command_line(app, cli):
    with app.app_context():
        events = _three_events()
    head = cli.invoke(args=["audit", "head"])
    assert head.exit_code == 0
    assert head.stdout.strip() == f"{events[-1].seq} {events[-1].hash}"
    ok = cli.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip() == f"audit trail ok: {events[-1].seq} events, head {events[-1].hash}"
    expected = f"{events[-1].seq}:{events[-1].hash}"
    assert cli.invoke(args=["audit", "verify", "--expect", expected]).exit_code == 0
    forged = cli.invoke(args=["audit", "verify", "--expect", f"{events[-1].seq}:{'a' * 64}"])
    assert forged.exit_code == 1 and "REWRITTEN" in forged.stdout


def test_verify_passes_on_the_demo_world(cli, app, vocabularies):
    loaded = cli.invoke(args=["demo", "load"], env={"HARMONY_DEMO_PASSWORD": "demo password 123"})
    assert loaded.exit_code == 0, loaded.output
    answer = cli.invoke(args=["audit", "verify"])
    assert answer.exit_code == 0, answer.output
    with app.app_context():
        count = audit.head()[0]
        actions = {e.action for e in _events(app)}
    assert answer.stdout.startswith(f"audit trail ok: {count} events")
    assert {"organisation.created", "user.created", "role.granted"} <= actions


# --- what the account side records ------------------------------------------------------------


def test_account_changes_are_recorded_with_only_what_changed(app, make):
    admin = make.user(Role.ADMIN)
    with app.app_context():
        actor = get_session().get(User, admin.id)
        organisation = services.create_organisation(
            actor, {"name": "Leiden Registry", "country": "NL", "kind": "registry"}
        )
        services.update_organisation(actor, organisation.id, {"city": "Leiden", "country": "NL"})
        committee = services.create_committee(actor, {"name": "Myeloma DAC"})
        user = services.create_user(
            actor,
            {
                "email": "member@example.org",
                "name": "Member",
                "roles": [{"role": "dac_member", "committee_id": committee.id}],
            },
        )
        services.update_user(actor, user.id, {"name": "A Member"})
        services.update_user(actor, user.id, {"is_active": False})
        grant = user.grants[0]
        services.revoke_role(actor, user.id, grant.id)
        org_events = audit.events_for("organisation", organisation.id, newest_first=False)
        user_events = audit.events_for("user", user.id, newest_first=False)
        committee_events = audit.events_for("committee", committee.id, newest_first=False)
    assert [e.action for e in org_events] == ["organisation.created", "organisation.updated"]
    assert org_events[1].before == {"city": None} and org_events[1].after == {"city": "Leiden"}
    assert org_events[0].after["kind"] == "registry"
    assert [e.action for e in user_events] == [
        "user.created",
        "role.granted",
        "user.updated",
        "user.deactivated",
        "role.revoked",
    ]
    assert user_events[2].before == {"name": "Member"} and user_events[2].after == {
        "name": "A Member"
    }
    assert user_events[3].after == {"is_active": False}
    assert user_events[1].context["role"] == "dac_member"
    assert [e.action for e in committee_events] == [
        "committee.created",
        "committee.member_added",
        "committee.member_removed",
    ]
    assert all(e.actor_id == admin.id for e in user_events)


def test_no_password_or_token_secret_reaches_the_trail(app, client, make):
    admin = make.user(Role.ADMIN)
    researcher = make.user(Role.RESEARCHER)
    secret = make.token(researcher)
    new_password = "a completely new passphrase"
    with app.app_context():
        actor = get_session().get(User, admin.id)
        services.set_password(actor, researcher.id, "an admin chose this one")
    assert login(client, researcher.email, "an admin chose this one").status_code == 302
    answer = client.post(
        "/api/v1/me/password",
        json={"current_password": "an admin chose this one", "new_password": new_password},
        headers=api_headers(client),
    )
    assert answer.status_code == 204
    created = client.post("/api/v1/tokens", json={"name": "script"}, headers=api_headers(client))
    second_secret = created.json["token"]
    with app.app_context():
        user = get_session().get(User, researcher.id)
        hashes = [user.password_hash]
        token_hashes = [services._sha256(secret), services._sha256(second_secret)]
        events = audit.events_for("user", researcher.id, newest_first=False)
        trail = json.dumps([e.hashed_fields() | {"hash": e.hash} for e in events], default=str)
    assert {"password.set", "password.changed", "token.created"} <= {e.action for e in events}
    for forbidden in [PASSWORD, new_password, "an admin chose this one", secret, second_secret]:
        assert forbidden not in trail
    for forbidden in hashes + token_hashes + [second_secret[:10], "$argon2"]:
        assert forbidden not in trail


def test_a_token_revoked_twice_is_recorded_once(app, client, make):
    user = make.user(Role.RESEARCHER)
    assert login(client, user.email).status_code == 302
    created = client.post("/api/v1/tokens", json={"name": "ci"}, headers=api_headers(client))
    token_id = created.json["id"]
    for _ in range(2):
        assert (
            client.delete(f"/api/v1/tokens/{token_id}", headers=api_headers(client)).status_code
            == 204
        )
    actions = [e.action for e in _events(app, object_id=user.id)]
    assert actions.count("token.revoked") == 1 and actions.count("token.created") == 1


# --- browsing: the API, the export and the page -----------------------------------------------


@pytest.fixture
def trail(app, make):
    """An administrator who registered two organisations and created an account, and a system
    event from yesterday."""
    admin = make.user(Role.ADMIN, email="chief@example.org", name="=SUM(A1)")
    token = make.token(admin)
    with app.app_context():
        actor = get_session().get(User, admin.id)
        first = services.create_organisation(
            actor, {"name": "=HYPERLINK(1)", "country": "NL", "kind": "registry"}
        )
        services.create_organisation(actor, {"name": "Second", "country": "DE", "kind": "hospital"})
        services.update_organisation(actor, first.id, {"city": "Delft"})
        services.create_user(actor, {"email": "new@example.org", "name": "New"})
    return {"token": token, "admin": admin, "organisation": first.id}


def _get(client, trail, path):
    return client.get(path, headers={"Authorization": f"Bearer {trail['token']}"})


def test_the_api_filters_by_object_actor_action_and_time(app, client, trail):
    everything = _get(client, trail, "/api/v1/audit?per_page=200").json
    seqs = [e["seq"] for e in everything["items"]]
    assert seqs == sorted(seqs, reverse=True) and everything["total"] == len(seqs)
    one = _get(client, trail, f"/api/v1/audit?object=organisation:{trail['organisation']}").json
    assert [e["action"] for e in one["items"]] == ["organisation.updated", "organisation.created"]
    assert one["items"][0]["before"] == {"city": None}
    by_type = _get(client, trail, "/api/v1/audit?object=organisation").json
    assert by_type["total"] == 3
    by_email = _get(client, trail, "/api/v1/audit?actor=Chief@Example.org").json
    by_id = _get(client, trail, f"/api/v1/audit?actor={trail['admin'].id}").json
    assert by_email["total"] == by_id["total"] == 4  # 3 about organisations, 1 account
    assert {
        e["action"] for e in _get(client, trail, "/api/v1/audit?actor=system").json["items"]
    } >= {"user.created"}
    prefix = _get(client, trail, "/api/v1/audit?action=organisation.").json
    exact = _get(client, trail, "/api/v1/audit?action=organisation.created").json
    assert (prefix["total"], exact["total"]) == (3, 2)
    today = dt.datetime.now(dt.UTC).date()
    assert (
        _get(client, trail, f"/api/v1/audit?since={today + dt.timedelta(days=1)}").json["total"]
        == 0
    )
    assert (
        _get(client, trail, f"/api/v1/audit?until={today}&action=organisation.").json["total"] == 3
    )
    assert (
        _get(client, trail, f"/api/v1/audit?until={today - dt.timedelta(days=1)}").json["total"]
        == 0
    )
    paged = _get(client, trail, "/api/v1/audit?per_page=2&page=2&action=organisation.").json
    assert (paged["page"], paged["per_page"], len(paged["items"])) == (2, 2, 1)


@pytest.mark.parametrize(
    ("query", "field"),
    [("since=yesterday", "since"), ("until=2026-13-01", "until"), ("sort=at", "sort")],
)
def test_the_api_refuses_bad_filters_by_name(client, trail, query, field):
    answer = _get(client, trail, f"/api/v1/audit?{query}")
    assert answer.status_code == 422 and field in answer.json["errors"]


def test_until_before_since_is_refused(client, trail):
    answer = _get(client, trail, "/api/v1/audit?since=2026-12-07&until=2026-12-01")
    assert answer.status_code == 422 and "until" in answer.json["errors"]


def test_the_csv_export_streams_the_filtered_events_neutralised(client, trail):
    answer = _get(client, trail, "/api/v1/audit/export?format=csv&action=organisation.")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [r["action"] for r in rows] == [
        "organisation.updated",
        "organisation.created",
        "organisation.created",
    ]
    assert json.loads(rows[0]["after"]) == {"city": "Delft"}
    assert {r["actor_label"] for r in rows} == {"'=SUM(A1) <chief@example.org>"}
    assert json.loads(rows[-1]["after"])["name"] == "=HYPERLINK(1)"


def test_the_json_export_is_an_array_of_events(client, trail):
    answer = _get(client, trail, "/api/v1/audit/export?format=json&object=user")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    events = json.loads(answer.get_data(as_text=True))
    assert events and all(e["object_type"] == "user" for e in events)
    assert {"seq", "at", "hash", "prev_hash", "before", "after", "summary"} <= set(events[0])


def test_only_administrators_browse_the_trail(client, make, trail):
    researcher = make.token(make.user(Role.RESEARCHER))
    for path in ("/api/v1/audit", "/api/v1/audit/export"):
        assert client.get(path).status_code == 401
        denied = client.get(path, headers={"Authorization": f"Bearer {researcher}"})
        assert denied.status_code == 403


def test_the_admin_page_filters_pages_and_offers_downloads(client, trail):
    assert login(client, "chief@example.org").status_code == 302
    page = client.get("/admin/audit?action=organisation.")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<code>organisation.updated</code>" in body and "<code>user.created</code>" not in body
    assert "/api/v1/audit/export?format=csv&amp;action=organisation." in body
    empty = client.get("/admin/audit?action=nothing.happened")
    assert "No event matches these filters." in empty.get_data(as_text=True)
    bad = client.get("/admin/audit?since=someday")
    assert bad.status_code == 422 and "ISO 8601" in bad.get_data(as_text=True)
    assert 'href="/admin/audit"' in client.get("/admin/users").get_data(as_text=True)


def test_the_admin_pages_of_a_user_and_an_organisation_show_their_history(client, app, trail):
    assert login(client, "chief@example.org").status_code == 302
    organisation = client.get(f"/admin/organisations/{trail['organisation']}").get_data(
        as_text=True
    )
    assert "History" in organisation and "changed city" in organisation
    with app.app_context():
        user = services.find_user_by_email("new@example.org")
    renamed = post_form(
        client,
        f"/admin/users/{user.id}",
        {"email": "new@example.org", "name": "Renamed", "is_active": "true"},
        page=f"/admin/users/{user.id}",
    )
    assert renamed.status_code == 302
    history = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert (
        "Account new@example.org: changed name." in history
        and "Account new@example.org (New) created." in history
    )
