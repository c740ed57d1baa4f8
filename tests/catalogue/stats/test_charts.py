"""The dashboard's charts as a reader sees them: every text inside the drawing (no "022-03"
with the year's first digit cut off), no two rows whose visible labels read alike (the full
label in the row's tooltip), the drawing filling its card (``width="100%"`` over the viewBox,
not a fixed 760 px), and axes with ticks and numbers under the bars and beside the columns.

The server cannot measure text, and neither can this test: a text's width is estimated at 0.6
em per character, which is more than any common sans-serif needs."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET  # the type; parsing goes through defusedxml
from dataclasses import dataclass

import pytest
from defusedxml.ElementTree import fromstring
from sqlalchemy import select

from catalogue.models import Dataset
from catalogue.stats import charts
from catalogue.stats.charts import Axis, Bar, Column
from core.db import get_session
from tests.conftest import shared_world

SVG = "{http://www.w3.org/2000/svg}"
EM = 0.6
DASHBOARD_CHARTS = (
    "goal", "diseases", "countries", "source-types", "custodians", "age-groups",
    "growth-datasets", "growth-patients", "variables",
)  # fmt: skip
BAR_CHARTS = ("diseases", "countries", "source-types", "custodians", "age-groups")
MDS_RS_MLD = "NCIT:C27726"  # Myelodysplastic Syndrome with Ring Sideroblasts and Multilineage …
MDS_RS_SLD = "NCIT:C130037"  # … and Single Lineage Dysplasia: the first 52 characters alike
BALL_BCR_ABL = "NCIT:C80331"  # B Lymphoblastic Leukemia/Lymphoma with t(9;22)(q34.1;q11.2) …
BALL_ETV6 = "NCIT:C80334"  # B Lymphoblastic Leukemia/Lymphoma with t(12;21)(p13.2;q22.1) …
CLL_SLL = "NCIT:C27911"


# --- reading an SVG as a person would -------------------------------------------------------


@dataclass
class Line:
    """One line of text as drawn: where it starts and ends, its baseline and its size."""

    text: str
    left: float
    right: float
    baseline: float
    size: float


def _size(element: ET.Element, inherited: float) -> float:
    return float(element.get("font-size", inherited))


def text_lines(svg: str) -> tuple[tuple[float, float], list[Line]]:
    """The drawing's size (from its viewBox) and every line of text in it, with its estimated
    box: ``<tspan x=…>`` children are lines of their own, other tspans run on in their line."""
    root = fromstring(svg)
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    lines: list[Line] = []
    root_size = _size(root, 16)

    def runs(element: ET.Element, size: float) -> list[tuple[str, float]]:
        out = [(element.text or "", size)]
        for child in element:
            out.extend(runs(child, _size(child, size)))
            out.append((child.tail or "", size))
        return out

    def place(element: ET.Element, x: float, y: float, anchor: str, size: float) -> None:
        parts = runs(element, size)
        text = "".join(t for t, _ in parts)
        extent = sum(len(t) * EM * s for t, s in parts)
        left = {"start": x, "middle": x - extent / 2, "end": x - extent}[anchor]
        lines.append(Line(text, left, left + extent, y, size))

    def walk(element: ET.Element, size: float, anchor: str) -> None:
        size = _size(element, size)
        anchor = element.get("text-anchor", anchor)
        if element.tag == f"{SVG}text":
            x, y = float(element.get("x", 0)), float(element.get("y", 0))
            line_spans = [c for c in element if c.tag == f"{SVG}tspan" and c.get("x")]
            if not line_spans:
                place(element, x, y, anchor, size)
                return
            for span in line_spans:
                y += float(span.get("dy", 0))
                place(span, float(span.get("x", x)), y, anchor, _size(span, size))
            return
        for child in element:
            walk(child, size, anchor)

    walk(root, root_size, "start")
    return (width, height), lines


def outside(svg: str) -> list[str]:
    """The texts whose estimated box is not inside the drawing."""
    (width, height), lines = text_lines(svg)
    return [
        f"{line.text!r} spans x {line.left:.0f} to {line.right:.0f}, baseline "
        f"{line.baseline:.0f} (drawing {width:.0f} by {height:.0f})"
        for line in lines
        if line.left < 0
        or line.right > width
        or line.baseline - line.size * 0.8 < 0
        or line.baseline + line.size * 0.25 > height
    ]


def row_labels(svg: str) -> list[tuple[str, str]]:
    """(the visible label, the full label of its tooltip) of each row of a bar chart."""
    root = fromstring(svg)
    rows = []
    for group in root.iter(f"{SVG}g"):
        tooltip = group.find(f"{SVG}title")
        label = group.find(f"{SVG}text[@class='label']")
        if tooltip is not None and label is not None:
            spans = list(label)
            visible = " ".join(s.text or "" for s in spans) if spans else label.text or ""
            rows.append((visible, (tooltip.text or "").rsplit(": ", 1)[0]))
    return rows


def tick_labels(svg: str, axis_class: str) -> list[str]:
    root = fromstring(svg)
    for group in root.iter(f"{SVG}g"):
        if axis_class in (group.get("class") or "").split():
            return [t.text or "" for t in group.iter(f"{SVG}text") if t.get("class") == "tick"]
    return []


def has_axis_line(svg: str, axis_class: str) -> bool:
    root = fromstring(svg)
    return any(
        axis_class in (g.get("class") or "").split() and g.find(f"{SVG}line") is not None
        for g in root.iter(f"{SVG}g")
    )


# --- the dashboard on a world made to break the old drawing ---------------------------------


@pytest.fixture(scope="module")
def world(app, reference_engine):
    """Diseases whose labels begin alike for 30 to 50 characters, a custodian with a long name,
    and datasets first published from March 2022 (so the time axis starts mid-year)."""
    with shared_world(app, reference_engine) as make:
        long_name = make.organisation(
            name="Fundación Instituto de Estudios de Ciencias de la Salud de Castilla y León"
        )
        other = make.organisation(name="Leiden Trials")
        made = [
            make.dataset(long_name, publish=True, diseases=[MDS_RS_MLD], patients=1200),
            make.dataset(other, publish=True, diseases=[MDS_RS_SLD], patients=830),
            make.dataset(other, publish=True, diseases=[BALL_BCR_ABL], patients=310),
            make.dataset(long_name, publish=True, diseases=[BALL_ETV6], patients=95),
            make.dataset(
                other,
                publish=True,
                diseases=[CLL_SLL],
                patients=14_500,
                variables=[{"name": "hb", "mappings": ["HV:0000045"]}, {"name": "site"}],
            ),
        ]
        with app.app_context():
            session = get_session()
            for n, identifier in enumerate(made):
                dataset = session.scalar(select(Dataset).where(Dataset.identifier == identifier))
                month = 2 + 7 * n  # 2022-03, 2022-10, 2023-05 …
                dataset.published_at = dt.datetime(
                    2022 + month // 12, month % 12 + 1, 15, tzinfo=dt.UTC
                )
            session.commit()
        yield made


@pytest.fixture(scope="module")
def drawn(app, world) -> dict[str, str]:
    client = app.test_client()
    return {
        name: client.get(f"/dashboard/charts/{name}.svg").get_data(as_text=True)
        for name in DASHBOARD_CHARTS
    }


@pytest.mark.parametrize("name", DASHBOARD_CHARTS)
def test_every_text_of_a_dashboard_chart_is_inside_its_drawing(drawn, name):
    assert outside(drawn[name]) == []


def test_the_time_axis_shows_whole_months_from_the_first_one(drawn):
    labels = tick_labels(drawn["growth-datasets"], "axis-time")
    assert labels[0] == "2022-03"  # not "022-03"
    assert {"2023-01", "2024-01"} <= set(labels)
    assert all(re.fullmatch(r"\d{4}-\d{2}", label) for label in labels)


@pytest.mark.parametrize("name", BAR_CHARTS)
def test_no_two_rows_of_a_bar_chart_read_alike(drawn, name):
    rows = row_labels(drawn[name])
    visible = [v for v, _ in rows]
    assert rows and len(set(visible)) == len(visible), visible


def test_long_disease_labels_wrap_and_keep_what_tells_them_apart(drawn):
    rows = {full: visible for visible, full in row_labels(drawn["diseases"])}
    mld = rows["Myelodysplastic Syndrome with Ring Sideroblasts and Multilineage Dysplasia"]
    sld = rows["Myelodysplastic Syndrome with Ring Sideroblasts and Single Lineage Dysplasia"]
    assert "Multilineage" in mld and "Single Lineage" in sld
    custodians = [full for _, full in row_labels(drawn["custodians"])]
    assert "Fundación Instituto de Estudios de Ciencias de la Salud de Castilla y León" in (
        custodians
    )  # the full name is the row's tooltip


@pytest.mark.parametrize("name", DASHBOARD_CHARTS)
def test_a_chart_fills_its_card_and_keeps_its_proportions(drawn, name):
    root = fromstring(drawn[name])
    assert root.get("width") == "100%" and root.get("height") is None
    assert float(root.get("viewBox", "").split()[2]) >= 1000  # a card's width at 1366 px


@pytest.mark.parametrize("name", BAR_CHARTS)
def test_bars_stand_on_an_axis_of_patients_with_ticks(drawn, name):
    ticks = tick_labels(drawn[name], "axis-x")
    assert ticks[0] == "0" and len(ticks) >= 2
    numbers = [int(t.replace(",", "")) for t in ticks]
    assert numbers == sorted(numbers)
    assert has_axis_line(drawn[name], "axis-x")
    assert ">Patients</text>" in drawn[name]


@pytest.mark.parametrize("name", ["growth-datasets", "growth-patients"])
def test_columns_have_a_value_axis_and_a_time_axis(drawn, name):
    values = tick_labels(drawn[name], "axis-y")
    assert values[0] == "0" and len(values) >= 3
    assert has_axis_line(drawn[name], "axis-y") and tick_labels(drawn[name], "axis-time")
    assert "Month of first publication" in drawn[name]


def test_the_goal_has_a_scale_up_to_the_goal(drawn):
    assert tick_labels(drawn["goal"], "axis-x") == ["0", "25,000", "50,000", "75,000", "100,000"]


def test_the_share_of_mapped_variables_has_a_scale_of_percentages(app, world):
    with app.test_request_context("/"):
        from catalogue.stats import services
        from core.policies import SYSTEM

        stats = services.alliance_stats(SYSTEM)
        svg = str(charts.dashboard_charts(stats)["variables"])
    assert stats.variables.variables == 2
    assert tick_labels(svg, "axis-x") == ["0%", "25%", "50%", "75%", "100%"]
    assert outside(svg) == []


def test_the_dashboard_tables_link_each_custodian_to_its_publisher_page(app, world):
    html = app.test_client().get("/dashboard").get_data(as_text=True)
    table = html[html.index('id="table-custodians"') :]
    table = table[: table.index("</table>")]
    links = re.findall(
        r'<a class="publisher-link" href="/organisations/([^"]+)">([^<]+)</a>', table
    )
    assert {name for _, name in links} == {
        "Fundación Instituto de Estudios de Ciencias de la Salud de Castilla y León",
        "Leiden Trials",
    }
    for organisation_id, _ in links:
        assert app.test_client().get(f"/organisations/{organisation_id}").status_code == 200


def test_the_dashboard_counts_in_words_agree_in_number(app, world):
    html = app.test_client().get("/dashboard").get_data(as_text=True)
    assert "The numbers (2 organisations)" in html
    assert re.search(r"The numbers \(\d+ months\)", html)
    assert "1 datasets" not in html


# --- the drawing functions themselves -------------------------------------------------------


def test_labels_that_begin_alike_for_longer_than_the_column_stay_apart():
    stem = "Acute Myeloid Leukemia with Recurrent Genetic Abnormalities and " * 2
    bars = [
        Bar(f"{stem}Variant {n}", str(10 * n), 10 * n, indent=n % 3, key=f"X:{n}")
        for n in range(1, 5)
    ] + [Bar("Same label", "5", 5, key="A:1"), Bar("Same label", "6", 6, key="A:2")]
    svg = str(charts.bar_chart("c", "t", "d", bars))
    visible = [v for v, _ in row_labels(svg)]
    assert len(set(visible)) == len(visible), visible
    assert outside(svg) == []
    assert any("A:1" in v for v in visible) and any("A:2" in v for v in visible)


def test_a_short_time_axis_and_a_single_column_stay_inside():
    for months in (["2025-12"], ["2024-11", "2024-12", "2025-01"]):
        columns = [Column(m, f"{i + 1:,}", i + 1) for i, m in enumerate(months)]
        svg = str(charts.column_chart("c", "t", "d", columns, axis=Axis("Datasets")))
        assert outside(svg) == []
        assert tick_labels(svg, "axis-time") == months


def test_bars_whose_values_are_not_their_lengths_get_no_invented_numbers():
    """The committee dashboard's days per stage are drawn in tenths of a day: without an
    axis saying so, the axis has its baseline and no (wrong) numbers; with one, days."""
    bars = [Bar("Submitted → decision", "4.5 days", 45), Bar("Returned", "12 days", 120)]
    assert tick_labels(str(charts.bar_chart("c", "t", "d", bars)), "axis-x") == []
    days = str(charts.bar_chart("c", "t", "d", bars, axis=Axis("Days", scale=0.1)))
    assert tick_labels(days, "axis-x")[:3] == ["0", "2", "4"]
    assert outside(days) == []


def test_nothing_to_show_is_said_inside_the_drawing():
    for svg in (
        str(charts.bar_chart("c", "t", "d", [])),
        str(charts.column_chart("c", "t", "d", [])),
    ):
        assert "Nothing to show yet." in svg and outside(svg) == []
