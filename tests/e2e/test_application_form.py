"""The application form in Chromium: it saves itself as the researcher writes, and it can be
used from the keyboard alone — Tab walks the Five Safes' sections in order, Enter on "Save and
submit" submits, and an incomplete application comes back with each error next to its field
and the focus on the summary of what to fix.

The draft is started from scratch by the demo researcher on the session's live server (demo
accounts only), so it has no dataset: submitting it is refused field by field.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Dialog, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, Session

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
    page.wait_for_load_state()  # the autosave script (deferred) listens from here on
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


STALE = "Someone changed this request"


def _record_statuses(page: Page) -> None:
    """Keep every text the autosave status shows, in order, in ``window.autosaveStatuses``."""
    page.evaluate(
        """() => {
        const status = document.getElementById('autosave-status');
        window.autosaveStatuses = [];
        new MutationObserver(() => window.autosaveStatuses.push(status.textContent))
            .observe(status, {childList: true, characterData: true, subtree: true});
    }"""
    )


def test_submit_right_after_typing_waits_for_the_autosave(web: Session) -> None:
    """Leaving a changed field for "Save and submit" starts an autosave; the form's post
    waits for it and carries the revision it made, so it is never refused as stale."""
    page = web.page
    _log_in(page)
    _start_draft(page)
    order: list[tuple[str, str]] = []  # ("request" | "response", path) of the page's posts
    page.on(
        "request",
        lambda r: order.append(("request", urlsplit(r.url).path)) if r.method == "POST" else None,
    )
    page.on(
        "response",
        lambda r: (
            order.append(("response", urlsplit(r.url).path)) if r.request.method == "POST" else None
        ),
    )

    web.log.allow_status(422)
    page.get_by_label("Lay summary").fill("Relapse after induction, in plain words.")
    page.get_by_role("button", name="Save and submit").click()  # no wait

    # the draft has no dataset: completeness is refused field by field, not the revision
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Datasets")
    expect(page.locator("main")).not_to_contain_text(STALE)
    expect(page.get_by_label("Lay summary")).to_have_value(
        "Relapse after induction, in plain words."
    )
    # the autosave was answered before the form was posted
    autosave = next(p for kind, p in order if kind == "request" and p.endswith("/autosave"))
    answered = order.index(("response", autosave))
    posted = next(
        i for i, (kind, p) in enumerate(order) if kind == "request" and p.endswith("/edit")
    )
    assert answered < posted, order


def test_a_change_made_while_saving_is_saved_too(web: Session) -> None:
    """A change made while a save is on its way is saved right after it; the status says
    "Saved" only when nothing is left, and a reload shows both changes."""
    page = web.page
    _log_in(page)
    path = _start_draft(page)
    status = page.locator("#autosave-status")
    _record_statuses(page)
    held: list[Route] = []

    def hold_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/autosave", hold_first)
    with page.expect_request("**/autosave"):
        page.get_by_label("Project title").fill(TITLE)
        page.keyboard.press("Tab")
    expect(status).to_have_text("Saving…")
    page.get_by_label("Public benefit").fill("Better treatment choices after relapse.")
    page.keyboard.press("Tab")  # a save is on its way: this change waits for the next
    with page.expect_request(
        lambda r: r.url.endswith("/autosave") and "Better treatment" in (r.post_data or "")
    ):
        held[0].continue_()
    expect(status).to_have_text(re.compile(r"^Saved \d\d:\d\d$"))
    statuses: list[str] = page.evaluate("() => window.autosaveStatuses")
    # "Saved" came once, after the second save, never while the change was left over
    assert [s for s in statuses if s.startswith("Saved")] == [statuses[-1]], statuses
    assert statuses.count("Saving…") == 2, statuses

    page.goto(path)
    expect(page.get_by_label("Project title")).to_have_value(TITLE)
    expect(page.get_by_label("Public benefit")).to_have_value(
        "Better treatment choices after relapse."
    )


def test_leaving_with_unsaved_changes_warns(web: Session) -> None:
    """Leaving while a change is not yet saved asks the browser to warn first; the change
    is sent on the way out."""
    page = web.page
    _log_in(page)
    _start_draft(page)
    held: list[Route] = []
    # nothing gets through: the change stays unsaved
    page.route("**/autosave", lambda route: held.append(route))
    page.get_by_label("Funding").click()
    page.keyboard.type("ZonMw 10140")
    dialogs: list[str] = []

    def leave(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    page.once("dialog", leave)
    page.goto("/requests")
    assert dialogs == ["beforeunload"]
    expect(page.get_by_role("heading", level=1)).to_have_text("My access requests")
    assert any("ZonMw" in (route.request.post_data or "") for route in held)
    page.unroute("**/autosave")
    for route in held:
        with contextlib.suppress(PlaywrightError):  # the page that sent it has gone
            route.abort()


def test_without_javascript_the_buttons_save(browser: Browser, live_server: LiveServer) -> None:
    """With scripts off the form posts as it is: Save keeps what was typed."""
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 1280, "height": 800}
    )
    try:
        page = context.new_page()
        _log_in(page)
        path = _start_draft(page)
        page.get_by_label("Project title").fill(TITLE)
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator(".flash-success")).to_contain_text("Saved.")
        page.goto(path)
        expect(page.get_by_label("Project title")).to_have_value(TITLE)
    finally:
        context.close()
