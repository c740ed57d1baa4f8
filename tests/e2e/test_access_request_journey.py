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

Screenshots of the key steps go to tests/e2e/screenshots/ and to a temporary folder; the six
that tell the story best are copied to /tmp/e2e-shots/."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from werkzeug.serving import make_server

from core import create_app, migrate
from core.db import get_session, writing
from core.policies import SYSTEM
from tests.dbutil import fresh_database
from tests.e2e.conftest import TEST_ENV, LiveServer, Session
from tests.factories import PASSWORD, Maker
from tests.governance.requests.world import RequestWorld, build_world

pytestmark = pytest.mark.e2e

AML_TITLE = "Leiden AML trials"
MYELOMA_TITLE = "Lyon myeloma registry"
PROJECT = "FLT3-ITD and high-risk myeloma: outcomes after intensive treatment"
DECLINE_REASON = "Our registry's board has not approved sharing with this consortium yet."
REVOKE_REASON = "The team's ethics approval was withdrawn by the METC."
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
            session.get(Agreement, world.agreements["myeloma"]).requires_custodian_signoff = True
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
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("access-journey-shots")


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
            shutil.copy(path, BEST_SHOTS / f"access-{path.name.split('-', 3)[-1]}")

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
