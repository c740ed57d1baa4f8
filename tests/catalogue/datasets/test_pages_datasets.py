"""The dataset pages as custodians and the public use them: lists, the form, a dataset's page,
and its lifecycle actions."""

from __future__ import annotations

import re

import pytest

from core.models import Role
from tests.conftest import login, post_form

pytestmark = pytest.mark.usefixtures("vocabularies")

VARIABLES = [
    {
        "name": "hb_dx",
        "label": "Haemoglobin at diagnosis",
        "value_type": "decimal",
        "unit": "g/dL",
        "form": "baseline",
        "mappings": ["HV:0000001"],
    },
    {
        "name": "sex",
        "label": "Sex",
        "value_type": "categorical",
        "form": "baseline",
        "permissible_values": [{"code": "1", "label": "Male"}, {"code": "2", "label": "Female"}],
    },
    {"name": "ecog", "label": "ECOG performance status", "value_type": "integer", "form": "fu"},
    {"name": "dx_date", "label": "Date of diagnosis", "value_type": "date", "form": "baseline"},
]

FULL_FORM = {
    "title": "HOVON 132 AML trial",
    "identifier": "hovon-132",
    "description": "A phase III trial of **lenalidomide** added to induction.",
    "diseases": "NCIT:C3171",
    "keywords": "lenalidomide, induction",
    "source_type": "clinical_trial",
    "data_model": "sdtm",
    "trial_ids": "NCT01234567, 2010-022236-27",
    "countries": "nl, be",
    "patients": "943",
    "records": "120000",
    "first_year": "2014",
    "last_year": "2017",
    "age_groups": "adult",
    "classification": "who_2016",
    "data_freeze": "2021-06-30",
    "version": "2021 freeze",
    "contact_name": "HOVON Data Center",
    "contact_email": "data@hovon.example",
    "landing_page": "https://hovon.example/132",
    "access_rights": "HARMONY partners, under the data-sharing agreement.",
    "provenance_pseudonymised": "2021-07-01",
    "provenance_quality_checked": "2021-09-15",
}


def text(response) -> str:
    return response.get_data(as_text=True)


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


def etag_of(html: str) -> str:
    match = re.search(r'name="revision" value="([^"]+)"', html)
    assert match, "no revision field"
    return match.group(1).replace("&#34;", '"')


@pytest.fixture
def org(make):
    return make.organisation(name="HOVON Foundation")


@pytest.fixture
def custodian(make, org):
    return make.user(Role.CUSTODIAN, organisation=org, name="Carla Custodian")


# --- my datasets ----------------------------------------------------------------------------


def test_my_datasets_lists_status_counts_and_last_change(client, make, org, custodian):
    draft = make.dataset(org, title="Draft registry")
    published = make.dataset(org, publish=True, title="Published trial", variables=VARIABLES)
    make.dataset(make.organisation(), title="Someone else's trial", publish=True)
    login(client, custodian.email)
    # an open draft of the published dataset
    page = text(client.get(f"/datasets/{published}"))
    post_form(client, f"/datasets/{published}/new-version", {"revision": etag_of(page)}, "/")

    html = text(client.get("/datasets/mine"))
    assert "Draft registry" in html and "Published trial" in html
    assert "Someone else" not in html
    rows = re.findall(r"<tr>.*?</tr>", html, re.S)
    draft_row = next(r for r in rows if draft in r)
    assert "badge-draft" in draft_row and ">Draft<" in draft_row
    trial_row = next(r for r in rows if published in r)
    assert "Published" in trial_row and "Draft of version 2" in trial_row
    assert '<td class="num">4</td>' in trial_row
    assert "25%" in trial_row  # one of four variables mapped
    assert "Opened version 2 as a draft" in trial_row and "Carla Custodian" in trial_row


def test_my_datasets_empty_state_invites_registration(client, custodian):
    login(client, custodian.email)
    html = text(client.get("/datasets/mine"))
    assert "No datasets yet" in html
    assert 'href="/datasets/new"' in html and "Register a dataset" in html


def test_my_datasets_and_the_form_are_for_custodians_and_admins(client, make):
    assert client.get("/datasets/mine").status_code == 302
    login(client, make.user(Role.RESEARCHER).email)
    assert client.get("/datasets/mine").status_code == 403
    assert client.get("/datasets/new").status_code == 403
    nav = text(client.get("/")).split('<nav class="main-nav"')[1].split("</nav>")[0]
    assert "Datasets" in nav and "My datasets" not in nav


# --- the public list ------------------------------------------------------------------------


def test_public_list_shows_published_datasets_and_pages_through_them(client, make, org):
    for n in range(21):
        make.dataset(org, publish=True, title=f"Published cohort {n:02d}")
    make.dataset(org, title="Hidden draft")
    first = text(client.get("/datasets"))
    assert "Hidden draft" not in first
    assert "Page 1 of 2" in first and "21 datasets" in first
    assert first.count('class="card dataset-card search-hit"') == 20
    assert "Acute Myeloid Leukemia" in first and "120 patients" in first
    second = text(client.get("/datasets?page=2"))
    assert second.count('class="card dataset-card search-hit"') == 1


def test_custodians_see_their_drafts_in_the_list(client, make, org, custodian):
    make.dataset(org, title="Our own draft")
    login(client, custodian.email)
    html = text(client.get("/datasets"))
    assert "Our own draft" in html and "badge-draft" in html


# --- the form -------------------------------------------------------------------------------


def test_custodian_registers_a_dataset_with_every_field(client, custodian, org):
    login(client, custodian.email)
    form = dict(FULL_FORM)
    response = client.post(
        "/datasets/new",
        data={**form, "diseases": ["NCIT:C3171", "NCIT:C3247"], "age_groups": ["adult", "elderly"]}
        | {"csrf_token": _token(client, "/datasets/new")},
    )
    assert response.status_code == 302, text(response)[:2000]
    assert response.headers["Location"] == "/datasets/hovon-132"
    body = client.get("/api/v1/datasets/hovon-132").json
    assert body["title"] == "HOVON 132 AML trial"
    assert body["custodian"] == org.id
    assert body["diseases"] == ["NCIT:C3171", "NCIT:C3247"]
    assert body["trial_ids"] == ["NCT01234567", "2010-022236-27"]
    assert body["countries"] == ["NL", "BE"]
    assert body["patients"] == 943 and body["records"] == 120000
    assert body["time_coverage"] == {"first_year": 2014, "last_year": 2017}
    assert body["age_groups"] == ["adult", "elderly"]
    assert body["keywords"] == ["lenalidomide", "induction"]
    assert body["contact"] == {"name": "HOVON Data Center", "email": "data@hovon.example"}
    assert body["provenance"] == [
        {"step": "pseudonymised", "date": "2021-07-01"},
        {"step": "quality_checked", "date": "2021-09-15"},
    ]
    assert body["classification"] == "who_2016" and body["data_model"] == "sdtm"
    assert body["data_freeze"] == "2021-06-30" and body["version"] == "2021 freeze"
    assert body["status"] == "draft"

    page = text(client.get("/datasets/hovon-132"))
    assert "is registered as a draft" in page
    assert "<strong>lenalidomide</strong>" in page  # Markdown rendered
    assert 'href="https://clinicaltrials.gov/study/NCT01234567"' in page
    assert "clinicaltrialsregister.eu/ctr-search/search?query=2010-022236-27" in page
    assert "Netherlands" in page and "Belgium" in page
    assert 'href="/terms/NCIT:C3247"' in page  # disease badges link to the term pages
    assert "Quality-checked" in page and "2021-09-15" in page
    assert "CDISC SDTM" in page and "WHO 2016" in page


def _token(client, path: str) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, path)


def test_form_errors_are_shown_next_to_fields_and_summarised(client, custodian):
    login(client, custodian.email)
    response = post_form(
        client,
        "/datasets/new",
        {
            "title": "AML",
            "trial_ids": "NCT123",
            "countries": "NL, XX",
            "patients": "many",
            "first_year": "2019",
            "last_year": "2015",
            "contact_email": "not-an-email",
            "landing_page": "javascript:alert(1)",
            "provenance_quality_checked": "2021-02-30",
        },
        "/datasets/new",
    )
    assert response.status_code == 422
    html = text(response)
    assert "NCT01234567" in field_error(html, "trial_ids")
    assert "ISO 3166-1" in field_error(html, "countries")
    assert "integer" in field_error(html, "patients")
    assert "email" in field_error(html, "contact_email").lower()
    assert field_error(html, "landing_page")
    assert "date" in field_error(html, "provenance_quality_checked").lower()
    assert "at least one disease" in field_error(html, "diseases")
    # summarised at the top, each linking to its field
    summary = html.split('id="error-summary"')[1].split("</div>")[0]
    for anchor in ("trial_ids", "countries", "patients", "contact_email", "disease_add"):
        assert f'href="#{anchor}"' in summary
    assert 'aria-invalid="true"' in html
    # nothing typed is lost
    assert 'value="NCT123"' in html and 'value="not-an-email"' in html


def test_service_errors_are_shown_next_to_their_fields(client, make, custodian, org):
    taken = make.dataset(org)
    login(client, custodian.email)
    response = post_form(
        client,
        "/datasets/new",
        {"title": "A taken identifier", "identifier": taken, "diseases": "NCIT:C3171"},
        "/datasets/new",
    )
    assert response.status_code == 422
    assert "never reused" in field_error(text(response), "identifier")
    response = post_form(
        client,
        "/datasets/new",
        {"title": "Years reversed", "diseases": "NCIT:C3171", "first_year": "2020"}
        | {"last_year": "2010"},
        "/datasets/new",
    )
    assert "first year comes after" in field_error(text(response), "time_coverage")


def test_a_disease_typed_without_javascript_is_resolved_by_name(client, custodian):
    login(client, custodian.email)
    response = post_form(
        client,
        "/datasets/new",
        {"title": "Myeloma cohort", "identifier": "mm-cohort", "disease_add": "multiple myeloma"},
        "/datasets/new",
    )
    assert response.status_code == 302
    assert client.get("/api/v1/datasets/mm-cohort").json["diseases"] == ["NCIT:C3242"]
    unknown = post_form(
        client,
        "/datasets/new",
        {"title": "Something", "disease_add": "influenza", "diseases": "NCIT:C3171"},
        "/datasets/new",
    )
    assert unknown.status_code == 422
    html = text(unknown)
    assert "“influenza”" in field_error(html, "disease_add")
    assert 'value="NCIT:C3171" checked' in html  # the chosen chip stays


def test_custodian_of_one_organisation_has_no_choice_admins_choose(client, make, org, custodian):
    login(client, custodian.email)
    html = text(client.get("/datasets/new"))
    assert '<select id="custodian"' not in html and "HOVON Foundation" in html
    admin = make.user(Role.ADMIN)
    client.post("/logout", data={"csrf_token": _token(client, "/")})
    login(client, admin.email)
    html = text(client.get("/datasets/new"))
    assert '<select id="custodian"' in html and f'value="{org.id}"' in html
    missing = post_form(
        client, "/datasets/new", {"title": "Admin's dataset", "diseases": "NCIT:C3171"}, "/"
    )
    assert missing.status_code == 422 and field_error(text(missing), "custodian")
    done = post_form(
        client,
        "/datasets/new",
        {"title": "Admin's dataset", "diseases": "NCIT:C3171", "custodian": org.id},
        "/",
    )
    assert done.status_code == 302


def test_custodian_of_several_organisations_chooses(client, make, org):
    other = make.organisation(name="GIMEMA")
    user = make.user(Role.CUSTODIAN, organisation=org)
    from catalogue.models import Dataset  # noqa: F401 - app models loaded
    from core import services
    from core.policies import SYSTEM

    with client.application.app_context():
        services.grant_role(SYSTEM, user.id, {"role": "custodian", "organisation_id": other.id})
    login(client, user.email)
    html = text(client.get("/datasets/new"))
    assert '<select id="custodian"' in html and "GIMEMA" in html and "HOVON Foundation" in html


def test_edit_form_is_filled_in_and_saves(client, make, org, custodian):
    identifier = make.dataset(org, title="Before", keywords=["AML", "NPM1"], countries=["DE"])
    login(client, custodian.email)
    html = text(client.get(f"/datasets/{identifier}/edit"))
    assert 'value="Before"' in html and 'value="AML, NPM1"' in html and 'value="DE"' in html
    assert 'value="NCIT:C3171" checked' in html
    response = post_form(
        client,
        f"/datasets/{identifier}/edit",
        {
            "title": "After",
            "diseases": "NCIT:C3171",
            "keywords": "AML",
            "countries": "DE, AT",
            "revision": etag_of(html),
            "contact_email": "data@example.org",
            "source_type": "registry",
            "description": "Now described.",
        },
        f"/datasets/{identifier}/edit",
    )
    assert response.status_code == 302
    body = client.get(f"/api/v1/datasets/{identifier}").json
    assert body["title"] == "After" and body["countries"] == ["DE", "AT"]
    assert body["keywords"] == ["AML"] and body["source_type"] == "registry"
    history = text(client.get(f"/datasets/{identifier}"))
    summary = re.search(r"Changed ([a-z_, ]+)\.", history)
    assert summary and {"countries", "keywords", "source_type", "title"} <= set(
        summary.group(1).split(", ")
    )


def test_a_stale_edit_is_refused_with_a_clear_message(client, make, org, custodian):
    identifier = make.dataset(org, title="Shared draft")
    colleague = make.user(Role.CUSTODIAN, organisation=org, name="Colin Colleague")
    login(client, custodian.email)
    mine = text(client.get(f"/datasets/{identifier}/edit"))
    other = client.application.test_client()
    login(other, colleague.email)
    theirs = text(other.get(f"/datasets/{identifier}/edit"))
    assert (
        post_form(
            other,
            f"/datasets/{identifier}/edit",
            {"title": "Their title", "diseases": "NCIT:C3171", "revision": etag_of(theirs)},
            "/",
        ).status_code
        == 302
    )
    form = {"title": "My title", "diseases": "NCIT:C3171", "revision": etag_of(mine)}
    stale = post_form(client, f"/datasets/{identifier}/edit", form, "/")
    assert stale.status_code == 412
    html = text(stale)
    assert "Colin Colleague changed this dataset" in html and "nothing was saved" in html
    assert 'value="My title"' in html  # what was typed is kept
    assert client.get(f"/api/v1/datasets/{identifier}").json["title"] == "Their title"
    # saving again, knowingly, replaces their change
    again = post_form(client, f"/datasets/{identifier}/edit", form | {"revision": etag_of(html)})
    assert again.status_code == 302
    assert client.get(f"/api/v1/datasets/{identifier}").json["title"] == "My title"


def test_editing_a_published_dataset_offers_a_new_version(client, make, org, custodian):
    identifier = make.dataset(org, publish=True)
    login(client, custodian.email)
    response = client.get(f"/datasets/{identifier}/edit")
    assert response.status_code == 409
    html = text(response)
    assert "Published versions do not change" in html
    assert f'action="/datasets/{identifier}/new-version"' in html


# --- a dataset's page -----------------------------------------------------------------------


def test_variables_are_filtered_and_their_mappings_shown(client, make, org):
    identifier = make.dataset(org, publish=True, variables=VARIABLES)
    html = text(client.get(f"/datasets/{identifier}"))
    assert "4 variables" in html and "25%" in html
    row = re.search(
        r"<tr>\s*<th scope=\"row\">(?:<a [^>]*>)?<code>hb_dx</code>.*?</tr>", html, re.S
    )
    assert row and 'href="/terms/HV:0000001"' in row.group(0)
    assert "<summary>2 values</summary>" in html and "Female" in html

    def names(query: str) -> list[str]:
        page = text(client.get(f"/datasets/{identifier}?{query}"))
        return re.findall(r'<th scope="row">(?:<a [^>]*>)?<code>([^<]+)</code>', page)

    assert names("mapped=mapped") == ["hb_dx"]
    assert names("mapped=unmapped") == ["sex", "ecog", "dx_date"]
    assert names("type=date") == ["dx_date"]
    assert names("form=fu") == ["ecog"]
    assert names("q=diag") == ["hb_dx", "dx_date"]
    assert names("q=100%25") == []
    assert "No variable matches these filters." in text(client.get(f"/datasets/{identifier}?q=zz"))


def test_variables_are_paginated(client, make, org):
    many = [{"name": f"v{n:03d}", "value_type": "text"} for n in range(60)]
    identifier = make.dataset(org, publish=True, variables=many)
    first = text(client.get(f"/datasets/{identifier}"))
    assert "Page 1 of 2" in first and "v049" in first and "v050" not in first
    assert f"/datasets/{identifier}?page=2#variables" in first
    assert "v050" in text(client.get(f"/datasets/{identifier}?page=2"))


def test_the_public_sees_no_actions_and_no_names_in_the_history(client, make, org, custodian):
    identifier = make.dataset(org, publish=True)
    html = text(client.get(f"/datasets/{identifier}"))
    assert "Manage this dataset" not in html and "/edit" not in html
    assert "HOVON Foundation" in html.split('id="history-h"')[1]
    assert "the system" not in html


def test_editors_see_what_is_missing_before_publishing(client, make, org, custodian):
    identifier = make.dataset(org, description=None, contact_email=None)
    login(client, custodian.email)
    html = text(client.get(f"/datasets/{identifier}"))
    assert "Not ready to publish" in html
    missing = html.split('id="publish-missing"')[1].split("</div>")[0]
    assert "Add a description before publishing." in missing
    assert "Add a contact email before publishing." in missing
    assert f'href="/datasets/{identifier}/edit#contact_email"' in missing
    assert "Edit" in html and "Delete draft" in html
    assert f'action="/datasets/{identifier}/publish"' not in html


def test_publish_then_new_version_then_the_old_version_is_marked(client, make, org, custodian):
    identifier = make.dataset(org, title="Trial v1", variables=VARIABLES)
    login(client, custodian.email)
    page = text(client.get(f"/datasets/{identifier}"))
    assert "Draft.</strong> Only your organisation" in page
    published = post_form(
        client, f"/datasets/{identifier}/publish", {"revision": etag_of(page)}, "/"
    )
    assert published.status_code == 302
    page = text(client.get(f"/datasets/{identifier}"))
    assert "Version 1 is published" in page and "badge-published" in page
    assert "Retire this dataset" in page and "New version" in page

    opened = post_form(
        client, f"/datasets/{identifier}/new-version", {"revision": etag_of(page)}, "/"
    )
    assert opened.headers["Location"] == f"/datasets/{identifier}/edit"
    form = text(client.get(opened.headers["Location"]))
    assert "Version 2 is open as a draft" in form
    post_form(
        client,
        f"/datasets/{identifier}/edit",
        {
            "title": "Trial v2",
            "diseases": "NCIT:C3171",
            "revision": etag_of(form),
            "description": "d",
            "source_type": "clinical_trial",
            "contact_email": "a@example.org",
        },
    )
    draft_page = text(client.get(f"/datasets/{identifier}"))
    assert "Trial v2" in draft_page and "Draft of version 2" in draft_page
    assert f'href="/datasets/{identifier}/versions/1">version 1</a>, as published' in draft_page
    post_form(client, f"/datasets/{identifier}/publish", {"revision": etag_of(draft_page)})

    old = text(client.get(f"/datasets/{identifier}/versions/1"))
    assert "You are looking at an older version" in old and "Trial v1" in old
    assert f'<a href="/datasets/{identifier}">See the latest version (2)</a>' in old
    assert "Manage this dataset" not in old  # old versions do not change
    assert "hb_dx" in old  # with the variables it had
    public = text(client.application.test_client().get(f"/datasets/{identifier}"))
    assert "Trial v2" in public and "older version" not in public


def test_retire_with_a_note_shows_a_notice(client, make, org, custodian):
    identifier = make.dataset(org, publish=True)
    login(client, custodian.email)
    page = text(client.get(f"/datasets/{identifier}"))
    assert 'data-confirm="Retire' in page  # asks before retiring
    response = post_form(
        client,
        f"/datasets/{identifier}/retire",
        {"revision": etag_of(page), "note": "Superseded by the 2024 extract."},
    )
    assert response.status_code == 302
    public = text(client.application.test_client().get(f"/datasets/{identifier}"))
    assert "This dataset is retired" in public and "Superseded by the 2024 extract." in public
    assert "badge-retired" in public
    after = text(client.get(f"/datasets/{identifier}"))
    assert "Manage this dataset" not in after


def test_delete_a_draft(client, make, org, custodian):
    identifier = make.dataset(org, title="Short-lived draft")
    login(client, custodian.email)
    page = text(client.get(f"/datasets/{identifier}"))
    assert 'data-confirm="Delete the draft' in page
    response = post_form(client, f"/datasets/{identifier}/delete", {"revision": etag_of(page)})
    assert response.headers["Location"] == "/datasets/mine"
    assert "“Short-lived draft” is deleted" in text(client.get("/datasets/mine"))
    assert client.get(f"/datasets/{identifier}").status_code == 404


def test_a_stale_action_is_refused_and_said_so(client, make, org, custodian):
    identifier = make.dataset(org)
    login(client, custodian.email)
    page = text(client.get(f"/datasets/{identifier}"))
    stale = etag_of(page)
    post_form(
        client,
        f"/datasets/{identifier}/edit",
        {"title": "Changed", "diseases": "NCIT:C3171", "revision": stale},
    )
    response = post_form(client, f"/datasets/{identifier}/publish", {"revision": stale})
    assert response.status_code == 302
    html = text(client.get(response.headers["Location"]))
    assert "Someone changed this dataset after you opened this page" in html
    assert client.get(f"/api/v1/datasets/{identifier}").json["status"] == "draft"


def test_other_organisations_custodian_gets_404_on_drafts_and_no_actions(client, make, org):
    draft = make.dataset(org)
    published = make.dataset(org, publish=True)
    stranger = make.user(Role.CUSTODIAN, organisation=make.organisation())
    login(client, stranger.email)
    assert client.get(f"/datasets/{draft}").status_code == 404
    assert client.get(f"/datasets/{draft}/edit").status_code == 404
    html = text(client.get(f"/datasets/{published}"))
    assert "Manage this dataset" not in html and "/edit" not in html
    assert client.get(f"/datasets/{published}/edit").status_code == 403
    token = _token(client, "/")
    for action in ("publish", "new-version", "retire"):
        response = client.post(
            f"/datasets/{published}/{action}", data={"csrf_token": token, "revision": "*"}
        )
        assert response.status_code == 403, action
    assert client.post(f"/datasets/{draft}/delete", data={"csrf_token": token}).status_code == 404


def test_forms_need_their_csrf_token(client, make, org, custodian):
    identifier = make.dataset(org)
    login(client, custodian.email)
    response = client.post(f"/datasets/{identifier}/delete", data={"revision": "*"})
    assert response.status_code == 403
    assert client.get(f"/datasets/{identifier}").status_code == 200
