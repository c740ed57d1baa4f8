"""The mapping review page: suggestions with their score and reason, accept / reject / another
term as plain forms and as the script's JSON calls, bulk accept above a threshold, filters."""

from __future__ import annotations

import re

import pytest

from catalogue.models import Mapping, MappingStatus
from core.db import get_session
from core.models import Role
from tests.conftest import csrf_token, login, post_form

pytestmark = pytest.mark.usefixtures("vocabularies")

VARIABLES = [
    {"name": "hb_dx", "label": "Haemoglobin at diagnosis", "value_type": "decimal"},
    {"name": "sex", "label": "Sex", "value_type": "categorical"},
    {"name": "ecog", "label": "ECOG performance status", "value_type": "integer"},
    {"name": "zz_note", "label": "Free note of the site", "value_type": "text"},
]


def text(response) -> str:
    return response.get_data(as_text=True)


def etag_of(html: str) -> str:
    match = re.search(r'name="revision" value="([^"]+)"', html)
    assert match
    return match.group(1).replace("&#34;", '"')


@pytest.fixture
def setup(make, client):
    org = make.organisation()
    custodian = make.user(Role.CUSTODIAN, organisation=org, name="Mara Mapper")
    identifier = make.dataset(org, variables=VARIABLES)
    login(client, custodian.email)
    return identifier


def suggest(client, identifier: str) -> str:
    page = text(client.get(f"/datasets/{identifier}/mappings"))
    response = post_form(
        client, f"/datasets/{identifier}/mappings/suggest", {"revision": etag_of(page)}
    )
    assert response.status_code == 302
    return text(client.get(response.headers["Location"]))


def rows(html: str) -> list[str]:
    return re.findall(r"<tr data-row.*?</tr>", html, re.S)


def mappings_of(app, identifier: str, variable: str) -> list[tuple[str, str]]:
    from catalogue.models import Dataset, Variable

    with app.app_context():
        session = get_session()
        dataset = session.query(Dataset).filter_by(identifier=identifier).one()
        version_id = dataset.versions[-1].id
        found = session.execute(
            Mapping.__table__.select()
            .join(Variable.__table__, Variable.id == Mapping.variable_id)
            .where(Variable.version_id == version_id, Variable.name == variable)
        ).all()
        return sorted((r.object_curie, r.status.value) for r in found)


def test_suggestions_show_term_score_and_reason(client, setup):
    html = suggest(client, setup)
    assert "The mapping assistant looked at 4 unmapped variables" in html
    first = rows(html)[0]
    assert "<code>hb_dx</code>" in first and "Haemoglobin" in first
    assert re.search(r'<meter min="0" max="1"[^>]*value="[01]\.\d+"', first)
    reason = re.search(r'<td class="reason">([^<]+)</td>', first)
    assert reason and "“hb_dx”" in reason.group(1)  # why the assistant proposed it
    assert 'data-key="a"' in first and 'data-key="r"' in first and "Other term…" in first
    assert 'data-autocomplete="/api/v1/terms"' in first
    tabs = html.split('<nav class="tabs"')[1].split("</nav>")[0]
    assert re.search(r"Unmapped variables <span class=\"tab-count\">4</span>", tabs)


def test_accept_and_reject_with_plain_forms(client, app, setup):
    html = suggest(client, setup)
    hb = next(r for r in rows(html) if "<code>hb_dx</code>" in r)
    mapping_id = re.search(r'data-mapping="(\d+)"', hb).group(1)
    back = f"/datasets/{setup}/mappings?show=suggested"
    response = post_form(
        client,
        f"/datasets/{setup}/mappings/{mapping_id}",
        {"status": "accepted", "revision": etag_of(html), "back": back},
    )
    assert response.status_code == 302 and response.headers["Location"] == back
    page = text(client.get(back))
    assert "Accepted: hb_dx → HV:" in page
    statuses = [s for _, s in mappings_of(app, setup, "hb_dx")]
    assert statuses == ["accepted"]  # the alternatives were withdrawn
    sex = next(r for r in rows(page) if "<code>sex</code>" in r)
    sex_id = re.search(r'data-mapping="(\d+)"', sex).group(1)
    post_form(
        client,
        f"/datasets/{setup}/mappings/{sex_id}",
        {"status": "rejected", "revision": etag_of(page)},
    )
    rejected = text(client.get(f"/datasets/{setup}/mappings?show=rejected"))
    assert "<code>sex</code>" in rejected and "badge-mapping-rejected" in rejected
    history = text(client.get(f"/datasets/{setup}"))
    assert "Accepted the mapping of hb_dx" in history


def test_another_term_typed_without_javascript(client, app, setup):
    html = suggest(client, setup)
    ecog = next(r for r in rows(html) if "<code>ecog</code>" in r)
    mapping_id = re.search(r'data-mapping="(\d+)"', ecog).group(1)
    response = post_form(
        client,
        f"/datasets/{setup}/mappings/{mapping_id}",
        {"term": "Sex", "ontology": "HV", "revision": etag_of(html)},
    )
    assert response.status_code == 302
    assert ("HV:0000017", "accepted") in mappings_of(app, setup, "ecog")
    unknown = post_form(
        client,
        f"/datasets/{setup}/mappings/{mapping_id}",
        {"term": "no such thing at all", "revision": "*"},
    )
    page = text(client.get(unknown.headers["Location"]))
    assert "No term is called “no such thing at all”" in page


def test_the_script_gets_json_with_the_new_etag(client, app, setup):
    html = suggest(client, setup)
    hb = next(r for r in rows(html) if "<code>hb_dx</code>" in r)
    mapping_id = re.search(r'data-mapping="(\d+)"', hb).group(1)
    headers = {"Accept": "application/json", "X-CSRFToken": csrf_token(client, "/")}
    response = client.post(
        f"/datasets/{setup}/mappings/{mapping_id}",
        data={"status": "accepted", "revision": etag_of(html)},
        headers=headers,
    )
    assert response.status_code == 200
    body = response.json
    assert body["mapping"]["status"] == "accepted" and body["mapping"]["variable"] == "hb_dx"
    assert body["mapping"]["object_label"] and body["mapping"]["object_url"].startswith("/terms/")
    assert body["etag"] != etag_of(html)
    stale = client.post(
        f"/datasets/{setup}/mappings/{mapping_id}",
        data={"status": "rejected", "revision": etag_of(html)},
        headers=headers,
    )
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    bad = client.post(
        f"/datasets/{setup}/mappings/new",
        data={"variable": "zz_note", "object": "HV:9999999", "revision": body["etag"]},
        headers=headers,
    )
    assert bad.status_code == 422 and "HV:9999999" in bad.json["errors"]["object_id"][0]
    made = client.post(
        f"/datasets/{setup}/mappings/new",
        data={"variable": "zz_note", "object": "HV:0000017", "revision": body["etag"]},
        headers=headers,
    )
    assert made.status_code == 200 and made.json["mapping"]["status"] == "accepted"


def test_bulk_accept_above_a_threshold(client, app, setup):
    html = suggest(client, setup)
    page = post_form(
        client,
        f"/datasets/{setup}/mappings/accept-all",
        {"min_confidence": "0.9", "revision": etag_of(html)},
    )
    after = text(client.get(page.headers["Location"]))
    match = re.search(r"Accepted (\d+) suggestions with a score of at least 0.9", after)
    assert match and int(match.group(1)) >= 2
    assert [s for _, s in mappings_of(app, setup, "hb_dx")] == ["accepted"]
    assert all(s != "accepted" for _, s in mappings_of(app, setup, "zz_note"))
    bad = post_form(
        client,
        f"/datasets/{setup}/mappings/accept-all",
        {"min_confidence": "lots", "revision": etag_of(after)},
    )
    assert "not a number from 0 to 1" in text(client.get(bad.headers["Location"]))


def test_unmapped_variables_can_be_mapped_one_by_one(client, app, setup):
    html = text(client.get(f"/datasets/{setup}/mappings?show=unmapped"))
    assert len(rows(html)) == 4 and "No suggestion" in html
    response = post_form(
        client,
        f"/datasets/{setup}/mappings/new",
        {"variable": "zz_note", "object": "HV:0000017", "revision": etag_of(html)},
    )
    assert response.status_code == 302
    page = text(client.get(f"/datasets/{setup}/mappings?show=unmapped"))
    assert len(rows(page)) == 3 and "Mapped: zz_note → HV:0000017." in page
    public = text(client.get(f"/datasets/{setup}?mapped=mapped"))
    assert "<code>zz_note</code>" in public


def test_published_datasets_need_a_new_version_and_strangers_see_nothing(client, make, app):
    org = make.organisation()
    published = make.dataset(org, publish=True, variables=VARIABLES)
    draft = make.dataset(org, variables=VARIABLES)
    owner = make.user(Role.CUSTODIAN, organisation=org)
    login(client, owner.email)
    closed = client.get(f"/datasets/{published}/mappings")
    assert closed.status_code == 409 and "New version" in text(closed)
    stranger = app.test_client()
    login(stranger, make.user(Role.CUSTODIAN).email)
    assert stranger.get(f"/datasets/{draft}/mappings").status_code == 404
    assert stranger.get(f"/datasets/{published}/mappings").status_code == 403
    token = csrf_token(stranger, "/")
    for action in ("suggest", "accept-all", "new", "1"):
        response = stranger.post(
            f"/datasets/{draft}/mappings/{action}",
            data={"csrf_token": token, "revision": "*", "min_confidence": "0.5"},
        )
        assert response.status_code == 404, action


def test_the_back_link_stays_on_the_review_page(client, setup):
    html = text(client.get(f"/datasets/{setup}/mappings"))
    response = post_form(
        client,
        f"/datasets/{setup}/mappings/suggest",
        {"revision": etag_of(html), "back": "https://evil.example/"},
    )
    assert response.headers["Location"].startswith(f"/datasets/{setup}/mappings")
    response = post_form(
        client,
        f"/datasets/{setup}/mappings/accept-all",
        {"min_confidence": "0.5", "revision": "*", "back": "//evil.example/x"},
    )
    assert response.headers["Location"] == f"/datasets/{setup}/mappings"


def test_mapping_page_shows_only_accepted_mappings_to_the_public(client, make, app):
    org = make.organisation()
    identifier = make.dataset(org, variables=VARIABLES)
    owner = make.user(Role.CUSTODIAN, organisation=org)
    login(client, owner.email)
    suggest(client, identifier)
    with app.app_context():
        from catalogue.datasets import services as datasets
        from core.policies import SYSTEM

        datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)
    public = text(app.test_client().get(f"/datasets/{identifier}"))
    assert "not mapped" in public and "badge-term" not in public
    assert (
        MappingStatus.SUGGESTED.value not in public.split('id="variables"')[1].split("</table>")[0]
    )
