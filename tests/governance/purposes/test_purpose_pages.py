"""The pages: "My research purposes" (list, create, edit, delete, as forms that work without
JavaScript) and the search page's "Fits my purpose" box and badges."""

from __future__ import annotations

import html
import re

from tests.conftest import csrf_token, login
from tests.governance.purposes.conftest import AML, DS, HMB


def html_of(response) -> str:
    return response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get("/me/purposes")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # and the search page shows them no purpose box
    page = html_of(client.get("/search"))
    assert 'id="facet-fit"' not in page
    assert "Requestable now" in page
    assert 'class="user-link" href="/me/purposes"' not in page


def test_every_page_links_a_user_to_their_purposes(client, world):
    login(client, world.emails["researcher"])
    for path in ("/", "/datasets", "/account"):
        assert 'class="user-link" href="/me/purposes"' in html_of(client.get(path)), path
    listing = html_of(client.get("/me/purposes"))
    assert 'class="user-link" href="/me/purposes" aria-current="page"' in listing


def test_a_researcher_without_purposes_is_offered_to_describe_one(client, world):
    login(client, world.emails["other_researcher"])
    client.delete(  # the world's other researcher has one: remove it for this test
        f"/api/v1/me/purposes/{world.other_purpose_id}",
        headers={"X-CSRFToken": csrf_token(client, "/")},
    )
    listing = html_of(client.get("/me/purposes"))
    assert "No research purposes yet" in listing
    box = html_of(client.get("/search"))
    box = box[box.index('id="facet-fit"') :]
    assert 'href="/me/purposes/new"' in box[: box.index("</fieldset>")]


def test_create_edit_and_delete_through_the_forms(client, world):
    login(client, world.emails["researcher"])
    form = html_of(client.get("/me/purposes/new"))
    assert 'name="terms" value="DUO:0000007"' in form
    assert "Disease-specific research (DS)" in form and 'data-ontology="HAEM"' in form
    assert '<select id="country" name="country"' in form

    # a DS purpose without a disease: the form comes back with the error, as typed
    token = csrf_token(client, "/me/purposes/new")
    bad = client.post(
        "/me/purposes/new",
        data={"csrf_token": token, "name": "Relapse", "terms": DS, "commercial": "no"},
    )
    assert bad.status_code == 422
    page = html_of(bad)
    assert 'id="error-summary"' in page and "names at least one disease" in page
    assert re.search(r'value="DUO:0000007"[^>]*checked', page)
    assert re.search(r'<option value="no"\s+selected', page)

    # a disease typed by its abbreviation, resolved without JavaScript
    created = client.post(
        "/me/purposes/new",
        data={
            "csrf_token": token,
            "name": "Relapse",
            "terms": DS,
            "disease_add": "AML",
            "commercial": "no",
            "ethics_approval": "yes",
            "country": "DE",
            "publication_not_before": "2027-01-01",
            "duration_months": "24",
        },
    )
    assert created.status_code == 302, html_of(created)[:2000]
    listing = html_of(client.get("/me/purposes"))
    assert "Relapse" in listing and "Acute Myeloid Leukemia" in listing
    saved = next(
        p for p in client.get("/api/v1/me/purposes").json["items"] if p["name"] == "Relapse"
    )
    assert saved["purpose"]["diseases"] == [AML]
    assert saved["purpose"]["commercial"] is False and saved["purpose"]["ethics_approval"] is True
    assert saved["purpose"]["country"] == "DE" and saved["purpose"]["duration_months"] == 24

    edit_url = f"/me/purposes/{saved['id']}/edit"
    edit = html_of(client.get(edit_url))
    assert f'name="diseases" value="{AML}" checked' in edit
    revision = html.unescape(re.search(r'name="revision" value="([^"]+)"', edit).group(1))
    changed = client.post(
        edit_url,
        data={
            "csrf_token": token,
            "revision": revision,
            "name": "Relapse (HMB)",
            "terms": HMB,
            "commercial": "no",
        },
    )
    assert changed.status_code == 302
    # the old form again: stale, nothing saved
    stale = client.post(
        edit_url,
        data={"csrf_token": token, "revision": revision, "name": "Lost", "terms": HMB},
    )
    assert stale.status_code == 412 and 'id="stale-notice"' in html_of(stale)
    names = {p["name"] for p in client.get("/api/v1/me/purposes").json["items"]}
    assert "Relapse (HMB)" in names and "Lost" not in names

    deleted = client.post(f"/me/purposes/{saved['id']}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert client.get(edit_url).status_code == 404


def test_the_search_page_checks_the_chosen_purpose(client, world):
    login(client, world.emails["researcher"])
    plain = html_of(client.get("/search"))
    box = plain[plain.index('id="facet-fit"') :]
    assert "AML relapse" in box[: box.index("</fieldset>")]  # the purpose to choose
    assert "badge-fit" not in plain

    page = html_of(client.get("/search", query_string={"purpose": world.purpose_id}))
    assert re.search(rf'<option value="{world.purpose_id}"\s+selected', page)
    # the outcomes with their counts
    assert re.search(r'name="fit" value="compatible"', page)
    assert re.search(r"Compatible</span> <span class=\"facet-count\">4<", page)
    # badges on the hits, the reasons to open
    assert page.count("badge-fit-compatible") == 4
    assert page.count("badge-fit-incompatible") == 1
    assert page.count("badge-fit-needs-review") == 1
    myeloma = page[page.index('href="/datasets/fit-ds-myeloma"') :]
    myeloma = myeloma.split('class="card dataset-card search-hit"')[0]  # this hit only
    assert "Does not fit" in myeloma and "<details" in myeloma

    filtered = html_of(
        client.get("/search", query_string={"purpose": world.purpose_id, "fit": "incompatible"})
    )
    assert "1 dataset" in filtered and 'href="/datasets/fit-ds-myeloma"' in filtered


def test_another_users_purpose_on_the_page_is_a_422_with_the_search_without_it(client, world):
    login(client, world.emails["researcher"])
    response = client.get("/search", query_string={"purpose": world.other_purpose_id})
    assert response.status_code == 422
    page = html_of(response)
    assert "<strong>purpose</strong>" in page and "badge-fit" not in page


def test_an_empty_form_says_in_words_what_to_fill_in(client, world):
    login(client, world.emails["researcher"])
    form = html_of(client.get("/me/purposes/new"))
    # each kind of research: its checkbox, then its label, then the explanation below
    term = re.search(r'<li class="purpose-term">(.*?)</li>', form, re.S).group(1)
    assert re.match(r'\s*<input type="checkbox"[^>]*>\s*<label for="term-1">', term)
    assert '<p class="hint" id="term-1-hint">' in term
    css = client.get("/purposes/static/purposes.css").get_data(as_text=True)
    assert "/purposes/static/purposes.css" in form
    assert re.search(r"\.purpose-term \{[^}]*display: grid", css)  # checkbox and label: one row
    assert re.search(r"\.field \.purpose-term label \{[^}]*display: inline", css)

    token = csrf_token(client, "/me/purposes/new")
    response = client.post("/me/purposes/new", data={"csrf_token": token, "name": ""})
    assert response.status_code == 422
    page = html_of(response)
    summary = page[
        page.index('id="error-summary"') : page.index("</ul>", page.index("error-summary"))
    ]
    assert '<a href="#name">Name</a>: Give the purpose a name.' in summary
    assert '<a href="#terms">Kind of research</a>: Tick at least one kind of research.' in summary
    assert "Length must be" not in page and "What the research is</a>" not in page
    assert "<legend>Kind of research" in page  # the summary calls it as the form does


def test_the_list_names_the_country_and_keeps_the_button_apart(client, world):
    login(client, world.emails["researcher"])
    listing = html_of(client.get("/me/purposes"))
    assert "<li>Used in Netherlands</li>" in listing and "Used in NL" not in listing
    assert '<div class="page-head purpose-list-head">' in listing
    css = client.get("/purposes/static/purposes.css").get_data(as_text=True)
    assert re.search(r"\.purpose-list-head \{[^}]*margin-bottom: 1\.25rem", css)


def test_the_fit_and_requestable_filters_read_well(client, world):
    login(client, world.emails["researcher"])
    page = html_of(
        client.get(
            "/search",
            query_string={"purpose": world.purpose_id, "fit": "compatible", "requestable": "true"},
        )
    )
    chips = re.findall(r'<a class="chip" href="[^"]*">([^<]*)<', page)
    assert sorted(c.strip() for c in chips) == [
        "Fits my purpose: Compatible",
        "Requestable now: Yes",
    ]
    # the requestable facet's value is "Yes" under its legend, not the legend again
    facet = page[page.index('id="facet-requestable"') :]
    facet = facet[: facet.index("</fieldset>")]
    assert '<span class="facet-label">Yes</span>' in facet and "Requestable now</span>" not in facet
    # the fit facet's coloured dot is part of the label (left), the count apart (right), as in
    # every other facet
    assert re.search(
        r'<label for="f-fit-1"><span class="facet-label"><span class="fit-dot fit-dot-compatible"'
        r' aria-hidden="true"></span>Compatible</span> <span class="facet-count">',
        page,
    )
    not_requestable = html_of(client.get("/search", query_string={"requestable": "false"}))
    assert "Requestable now: No <" in not_requestable
