"""A dataset's metadata is checked as a whole: every mistake of a submission is named in one
answer (the API's problem, the form's messages beside each field), not in stages — the order
of the years used to come only once the other fields were right. Years of the time coverage
are plausible (no first year after next year, no last year more than ten years ahead: 2100 used
to pass), and a wrong country is named."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from catalogue.datasets.schemas import DatasetInputSchema
from core.models import Role
from tests.conftest import login, post_form

pytestmark = pytest.mark.usefixtures("vocabularies")

THIS_YEAR = dt.datetime.now(dt.UTC).year
AML = "NCIT:C3171"


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


@pytest.fixture
def custodian(make):
    organisation = make.organisation(name="Leiden Trials")
    return make.user(Role.CUSTODIAN, organisation=organisation)


@pytest.fixture
def headers(make, custodian):
    return {"Authorization": f"Bearer {make.token(custodian)}"}


def create(client, headers, **fields):
    body = {"title": "AML trial", "diseases": [AML]} | fields
    return client.post("/api/v1/datasets", json=body, headers=headers)


# --- the API --------------------------------------------------------------------------------


def test_every_mistake_is_named_in_one_answer(client, headers):
    response = create(
        client,
        headers,
        title="AM",
        countries=["DE", "XZ", "nl"],
        patients=-5,
        time_coverage={"first_year": 2020, "last_year": 2010},
        contact={"email": "not-an-email"},
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.json["errors"]
    assert set(errors) == {"title", "countries.1", "patients", "time_coverage", "contact.email"}
    assert errors["time_coverage"] == [
        "The first year comes after the last year of the time coverage."
    ]


def test_a_wrong_country_is_named(client, headers):
    response = create(client, headers, countries=["DE", "Germany", "UK"])
    errors = response.json["errors"]
    assert "“Germany”" in errors["countries.1"][0] and "ISO 3166-1" in errors["countries.1"][0]
    assert "“UK”" in errors["countries.2"][0]  # the United Kingdom is GB


@pytest.mark.parametrize(
    ("coverage", "field", "latest"),
    [
        ({"first_year": 2000, "last_year": 2100}, "time_coverage.last_year", THIS_YEAR + 10),
        ({"first_year": THIS_YEAR + 2}, "time_coverage.first_year", THIS_YEAR + 1),
        ({"first_year": 1850}, "time_coverage.first_year", THIS_YEAR + 1),
    ],
)
def test_implausible_years_are_refused_saying_which_years_are_possible(
    client, headers, coverage, field, latest
):
    response = create(client, headers, time_coverage=coverage)
    assert response.status_code == 422
    message = response.json["errors"][field][0]
    assert f"from 1900 to {latest}" in message


def test_an_ongoing_study_may_give_its_planned_end(client, headers):
    """Next year's start (registered ahead of its first patient) and an end ten years ahead."""
    coverage = {"first_year": THIS_YEAR + 1, "last_year": THIS_YEAR + 10}
    response = create(client, headers, time_coverage=coverage)
    assert response.status_code == 201, response.json
    assert response.json["time_coverage"] == coverage


def test_years_in_the_wrong_order_and_out_of_range_come_together(client, headers):
    response = create(
        client, headers, title="X", time_coverage={"first_year": 2020, "last_year": 2100}
    )
    errors = response.json["errors"]
    assert set(errors) == {"title", "time_coverage.last_year"}


def test_a_change_is_checked_as_a_whole_too(client, headers):
    identifier = create(client, headers).json["identifier"]
    etag = client.get(f"/api/v1/datasets/{identifier}", headers=headers).headers["ETag"]
    response = client.patch(
        f"/api/v1/datasets/{identifier}",
        json={"countries": ["ZZ"], "time_coverage": {"first_year": 2019, "last_year": 2015}},
        headers=headers | {"If-Match": etag},
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"countries.0", "time_coverage"}


def test_the_schema_reports_its_cross_field_check_beside_field_errors():
    from marshmallow import ValidationError

    with pytest.raises(ValidationError) as raised:
        DatasetInputSchema().load(
            {
                "title": "AML",
                "diseases": [AML],
                "patients": "many",
                "time_coverage": {"first_year": 2001, "last_year": 2000},
            }
        )
    assert set(raised.value.messages) == {"patients", "time_coverage"}


# --- the form -------------------------------------------------------------------------------


def test_the_form_shows_every_error_beside_its_field_at_once(client, custodian):
    login(client, custodian.email)
    response = post_form(
        client,
        "/datasets/new",
        {
            "title": "AM",
            "diseases": AML,
            "countries": "de, Holland",
            "first_year": "2020",
            "last_year": "2010",
            "contact_email": "not-an-email",
        },
        "/datasets/new",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "3" in field_error(html, "title")
    assert "“Holland”" in field_error(html, "countries")
    assert "first year comes after" in field_error(html, "time_coverage")
    assert field_error(html, "contact_email")
    summary = html.split('id="error-summary"')[1].split("</div>")[0]
    for anchor in ("title", "countries", "contact_email"):
        assert f'href="#{anchor}"' in summary


def test_the_form_refuses_a_year_far_ahead_beside_the_field(client, custodian):
    login(client, custodian.email)
    response = post_form(
        client,
        "/datasets/new",
        {"title": "AML trial", "diseases": AML, "first_year": "2010", "last_year": "2100"},
        "/datasets/new",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"from 1900 to {THIS_YEAR + 10}" in field_error(html, "last_year")


def test_the_form_offers_only_the_years_it_accepts(client, custodian):
    """The browser's own check (the inputs' max) agrees with the server's rule, not 2100."""
    login(client, custodian.email)
    html = client.get("/datasets/new").get_data(as_text=True)
    first = re.search(r'<input[^>]*name="first_year"[^>]*>', html)
    last = re.search(r'<input[^>]*name="last_year"[^>]*>', html)
    assert first and f'max="{THIS_YEAR + 1}"' in first.group(0)
    assert last and f'max="{THIS_YEAR + 10}"' in last.group(0)
