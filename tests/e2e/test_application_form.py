"""The application form in Chromium: it saves itself as the researcher writes, and it can be
used from the keyboard alone — Tab walks the Five Safes' sections in order, Enter on "Save and
submit" submits, and an incomplete application comes back with each error next to its field
and the focus on the summary of what to fix.

The draft is started from scratch by the demo researcher on the session's live server (demo
accounts only), so it has no dataset: submitting it is refused field by field.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, Session

RESEARCHER_EMAIL = "researcher@demo.harmony.example"
TITLE = "Measurable residual disease after induction and relapse in adult AML"
SECTIONS = ["safe-projects", "safe-people", "safe-settings", "safe-data", "safe-outputs"]


def _log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(RESEARCHER_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _start_draft(page: Page) -> str:
    """A new draft from scratch; returns the form's path."""
    page.goto("/requests/new")
    page.get_by_role("button", name="Start the application").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Application AR-"))
    return urlsplit(page.url).path


def _focused_section(page: Page) -> str | None:
    """The id of the form section holding the focus ('' outside any)."""
    found: str | None = page.evaluate(
        "() => { const s = document.activeElement && document.activeElement.closest('section');"
        " return s ? s.id : ''; }"
    )
    return found


def test_autosave_keeps_what_was_typed(web: Session) -> None:
    page = web.page
    _log_in(page)
    path = _start_draft(page)
    status = page.locator("#autosave-status")

    page.get_by_label("Project title").fill(TITLE)
    expect(status).to_have_text("Unsaved changes")
    page.keyboard.press("Tab")  # leaving the field saves it
    expect(status).to_have_text(re.compile(r"^Saved \d\d:\d\d$"))
    web.shot("application autosaved")

    page.goto(path)  # a later visit: the text was saved, not just kept by the browser
    expect(page.get_by_label("Project title")).to_have_value(TITLE)
    expect(status).to_have_text(re.compile(r"^Saved \d\d:\d\d$"))


def test_keyboard_through_the_sections_and_submit(web: Session) -> None:
    page = web.page
    _log_in(page)
    _start_draft(page)
    page.get_by_label("Project title").fill(TITLE)
    page.get_by_label("Project title").focus()

    # Tab from the first field: the sections come in the Five Safes' order, then the buttons
    visited: list[str] = []
    submit = page.get_by_role("button", name="Save and submit")
    for _ in range(120):
        page.keyboard.press("Tab")
        if submit.evaluate("button => button === document.activeElement"):
            break
        section = _focused_section(page)
        if section and (not visited or visited[-1] != section):
            visited.append(section)
    else:
        raise AssertionError(f"Tab never reached 'Save and submit' (sections seen: {visited})")
    assert visited == SECTIONS

    # Enter on the focused button submits; the application is incomplete
    web.log.allow_status(422)
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text(re.compile(r"things to fix"))

    # each error sits next to its field, which says it is invalid and points to the message
    for field_id, label in (
        ("scientific_abstract", "Scientific abstract"),
        ("processing_environment", "Processing environment"),
        ("publication_plan", "Publication plan"),
    ):
        field = page.locator(f"#{field_id}")
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_attribute("aria-describedby", re.compile(rf"{field_id}-error"))
        message = page.locator(f".field.has-error #{field_id}-error")
        expect(message).to_be_visible()
        expect(summary.get_by_role("link", name=label)).to_have_attribute("href", f"#{field_id}")
    # what was typed before submitting is kept
    expect(page.get_by_label("Project title")).to_have_value(TITLE)
    web.shot("application errors")

    # the summary's link takes the keyboard to the field
    summary.get_by_role("link", name="Scientific abstract").press("Enter")
    expect(page.locator("#scientific_abstract")).to_be_focused()
