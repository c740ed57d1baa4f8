"""The publishers' pages as the public, a custodian and an administrator see them: who the
organisation is, what it publishes (never its drafts, its retired datasets apart), the patients
covered in all and per disease (small cells hidden), its mapping coverage, and the index of the
organisations that publish."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from core.models import OrganisationKind, Role
from core.policies import SYSTEM
from tests.conftest import login, shared_world

AML, MDS, CLL = "NCIT:C3171", "NCIT:C3247", "NCIT:C3163"
HB, PLATELETS = "HV:0000045", "HV:0000047"


@dataclass
class World:
    leiden: str  # organisation ids
    lyon: str
    quiet: str  # publishes nothing
    custodian: str  # e-mails
    admin: str


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[World]:
    from catalogue.datasets import services as datasets

    with shared_world(app, reference_engine) as make:
        leiden = make.organisation(
            name="Leiden Haematology",
            country="NL",
            city="Leiden",
            kind=OrganisationKind.HOSPITAL,
            ror_id="05xvt9f17",
        )
        lyon = make.organisation(
            name="Lyon Blood Registry", country="FR", kind=OrganisationKind.REGISTRY
        )
        quiet = make.organisation(name="Quiet Foundation", country="DE")
        custodian = make.user(Role.CUSTODIAN, organisation=leiden)
        admin = make.user(Role.ADMIN)
        make.dataset(
            leiden,
            identifier="aml-trial",
            title="AML induction trial",
            diseases=[AML],
            patients=300,
            publish=True,
            variables=[
                {"name": "hb", "mappings": [HB]},
                {"name": "plt", "mappings": [PLATELETS]},
                {"name": "note"},
            ],
        )
        make.dataset(
            leiden,
            identifier="myeloid-registry",
            title="Myeloid registry",
            diseases=[AML, MDS],
            patients=1200,
            publish=True,
            variables=[{"name": "dx"}],
        )
        make.dataset(
            leiden, identifier="cll-draft", title="Secret CLL draft", diseases=[CLL], patients=999
        )
        make.dataset(
            leiden,
            identifier="old-cohort",
            title="Old cohort",
            diseases=[CLL],
            patients=50,
            publish=True,
        )
        make.dataset(
            leiden,
            identifier="no-count",
            title="Cohort without a count",
            diseases=[MDS],
            patients=None,
            publish=True,
        )
        make.dataset(
            lyon,
            identifier="tiny-mds",
            title="Tiny MDS series",
            diseases=[MDS],
            patients=4,
            publish=True,
        )
        with app.app_context():
            datasets.retire(SYSTEM, "old-cohort", "Merged into the registry.", datasets.UNCHECKED)
            # an open draft of a published dataset: its new count is not the public's
            datasets.new_version(SYSTEM, "myeloid-registry", datasets.UNCHECKED)
            datasets.update_dataset(
                SYSTEM, "myeloid-registry", {"patients": 5000}, datasets.UNCHECKED
            )
        yield World(leiden.id, lyon.id, quiet.id, custodian.email, admin.email)


def text(response) -> str:
    return response.get_data(as_text=True)


def page(client, organisation_id: str) -> str:
    response = client.get(f"/organisations/{organisation_id}")
    assert response.status_code == 200, text(response)[:300]
    return text(response)


def figures(html: str) -> list[str]:
    """The figures at the top of the page, as read: "3 published datasets", …"""
    return [_words(figure) for figure in re.findall(r'<li class="figure">(.*?)</li>', html, re.S)]


def _words(html: str) -> str:
    return re.sub(r"<[^>]+>|\s+", " ", html).replace("  ", " ").strip()


def test_the_public_sees_who_publishes_what(client, world):
    html = page(client, world.leiden)
    assert "<h1>Leiden Haematology</h1>" in html
    assert "Hospital" in html and "Leiden, Netherlands" in html
    assert 'href="https://ror.org/05xvt9f17"' in html
    assert figures(html) == [
        "3 published datasets",
        "1,500 patients covered (1 dataset without a count)",
        "50% of 4 variables mapped to standard terms",
    ]
    listed = html[html.index('id="datasets-h"') : html.index('id="diseases-h"')]
    assert re.findall(r'<a href="/datasets/([^"]+)">', listed) == [
        "aml-trial",
        "no-count",
        "myeloid-registry",
    ]  # by title
    assert "Secret CLL draft" not in html and "drafts" not in html
    # a link to the same datasets in the list, with its filters and sorts
    assert f'href="/datasets?custodian={world.leiden}"' in html


def test_patients_per_disease_count_each_dataset_under_each_of_its_diseases(client, world):
    html = page(client, world.leiden)
    table = html[html.index('id="diseases-h"') :]
    rows = re.findall(
        r'<th scope="row"><a href="/terms/([^"]+)">[^<]*</a></th>\s*'
        r'<td class="num">([^<]*)</td>\s*<td class="num">([^<]*)</td>',
        table,
    )
    assert rows == [(AML, "2", "1,500"), (MDS, "2", "1,200")]
    assert "counts under each of them" in table


def test_retired_datasets_are_listed_apart_and_not_counted(client, world):
    html = page(client, world.leiden)
    retired = html[html.index('id="retired-h"') :]
    assert '<a href="/datasets/old-cohort">Old cohort</a>' in retired
    assert "old-cohort" not in html[: html.index('id="retired-h"')]


def test_custodians_are_told_of_their_drafts_which_count_nowhere(client, world):
    login(client, world.custodian)
    html = page(client, world.leiden)
    assert "2 datasets of this organisation have drafts" in html
    assert figures(html)[:2] == [
        "3 published datasets",
        "1,500 patients covered (1 dataset without a count)",
    ]
    assert "Secret CLL draft" not in html


def test_a_small_sum_is_hidden_from_all_but_administrators(client, world):
    html = page(client, world.lyon)
    assert figures(html)[:2] == ["1 published dataset", "&lt;10 patients covered"]
    assert "shown as “&lt;10”" in html
    assert "Tiny MDS series" in html and ">4</td>" in html  # the dataset's own, as declared
    login(client, world.admin)
    assert figures(page(client, world.lyon))[:2] == ["1 published dataset", "4 patients covered"]


def test_an_organisation_that_publishes_nothing_says_so(client, world):
    html = page(client, world.quiet)
    assert "No published dataset yet" in html and "Quiet Foundation has not published" in html
    assert "Germany" in html


def test_an_unknown_organisation_is_a_404_page(client, world):
    response = client.get("/organisations/no-such-organisation")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_the_page_is_the_organisations_iri_and_negotiates(client, world):
    response = client.get(f"/organisations/{world.leiden}")
    assert "Accept" in response.headers.get("Vary", "")
    assert re.search(rf'rel="canonical" href="[^"]*/organisations/{world.leiden}"', text(response))
    rdf = client.get(f"/organisations/{world.leiden}", headers={"Accept": "text/turtle"})
    assert rdf.status_code == 200 and rdf.mimetype == "text/turtle"


def test_a_page_number_out_of_range_is_refused_by_name(client, world):
    response = client.get(f"/organisations/{world.leiden}?page=99999999999")
    assert response.status_code == 422
    assert client.get(f"/organisations/{world.leiden}?page=abc").status_code == 200


# --- the index ------------------------------------------------------------------------------


def rows_of(html: str) -> list[tuple[str, ...]]:
    return [
        tuple(_words(cell) for cell in row)
        for row in re.findall(
            r'<th scope="row">(.*?)</th>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*'
            r'<td class="num">(.*?)</td>\s*<td class="num">(.*?)</td>',
            html,
            re.S,
        )
    ]


def test_the_index_lists_the_organisations_that_publish(client, world):
    response = client.get("/organisations")
    assert response.status_code == 200
    html = text(response)
    assert rows_of(html) == [
        ("Leiden Haematology", "Netherlands", "Hospital", "3", "1,500"),
        ("Lyon Blood Registry", "France", "Registry", "1", "&lt;10"),
    ]
    assert f'href="/organisations/{world.leiden}"' in html
    assert "2 organisations publish 4 datasets" in html
    assert "Quiet Foundation" not in html
    others = re.search(r"(\d+) other partner organisations? (has|have) not published", html)
    assert others is not None
    assert (others.group(2) == "has") == (others.group(1) == "1")


def test_the_index_sorts_by_country_or_datasets_and_refuses_other_orders(client, world):
    by_country = text(client.get("/organisations?sort=country"))
    assert [r[0] for r in rows_of(by_country)] == ["Lyon Blood Registry", "Leiden Haematology"]
    by_datasets = text(client.get("/organisations?sort=datasets"))
    assert [r[0] for r in rows_of(by_datasets)] == ["Leiden Haematology", "Lyon Blood Registry"]
    refused = client.get("/organisations?sort=patients")
    assert refused.status_code == 422
    assert "“patients” is not one of the orders" in text(refused)
    assert len(rows_of(text(refused))) == 2  # the list, by name


def test_custodian_names_link_to_their_publisher_everywhere(client, world):
    link = f'<a class="publisher-link" href="/organisations/{world.leiden}">Leiden Haematology</a>'
    dataset = text(client.get("/datasets/aml-trial"))
    assert dataset.count(link) == 2  # under the title, and in the facts
    assert link in text(client.get("/datasets"))
    assert link in text(client.get("/search?q=AML"))
    assert link in text(client.get("/organisations"))
    retired = text(client.get("/datasets?status=retired"))
    assert link in retired


def test_the_page_points_to_its_rdf(client, world):
    html = page(client, world.leiden)
    turtle = re.search(r'<link rel="alternate" type="text/turtle" href="([^"]+)"', html)
    assert turtle and turtle.group(1) == f"/organisations/{world.leiden}.ttl"
    response = client.get(turtle.group(1))
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    assert f"/organisations/{world.leiden}>" in text(response)


def test_the_coverage_is_counted_once_per_published_version_and_kept(app, client, world):
    """A publisher of hundreds of datasets is not recounted on every visit: its published
    versions' figures are kept (as the dashboard keeps them), and the page reads the same
    figures from them the second time."""
    from sqlalchemy import func, select

    from catalogue.stats.models import VersionFigures
    from core.db import get_session

    first = figures(page(client, world.leiden))
    with app.app_context():
        kept = get_session().scalar(select(func.count()).select_from(VersionFigures))
    assert kept >= 3  # the three published versions of Leiden
    assert figures(page(client, world.leiden)) == first
