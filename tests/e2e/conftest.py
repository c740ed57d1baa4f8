"""Real-browser journeys: a live server on a throw-away database and Debian's Chromium driven
by Playwright.

Chromium is not downloaded by Playwright here; the system one at ``/usr/bin/chromium`` is used,
and without it every test in this folder is reported as skipped. Screenshots of the key steps
land in ``tests/e2e/screenshots/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from core import create_app, migrate
from core.demo import load_demo
from tests.dbutil import fresh_database

CHROMIUM = Path("/usr/bin/chromium")
SKIP_REASON = "Chromium not installed at /usr/bin/chromium (apt-get install chromium)"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
E2E_DIR = Path(__file__).resolve().parent
SCREENSHOTS = E2E_DIR / "screenshots"
DEMO_PASSWORD = "e2e demo password 4 all accounts"
ADMIN_EMAIL = "admin@demo.harmony.example"
TEST_ENV = {"HARMONY_ENV": "testing"}
TIMEOUT_MS = 5_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, skip this folder's tests before any fixture (or database) is set up."""
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(skip)


# --- live server ---------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: Flask


@contextmanager
def serve_whole_demo(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    prepare: Callable[[Flask], None] | None = None,
) -> Iterator[LiveServer]:
    """A journey's own server on a fresh database with the whole demo (its steps included);
    ``prepare(app)`` adds the journey's data or warms its templates before the server starts."""
    with fresh_database(tmp_path_factory.mktemp(f"e2e-{name}"), f"e2e_{name}") as url:
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url}, env=TEST_ENV)
        with app.app_context():
            load_demo(password=DEMO_PASSWORD, with_steps=True)
        if prepare is not None:
            prepare(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name=f"e2e-{name}", daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            app.extensions["harmony_db"].engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on its own migrated database with the demo data, served on a free port."""
    if not CHROMIUM.exists():  # also when a test here is selected some other way
        pytest.skip(SKIP_REASON)
    with fresh_database(tmp_path_factory.mktemp("e2e"), "e2e") as url:
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url}, env=TEST_ENV)
        with app.app_context():
            # accounts only: each browser test loads the vocabulary it needs
            load_demo(password=DEMO_PASSWORD, with_steps=False)
        server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            app.extensions["harmony_db"].engine.dispose()


# --- browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink(missing_ok=True)  # another xdist worker may have removed it
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class BrowserLog:
    """What the page reported: console errors/warnings, uncaught exceptions, failed loads.

    Error pages the test provokes on purpose (a 422 form answer, say) are announced with
    :meth:`allow_status` so that Chromium's "Failed to load resource" line for them passes.
    """

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def allow_status(self, status: int) -> None:
        self.allowed_statuses.add(status)

    def on_console(self, message: ConsoleMessage) -> None:
        kind, text = message.type, message.text
        where = (message.location or {}).get("url", "")
        line = f"console.{kind}: {text} ({where})" if where else f"console.{kind}: {text}"
        if kind == "error":
            status = re.search(r"status of (\d{3})", text)
            if status and int(status.group(1)) in self.allowed_statuses:
                return
            self.errors.append(line)
        elif kind == "warning":
            self.warnings.append(line)

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"uncaught exception: {error}")

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]

    def assert_clean(self, step: str = "") -> None:
        where = f" (at step {step!r})" if step else ""
        assert not self.csp_violations(), f"CSP violations{where}: {self.csp_violations()}"
        assert not self.errors, f"browser console errors{where}: {self.errors}"


@dataclass
class Session:
    """One test's browser page with its console log and a screenshot helper."""

    page: Page
    log: BrowserLog
    base_url: str
    name: str
    shots: int = 0

    def shot(self, step: str) -> Path:
        """Save a full-page screenshot of a key step, and check the console is still clean."""
        self.shots += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.log.assert_clean(step)
        return path


@pytest.fixture
def web(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Session]:
    """A fresh browser context (no cookies) and page on the live server, per test."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log = BrowserLog()
    page.on("console", log.on_console)
    page.on("pageerror", log.on_page_error)
    name = re.sub(r"^test_", "", request.node.name)
    session = Session(page=page, log=log, base_url=live_server.url, name=name)
    try:
        yield session
    finally:
        context.close()
    log.assert_clean("end of test")
