"""The dataset list (/datasets): the search page with no query to begin with — its facets,
sorts and pages, its links staying on the list — with retired datasets apart under a status
filter instead of at the top for everyone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from core.models import Role
from core.policies import SYSTEM
from tests.conftest import login, shared_world

AML, MDS = "NCIT:C3171", "NCIT:C3247"
HB = "HV:0000045"


@dataclass
class World:
    custodian: str  # of Leiden


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[World]:
    from catalogue.datasets import services as datasets

    with shared_world(app, reference_engine) as make:
        leiden = make.organisation(name="Leiden Haematology", country="NL")
        lyon = make.organisation(name="Lyon Blood Registry", country="FR")
        custodian = make.user(Role.CUSTODIAN, organisation=leiden)
        make.dataset(
            leiden,
            identifier="zeta-aml",
            title="Zeta AML trial",
            countries=["NL"],
            diseases=[AML],
            publish=True,
            variables=[{"name": "hb", "mappings": [HB]}, {"name": "plt"}, {"name": "sex"}],
        )
        make.dataset(
            lyon,
            identifier="alpha-mds",
            title="Alpha MDS registry",
            countries=["FR"],
            diseases=[MDS],
            source_type="registry",
            publish=True,
            variables=[{"name": "ipss", "mappings": [HB]}],
        )
        make.dataset(
            lyon,
            identifier="mid-aml",
            title="Middle AML cohort",
            countries=["FR", "BE"],
            diseases=[AML],
            publish=True,
        )
        make.dataset(leiden, identifier="our-draft", title="Our unpublished draft")
        make.dataset(leiden, identifier="gone", title="Gone cohort", publish=True)
        with app.app_context():
            # retired last: the most recently changed dataset of all
            datasets.retire(SYSTEM, "gone", "Withdrawn by the trial group.", datasets.UNCHECKED)
        yield World(custodian=custodian.email)


def text(response) -> str:
    return response.get_data(as_text=True)


def listed(html: str) -> list[str]:
    """The identifiers of the datasets listed, in order."""
    cards = html[html.index('id="results-h"') :]
    return re.findall(r'<h[23]><a href="/datasets/([a-z0-9-]+)">', cards)


def test_retired_datasets_leave_the_default_list(client, world):
    html = text(client.get("/datasets"))
    assert listed(html) == ["mid-aml", "alpha-mds", "zeta-aml"]  # most recently updated first
    assert "Gone cohort" not in html
    status = html[html.index('id="facet-status"') :]
    assert re.search(
        r'href="/datasets\?status=retired"><span class="facet-label">Retired</span> '
        r'<span class="facet-count">1</span>',
        status,
    )


def test_the_retired_filter_lists_them_with_their_reason(client, world):
    response = client.get("/datasets?status=retired")
    assert response.status_code == 200
    html = text(response)
    assert "<h1>Retired datasets</h1>" in html
    assert listed_retired(html) == ["gone"]
    assert "Withdrawn by the trial group." in html and "badge-retired" in html
    assert 'href="/datasets">Back to the current datasets' in html


def listed_retired(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/datasets/([a-z0-9-]+)">', html)


def test_the_list_has_the_search_facets_and_sorts(client, world):
    html = text(client.get("/datasets?country=FR&sort=title"))
    assert listed(html) == ["alpha-mds", "mid-aml"]
    assert "2 datasets" in html and "Country: France" in html
    assert 'action="/datasets"' in html  # the form stays on the list
    assert re.search(r'name="disease" value="NCIT:C3171"', html)  # the disease tree
    assert re.search(r'<option value="title"\s+selected>', html)
    chip = re.search(r'<a class="chip" href="([^"]+)">Country: France', html)
    assert chip and chip.group(1).startswith("/datasets")


def test_pages_of_the_list_stay_on_the_list(client, world):
    html = text(client.get("/datasets?per_page=2"))
    assert "Page 1 of 2" in html
    next_page = re.search(r'href="([^"]+)" rel="next"', html)
    assert (
        next_page and next_page.group(1).startswith("/datasets?") and "page=2" in next_page.group(1)
    )
    assert listed(text(client.get(next_page.group(1).replace("&amp;", "&")))) == ["zeta-aml"]


def test_words_search_the_list(client, world):
    html = text(client.get("/datasets?q=registry"))
    assert listed(html) == ["alpha-mds"]
    assert "for “registry”" in html


def test_each_card_says_how_much_of_its_dictionary_is_mapped(client, world):
    html = text(client.get("/datasets"))
    assert "3 variables, 33% mapped to standard terms" in html
    assert "1 variable, 100% mapped to standard terms" in html


def test_custodians_find_their_drafts_in_the_list(client, world):
    login(client, world.custodian)
    html = text(client.get("/datasets"))
    assert "our-draft" in listed(html) and "badge-draft" in html
    assert "Register a dataset" in html


def test_bad_parameters_are_named_not_a_crash(client, world):
    response = client.get("/datasets?status=deleted")
    assert response.status_code == 422
    assert "<strong>status</strong>: Choose the current or the retired datasets." in text(response)
    response = client.get("/datasets?country=XX")
    assert response.status_code == 422
    assert "<strong>country</strong>" in text(response)


def test_facet_counts_read_in_the_right_number(client, world):
    html = text(client.get("/datasets"))
    # screen readers hear "1 dataset", "2 datasets" after each count
    assert '1<span class="visually-hidden"> dataset</span>' in html
    assert '1<span class="visually-hidden"> datasets</span>' not in html
    assert '2<span class="visually-hidden"> datasets</span>' in html


def test_the_home_page_counts_in_the_right_number(client, world):
    html = text(client.get("/"))
    assert re.search(r'figure-value">3</span><span class="figure-label">published datasets<', html)
    assert 'figure-value">2</span><span class="figure-label">partner organisations<' in html
    assert 'href="/organisations">See who publishes them' in html
