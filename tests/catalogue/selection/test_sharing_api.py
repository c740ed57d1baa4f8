"""Sharing a selection as a read-only link (audited, revocable, nothing of the owner), the
combined dictionary (CSV and Excel, owner's and shared), and copying a shared selection into
one's own."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from tests.catalogue.selection.conftest import bearer

SELECTIONS = "/api/v1/me/selections"
SHARED = "/api/v1/shared-selections"


def call(client, world, method, path, body=None, role="researcher"):
    return client.open(path, method=method, json=body, headers=bearer(world, role))


@pytest.fixture
def aml(client, world):
    """The researcher's "AML markers": sel-aml with flt3_itd and npm1, sel-bare whole."""
    made = call(client, world, "POST", SELECTIONS, {"name": "AML markers"}).json
    base = f"{SELECTIONS}/{made['id']}/datasets"
    call(client, world, "PUT", f"{base}/sel-aml", {"variables": ["flt3_itd", "npm1"]})
    call(client, world, "PUT", f"{base}/sel-bare")
    return made["id"]


def share(client, world, selection_id, role="researcher"):
    response = call(client, world, "POST", f"{SELECTIONS}/{selection_id}/share", role=role)
    assert response.status_code == 201, response.json
    return response.json


def audit_actions(app, selection_id):
    from core.audit import AuditEvent
    from core.db import get_session

    with app.app_context():
        return (
            get_session()
            .scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "selection", AuditEvent.object_id == selection_id)
                .order_by(AuditEvent.seq)
            )
            .all()
        )


def test_a_share_link_is_made_from_base_url_and_opens_the_selection(app, client, world, aml):
    link = share(client, world, aml)
    base = app.config["BASE_URL"].rstrip("/")
    assert link["url"] == f"{base}/shared/selections/{link['token']}"
    assert len(link["token"]) >= 43
    assert link["selection"]["is_shared"] is True and link["shared_at"]
    shared = client.get(f"{SHARED}/{link['token']}")  # anonymous
    assert shared.status_code == 200
    body = shared.json
    assert body["name"] == "AML markers" and body["total"] == 2
    assert [d["identifier"] for d in body["datasets"]] == ["sel-aml", "sel-bare"]
    assert [v["name"] for v in body["datasets"][0]["variables"]] == ["flt3_itd", "npm1"]


def test_the_link_is_not_built_from_a_forged_host(app, client, world, aml):
    response = client.post(
        f"{SELECTIONS}/{aml}/share",
        headers={**bearer(world, "researcher"), "Host": "evil.example"},
    )
    assert "evil.example" not in response.json["url"]


def test_a_shared_selection_gives_nothing_of_its_owner(client, world, aml):
    link = share(client, world, aml)
    for path in (
        f"{SHARED}/{link['token']}",
        f"{SHARED}/{link['token']}/dictionary.csv",
        f"/shared/selections/{link['token']}",
    ):
        body = client.get(path).get_data(as_text=True)
        assert world.emails["researcher"] not in body
        assert world.user_ids["researcher"] not in body
        assert aml not in body  # not even the selection's own id


def test_only_published_datasets_are_shared(app, client, world, aml):
    from catalogue.datasets import services as datasets
    from core.etags import UNCHECKED
    from core.policies import SYSTEM

    link = share(client, world, aml)
    with app.app_context():
        datasets.retire(SYSTEM, "sel-bare", "Withdrawn.", UNCHECKED)
    body = client.get(f"{SHARED}/{link['token']}").json
    assert [d["identifier"] for d in body["datasets"]] == ["sel-aml"]
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"{SHARED}/{link['token']}/dictionary.csv")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert {r["dataset"] for r in rows} == {"sel-aml"}
    # the owner still sees it, listed as retired
    mine = call(client, world, "GET", f"{SELECTIONS}/{aml}").json
    assert [d["status"] for d in mine["datasets"]] == ["published", "retired"]


def test_revoking_the_link_makes_it_404_and_both_are_audited(app, client, world, aml):
    link = share(client, world, aml)
    response = call(client, world, "DELETE", f"{SELECTIONS}/{aml}/share")
    assert response.status_code == 204
    for path in (
        f"{SHARED}/{link['token']}",
        f"{SHARED}/{link['token']}/dictionary.csv",
        f"{SHARED}/{link['token']}/dictionary.xlsx",
        f"/shared/selections/{link['token']}",
    ):
        assert client.get(path).status_code == 404, path
    assert call(client, world, "GET", f"{SELECTIONS}/{aml}").json["is_shared"] is False
    # stopping again changes nothing and records nothing
    assert call(client, world, "DELETE", f"{SELECTIONS}/{aml}/share").status_code == 204
    assert audit_actions(app, aml) == ["selection.shared", "selection.share_revoked"]


def test_a_new_link_replaces_the_old_one(app, client, world, aml):
    old = share(client, world, aml)
    new = share(client, world, aml)
    assert new["token"] != old["token"]
    assert client.get(f"{SHARED}/{old['token']}").status_code == 404
    assert client.get(f"{SHARED}/{new['token']}").status_code == 200
    assert audit_actions(app, aml) == ["selection.shared", "selection.shared"]


def test_deleting_a_shared_selection_ends_its_link(app, client, world, aml):
    link = share(client, world, aml)
    call(client, world, "DELETE", f"{SELECTIONS}/{aml}")
    assert client.get(f"{SHARED}/{link['token']}").status_code == 404
    assert audit_actions(app, aml)[-1] == "selection.share_revoked"


def test_only_the_digest_of_the_token_is_stored(app, client, world, aml):
    from catalogue.selection.models import Selection
    from core.db import get_session

    link = share(client, world, aml)
    with app.app_context():
        row = get_session().get(Selection, aml)
        assert row.share_token_hash and link["token"] not in row.share_token_hash
        assert len(row.share_token_hash) == 64


def test_a_deactivated_owner_s_link_stops_working(app, client, world, aml):
    from core.db import get_session
    from core.models import User

    link = share(client, world, aml)
    with app.app_context():
        session = get_session()
        session.get(User, world.user_ids["researcher"]).is_active = False
        session.commit()
    assert client.get(f"{SHARED}/{link['token']}").status_code == 404


@pytest.mark.parametrize("token", ["nope", "a" * 43, "A" * 101, "~" * 43])
def test_an_unknown_token_is_404(client, world, aml, token):
    share(client, world, aml)
    response = client.get(f"{SHARED}/{token}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


# --- the combined dictionary ------------------------------------------------------------------


def read_csv(response):
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with it
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_combined_dictionary_has_the_chosen_variables_and_whole_datasets(client, world, aml):
    call(client, world, "PUT", f"{SELECTIONS}/{aml}/datasets/sel-mds")
    response = call(client, world, "GET", f"{SELECTIONS}/{aml}/dictionary.csv")
    assert (
        'filename="selection-aml-markers-dictionary.csv"' in response.headers["Content-Disposition"]
    )
    rows = read_csv(response)
    assert [(r["dataset"], r["variable"]) for r in rows] == [
        ("sel-aml", "flt3_itd"),
        ("sel-aml", "npm1"),
        ("sel-mds", "ipss_r"),
        ("sel-mds", "blasts"),
    ]  # sel-bare has no variables: nothing to write
    flt3 = rows[0]
    assert flt3["dataset_title"] == "AML cohort with molecular markers"
    assert flt3["dataset_version"] == "1"
    assert flt3["label"] == "FLT3-ITD status"
    assert flt3["value_type"] == "boolean"
    assert flt3["permissible_values"] == "1=Present|0=Absent"
    assert flt3["missing_codes"] == "9"
    assert flt3["mapped_terms"] == "skos:exactMatch HV:0000125 (FLT3 internal tandem duplication)"
    assert rows[3]["unit"] == "%"


def test_the_combined_dictionary_as_excel(client, world, aml):
    from openpyxl import load_workbook

    response = call(client, world, "GET", f"{SELECTIONS}/{aml}/dictionary.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("dataset", "dataset_title", "dataset_version", "variable")
    assert [r[3] for r in rows[1:]] == ["flt3_itd", "npm1"]


def test_the_shared_dictionary_is_the_owner_s(client, world, aml):
    link = share(client, world, aml)
    mine = read_csv(call(client, world, "GET", f"{SELECTIONS}/{aml}/dictionary.csv"))
    theirs = read_csv(client.get(f"{SHARED}/{link['token']}/dictionary.csv"))
    assert theirs == mine


def test_an_empty_selection_s_dictionary_has_the_header_only(client, world):
    made = call(client, world, "POST", SELECTIONS, {"name": "Empty"}).json
    rows = read_csv(call(client, world, "GET", f"{SELECTIONS}/{made['id']}/dictionary.csv"))
    assert rows == []


def test_a_spreadsheet_formula_in_a_name_is_not_a_formula_in_the_file(client, world):
    made = call(client, world, "POST", SELECTIONS, {"name": "=HYPERLINK(1)"}).json
    response = call(client, world, "GET", f"{SELECTIONS}/{made['id']}/dictionary.csv")
    assert (
        'filename="selection-hyperlink-1-dictionary.csv"' in response.headers["Content-Disposition"]
    )


# --- copying ------------------------------------------------------------------------------------


def test_copy_a_shared_selection_into_one_s_own(client, world, aml):
    link = share(client, world, aml)
    response = call(
        client, world, "POST", f"{SHARED}/{link['token']}/copy", role="other_researcher"
    )
    assert response.status_code == 201
    copy = response.json
    assert copy["name"] == "AML markers" and copy["is_current"] is True
    assert copy["is_shared"] is False and copy["id"] != aml
    assert [d["identifier"] for d in copy["datasets"]] == ["sel-aml", "sel-bare"]
    assert [v["name"] for v in copy["datasets"][0]["variables"]] == ["flt3_itd", "npm1"]
    # a second copy takes another name; the owner's selection is unchanged
    again = call(client, world, "POST", f"{SHARED}/{link['token']}/copy", role="other_researcher")
    assert again.json["name"] == "AML markers (copy)"
    named = call(
        client,
        world,
        "POST",
        f"{SHARED}/{link['token']}/copy",
        {"name": "From a colleague"},
        role="other_researcher",
    )
    assert named.json["name"] == "From a colleague"
    mine = call(client, world, "GET", f"{SELECTIONS}/{aml}").json
    assert mine["total"] == 2 and mine["is_shared"] is True


def test_a_copy_of_a_revoked_link_is_404(client, world, aml):
    link = share(client, world, aml)
    call(client, world, "DELETE", f"{SELECTIONS}/{aml}/share")
    response = call(
        client, world, "POST", f"{SHARED}/{link['token']}/copy", role="other_researcher"
    )
    assert response.status_code == 404
