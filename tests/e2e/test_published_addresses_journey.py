"""The published addresses, in a real browser, on the whole demo served where its ``BASE_URL``
says: the harvesters' page lists them; the FAIR Data Point's container of catalogues, opened in
a browser, lands on that page; an address the SSSOM export names (a permissible value of a
variable) opens the variable's page at its values, and the same address gives a linked-data
client Turtle. Axe checks the harvesters' page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, Session, WholeDemo, fits, serve_whole_demo

pytestmark = pytest.mark.e2e

WIDE = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def live_server(whole_demo: WholeDemo) -> Iterator[LiveServer]:
    """This journey's own server on a copy of the whole demo, its BASE_URL the address it
    serves on (as ``make run`` arranges), so that every published address can be followed."""
    with serve_whole_demo(whole_demo, "iris") as server:
        server.app.config["BASE_URL"] = server.url  # before the browser's first request
        yield server


def test_published_addresses_lead_people_to_pages_and_machines_to_rdf(web: Session) -> None:
    page = web.page
    page.set_viewport_size(WIDE)
    base = web.base_url

    # The harvesters' page says where every address starts and which kinds answer.
    page.goto("/catalogue")
    expect(page.get_by_role("heading", level=1)).to_have_text("The catalogue as linked data")
    every = page.locator("section[aria-labelledby=more-h]")
    expect(every.get_by_role("heading", name="Every address answers")).to_be_visible()
    expect(every).to_contain_text(f"starts with {base}")
    expect(every.get_by_role("link", name=f"{base}/fdp/catalogs")).to_be_visible()
    for kind in ("/variables/{name}", "/organisations/{id}", "/api/v1/mappings.sssom.tsv"):
        expect(every).to_contain_text(kind)
    assert fits(page)
    web.shot("the harvesters page")
    assert_accessible(page)

    # The FDP's container of catalogues, opened by a person: the catalogue's page.
    page.goto("/fdp/catalogs")
    expect(page).to_have_url(f"{base}/catalogue")
    container = page.request.get("/fdp/catalogs", headers={"Accept": "text/turtle"})
    assert container.ok and container.headers["content-type"].startswith("text/turtle")
    assert f"<{base}/catalogue>" in container.text()

    # An address from the SSSOM export: a permissible value of a variable.
    export = page.request.get("/api/v1/mappings.sssom.tsv").text()
    lines = export.splitlines()
    curies = dict(
        re.findall(r"^#\s+(\w+): (\S+)$", "\n".join(x for x in lines if x.startswith("#")), re.M)
    )
    rows = csv.DictReader(io.StringIO("\n".join(x for x in lines if not x.startswith("#"))), delimiter="\t")  # fmt: skip
    value = next(r for r in rows if "/values/" in r["subject_id"])
    prefix, _, local = value["subject_id"].partition(":")
    address = curies[prefix] + local
    assert address.startswith(f"{base}/datasets/")
    name = local.split("/variables/")[1].split("/values/")[0]
    page.goto(address)
    expect(page).to_have_url(re.compile(rf"/variables/{re.escape(name)}#values$"))
    expect(page.locator("#values")).to_be_visible()
    expect(page.locator("#values")).to_contain_text(value["subject_label"].split(" = ")[-1])
    assert fits(page)
    web.shot("a value's address opens its variable")

    # The same address, asked by a linked-data client: the value, with its mapping.
    rdf = page.request.get(address, headers={"Accept": "text/turtle"})
    assert rdf.ok and rdf.headers["content-type"].startswith("text/turtle")
    body = rdf.text()
    assert f"<{address}>" in body and value["predicate_id"] in body
