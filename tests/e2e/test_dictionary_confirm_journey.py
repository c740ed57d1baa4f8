"""A custodian re-uploads a dictionary that drops variables, in a real browser, on the whole demo:
the page lists what would go (variables, mappings, counts) and changes nothing until the
custodian confirms; confirming imports the kept file; a confirmation after someone changed the
dataset is refused in words. And a published demo dataset's page tells one story of dates
(Published, Last changed, the history and the versions agree). Axe checks each page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from catalogue.datasets import services as datasets
from core.policies import SYSTEM
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    SCREENSHOTS,
    LiveServer,
    Session,
    WholeDemo,
    fits,
    serve_whole_demo,
)

pytestmark = pytest.mark.e2e

DRAFT = "allo-hct-outcomes-rotterdam"  # the demo custodian's draft, with a mapped dictionary
CUSTODIAN_EMAIL = "custodian@demo.harmony.example"
WIDE = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def live_server(
    whole_demo: WholeDemo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """This journey's own server on a copy of the whole demo; held uploads in a folder of its
    own."""
    held = tmp_path_factory.mktemp("e2e-confirm") / "held"
    settings = {"DICTIONARY_PENDING_DIR": str(held)}
    with serve_whole_demo(whole_demo, "confirm", settings=settings) as server:
        yield server


def log_in(web: Session) -> None:
    page = web.page
    page.goto("/login")
    page.get_by_label("Email address").fill(CUSTODIAN_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def without(web: Session, tmp_path: Path, count: int, name: str) -> tuple[Path, list[str]]:
    """The draft's dictionary as the custodian downloads it, less its first ``count`` mapped
    variables: the file to upload, and the names left out."""
    response = web.page.request.get(f"/api/v1/datasets/{DRAFT}/dictionary.csv")
    assert response.ok
    rows = list(csv.DictReader(io.StringIO(response.text().lstrip("\ufeff"))))
    mapped = [r["name"] for r in rows if r.get("term")]
    gone = mapped[:count]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(r for r in rows if r["name"] not in gone)
    path = tmp_path / name
    path.write_text(out.getvalue(), encoding="utf-8")
    return path, gone


def test_an_upload_that_drops_variables_asks_first(
    web: Session, live_server: LiveServer, tmp_path: Path
) -> None:
    page = web.page
    page.set_viewport_size(WIDE)
    web.log.allow_status(409)  # the page that asks answers 409 (nothing imported yet)
    web.log.allow_status(412)  # the stale confirmation
    log_in(web)
    page.goto(f"/datasets/{DRAFT}/dictionary")
    before = page.locator(".lead-small").inner_text()
    variables_before = int(re.search(r"has ([\d,]+) variables", before).group(1))  # type: ignore[union-attr]

    # The file leaves out two mapped variables: the page lists them and what goes with them.
    path, gone = without(web, tmp_path, 2, "allo-hct-dictionary.csv")
    page.get_by_label("Dictionary file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and import").click()
    confirm = page.locator("#confirm")
    heading = confirm.get_by_role("heading", level=2)
    expect(heading).to_have_text(
        re.compile(
            r"^Confirm: allo-hct-dictionary\.csv would delete 2 variables and \d+ mappings?$"
        )
    )
    expect(confirm).to_contain_text("Nothing has been imported yet.")
    removed = confirm.locator("table").first.locator("tbody tr")
    expect(removed).to_have_count(2)
    for name in gone:
        expect(removed.filter(has_text=name)).to_have_count(1)
    expect(confirm.get_by_role("heading", name="2 variables that would be removed")).to_be_visible()
    expect(
        confirm.get_by_role("heading", name=re.compile(r"^\d+ mappings? that would be dropped$"))
    ).to_be_visible()
    assert fits(page)
    web.shot("what the file would delete")
    assert_accessible(page)
    # nothing changed yet: the dataset's page still has every variable
    page.goto(f"/datasets/{DRAFT}/dictionary")
    expect(page.locator(".lead-small")).to_contain_text(f"has {variables_before:,} variables")
    expect(page.locator("#confirm")).to_be_visible()  # the question waits for an answer

    # Confirming (by keyboard) imports the kept file without choosing it again.
    button = page.get_by_role("button", name="Delete them and import allo-hct-dictionary.csv")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Imported allo-hct-dictionary.csv")).to_be_visible()
    report = page.locator("#report")
    expect(report).to_contain_text("Removed: " + ", ".join(gone) + ".")
    expect(page.locator(".lead-small")).to_contain_text(f"has {variables_before - 2:,} variables")
    expect(page.locator("#confirm")).to_have_count(0)
    assert fits(page)
    web.shot("imported after the confirmation")
    assert_accessible(page)

    # Another such file, but the dataset changes before the answer: refused, in words.
    path, _ = without(web, tmp_path, 1, "allo-hct-dictionary-2.csv")
    page.get_by_label("Dictionary file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and import").click()
    expect(page.locator("#confirm")).to_be_visible()
    with live_server.app.app_context():  # a colleague edits the draft meanwhile
        datasets.update_dataset(
            SYSTEM, DRAFT, {"keywords": ["transplant outcomes"]}, datasets.UNCHECKED
        )
    page.get_by_role("button", name=re.compile(r"^Delete them and import")).click()
    alert = page.get_by_role("alert").filter(has_text="The dataset changed after you uploaded")
    expect(alert).to_contain_text("Nothing was imported: upload the file again")
    expect(page.locator(".lead-small")).to_contain_text(f"has {variables_before - 2:,} variables")
    web.shot("a stale confirmation is refused")
    assert_accessible(page)


def test_a_demo_dataset_page_tells_one_story_of_dates(web: Session) -> None:
    page = web.page
    page.set_viewport_size(WIDE)
    page.goto("/datasets/aml-ic-2016")
    facts = page.locator("dl.facts")
    expect(facts.locator("dt:text-is('Published') + dd")).to_have_text("2024-05-28 10:00 UTC")
    expect(facts.locator("dt:text-is('Last changed') + dd")).to_have_text("2024-05-28 10:00 UTC")
    versions = page.locator("table.versions-table tbody tr")
    expect(versions.nth(0)).to_contain_text("2024-05-28")
    expect(versions.nth(1)).to_contain_text("2022-10-04")
    history = page.locator("ol.history > li")
    first = history.filter(has_text="Published version 1.")
    expect(first.locator("time")).to_have_text("2022-10-04 10:00 UTC")
    second = history.filter(has_text="Published version 2")
    expect(second.locator("time")).to_have_text("2024-05-28 10:00 UTC")
    assert fits(page)
    web.shot("the dates of a demo dataset")
    # the parts that carry the dates, at a size a person reads
    page.locator("section[aria-labelledby=facts-h]").screenshot(
        path=str(SCREENSHOTS / f"{web.name}-facts.png")
    )
    page.locator("section[aria-labelledby=history-h]").screenshot(
        path=str(SCREENSHOTS / f"{web.name}-history.png")
    )
    assert_accessible(page)
