"""The header on a 1366 by 768 laptop, for every role: two rows by design — the brand with the
user's own links, then the main menu — and neither wraps (an administrator's header used to
take four rows). What does not fit the menu's row is in "More", the administration pages are in
"Admin": native disclosures that open with the keyboard, and without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import DEMO_PASSWORD, SCREENSHOTS, LiveServer

pytestmark = pytest.mark.e2e

ROLES = ("anonymous", "researcher", "custodian", "dac-member", "dac-chair", "admin")
LAPTOP = {"width": 1366, "height": 768}
ROW = 60  # px: the most one row of the header may take (a link with its padding is ~38)

MEASURE = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
                        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                                height: r.height, text: el.textContent.trim()}; };
  const primary = document.querySelector('.nav-primary');
  return {
    header: box(document.querySelector('.site-header')),
    top: box(document.querySelector('.header-row')),
    nav: box(document.querySelector('.nav-row')),
    topItems: [...document.querySelectorAll('.header-row > *, .user-box > *')].map(box),
    navItems: [...document.querySelectorAll('.nav-primary > li, .nav-row > details > summary')]
      .map(box),
    lineBoxes: [...document.querySelectorAll('.nav-primary a, .nav-row > details > summary')]
      .map((el) => el.getClientRects().length),
    hiddenInRow: primary.scrollWidth - primary.clientWidth,
    pageWidth: document.documentElement.scrollWidth,
  };
}"""


def log_in(page: Page, role: str) -> None:
    if role == "anonymous":
        page.goto("/")
        return
    page.goto("/login")
    page.get_by_label("Email address").fill(f"{role}@demo.harmony.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto("/")


@pytest.fixture
def laptop(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, viewport=LAPTOP, locale="en-GB")
    context.set_default_timeout(5_000)
    try:
        yield context
    finally:
        context.close()


def assert_one_line(items: list[dict[str, Any]], row: dict[str, Any], what: str) -> None:
    assert items, f"nothing in the {what}"
    middles = {round((i["top"] + i["bottom"]) / 2) for i in items}
    assert max(middles) - min(middles) <= 2, f"the {what} wraps: {items}"
    for item in items:
        assert row["top"] - 1 <= item["top"] and item["bottom"] <= row["bottom"] + 1, item


@pytest.mark.parametrize("role", ROLES)
def test_the_header_is_two_rows_that_never_wrap(laptop: BrowserContext, role: str) -> None:
    page = laptop.new_page()
    log_in(page, role)
    got = page.evaluate(MEASURE)
    assert_one_line(got["topItems"], got["top"], "brand and user row")
    assert_one_line(got["navItems"], got["nav"], "menu row")
    assert got["top"]["height"] <= ROW and got["nav"]["height"] <= ROW
    assert got["header"]["height"] <= got["top"]["height"] + got["nav"]["height"] + 2
    assert set(got["lineBoxes"]) == {1}, "a menu entry breaks over two lines"
    assert got["hiddenInRow"] <= 1, "entries scrolled out of the menu's row"
    assert got["pageWidth"] <= LAPTOP["width"]
    right_edge = max(i["right"] for i in got["topItems"] + got["navItems"])
    assert right_edge <= LAPTOP["width"] - 16
    if role == "admin":
        expect(page.locator("details.nav-menu-admin > summary")).to_have_text("Admin")
    else:
        expect(page.locator("details.nav-menu-admin")).to_have_count(0)
    page.screenshot(
        path=str(SCREENSHOTS / f"header-{role}-1366.png"), clip={"x": 0, "y": 0, **LAPTOP}
    )
    assert_accessible(page)


def test_the_admin_menu_opens_and_is_followed_with_the_keyboard(laptop: BrowserContext) -> None:
    page = laptop.new_page()
    log_in(page, "admin")
    menu = page.locator("details.nav-menu-admin")
    expect(menu.get_by_role("link", name="Users")).to_be_hidden()
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    expect(menu.get_by_role("link", name="Users")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "header-admin-menu-open.png"))
    assert_accessible(page)
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Organisations")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/organisations$"))
    # where you are: the menu holding the current page says so
    expect(page.locator("details.nav-menu-admin > summary")).to_have_class("has-current")


def test_an_open_menu_closes_on_escape_on_a_click_outside_and_for_the_other_menu(
    laptop: BrowserContext,
) -> None:
    page = laptop.new_page()
    log_in(page, "admin")
    admin, more = page.locator("details.nav-menu-admin"), page.locator("details.nav-menu-more")
    summary = admin.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(admin).to_have_attribute("open", "")
    page.keyboard.press("Tab")  # into the menu, as someone reading its links would
    page.keyboard.press("Escape")
    expect(admin).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()  # the focus is not lost with the menu
    summary.click()
    expect(admin).to_have_attribute("open", "")
    page.get_by_role("heading", level=1).click()
    expect(admin).not_to_have_attribute("open", "")
    summary.click()
    more.locator("summary").click()
    expect(more).to_have_attribute("open", "")
    expect(admin).not_to_have_attribute("open", "")


def test_more_holds_what_does_not_fit_and_works_without_javascript(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(
        base_url=live_server.url, viewport=LAPTOP, java_script_enabled=False
    )
    context.set_default_timeout(5_000)
    try:
        page = context.new_page()
        log_in(page, "admin")
        more = page.locator("details.nav-menu-more")
        expect(more).to_have_count(1)
        row = page.locator(".nav-primary")
        expect(row.get_by_role("link", name="Review")).to_be_visible()  # the role's own pages
        more.locator("summary").click()
        api = more.get_by_role("link", name="API")
        expect(api).to_be_visible()
        admin = page.locator("details.nav-menu-admin")
        admin.locator("summary").click()
        admin.get_by_role("link", name="Users").click()
        expect(page).to_have_url(re.compile(r"/admin/users$"))
    finally:
        context.close()
