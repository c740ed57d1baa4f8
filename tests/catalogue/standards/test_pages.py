"""The pages: the variable-level question (a plain GET form that works without JavaScript),
the standard sets (list, set, feasibility; the admin's form, edit with the ETag, retire), and
the coverage bars on a dataset's page."""

from __future__ import annotations

import html
import re

import pytest

from catalogue.standards import services
from core.models import Role
from core.policies import SYSTEM
from tests.catalogue.standards.conftest import (
    ALBUMIN,
    B2M,
    FLT3_ITD,
    KARYOTYPE,
    LDH,
    NPM1,
)
from tests.conftest import csrf_token, login, post_form


def logged_in(app, make, role, **kwargs):
    client = app.test_client()
    user = make.user(role, **kwargs)
    assert login(client, user.email).status_code == 302
    return client


def text_of(response):
    return html.unescape(response.get_data(as_text=True))


def revision_on(page):
    match = re.search(r'name="revision" value="([^"]+)"', page.get_data(as_text=True))
    assert match is not None
    return html.unescape(match.group(1))


# --- the variable-level question ------------------------------------------------------------


def test_the_question_page_draws_datasets_against_terms(client, world):
    page = client.get("/search/variables", query_string={"terms": [NPM1, FLT3_ITD, KARYOTYPE]})
    assert page.status_code == 200
    body = text_of(page)
    assert "2 of 4 datasets have variables for these terms" in body
    assert body.index("AML full trial") < body.index("AML partial registry")
    assert "npm1_status" in body and "3/3" in body and "1/3" in body
    assert body.count('class="cell-no"') == 2  # the partial registry lacks FLT3-ITD, karyotype
    assert "Own AML draft" not in body and "Retired AML study" not in body
    for name in ("NPM1 mutation", "FLT3 internal tandem duplication", "Karyotype"):
        assert name in body


def test_a_name_typed_without_javascript_is_resolved_and_added(client, world):
    page = client.get("/search/variables", query_string={"terms": NPM1, "term_add": "FLT3-ITD"})
    assert page.status_code == 302
    location = page.headers["Location"]
    assert "terms=HV%3A0000124" in location and "terms=HV%3A0000125" in location
    assert "term_add" not in location
    by_curie = client.get("/search/variables", query_string={"term_add": "hv:0000088"})
    assert by_curie.status_code == 302 and "HV%3A0000088" in by_curie.headers["Location"]


def test_an_unknown_name_or_term_is_explained_next_to_its_field(client, world):
    page = client.get(
        "/search/variables", query_string={"terms": NPM1, "term_add": "no such thing here"}
    )
    assert page.status_code == 422
    body = text_of(page)
    assert "No term is called “no such thing here”" in body
    assert 'id="term_add-error"' in body
    assert "NPM1 mutation" in body  # the known term stays, with its table
    wrong = client.get("/search/variables", query_string={"terms": [NPM1, "HV:9999999"]})
    assert wrong.status_code == 422
    assert "Unknown terms: HV:9999999" in text_of(wrong)
    assert "AML full trial" in text_of(wrong)


def test_the_empty_question_page_invites_a_first_term(client, vocabularies):
    page = client.get("/search/variables")
    assert page.status_code == 200
    body = text_of(page)
    assert "No term chosen yet." in body
    assert 'data-autocomplete="/api/v1/terms"' in body
    assert 'action="/search/variables"' in body and 'method="get"' in body


def test_a_question_nobody_can_answer_says_so(client, world):
    body = text_of(client.get("/search/variables", query_string={"terms": "HV:0000246"}))
    assert "No dataset has variables for this term" in body


def test_the_custodian_sees_their_draft_in_the_table(app, make, world):
    client = app.test_client()
    assert login(client, make.user(Role.CUSTODIAN, organisation=world.organisation).email)
    body = text_of(client.get("/search/variables", query_string={"terms": FLT3_ITD}))
    assert "Own AML draft" in body and "Draft" in body
    assert "Foreign myeloma draft" not in body


# --- standard sets: reading -----------------------------------------------------------------


@pytest.fixture
def riss(app, world):
    with app.app_context():
        services.create_set(
            SYSTEM,
            {
                "identifier": "r-iss",
                "name": "R-ISS (myeloma)",
                "version": "2015",
                "diseases": ["NCIT:C3242"],
                "source": "Palumbo A, et al. J Clin Oncol. 2015.",
                "source_url": "https://doi.org/10.1200/JCO.2015.61.2267",
                "note": "LDH needs its upper limit of normal.",
                "terms": [
                    {"curie": B2M},
                    {"curie": ALBUMIN},
                    {"curie": LDH, "note": "with upper limit of normal"},
                ],
            },
        )
    return world


def test_everyone_reads_the_sets_and_their_terms(client, riss):
    listing = text_of(client.get("/standard-sets"))
    assert "R-ISS (myeloma)" in listing and "Plasma Cell Myeloma" in listing
    assert "New set" not in listing
    page = client.get("/standard-sets/r-iss")
    assert page.status_code == 200
    body = text_of(page)
    for text in ("Serum beta-2-microglobulin", "HV:0000054", "with upper limit of normal",
                 "Palumbo A", "https://doi.org/10.1200/JCO.2015.61.2267",
                 "LDH needs its upper limit of normal."):  # fmt: skip
        assert text in body
    assert "Retire" not in body and "/standard-sets/r-iss/edit" not in body
    assert client.get("/standard-sets/nothing").status_code == 404


def test_the_feasibility_page_hides_a_small_total(app, make, client, riss):
    body = text_of(client.get("/standard-sets/r-iss/feasibility"))
    assert "Who could compute R-ISS (myeloma)?" in body
    assert re.search(r'id="complete-patients">&lt;10<|id="complete-patients"><10<', body)
    assert "Small myeloma cohort" in body and "Foreign myeloma draft" not in body
    admin = logged_in(app, make, Role.ADMIN)
    admin_body = text_of(admin.get("/standard-sets/r-iss/feasibility"))
    assert 'id="complete-patients">7<' in admin_body
    assert "Foreign myeloma draft" in admin_body  # ranked for an admin, not counted


def test_a_dataset_page_shows_a_coverage_bar_per_set(client, riss):
    body = text_of(client.get(f"/datasets/{riss.ids['myeloma_small']}"))
    assert 'id="standard-sets"' in body
    assert (
        "R-ISS (myeloma)" in body and "3/3" in body and "Every term of the set is covered." in body
    )
    other = text_of(client.get(f"/datasets/{riss.ids['aml_full']}"))
    assert "Sets for other diseases" not in other  # no set is meant for AML …
    assert "R-ISS (myeloma)" in other and "0/3" in other  # … so R-ISS is listed among "Sets"
    assert "Missing:" in other and "Serum albumin" in other


# --- standard sets: managing ----------------------------------------------------------------

FORM = {
    "name": "Lab basics",
    "identifier": "lab-basics",
    "version": "1",
    "diseases": "NCIT:C3247",
    "terms": "HV:0000045 | g/dL\nhttps://w3id.org/harmony/hv/HV_0000047\n\nHV:0000048|",
    "source": "Our test.",
    "source_url": "",
    "note": "",
    "description": "",
}


@pytest.mark.parametrize(
    ("role", "status"), [(Role.RESEARCHER, 403), (Role.CUSTODIAN, 403), (Role.ADMIN, 200)]
)
def test_only_admins_get_the_management_pages(app, make, riss, role, status):
    client = logged_in(app, make, role)
    for path in ("/admin/standard-sets", "/standard-sets/new", "/standard-sets/r-iss/edit"):
        assert client.get(path).status_code == status, path
    anonymous = app.test_client()
    for path in ("/admin/standard-sets", "/standard-sets/new", "/standard-sets/r-iss/edit"):
        response = anonymous.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_an_admin_creates_a_set_from_the_form(app, make, riss):
    client = logged_in(app, make, Role.ADMIN)
    response = post_form(client, "/standard-sets/new", FORM, "/standard-sets/new")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/standard-sets/lab-basics")
    created = client.get("/api/v1/standard-sets/lab-basics").json
    assert [(t["curie"], t["note"]) for t in created["terms"]] == [
        ("HV:0000045", "g/dL"),
        ("HV:0000047", None),
        ("HV:0000048", None),
    ]
    assert created["diseases"][0]["curie"] == "NCIT:C3247"
    assert "Lab basics" in text_of(client.get("/admin/standard-sets"))


def test_form_errors_name_the_field_and_keep_what_was_typed(app, make, riss):
    client = logged_in(app, make, Role.ADMIN)
    bad = FORM | {"terms": "HV:0000045\nHV:9999999 | nope", "version": "", "identifier": "r-iss"}
    response = post_form(client, "/standard-sets/new", bad, "/standard-sets/new")
    assert response.status_code == 422
    body = text_of(response)
    assert 'id="error-summary"' in body
    assert 'id="version-error"' in body
    assert "HV:9999999 | nope" in body  # what was typed stays
    malformed = post_form(client, "/standard-sets/new", FORM | {"terms": "not a curie"}, "/")
    assert malformed.status_code == 422 and "Line 1:" in text_of(malformed)
    unknown = post_form(client, "/standard-sets/new", FORM | {"terms": "HV:9999999"}, "/")
    assert unknown.status_code == 422 and "HV:9999999" in text_of(unknown)
    assert client.get("/api/v1/standard-sets/lab-basics").status_code == 404


def test_an_edit_with_a_stale_revision_is_refused_and_kept(app, make, riss):
    client = logged_in(app, make, Role.ADMIN)
    revision = revision_on(client.get("/standard-sets/r-iss/edit"))
    values = {
        "name": "R-ISS (myeloma)", "version": "2015b", "diseases": "NCIT:C3242",
        "terms": f"{B2M}\n{ALBUMIN}\n{LDH} | with ULN", "source": "", "source_url": "",
        "note": "", "description": "", "revision": revision,
    }  # fmt: skip
    saved = post_form(client, "/standard-sets/r-iss/edit", values)
    assert saved.status_code == 302
    assert client.get("/api/v1/standard-sets/r-iss").json["version"] == "2015b"
    stale = post_form(client, "/standard-sets/r-iss/edit", values | {"version": "2016"})
    assert stale.status_code == 412
    assert "Someone changed this set" in text_of(stale)
    assert client.get("/api/v1/standard-sets/r-iss").json["version"] == "2015b"


def test_an_admin_retires_a_set_from_its_page(app, make, riss):
    client = logged_in(app, make, Role.ADMIN)
    revision = revision_on(client.get("/standard-sets/r-iss"))
    response = post_form(client, "/standard-sets/r-iss/retire", {"revision": revision})
    assert response.status_code == 302
    assert client.get("/api/v1/standard-sets/r-iss").json["status"] == "retired"
    assert "This set is retired" in text_of(client.get("/standard-sets/r-iss"))
    assert "R-ISS" not in text_of(client.get("/standard-sets"))
    assert "R-ISS" in text_of(client.get("/admin/standard-sets"))
    assert client.get("/standard-sets/r-iss/edit").status_code == 409
    again = post_form(client, "/standard-sets/r-iss/retire", {"revision": revision})
    assert again.status_code == 302  # back to the page, with the reason flashed
    assert "Someone changed this set" in text_of(client.get("/standard-sets/r-iss"))


def test_retire_needs_an_admin(app, make, riss):
    client = logged_in(app, make, Role.RESEARCHER)
    token = csrf_token(client, "/")
    response = client.post("/standard-sets/r-iss/retire", data={"csrf_token": token})
    assert response.status_code == 403
    anonymous = app.test_client()
    response = anonymous.post(
        "/standard-sets/r-iss/retire", data={"csrf_token": csrf_token(anonymous, "/")}
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/api/v1/standard-sets/r-iss").json["status"] == "active"


def test_navigation_offers_the_new_pages(app, make, client, vocabularies):
    body = text_of(client.get("/"))
    for label in ("Find variables", "Dashboard", "Standard sets"):
        assert f">{label}</a>" in body
    admin = text_of(logged_in(app, make, Role.ADMIN).get("/"))
    assert 'href="/admin/standard-sets"' in admin


@pytest.mark.parametrize("role", [None, Role.RESEARCHER, Role.CUSTODIAN, Role.ADMIN])
def test_an_admin_reads_the_set_s_history_from_the_audit_trail(app, make, client, riss, role):
    """The set page shows administrators its history (the audit trail's events about it,
    newest first, with the retirement); nobody else sees who changed it."""
    admin = logged_in(app, make, Role.ADMIN)
    post_form(
        admin,
        "/standard-sets/r-iss/retire",
        {"revision": revision_on(admin.get("/standard-sets/r-iss"))},
    )
    reader = client if role is None else logged_in(app, make, role)
    html = reader.get("/standard-sets/r-iss").get_data(as_text=True)
    if role is not Role.ADMIN:
        assert 'id="history-h"' not in html and "standard_set.created" not in html
        return
    history = re.search(r'<section[^>]*aria-labelledby="history-h".*?</section>', html, re.S)
    assert history, "no History section for an administrator"
    actions = re.findall(r"<code>(standard_set\.[a-z_]+)</code>", history.group(0))
    assert actions == ["standard_set.retired", "standard_set.created"]
    assert 'href="/admin/audit?object=standard_set:r-iss"' in history.group(0)
