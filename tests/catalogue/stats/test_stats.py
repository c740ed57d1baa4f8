"""The alliance statistics (``GET /api/v1/stats``, its CSV, ``/dashboard``): published datasets
only, diseases rolled up the hierarchy, breakdowns and growth, and an empty catalogue."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from catalogue.datasets import services as datasets
from catalogue.models import Dataset, Mapping, MappingStatus, Variable
from core.db import get_session
from core.models import Role
from core.policies import SYSTEM

AML, MDS, CMML, MYELOMA = "NCIT:C3171", "NCIT:C3247", "NCIT:C3178", "NCIT:C3242"
MYELOID, ROOT = "NCIT:C9290", "NCIT:C27134"


def publish_date(app, identifier, year, month):
    with app.app_context():
        session = get_session()
        dataset = session.scalar(select(Dataset).where(Dataset.identifier == identifier))
        dataset.published_at = dt.datetime(year, month, 15, 12, tzinfo=dt.UTC)
        session.commit()


@pytest.fixture
def catalogue(app, make, vocabularies):
    """An AML trial (500, DE+NL, adult), an MDS/CMML registry (300, NL, adult+elderly), a
    myeloma cohort without a patient count, a 1000-patient draft and a retired dataset."""
    org, other = make.organisation(name="Leiden Trials"), make.organisation(name="Oslo Registry")
    ids = {
        "aml": make.dataset(
            org, publish=True, diseases=[AML], patients=500, countries=["DE", "NL"],
            age_groups=["adult"], source_type="clinical_trial",
            variables=[
                {"name": "npm1", "mappings": ["HV:0000124"]},
                {"name": "flt3", "mappings": ["HV:0000125"]},
                {"name": "free_text"},
            ],
        ),
        "mds": make.dataset(
            other, publish=True, diseases=[MDS, CMML], patients=300, countries=["NL"],
            age_groups=["adult", "elderly"], source_type="registry",
            variables=[{"name": "hb", "mappings": ["HV:0000045"]}, {"name": "site"}],
        ),
        "myeloma": make.dataset(
            other, publish=True, diseases=[MYELOMA], patients=None, countries=["NO"],
            source_type="registry",
        ),
        "draft": make.dataset(org, diseases=[AML], patients=1000, countries=["PT"],
                              variables=[{"name": "x", "mappings": ["HV:0000045"]}]),
        "retired": make.dataset(org, publish=True, diseases=[AML], patients=2000,
                                countries=["IT"]),
    }  # fmt: skip
    with app.app_context():
        datasets.retire(SYSTEM, ids["retired"], None, datasets.UNCHECKED)
        # a value mapping alone does not make a variable mapped
        session = get_session()
        site = session.scalar(select(Variable).where(Variable.name == "site"))
        site.mappings = [
            Mapping(value_code="1", object_curie="HV:0000022", status=MappingStatus.ACCEPTED)
        ]
        session.commit()
    publish_date(app, ids["aml"], 2024, 11)
    publish_date(app, ids["mds"], 2025, 2)
    publish_date(app, ids["myeloma"], 2025, 2)
    custodian = make.user(Role.CUSTODIAN, organisation=org)
    admin = make.user(Role.ADMIN)
    return {
        "ids": ids,
        "custodian": {"Authorization": f"Bearer {make.token(custodian)}"},
        "admin": {"Authorization": f"Bearer {make.token(admin)}"},
    }


def rows(body, key):
    return {r["value"]: r for r in body[key]}


@pytest.mark.parametrize("caller", ["anonymous", "custodian", "admin"])
def test_only_published_datasets_count_even_for_their_custodians(client, catalogue, caller):
    headers = {} if caller == "anonymous" else catalogue[caller]
    body = client.get("/api/v1/stats", headers=headers).json
    assert body["datasets"] == 3
    assert body["patients"] == 800
    assert body["datasets_without_patient_count"] == 1
    assert body["custodians"] == 2
    assert body["countries"] == 3  # DE, NL, NO: not the draft's PT, not the retired IT
    assert "PT" not in rows(body, "by_country") and "IT" not in rows(body, "by_country")
    assert body["goal"] == {"patients": 100000, "share": 0.008}
    assert body["exact_counts"] is (caller == "admin")


def test_diseases_roll_up_the_hierarchy_counting_each_dataset_once(client, catalogue):
    body = client.get("/api/v1/stats").json
    diseases = rows(body, "by_disease")
    assert diseases[AML]["patients"] == 500 and diseases[AML]["datasets"] == 1
    # MDS and CMML are both myeloid: the registry counts once under "Myeloid neoplasm"
    assert diseases[MYELOID]["datasets"] == 2 and diseases[MYELOID]["patients"] == 800
    assert diseases[ROOT]["datasets"] == 3 and diseases[ROOT]["patients"] == 800
    assert diseases[MYELOMA]["patients"] == 0 and diseases[MYELOMA]["datasets"] == 1
    assert body["by_disease"][0]["value"] == ROOT and body["by_disease"][0]["depth"] == 0
    assert ROOT in diseases[MYELOID]["broader"]
    labels = [r["label"] for r in body["by_disease"]]
    assert "Acute Myeloid Leukemia" in labels


def test_breakdowns_by_country_source_custodian_and_age_group(client, catalogue):
    body = client.get("/api/v1/stats").json
    countries = rows(body, "by_country")
    assert countries["NL"] == {
        "value": "NL",
        "label": "Netherlands",
        "datasets": 2,
        "patients": 800,
    }
    assert countries["DE"]["patients"] == 500
    assert [r["value"] for r in body["by_country"]][:2] == ["NL", "DE"]  # largest first
    sources = rows(body, "by_source_type")
    assert sources["registry"]["datasets"] == 2 and sources["registry"]["patients"] == 300
    assert sources["clinical_trial"]["label"] == "Clinical trial"
    custodians = {r["label"]: r for r in body["by_custodian"]}
    assert custodians["Leiden Trials"]["patients"] == 500
    assert custodians["Oslo Registry"]["datasets"] == 2
    ages = rows(body, "by_age_group")
    assert ages["adult"]["patients"] == 800 and ages["elderly"]["patients"] == 300
    assert ages["not stated"]["datasets"] == 1  # the myeloma cohort states none


def test_growth_by_month_of_first_publication_with_running_totals(client, catalogue):
    growth = client.get("/api/v1/stats").json["growth"]
    assert [m["month"] for m in growth] == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert growth[0] == {
        "month": "2024-11", "datasets": 1, "patients": 500,
        "cumulative_datasets": 1, "cumulative_patients": 500,
    }  # fmt: skip
    assert growth[1]["datasets"] == 0 and growth[1]["cumulative_patients"] == 500
    assert growth[3]["datasets"] == 2 and growth[3]["patients"] == 300
    assert growth[3]["cumulative_datasets"] == 3 and growth[3]["cumulative_patients"] == 800


def test_share_of_variables_mapped_counts_only_the_variables_own_mappings(client, catalogue):
    variables = client.get("/api/v1/stats").json["variables"]
    # published: npm1, flt3, free_text (AML) and hb, site (MDS); the draft's x is not counted
    assert variables == {"variables": 5, "mapped": 3, "share": 0.6}


def test_the_csv_has_every_cell_of_the_json(client, catalogue):
    response = client.get("/api/v1/stats.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    by_key = {(r["breakdown"], r["value"]): r for r in table}
    assert by_key[("total", "")]["patients"] == "800"
    assert by_key[("disease", MYELOID)]["patients"] == "800"
    assert by_key[("country", "NL")]["datasets"] == "2"
    assert by_key[("month", "2025-02")]["cumulative_patients"] == "800"
    assert by_key[("variables", "mapped")]["datasets"] == "3"
    body = client.get("/api/v1/stats").json
    assert len([r for r in table if r["breakdown"] == "disease"]) == len(body["by_disease"])


def test_the_dashboard_shows_charts_with_their_numbers(client, catalogue):
    page = client.get("/dashboard")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for chart in ("chart-goal", "chart-diseases", "chart-countries", "chart-source-types",
                  "chart-custodians", "chart-age-groups", "chart-growth-datasets",
                  "chart-growth-patients", "chart-variables"):  # fmt: skip
        assert f'id="{chart}"' in html
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
    assert 'role="img"' in html and "<script" not in html.split("<main")[1]
    assert "Netherlands" in html and "800 of 100,000 patients" in html
    assert "<details" in html and 'id="table-countries"' in html
    svg = client.get("/dashboard/charts/countries.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).count("<title") >= 1
    assert client.get("/dashboard/charts/nonsense.svg").status_code == 404


def test_an_empty_catalogue_has_an_empty_dashboard(client, vocabularies):
    body = client.get("/api/v1/stats").json
    assert body["datasets"] == 0 and body["patients"] == 0
    assert body["by_disease"] == [] and body["growth"] == []
    assert body["variables"] == {"variables": 0, "mapped": 0, "share": 0.0}
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "No published dataset yet" in page.get_data(as_text=True)
    assert client.get("/dashboard/charts/diseases.svg").status_code == 200
    assert client.get("/api/v1/stats.csv").status_code == 200


def test_stats_are_documented_with_counts_that_may_be_strings(client):
    spec = client.get("/api/v1/openapi.json").json
    schema = spec["components"]["schemas"]["Stats"]["properties"]["patients"]
    assert {"type": "string", "pattern": "^<[0-9]+$"} in schema["oneOf"]
    assert "/api/v1/stats.csv" in spec["paths"]


def test_a_published_versions_figures_are_counted_once_and_kept(app, client, catalogue):
    from catalogue.stats.models import VersionFigures

    first = client.get("/api/v1/stats").json["variables"]
    with app.app_context():
        kept = {f.version_id: (f.variables, f.mapped) for f in get_session().scalars(
            select(VersionFigures)
        )}  # fmt: skip
        assert sorted(kept.values()) == [(0, 0), (2, 1), (3, 2)]  # myeloma, MDS, AML
    assert client.get("/api/v1/stats").json["variables"] == first
    # a new version of the AML trial, published with one more mapped variable
    with app.app_context():
        version = datasets.new_version(SYSTEM, catalogue["ids"]["aml"], datasets.UNCHECKED)
        session = get_session()
        session.add(
            Variable(
                version_id=version.id, position=9, name="kt", label="Karyotype",
                value_type="text",
                mappings=[Mapping(object_curie="HV:0000088", status=MappingStatus.ACCEPTED)],
            )
        )  # fmt: skip
        session.commit()
        datasets.publish(SYSTEM, catalogue["ids"]["aml"], datasets.UNCHECKED)
    assert client.get("/api/v1/stats").json["variables"] == {
        "variables": 6, "mapped": 4, "share": round(4 / 6, 4),
    }  # fmt: skip
