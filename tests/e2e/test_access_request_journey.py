"""An access request from a researcher's search to an audited, revoked entitlement, in Chromium.

The world (tests/governance/requests/world.py, built through the services and factories on a
database of this module's own): an applicant at Amsterdam UMC, the Leiden AML trials and the
Lyon myeloma registry, each under an active agreement that requires its custodian's sign-off,
and the default committee with its chair and three members, one of them (Mia Amsterdam) from
the applicant's organisation.

The journey: the applicant searches, puts both datasets (and two AML variables) in the
selection, turns it into a draft, fills the Five Safes form (the autosave says "Saved") and
submits; the committee's and the custodians' bells count the news; the AML custodian signs
off, the myeloma custodian declines with a reason; two members vote from the keyboard, the
conflicted member is told why she cannot vote; the chair approves; the applicant accepts the
terms and sees her access on /me/access; an admin revokes it with a reason; the applicant
sees it revoked; ``harmony audit verify`` passes.

Screenshots of the key steps go to tests/e2e/screenshots/ and, with close-ups, to
/tmp/e2e-access-journey/; the six that tell the story best are copied to /tmp/e2e-shots/."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from werkzeug.serving import make_server

from core import create_app, migrate
from core.db import get_session, writing
from core.policies import SYSTEM
from tests.dbutil import fresh_database
from tests.e2e.conftest import TEST_ENV, LiveServer, Session, arrive
from tests.factories import PASSWORD, Maker
from tests.governance.requests.world import RequestWorld, build_world

pytestmark = pytest.mark.e2e

AML_TITLE = "Leiden AML trials"
MYELOMA_TITLE = "Lyon myeloma registry"
PROJECT = "FLT3-ITD and high-risk myeloma: outcomes after intensive treatment"
DECLINE_REASON = "Our registry's board has not approved sharing with this consortium yet."
REVOKE_REASON = "The team's ethics approval was withdrawn by the METC."
SHOTS = Path("/tmp/e2e-access-journey")  # noqa: S108 - a fixed place to look at them
BEST_SHOTS = Path("/tmp/e2e-shots")  # noqa: S108 - where the integrator looks at them
BEST = {  # the six steps that tell the story
    "application autosaved",
    "aml custodian signs off",
    "conflicted member cannot vote",
    "chair decision form",
    "my access active",
    "my access revoked",
}


@pytest.fixture(scope="module")
def world_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, RequestWorld]]:
    """This journey's own server on a database with the vocabularies and the access-request
    world; the myeloma agreement, too, requires its custodian's sign-off."""
    from governance.agreements.models import Agreement
    from ontologies.bundled import load_bundled

    base = tmp_path_factory.mktemp("e2e-access")
    with fresh_database(base, "e2e_access") as url:
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url}, env=TEST_ENV)
        with app.app_context():
            load_bundled(SYSTEM)
        world = build_world(app, Maker(app))
        with app.app_context(), writing():
            session = get_session()
            myeloma = session.get(Agreement, world.agreements["myeloma"])
            assert myeloma is not None
            myeloma.requires_custodian_signoff = True
            session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="e2e-access", daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app), world
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            app.extensions["harmony_db"].engine.dispose()


@pytest.fixture(scope="module")
def live_server(world_server: tuple[LiveServer, RequestWorld]) -> LiveServer:
    return world_server[0]


@pytest.fixture(scope="module")
def world(world_server: tuple[LiveServer, RequestWorld]) -> RequestWorld:
    return world_server[1]


@pytest.fixture(scope="module")
def shots_dir() -> Path:
    """Every screenshot and close-up of the run (emptied first)."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    for old in BEST_SHOTS.glob("access-*.png"):
        old.unlink(missing_ok=True)
    return SHOTS


class Journey:
    """The one browser page, acting as one person of the world at a time."""

    def __init__(self, web: Session, world: RequestWorld, shots: Path):
        self.web, self.world, self.shots = web, world, shots
        self.page: Page = web.page
        self.who: str | None = None

    def log_in(self, name: str) -> None:
        page = self.page
        if self.who is not None:
            page.get_by_role("button", name="Log out").click()
        page.goto("/login")
        page.get_by_label("Email address").fill(self.world.emails[name])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        self.who = name

    def shot(self, step: str) -> None:
        path = self.web.shot(step)
        shutil.copy(path, self.shots / path.name)
        if step in BEST:
            BEST_SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, BEST_SHOTS / f"access-{path.name.split('-', 1)[1]}")

    def detail(self, locator: Locator, step: str) -> None:
        """A close-up of one part of the page, for a person to look at (temporary folder)."""
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        locator.screenshot(path=str(self.shots / f"detail-{slug}.png"))

    def bell(self) -> Locator:
        return self.page.get_by_role("link", name=re.compile(r"^Notifications"))

    def unread(self) -> int:
        """The unread count the header's bell announces."""
        label = self.bell().get_attribute("aria-label") or ""
        found = re.search(r"(\d+) unread", label)
        return int(found.group(1)) if found else 0


def test_access_request_journey(
    web: Session, world: RequestWorld, live_server: LiveServer, shots_dir: Path
) -> None:
    j = Journey(web, world, shots_dir)
    page = j.page
    page.on("dialog", lambda dialog: dialog.accept())

    # --- 1. The applicant searches and collects both datasets in her selection -------------
    j.log_in("applicant")
    j.shot("logged in")
    for query, identifier, title in (
        ("AML", "req-aml", AML_TITLE),
        ("myeloma", "req-myeloma", MYELOMA_TITLE),
    ):
        page.goto("/search")
        search = page.get_by_role("searchbox", name="Search for")
        search.fill(query)
        search.press("Enter")
        expect(page).to_have_url(re.compile(rf"/search\?.*q={query}"))
        hit = hit_of(page, identifier)
        expect(hit).to_have_count(1)
        add = re.compile(rf"^Add to selection ?: “{re.escape(title)}”$")
        hit.get_by_role("button", name=add).click()
        # back on the same results, the hit now offers to take it out again
        expect(page).to_have_url(re.compile(rf"/search\?.*q={query}"))
        expect(
            hit_of(page, identifier).get_by_role("button", name=re.compile("^Remove"))
        ).to_be_visible()
    expect(selection_link(page)).to_have_text("Selection (2)")
    j.shot("dataset added to selection")
    # two of the AML dataset's variables, ticked in its variables table
    page.goto("/datasets/req-aml")
    for name in ("FLT3_ITD", "NPM1"):
        page.get_by_role("checkbox", name=f"{name} in my selection").check()
    # the form posts and the dataset's page comes back: a click before it has come back is
    # lost with the page it was made on (a script may say "2 variables" before the post)
    with page.expect_navigation():
        page.get_by_role("button", name="Update my selection").click()
    page.wait_for_load_state()
    expect(page.locator(".selection-panel")).to_contain_text("with 2 variables")
    selection_link(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My selection")
    chosen = page.get_by_role("list", name="Datasets in your selection").locator("> li")
    expect(chosen).to_have_count(2)
    j.shot("selection")

    # --- 2. The selection becomes a draft; the application is filled in and autosaved ------
    page.get_by_role("button", name="Request access for this selection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Application "))
    reference = page.get_by_role("heading", level=1).inner_text().removeprefix("Application ")
    page.wait_for_load_state()  # the autosave script (deferred) listens from here on
    expect(page.get_by_label("Variables needed from req-aml")).to_have_value("FLT3_ITD, NPM1")
    expect(page.get_by_label("Variables needed from req-myeloma")).to_have_value("")
    status = page.locator("#autosave-status")

    saved = re.compile(r"^Saved \d\d:\d\d$")

    def autosaved(marker: str, change: Callable[[], None]) -> None:
        """Make a change and leave the field; wait for the autosave that carries ``marker``
        and for the status to say so."""
        with page.expect_response(
            lambda r: r.url.endswith("/autosave") and marker in (r.request.post_data or "")
        ) as answered:
            change()
            page.keyboard.press("Tab")  # leaving the field saves it
        assert answered.value.status == 200, answered.value.text()
        expect(status).to_have_text(saved)

    autosaved(PROJECT, lambda: page.get_by_label("Project title").fill(PROJECT))

    def purpose() -> None:
        # the disease first: disease-specific research without one would not save
        page.get_by_label("Diseases studied").fill("NCIT:C3171")
        page.get_by_role("checkbox", name=re.compile(r"\(DUO:0000007\)")).check()
        page.get_by_role("radio", name="No", exact=True).check()

    autosaved('name="purpose_commercial"', purpose)
    fields = {
        "Lay summary": "We study how genetic changes affect survival in two blood cancers.",
        "Scientific abstract": "Retrospective cohort analysis of FLT3-ITD and NPM1 in AML.",
        "Public benefit": "Better risk stratification for patients with AML and myeloma.",
        "Ethics approval reference": "METC-2026-014",
        "Team member 1: e-mail": world.emails["teammate"],
        "Team member 1: name": "Tom Teammate",
        "Team member 1: affiliation": "Amsterdam UMC",
        "Team member 1: role": "Statistician",
        "Training": "GCP and GDPR courses, 2026.",
        "Conflicts of interest": "None.",
        "Country of processing": "NL",
        "Processing environment": "The Amsterdam UMC trusted research environment.",
        "Why these data": "FLT3-ITD and NPM1 define the ELN risk groups; ISS the myeloma risk.",
        "Duration of access (months)": "24",
    }
    # one field after the other without waiting: changes made while a save is on its way go
    # with the next one, and the status says "Saved" only when none is left
    for label, value in fields.items():
        page.get_by_label(re.compile(rf"^{re.escape(label)}")).fill(value)
        page.keyboard.press("Tab")
    expect(status).to_have_text(saved)
    j.shot("application autosaved")
    j.detail(page.locator("header.dataset-head"), "application head with autosave status")
    j.detail(page.locator("#safe-people"), "application team")
    page.reload()  # what was typed is kept without pressing Save
    expect(page.get_by_label("Project title")).to_have_value(PROJECT)
    for label, value in fields.items():
        expect(page.get_by_label(re.compile(rf"^{re.escape(label)}"))).to_have_value(value)

    # submitting checks completeness field by field: the publication plan is missing
    web.log.allow_status(422)
    page.get_by_role("button", name="Save and submit").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    summary.get_by_role("link", name="Publication plan").click()
    plan = page.get_by_label("Publication plan")
    expect(plan).to_be_focused()
    expect(plan).to_have_attribute("aria-invalid", "true")
    j.shot("application missing publication plan")
    # typed and submitted at once: the submission waits for the autosave the click set off
    plan.fill("Peer-reviewed journal; aggregate results only.")
    page.get_by_role("button", name="Save and submit").click()
    expect(page.locator(".flash-success")).to_contain_text(f"{reference} is submitted")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{reference}: {PROJECT}")
    j.shot("request submitted")
    request_url = page.url
    request_id = request_url.rstrip("/").rsplit("/", 1)[-1]

    review_url = f"/review/{request_id}"

    # --- 3. The custodians are told; the AML custodian signs off, the myeloma one declines --
    j.log_in("aml_custodian")
    assert j.unread() >= 1, "the AML custodian's bell counts the sign-off request"
    j.bell().click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    j.detail(page.locator("main"), "custodian notifications")
    page.get_by_role("link", name=re.compile(rf"^Sign-off needed: {reference}")).click()
    expect(page).to_have_url(re.compile(rf"{review_url}$"))  # where the sign-off form is
    aml = dataset_article(page, AML_TITLE)
    expect(aml).to_contain_text("Awaiting the custodian's sign-off")
    expect(dataset_article(page, MYELOMA_TITLE).get_by_role("button")).to_have_count(0)
    aml.get_by_role("radio", name="Sign off").check()
    aml.get_by_label(re.compile(r"^Reason")).fill("Fits our agreement DSA-REQ-AML.")
    j.shot("aml custodian signs off")
    aml.get_by_role("button", name="Record sign-off").click()
    expect(page.locator(".flash-success")).to_contain_text("Signed off.")
    expect(aml).to_contain_text("signed off by Carla Leiden")

    j.log_in("myeloma_custodian")
    assert j.unread() >= 1, "the myeloma custodian's bell counts the sign-off request"
    # the request's own page leads a custodian on to the sign-off of her dataset (only hers)
    page.goto(request_url)
    call = page.get_by_role("link", name=re.compile(r"^Sign off or decline for "))
    expect(call).to_have_count(1)
    expect(call).to_have_text(f"Sign off or decline for {MYELOMA_TITLE} →")
    j.detail(page.locator(".request-actions"), "custodian's call to sign off")
    call.click()
    arrive(page, re.compile(rf"{review_url}#signoff-"))
    myeloma = dataset_article(page, MYELOMA_TITLE)
    myeloma.get_by_role("radio", name="Decline").check()
    myeloma.get_by_label(re.compile(r"^Reason")).fill(DECLINE_REASON)
    myeloma.get_by_role("button", name="Record sign-off").click()
    expect(page.locator(".flash-success")).to_contain_text("Declined; the applicant is told.")
    expect(myeloma).to_contain_text("Declined by the custodian")
    expect(myeloma).to_contain_text(DECLINE_REASON)

    # --- 4. The committee: a conflicted member cannot vote, two members vote ----------------
    j.log_in("member_1")  # Mia Amsterdam, of the applicant's organisation
    assert j.unread() >= 1, "a committee member's bell counts the submission"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    page.get_by_role("link", name=reference).click()
    expect(page).to_have_url(re.compile(rf"{review_url}$"))
    votes = page.locator("#votes")
    notice = votes.get_by_role("note")
    expect(notice).to_contain_text("You are recused from this request and cannot vote")
    expect(notice).to_contain_text("Amsterdam UMC")
    expect(votes.get_by_role("button", name="Vote")).to_have_count(0)
    notice.scroll_into_view_if_needed()
    j.shot("conflicted member cannot vote")
    j.detail(votes, "votes of the conflicted member")

    j.log_in("member_2")
    page.goto(review_url)
    # from the keyboard: the choice, Tab to the comment, Tab to the button, Enter
    approve = votes.get_by_role("radio", name="Approve")
    approve.focus()
    page.keyboard.press("Space")
    expect(approve).to_be_checked()
    page.keyboard.press("Tab")
    comment = votes.get_by_label("Comment")
    expect(comment).to_be_focused()
    page.keyboard.type("A sound design; the AML data are well justified.")
    page.keyboard.press("Tab")
    expect(votes.get_by_role("button", name="Vote")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Your vote (approve) is recorded.")
    expect(votes.get_by_role("row", name=re.compile("Max Member"))).to_contain_text("approve")

    j.log_in("member_3")
    page.goto(review_url)
    votes.get_by_role("radio", name="Approve").check()
    votes.get_by_label("Comment").fill("Agree.")
    votes.get_by_role("button", name="Vote").click()
    expect(page.locator(".flash-success")).to_contain_text("Your vote (approve) is recorded.")
    expect(votes).to_contain_text("Quorum reached.")

    # --- 5. The chair approves ----------------------------------------------------------------
    j.log_in("chair")
    page.goto(review_url)
    decision = page.locator("#decision")
    expect(votes).to_contain_text("Quorum reached.")
    expect(votes.locator("h3", has_text="Recused").locator("+ ul")).to_contain_text("Mia Amsterdam")
    decision.get_by_role("radio", name="Approve", exact=True).check()
    decision.get_by_label(re.compile(r"^Reasons")).fill(
        "A clear purpose within the AML dataset's consent; the myeloma registry declined."
    )
    expect(decision.get_by_label("For an approval").nth(1)).to_have_value("")
    decision.scroll_into_view_if_needed()
    j.shot("chair decision form")
    j.detail(decision, "decision form")
    j.detail(page.locator("#datasets"), "datasets with sign-off and decline")
    decision.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".flash-success")).to_contain_text("Decision recorded: approve.")
    expect(decision.get_by_role("heading", level=3)).to_contain_text("Round 1: Approve")
    expect(dataset_article(page, AML_TITLE)).to_contain_text(re.compile("Approved|Access granted"))
    expect(dataset_article(page, MYELOMA_TITLE)).to_contain_text("Rejected")
    j.shot("decision recorded")
    j.detail(decision, "decision recorded")

    # --- 6. The applicant accepts the terms and sees her access ------------------------------
    j.log_in("applicant")
    told = j.unread()
    assert told >= 3, "the decline, the decision and the access are counted on her bell"
    j.bell().click()
    notes = page.get_by_role("list", name="Your notifications")
    expect(notes).to_contain_text(f"“{MYELOMA_TITLE}” was declined by its custodian")
    expect(notes).to_contain_text(DECLINE_REASON)
    expect(notes).to_contain_text(f"{reference}: accept the terms to start your access")
    decided = notes.locator("li").filter(has_text="The data access committee approved")
    expect(decided).to_contain_text(f"{MYELOMA_TITLE}: not approved")
    decided.get_by_role("link").click()  # the decision opens her request's page
    expect(page).to_have_url(re.compile(rf"/requests/{request_id}$"))
    expect(page.get_by_role("heading", name="The committee's decision")).to_be_visible()
    expect(j.bell()).to_have_attribute("aria-label", f"Notifications, {told - 1} unread")
    page.get_by_role("link", name="My access").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My access")
    awaiting = page.locator(
        "section", has=page.get_by_role("heading", name="Waiting for your acceptance")
    )
    expect(awaiting).to_contain_text(reference)
    awaiting.get_by_role("link", name=re.compile("Read and accept the terms")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Terms of access: {reference}")
    page.get_by_role("button", name="I accept these terms").click()
    expect(page.locator(".flash-success")).to_contain_text("your access to 1 dataset started")
    row = page.get_by_role("row").filter(has_text="req-aml")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("FLT3_ITD, NPM1")
    # the dataset's title (the row's header) is a link in the links' blue, as the request's is
    request_blue = row.get_by_role("link", name=reference).evaluate(
        "a => getComputedStyle(a).color"
    )
    expect(row.get_by_role("link", name=AML_TITLE)).to_have_css("color", request_blue)
    expect(page.get_by_role("row").filter(has_text="req-myeloma")).to_have_count(0)
    j.shot("my access active")

    # --- 7. An admin revokes it with a reason; the applicant sees it revoked -----------------
    j.log_in("admin")
    page.goto(request_url)
    access = page.locator("section", has=page.get_by_role("heading", name="Access", exact=True))
    # the teammate's entitlement (awaiting his acceptance) is on the next row: the applicant's
    mine = access.get_by_role("row").filter(has_text="Ann Applicant")
    expect(mine).to_contain_text("Active")
    mine.get_by_label("Reason for revoking req-aml of Ann Applicant").fill(REVOKE_REASON)
    j.shot("admin revokes")
    # each Revoke button names whose access to what it ends
    expect(access.get_by_role("button", name="Revoke req-aml of Tom Teammate")).to_have_count(1)
    j.detail(access, "access section with revocation forms")
    mine.get_by_role("button", name="Revoke req-aml of Ann Applicant", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("Access revoked (1 entitlement).")
    expect(access.get_by_role("row").filter(has_text="Ann Applicant")).to_contain_text("Revoked")

    j.log_in("applicant")
    assert j.unread() > told, "the revocation is counted on the applicant's bell"
    page.get_by_role("link", name="My access").click()
    row = page.get_by_role("row").filter(has_text="req-aml")
    expect(row).to_contain_text("Revoked")
    expect(row).to_contain_text(f"Reason: {REVOKE_REASON}")
    j.shot("my access revoked")

    # --- 8. Every step is on a chain that still verifies -------------------------------------
    result = live_server.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("audit trail ok"), result.output


def hit_of(page: Page, identifier: str) -> Locator:
    """The search hit of a dataset."""
    return page.locator("li.search-hit").filter(
        has=page.locator(f'h3 a[href$="/datasets/{identifier}"]')
    )


def selection_link(page: Page) -> Locator:
    return page.get_by_role("link", name=re.compile(r"^Selection \(\d+\)"))


def dataset_article(page: Page, title: str) -> Locator:
    """A requested dataset's part of the review page."""
    return page.locator("#datasets article").filter(has=page.get_by_role("heading", name=title))
