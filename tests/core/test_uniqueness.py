"""Names and emails that must be unique are unique whatever their case, in every script, on both
databases: the rule is Python's (NFC, then ``str.casefold``), kept in a key column that the
database holds unique, so that a race past the service's check answers 409, never 500."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import text

from core import services
from core.db import get_session
from core.errors import Conflict
from core.models import Role
from core.policies import SYSTEM
from tests.dbutil import fresh_database

ORGANISATION = {"country": "AT", "kind": "other"}
KEYS_REVISION = "5e0c1d2b7a94"  # accounts: case-blind unique keys


@pytest.fixture
def admin(client, make):
    token = make.token(make.user(Role.ADMIN, name="Ada Admin"))
    return {"Authorization": f"Bearer {token}"}


def test_a_committee_named_twice_with_an_umlaut_is_refused_naming_the_field(client, admin):
    first = client.post("/api/v1/committees", json={"name": "Österreich DAC"}, headers=admin)
    assert first.status_code == 201
    again = client.post("/api/v1/committees", json={"name": "Österreich DAC"}, headers=admin)
    assert again.status_code == 422, again.json
    assert "name" in again.json["errors"]
    other_case = client.post("/api/v1/committees", json={"name": "ÖSTERREICH dac"}, headers=admin)
    assert other_case.status_code == 422 and "name" in other_case.json["errors"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ärztekammer", "ärztekammer"),  # SQLite's lower() leaves Ä as it is
        ("Österreich Registry", unicodedata.normalize("NFD", "österreich registry")),
        ("Straße der Medizin", "STRASSE DER MEDIZIN"),
        ("Σίσυφος Ομάδα", "ΣΊΣΥΦΟΣ ΟΜΆΔΑ"),
        ("Łódź Hematology", "łÓDŹ HEMATOLOGY"),
    ],
)
def test_organisation_names_are_unique_whatever_the_case_and_script(client, admin, first, second):
    created = client.post(
        "/api/v1/organisations", json={"name": first} | ORGANISATION, headers=admin
    )
    assert created.status_code == 201, created.json
    again = client.post(
        "/api/v1/organisations", json={"name": second} | ORGANISATION, headers=admin
    )
    assert again.status_code == 422, again.json
    assert "name" in again.json["errors"]


def test_renaming_onto_another_name_in_other_case_is_refused(client, admin):
    client.post("/api/v1/organisations", json={"name": "Ärztekammer"} | ORGANISATION, headers=admin)
    other = client.post(
        "/api/v1/organisations", json={"name": "Zahnärztekammer"} | ORGANISATION, headers=admin
    ).json
    renamed = client.patch(
        f"/api/v1/organisations/{other['id']}", json={"name": "ÄRZTEKAMMER"}, headers=admin
    )
    assert renamed.status_code == 422 and "name" in renamed.json["errors"]
    # its own name in another case is fine
    recased = client.patch(
        f"/api/v1/organisations/{other['id']}", json={"name": "ZAHNÄRZTEKAMMER"}, headers=admin
    )
    assert recased.status_code == 200 and recased.json["name"] == "ZAHNÄRZTEKAMMER"


def test_emails_are_unique_whatever_the_case_in_any_script(client, admin):
    first = client.post(
        "/api/v1/users", json={"email": "ärztin@example.org", "name": "Erste"}, headers=admin
    )
    assert first.status_code == 201, first.json
    again = client.post(
        "/api/v1/users", json={"email": "ÄRZTIN@EXAMPLE.ORG", "name": "Zweite"}, headers=admin
    )
    assert again.status_code == 422 and "email" in again.json["errors"]


@pytest.mark.parametrize("kind", ["organisation", "committee"])
def test_a_race_past_the_check_answers_409_naming_the_field(app, make, monkeypatch, kind):
    """Two administrators creating the same name at once both pass the service's check; the
    database's constraint stops the second, and that is a 409, not a 500."""
    if kind == "organisation":
        make.organisation(name="Hämatologie Wien")
    else:
        make.committee(name="Hämatologie Wien")
    monkeypatch.setattr(services, "_name_taken", lambda *args, **kwargs: False)
    with app.app_context():
        with pytest.raises(Conflict) as caught:
            if kind == "organisation":
                services.create_organisation(
                    SYSTEM, {"name": "HÄMATOLOGIE WIEN", "country": "AT", "kind": "other"}
                )
            else:
                services.create_committee(SYSTEM, {"name": "HÄMATOLOGIE WIEN"})
        assert caught.value.errors is not None and "name" in caught.value.errors
        get_session().execute(text("SELECT 1"))  # the session is usable afterwards


def test_the_migration_fills_the_keys_and_renames_clashing_names(tmp_path):
    """Rows written before the rule (two organisations that SQLite's ASCII-only lower() let in)
    get their keys; the later of a clashing pair is renamed rather than the upgrade failing."""
    from core import migrate
    from core.db import make_engine

    with fresh_database(tmp_path, "keys") as url:
        migrate.upgrade(url, f"{KEYS_REVISION}-1")
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                for id_, name, created in [
                    ("a" * 32, "ärztekammer", "2026-01-01 00:00:00"),
                    ("b" * 32, "Ärztekammer", "2026-01-02 00:00:00"),
                    ("c" * 32, "Hämatologie", "2026-01-03 00:00:00"),
                ]:
                    connection.execute(
                        text(
                            "INSERT INTO organisations (id, name, country, kind, created_at) "
                            "VALUES (:id, :name, 'AT', 'other', :created)"
                        ),
                        {"id": id_, "name": name, "created": created},
                    )
            migrate.upgrade(url)
            with engine.connect() as connection:
                rows: dict[str, str] = dict(
                    connection.execute(text("SELECT name, name_key FROM organisations")).all()
                )
            assert rows["ärztekammer"] == "ärztekammer"
            assert rows["Hämatologie"] == "hämatologie"
            renamed = [n for n in rows if n.startswith("Ärztekammer")]
            assert len(renamed) == 1 and renamed[0] != "Ärztekammer"
            migrate.downgrade(url, f"{KEYS_REVISION}-1")
            migrate.upgrade(url)
        finally:
            engine.dispose()


def test_the_organisation_search_ignores_case_in_every_script(client, make):
    make.organisation(name="Ärztekammer Wien")
    make.organisation(name="Straßburg Hematology")
    found = client.get("/api/v1/organisations?q=ärztekammer").json
    assert [o["name"] for o in found["items"]] == ["Ärztekammer Wien"]
    found = client.get("/api/v1/organisations?q=STRASSBURG").json
    assert [o["name"] for o in found["items"]] == ["Straßburg Hematology"]
