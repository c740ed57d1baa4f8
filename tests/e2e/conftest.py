"""Real-browser journeys: a live server on a throw-away database and Debian's Chromium driven
by Playwright.

Chromium is not downloaded by Playwright here; Debian's is used: its headless shell at
``/usr/bin/chromium-headless-shell`` (package chromium-headless-shell; the build Playwright itself
runs headless tests on: it builds no browser window for each new context, and a journey's run
costs a quarter less CPU) when installed, else ``/usr/bin/chromium``. Without either, every test
in this folder is reported as skipped. Screenshots of the key steps land in
``tests/e2e/screenshots/`` (gitignored) for a person to look at.

A journey that needs the whole demo gets its own server on its own copy of it
(:func:`serve_whole_demo`): the demo is loaded once per run (per xdist worker), and copied.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from core import create_app, migrate
from core.demo import load_demo
from tests.dbutil import copied_database, fresh_database

CHROMIUM_CHOICES = (Path("/usr/bin/chromium-headless-shell"), Path("/usr/bin/chromium"))
CHROMIUM = next((path for path in CHROMIUM_CHOICES if path.exists()), CHROMIUM_CHOICES[-1])
SKIP_REASON = (
    "Chromium not installed at /usr/bin/chromium-headless-shell or /usr/bin/chromium"
    " (apt-get install chromium-headless-shell)"
)
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
#: how long a browser action, a request or an ``expect`` waits: a limit, not a delay (a passing
#: test never waits for it), long enough for a page on a loaded 2-core CI machine (a 0.9 s page
#: took over 5 s while other runs shared the machine, and the accessibility walk failed on it)
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)


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
def serving(app: Flask, name: str) -> Iterator[LiveServer]:
    """``app`` served on a free port by a thread, while the block runs."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"e2e-{name}", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["harmony_db"].engine.dispose()


@dataclass
class WholeDemo:
    """A database with the whole demo (its steps included), built once per run (per xdist
    worker), and the folder of the agreements' signed documents it names."""

    url: str
    documents: Path
    tmp_path_factory: pytest.TempPathFactory


@pytest.fixture(scope="session")
def whole_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WholeDemo]:
    """The whole demo, loaded once: each journey on it serves a copy of its own
    (:func:`serve_whole_demo`) instead of loading it again."""
    if not CHROMIUM.exists():  # also when a test here is selected some other way
        pytest.skip(SKIP_REASON)
    folder = tmp_path_factory.mktemp("e2e-demo")
    documents = folder / "agreements"
    with fresh_database(folder, "e2e_demo") as url:
        migrate.upgrade(url)
        app = create_app(
            {"DATABASE_URL": url, "AGREEMENT_DOCUMENTS_DIR": str(documents)}, env=TEST_ENV
        )
        with app.app_context():
            load_demo(password=DEMO_PASSWORD, with_steps=True)
        app.extensions["harmony_db"].engine.dispose()  # a PostgreSQL template has no session
        yield WholeDemo(url=url, documents=documents, tmp_path_factory=tmp_path_factory)


@contextmanager
def serve_whole_demo(
    demo: WholeDemo,
    name: str,
    prepare: Callable[[Flask], None] | None = None,
    settings: dict[str, Any] | None = None,
) -> Iterator[LiveServer]:
    """A journey's own server on its own copy of the whole demo (its steps included), with
    its own copy of the signed documents; ``settings`` add to the app's configuration and
    ``prepare(app)`` adds the journey's data or warms its templates before the server
    starts. What the journey changes stays in its copy."""
    folder = demo.tmp_path_factory.mktemp(f"e2e-{name}")
    documents = folder / "agreements"
    if demo.documents.is_dir():
        shutil.copytree(demo.documents, documents)
    with copied_database(demo.url, folder, f"e2e_{name}") as url:
        config = {"DATABASE_URL": url, "AGREEMENT_DOCUMENTS_DIR": str(documents)}
        app = create_app({**config, **(settings or {})}, env=TEST_ENV)
        if prepare is not None:
            prepare(app)
        with serving(app, name) as server:
            yield server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on its own migrated database with the demo accounts, served on a free port."""
    if not CHROMIUM.exists():  # also when a test here is selected some other way
        pytest.skip(SKIP_REASON)
    with fresh_database(tmp_path_factory.mktemp("e2e"), "e2e") as url:
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url}, env=TEST_ENV)
        with app.app_context():
            # accounts only: each browser test loads the vocabulary it needs
            load_demo(password=DEMO_PASSWORD, with_steps=False)
        with serving(app, "server") as server:
            yield server


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


def arrive(page: Page, url: re.Pattern[str]) -> None:
    """Wait until a navigation reached ``url`` and its page has loaded, before the next form
    control is touched: the address changes when the new page starts to arrive, and a radio
    button checked while it is still loading can be lost with the document it was in
    (PostgreSQL's pass, once: "Clicking the checkbox did not change its state")."""
    expect(page).to_have_url(url)
    page.wait_for_load_state("load")


def page_width(page: Page) -> int:
    """How wide the page is laid out, once its stylesheets have loaded: read while they are
    still loading (right after a click that navigates), a page is as wide as its longest
    unbroken word (2,244 px for a 200-character one)."""
    page.wait_for_load_state("load")
    return int(page.evaluate("document.documentElement.scrollWidth"))


def fits(page: Page) -> bool:
    """No part of the page is wider than the window."""
    return page_width(page) <= int(page.evaluate("window.innerWidth"))
