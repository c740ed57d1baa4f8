"""The small-cell rule, end to end: a dataset of 7 patients is the only one of its disease,
country, source type, age group, custodian and month. No path — the stats API, its CSV, the
dashboard page and its SVG charts, feasibility (API and page) — gives anyone but an
administrator the figure 7; the charts draw it no differently from any other small figure;
administrators see it. The dataset's own declared count is its custodian's statement and is
shown as given."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from catalogue.datasets import services as datasets
from catalogue.models import Dataset, DatasetVersion
from catalogue.standards import services as standard_sets
from core.db import get_session
from core.models import Role
from core.policies import SYSTEM
from tests.conftest import login

HODGKIN = "NCIT:C9357"  # only the small dataset has it
CALLERS = ("anonymous", "researcher", "custodian", "admin")
PATIENT_KEYS = {"patients", "cumulative_patients", "complete_patients"}


@pytest.fixture
def world(app, make, vocabularies):
    small_org = make.organisation(name="Tiny Lymphoma Biobank")
    big_org = make.organisation(name="Big AML Group")
    small = make.dataset(
        small_org, publish=True, title="Tiny Hodgkin biobank", diseases=[HODGKIN], patients=7,
        countries=["LU"], age_groups=["paediatric"], source_type="biobank",
        variables=[{"name": "alb", "mappings": ["HV:0000057"]}],
    )  # fmt: skip
    make.dataset(
        big_org, publish=True, title="Big AML trial", diseases=["NCIT:C3171"], patients=512,
        countries=["DE"], age_groups=["adult"], source_type="clinical_trial",
    )  # fmt: skip
    with app.app_context():
        session = get_session()
        dataset = session.scalar(select(Dataset).where(Dataset.identifier == small))
        dataset.published_at = dt.datetime(2023, 1, 10, tzinfo=dt.UTC)  # alone in its month
        session.commit()
        standard_sets.create_set(
            SYSTEM, {"identifier": "albumin-only", "name": "Albumin", "version": "1",
                     "terms": [{"curie": "HV:0000057"}]},
        )  # fmt: skip
    users = {
        "researcher": make.user(Role.RESEARCHER),
        "custodian": make.user(Role.CUSTODIAN, organisation=small_org),  # of the 7 patients
        "admin": make.user(Role.ADMIN),
    }
    return {"small": small, "users": users}


def client_for(app, world, caller):
    client = app.test_client()
    if caller != "anonymous":
        assert login(client, world["users"][caller].email).status_code == 302
    return client


def computed_counts(value, path=""):
    """Every computed patient figure in a JSON body, with where it is."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in PATIENT_KEYS and not isinstance(inner, dict | list):
                if not path.endswith(".dataset"):  # a dataset's declared count is not computed
                    yield f"{path}.{key}", inner
            else:
                yield from computed_counts(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from computed_counts(inner, f"{path}[{i}]")


def small_cells(body):
    """The cells that hold the small dataset alone."""

    def row(key, value):
        return next(r for r in body[key] if r["value"] == value)

    custodian = next(r for r in body["by_custodian"] if r["label"] == "Tiny Lymphoma Biobank")
    month = next(m for m in body["growth"] if m["month"] == "2023-01")
    return [
        row("by_disease", HODGKIN)["patients"],
        row("by_country", "LU")["patients"],
        row("by_source_type", "biobank")["patients"],
        row("by_age_group", "paediatric")["patients"],
        custodian["patients"],
        month["patients"],
        month["cumulative_patients"],
    ]


@pytest.mark.parametrize("caller", CALLERS)
def test_no_path_gives_the_exact_small_figure_except_to_admins(app, world, caller):
    client = client_for(app, world, caller)
    exact = caller == "admin"
    expected = 7 if exact else "<10"

    # the stats API
    body = client.get("/api/v1/stats").json
    assert small_cells(body) == [expected] * 7
    if not exact:
        assert [where for where, n in computed_counts(body) if n == 7] == []
        assert all(n == "<10" or n == 0 or n >= 10 for _, n in computed_counts(body))

    # the CSV export
    text = client.get("/api/v1/stats.csv").get_data(as_text=True).lstrip("\ufeff")
    table = list(csv.DictReader(io.StringIO(text)))
    lux = next(r for r in table if r["breakdown"] == "country" and r["value"] == "LU")
    assert lux["patients"] == str(expected)
    if not exact:
        figures = [r[k] for r in table for k in ("patients", "cumulative_patients")]
        assert "7" not in figures

    # the dashboard page: the table rows and the charts
    html = client.get("/dashboard").get_data(as_text=True)
    cell = re.search(
        r">Luxembourg</th>\s*<td class=\"num\">1</td>\s*<td class=\"num\">([^<]+)</td>", html
    )
    assert cell is not None and cell.group(1) == ("7" if exact else "&lt;10")
    svg = client.get("/dashboard/charts/countries.svg").get_data(as_text=True)
    lux_bar = re.search(r"<g><title>Luxembourg: ([^<]+)</title>.*?</g>", svg)
    assert lux_bar is not None and lux_bar.group(1).startswith("7" if exact else "&lt;10")
    if not exact:
        for page in (html, svg):
            assert not re.search(r"Luxembourg: 7\b|>7<|>7 ", page)

    # feasibility: only the small dataset covers "albumin-only"
    feasibility = client.get("/api/v1/standard-sets/albumin-only/feasibility").json
    assert feasibility["complete_patients"] == expected
    # its own declared count is the custodian's statement: shown as given to everyone
    assert feasibility["items"][0]["dataset"]["patients"] == 7
    page = client.get("/standard-sets/albumin-only/feasibility").get_data(as_text=True)
    figure = re.search(r'id="complete-patients">([^<]+)<', page)
    assert figure is not None and figure.group(1) == ("7" if exact else "&lt;10")


def bar_of(svg: str, label: str) -> str:
    match = re.search(rf"<g><title>{label}: [^<]+</title>(.*?)</g>", svg)
    assert match is not None, label
    return match.group(1)


@pytest.mark.parametrize("caller", ["anonymous", "custodian"])
def test_a_hidden_bar_is_drawn_the_same_whatever_the_figure(app, world, caller):
    """7 patients or 3: the same bar, the same label, in every chart that shows the cell."""
    client = client_for(app, world, caller)

    def drawn():
        charts = {}
        for name, label in (("countries", "Luxembourg"), ("source-types", "Biobank"),
                            ("age-groups", "Paediatric"), ("diseases", "Hodgkin Lymphoma")):  # fmt: skip
            svg = client.get(f"/dashboard/charts/{name}.svg").get_data(as_text=True)
            charts[name] = bar_of(svg, label)
        return charts

    seven = drawn()
    with app.app_context():
        session = get_session()
        version = session.scalar(
            select(DatasetVersion).join(Dataset).where(Dataset.identifier == world["small"])
        )
        version.patients = 3
        datasets.record_change(SYSTEM, version.dataset, None, "updated", "Patients corrected.")
        session.commit()
    three = drawn()
    with app.test_request_context("/"):
        from catalogue.stats import services as stats

        exact = stats.alliance_stats(SYSTEM)  # the figures did change: 3 now, not 7
        assert next(r for r in exact.countries if r.value == "LU").patients.value == 3
    assert seven == three
    assert all("hatch" in bar and "&lt;10" in bar for bar in seven.values())


def test_the_threshold_is_configurable(app, world):
    client = app.test_client()
    app.config["SMALL_CELL_THRESHOLD"] = 5
    try:
        body = client.get("/api/v1/stats").json
        assert small_cells(body)[1] == 7  # 7 is not below 5
        assert body["small_cell_threshold"] == 5
    finally:
        app.config["SMALL_CELL_THRESHOLD"] = 10


@pytest.mark.parametrize(("threshold", "shown"), [(7, 7), (8, "<8")])
def test_a_count_at_the_threshold_is_shown_and_one_below_is_not(app, world, threshold, shown):
    """ "Below the threshold" is hidden: 7 patients under a threshold of 7 are shown as 7, under
    a threshold of 8 as "<8", in the stats API, its CSV and feasibility."""
    client = app.test_client()
    app.config["SMALL_CELL_THRESHOLD"] = threshold
    try:
        body = client.get("/api/v1/stats").json
        assert small_cells(body) == [shown] * 7
        text = client.get("/api/v1/stats.csv").get_data(as_text=True).lstrip("\ufeff")
        table = list(csv.DictReader(io.StringIO(text)))
        lux_row = next(r for r in table if r["breakdown"] == "country" and r["value"] == "LU")
        assert lux_row["patients"] == str(shown)
        feasibility = client.get("/api/v1/standard-sets/albumin-only/feasibility").json
        assert feasibility["complete_patients"] == shown
    finally:
        app.config["SMALL_CELL_THRESHOLD"] = 10


def test_the_rule_hides_from_one_to_one_below_the_threshold():
    from catalogue.stats.counts import CountRule

    public, admin = CountRule(threshold=10, exact=False), CountRule(threshold=10, exact=True)
    assert [public.count(n).value for n in (None, 0, 1, 9, 10, 11)] == [0, 0, "<10", "<10", 10, 11]
    assert [public.count(n).bar for n in (0, 1, 9, 10)] == [0, 10, 10, 10]
    assert [admin.count(n).value for n in (0, 1, 9, 10)] == [0, 1, 9, 10]
    assert [public.share(n, 100) for n in (0, 9, 10)] == [0.0, None, 0.1]
    assert admin.share(9, 100) == 0.09 and public.share(10, 0) is None
    assert admin.share(1, 1) == 1.0 and admin.share(0, 1) == 0.0
