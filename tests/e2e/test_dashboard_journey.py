"""The alliance dashboard in a real browser, on the whole demo, at 1366 px: each chart as wide
as its card, every text of every chart inside its drawing as Chromium lays it out (the time
axis used to read "022-03"), the disease rows telling themselves apart, axes under the bars;
the custodians' table leads to the publisher pages. The committee's dashboard draws its charts
the same way."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    SCREENSHOTS,
    LiveServer,
    WholeDemo,
    page_width,
    serve_whole_demo,
)

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1366, "height": 768}

#: every <text> of every chart whose box Chromium drew outside its <svg>
TEXTS_OUTSIDE = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const frame = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll('text')) {
      const r = text.getBoundingClientRect();
      if (r.left < frame.left - 0.5 || r.right > frame.right + 0.5 ||
          r.top < frame.top - 0.5 || r.bottom > frame.bottom + 0.5) {
        out.push(svg.id + ': ' + text.textContent);
      }
    }
  }
  return out;
}"""

#: each chart's width against the width its figure offers
CHART_WIDTHS = """() => [...document.querySelectorAll('figure.chart-figure')].map((figure) => {
  const svg = figure.querySelector('svg.chart');
  return {id: svg.id, chart: svg.getBoundingClientRect().width, room: figure.clientWidth};
})"""


@pytest.fixture(scope="module")
def live_server(whole_demo: WholeDemo) -> Iterator[LiveServer]:
    """This journey's own server on a copy of the whole demo."""
    with serve_whole_demo(whole_demo, "dashboard") as server:
        yield server


@pytest.fixture
def laptop(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(
        base_url=live_server.url, viewport=LAPTOP, locale="en-GB"
    )
    context.set_default_timeout(5_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def assert_charts_drawn_well(page: Page) -> None:
    assert page.evaluate(TEXTS_OUTSIDE) == []
    for chart in page.evaluate(CHART_WIDTHS):
        assert chart["chart"] >= chart["room"] - 2, chart  # the whole card, not 60 % of it
    assert page_width(page) <= LAPTOP["width"]


def test_the_dashboard_draws_its_charts_across_the_card(laptop: Page) -> None:
    page = laptop
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The alliance in numbers")
    assert_charts_drawn_well(page)

    # the disease rows: one visible label each, the full name in its tooltip
    diseases = page.locator("#chart-diseases")
    labels = diseases.locator("text.label").all_text_contents()
    assert len(labels) > 10 and len(set(labels)) == len(labels)
    expect(diseases.locator("g.axis-x text.tick").first).to_have_text("0")
    expect(diseases.get_by_text("Patients", exact=True)).to_have_count(1)
    page.locator("#diseases-h").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-01-diseases.png"))

    # the time axis starts with a whole month
    first_month = page.locator("#chart-growth-datasets g.axis-time text.tick").first
    expect(first_month).to_have_text(re.compile(r"^\d{4}-\d{2}$"))
    page.locator("#growth-h").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-02-growth.png"))
    page.screenshot(path=str(SCREENSHOTS / "dashboard-00-whole.png"), full_page=True)
    assert_accessible(page)

    # the custodians' numbers lead to each publisher's page
    section = page.locator("section[aria-labelledby=custodians-h]")
    section.locator("summary").click()
    link = section.locator("#table-custodians a.publisher-link").first
    name = link.inner_text()
    link.click()
    expect(page).to_have_url(re.compile(r"/organisations/[^/]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def test_the_committee_dashboard_draws_its_charts_the_same_way(laptop: Page) -> None:
    page = laptop
    page.goto("/login")
    page.get_by_label("Email address").fill("dac-chair@demo.harmony.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto("/review/dashboard")
    assert_charts_drawn_well(page)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-03-committee.png"), full_page=True)
    assert_accessible(page)
