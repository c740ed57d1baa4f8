"""Every page, as every role sees it, checked with axe-core: no serious or critical violation.

One live server on the whole demo (datasets, agreements, requests in every state, plus a few
objects the demo does not make: jobs, a saved purpose, shared selections) and one browser
context per role — anonymous, researcher, custodian, committee member, committee chair,
administrator. The pages come from the application's ``url_map``: every GET rule that answers
with HTML, a rule with arguments filled with a demo object the role may see (the role's own
first, then the first that answers 200), plus states a rule alone does not reach
(:data:`EXTRA_PAGES`: a search with a query, a second page, the 404 page). A page added later
is checked without anyone listing it; a rule whose arguments this module cannot fill fails
:func:`test_every_page_rule_is_checked` with its name, so it is never silently left out.

Forms sent back with their errors (:data:`FORMS_WITH_ERRORS`: the log-in, a purpose, a dataset,
an account, a standard set) and what a click opens (the header's menus, an ontology tree node)
are checked too, since no GET shows them.

A role that may not see a page gets a refusal instead (the log-in form, 403 or 404): no item
may meet a server error, and the refusal pages themselves are checked once per role and kind. :data:`MUST_REACH` names pages each role must see, so that a
broken log-in or a missing demo object cannot turn a role's items into refusals that pass.

To stay fast, a page's HTML is fetched without the browser first; the browser opens it and axe
runs only when its content (``<main>``) differs from everything checked so far — for a public
page that a researcher sees like a committee member, once — and on each role's first page,
where its header is checked. Each item is named ``<role>-<page>``; a failure lists axe's rule,
the elements and the URL, and leaves a screenshot ``a11y-<role>-<page>.png`` in
``tests/e2e/screenshots/``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import APIResponse, Browser, BrowserContext, Page, expect
from sqlalchemy import select, text
from werkzeug.routing import Rule

from catalogue.selection import services as selections
from core import create_app
from core.db import get_session, utcnow
from core.demo import DEMO_DOMAIN
from core.jobs import Job, JobState
from core.models import User
from governance.matching.schemas import PurposeSchema
from governance.purposes.services import create_purpose
from tests.dbutil import postgres_base_url
from tests.e2e.axe import FAILING_IMPACTS, axe_violations, describe
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    SCREENSHOTS,
    TEST_ENV,
    TIMEOUT_MS,
    LiveServer,
    WholeDemo,
    serve_whole_demo,
)

pytestmark = [
    pytest.mark.e2e,
    # The pages' markup comes from the same templates whatever the database: the walk is done
    # once per CI run, on the SQLite pass (the PostgreSQL pass runs every page's own tests and
    # the journeys); it costs two and a half minutes of a run that must stay under fifteen.
    pytest.mark.skipif(
        postgres_base_url() is not None,
        reason="accessibility is checked once, on the SQLite pass: the markup does not depend "
        "on the database",
    ),
]

#: role → the demo account it logs in as (None: not logged in)
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "researcher": f"researcher@{DEMO_DOMAIN}",
    "custodian": f"custodian@{DEMO_DOMAIN}",
    "member": f"dac-member@{DEMO_DOMAIN}",
    "chair": f"dac-chair@{DEMO_DOMAIN}",
    "admin": f"admin@{DEMO_DOMAIN}",
}

#: GET rules that are not pages for people (files, data for scripts, actions behind a link);
#: the reason is the test's documentation. Rules whose path ends in a file extension
#: (``.svg``, ``.csv``, ``.ttl`` …) and static folders are recognised without being listed.
NOT_PAGES: dict[str, str] = {
    "core.healthz": "a probe for the load balancer",
    "core.favicon": "an icon",
    "visas.jwks": "public keys as JSON",
    "ontologies.tree_children": "JSON for the ontology tree's script",
    "notifications.notification_open": "marks a notification read, then redirects to its page",
    "agreements.download": "the signed agreement's PDF",
    "dcat.variable_value": "a value's IRI: RDF, or a redirect to its variable's page",
}

#: States of a page that its rule alone does not reach: (name, path).
EXTRA_PAGES: list[tuple[str, str]] = [
    ("search with a query", "/search?q=FLT3"),
    ("search with a disease filter", "/search?q=karyotype&disease=NCIT%3AC3171"),
    ("search with no result", "/search?q=zzzzqqqq"),
    ("dataset list, second page", "/datasets?page=2"),
    ("dataset list, sorted and filtered", "/datasets?sort=patients&disease=NCIT%3AC3171"),
    ("retired datasets", "/datasets?status=retired"),
    (
        "harmonisation matrix of a standard set",
        "/harmonisation?set=eln-2022&datasets=aml-ic-2016&datasets=flt3-mido-2017",
    ),
    ("harmonisation matrix of terms", "/harmonisation?terms=HV%3A0000045&datasets=aml-ic-2016"),
    ("find variables with terms", "/search/variables?terms=HV%3A0000045&terms=HV%3A0000124"),
    ("ontology search", "/ontologies/search?q=leukaemia"),
    ("review queue, all states", "/review?state=all"),
    ("not found (page)", "/no-such-page"),
    ("not found (dataset)", "/datasets/no-such-dataset"),
]

#: the richest demo objects first, so that the page checked shows the most
PREFERRED = {"dataset": "aml-ic-2016", "term": "NCIT:C3171"}
CANDIDATES_PER_RULE = 40
FILE_SUFFIX = re.compile(r"\.[a-z]+(>)?$|<any\(")


def page_rules(app: Flask) -> list[Rule]:
    """The GET rules of ``app`` that answer with a page for people."""
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
            continue
        if rule.rule.startswith("/api/") or rule.endpoint.endswith("static"):  # + Swagger UI
            continue
        if "filename" in rule.arguments or FILE_SUFFIX.search(rule.rule):
            continue
        rules.append(rule)
    return sorted(rules, key=lambda r: r.rule)


def _page_names() -> list[str]:
    """The page names used in the items' ids, from an app built without a database."""
    app = create_app({"DATABASE_URL": "sqlite://"}, env=TEST_ENV)
    return [rule.endpoint for rule in page_rules(app)] + [name for name, _ in EXTRA_PAGES]


PAGES = _page_names()


# --- the demo objects that fill a rule's arguments -----------------------------------------

Filler = Callable[[Flask, Rule, str], list[dict[str, Any]]]


def _rows(app: Flask, sql: str, **params: Any) -> list[dict[str, Any]]:
    engine = app.extensions["harmony_db"].engine
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(sql), params)]


# The role's own objects first (its organisation's datasets, its requests …), then the
# preferred demo object: a page is checked on the first candidate the role may see.
OWN_ORGANISATION = "(SELECT g.organisation_id FROM role_grants g WHERE g.user_id = :user)"
DATASET_ORDER = (
    f"d.organisation_id IN {OWN_ORGANISATION} DESC, d.identifier = :preferred DESC,"
    " d.status = 'published' DESC, d.identifier"
)


def _datasets(app: Flask, rule: Rule, user: str) -> list[dict[str, Any]]:
    if rule.endpoint.startswith("standards."):
        return _rows(app, "SELECT identifier FROM standard_variable_sets ORDER BY identifier")
    return _rows(
        app,
        f"SELECT d.identifier FROM datasets d ORDER BY {DATASET_ORDER}",  # noqa: S608 - constant SQL, values bound
        user=user,
        preferred=PREFERRED["dataset"],
    )


#: the sorted argument names of a rule → its demo values, best first
FILLERS: dict[tuple[str, ...], Filler] = {
    ("identifier",): _datasets,
    ("identifier", "number"): lambda app, rule, user: _rows(
        app,
        "SELECT d.identifier, v.number FROM dataset_versions v"  # noqa: S608 - constant SQL, values bound
        f" JOIN datasets d ON d.id = v.dataset_id ORDER BY {DATASET_ORDER}, v.number DESC",
        user=user,
        preferred=PREFERRED["dataset"],
    ),
    ("identifier", "name"): lambda app, rule, user: _rows(
        app,
        "SELECT d.identifier, var.name FROM variables var"  # noqa: S608 - constant SQL, values bound
        " JOIN dataset_versions v ON v.id = var.version_id"
        " JOIN datasets d ON d.id = v.dataset_id"
        f" WHERE v.status = 'published' ORDER BY {DATASET_ORDER}, var.position",
        user=user,
        preferred=PREFERRED["dataset"],
    ),
    ("request_id",): lambda app, rule, user: _rows(
        app,
        "SELECT r.id AS request_id FROM access_requests r"
        " ORDER BY r.applicant_id = :user DESC, r.state = 'under_review' DESC, r.created_at, r.id",
        user=user,
    ),
    ("agreement_id",): lambda app, rule, user: _rows(
        app,
        "SELECT a.id AS agreement_id FROM agreements a"  # noqa: S608 - constant SQL, values bound
        f" ORDER BY a.organisation_id IN {OWN_ORGANISATION} DESC, a.status = 'active' DESC, a.id",
        user=user,
    ),
    ("organisation_id",): lambda app, rule, user: _rows(
        app,
        "SELECT o.id AS organisation_id FROM organisations o"
        " ORDER BY (SELECT count(*) FROM datasets d WHERE d.organisation_id = o.id) DESC, o.name",
    ),
    ("user_id",): lambda app, rule, user: _rows(
        app, "SELECT id AS user_id FROM users ORDER BY email"
    ),
    ("prefix",): lambda app, rule, user: _rows(
        app, "SELECT prefix FROM ontologies ORDER BY prefix"
    ),
    ("curie",): lambda app, rule, user: _rows(
        app,
        "SELECT curie FROM terms WHERE curie IN (:preferred, 'HV:0000045', 'DUO:0000042')"
        " ORDER BY curie = :preferred DESC, curie",
        preferred=PREFERRED["term"],
    ),
    ("purpose_id",): lambda app, rule, user: _rows(
        app,
        "SELECT id AS purpose_id FROM saved_purposes ORDER BY user_id = :user DESC, id",
        user=user,
    ),
    ("selection_id",): lambda app, rule, user: _rows(
        app,
        "SELECT id AS selection_id FROM selections ORDER BY user_id = :user DESC, name",
        user=user,
    ),
    ("token",): lambda app, rule, user: (
        [{"token": token} for token in SHARE_TOKENS]
        if rule.endpoint.startswith("selection.")
        else []
    ),
    ("job_id",): lambda app, rule, user: _rows(
        app, "SELECT id AS job_id FROM jobs ORDER BY owner_id = :user DESC, id", user=user
    ),
}


def filler_for(rule: Rule) -> Filler | None:
    return FILLERS.get(tuple(sorted(rule.arguments)))


def add_demo_objects() -> None:
    """What the demo does not make and a page needs: two jobs (the demo runs none) — a
    dictionary import that failed with problems by row, the custodian's, and an ontology load
    still running, the researcher's — and a saved purpose of the researcher's."""
    session = get_session()
    owners = dict(session.execute(select(User.email, User.id)).all())
    custodian, researcher_id = (
        owners[f"custodian@{DEMO_DOMAIN}"],
        owners[f"researcher@{DEMO_DOMAIN}"],
    )
    session.add_all(
        [
            Job(
                kind="dictionary_import",
                title="Import of a data dictionary",
                owner_id=custodian,
                state=JobState.FAILED,
                finished_at=utcnow(),
                error={
                    "title": "Invalid content",
                    "status": 422,
                    "detail": "The dictionary has 2 problems; nothing was imported.",
                    "report": {
                        "problems": [
                            {"row": 3, "column": "unit", "message": "not a UCUM unit"},
                            {"row": 7, "column": None, "message": "a quote is not closed"},
                        ]
                    },
                },
            ),
            Job(
                kind="ontology_load",
                title="Load of an ontology",
                owner_id=researcher_id,
                state=JobState.RUNNING,
                started_at=utcnow(),
            ),
        ]
    )
    session.commit()
    researcher = session.get(User, researcher_id)
    assert researcher is not None
    create_purpose(researcher, "AML outcomes", PurposeSchema().load(PURPOSE))
    # two named selections, the first with a dataset and two of its variables, shared
    first = selections.create_selection(researcher, "FLT3 in AML")
    selections.add_dataset(
        researcher, PREFERRED["dataset"], ["patid", "site"], selection_id=first.id
    )
    selections.create_selection(researcher, "Myeloma outcomes")
    assert first.id is not None
    SHARE_TOKENS.append(selections.share_selection(researcher, first.id).token)


#: the share links' tokens made by :func:`add_demo_objects` (only their digests are stored)
SHARE_TOKENS: list[str] = []


PURPOSE = {"terms": ["DUO:0000007"], "diseases": ["NCIT:C3171"], "commercial": False}


def _prepare(app: Flask) -> None:
    with app.app_context():
        add_demo_objects()


@pytest.fixture(scope="module")
def live_server(whole_demo: WholeDemo) -> Iterator[LiveServer]:
    """This module's own server on a copy of the whole demo, with the objects above."""
    with serve_whole_demo(whole_demo, "a11y", _prepare) as server:
        yield server


@dataclass
class Visitor:
    """One role's browser context, logged in as the role's demo account."""

    role: str
    user_id: str  # "" when not logged in
    context: BrowserContext
    page: Page
    header_checked: bool = False
    refusals_checked: set[str] = field(default_factory=set)


@dataclass
class Checker:
    """The visitors, and the page contents axe has checked already: a page whose ``<main>`` is
    the same for two roles (a public page seen by a researcher and by a committee member) is
    checked once, the header of each role on its first page and on every page whose content
    is new. The refusal pages (log-in form, 403, 404) are checked this way too, once each."""

    browser: Browser
    server: LiveServer
    visitors: dict[str, Visitor] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)  # fingerprint → where it was checked

    def visitor(self, role: str) -> Visitor:
        if role in self.visitors:
            return self.visitors[role]
        context = self.browser.new_context(
            base_url=self.server.url, viewport={"width": 1366, "height": 800}, locale="en-GB"
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        email, user_id = ROLES[role], ""
        if email is not None:
            page.goto("/login")
            page.get_by_label("Email address").fill(email)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("button", name="Log out")).to_be_visible()
            rows = _rows(self.server.app, "SELECT id FROM users WHERE email = :e", e=email)
            user_id = rows[0]["id"]
        self.visitors[role] = Visitor(role=role, user_id=user_id, context=context, page=page)
        return self.visitors[role]

    def problems(self, visitor: Visitor, path: str, html: str, shot: str) -> str:
        """axe's serious and critical violations on ``path`` (whose HTML is ``html``) as
        ``visitor`` sees it, described; "" when there is none, or when this content was checked
        already (for another role) and the visitor's header has been checked."""
        fingerprint = _fingerprint(html)
        if visitor.header_checked and fingerprint in self.seen:
            return ""
        page = visitor.page
        response = page.goto(path)
        assert response is not None and response.status < 500, f"{visitor.role} GET {path}"
        self.seen[fingerprint] = f"{visitor.role} on {path}"
        visitor.header_checked = True
        return axe_problems(visitor, shot)


#: moderate in axe's terms, but a screen reader's landmarks list is how its user moves about a
#: page: content outside every landmark (the environment banner was) or two landmarks of one
#: name (the mappings page's "Suggestions") fail the walk too
LANDMARK_RULES = frozenset({"region", "landmark-unique"})


def axe_problems(visitor: Visitor, shot: str) -> str:
    """axe's serious and critical violations on the visitor's page as it stands, described
    ("" when there is none); a screenshot of the page when there is one."""
    page = visitor.page
    violations = [
        v
        for v in axe_violations(page)
        if v["impact"] in FAILING_IMPACTS or v["id"] in LANDMARK_RULES
    ]
    if not violations:
        return ""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"a11y-{shot}.png"), full_page=True)
    return f"axe-core, {visitor.role} on {page.url}:\n{describe(violations)}"


# What changes from one load to the next, or only with the address a page was asked at
# (the log-in form's ``next``), left out of a page's fingerprint.
VOLATILE = re.compile(
    r'(name="(csrf_token|next)" value|nonce)="[^"]*"'
    r"|\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?"  # "Figures as of 2026-12-07 12:05"
)
MAIN = re.compile(r"<main\b.*</main>", re.DOTALL)


def _fingerprint(html: str) -> str:
    """The page's content (its ``<main>``), what another role may have had checked already."""
    found = MAIN.search(html)
    content = found.group(0) if found else html
    return hashlib.sha256(VOLATILE.sub("", content).encode()).hexdigest()


@pytest.fixture(scope="module")
def checker(browser: Browser, live_server: LiveServer) -> Iterator[Checker]:
    checker = Checker(browser=browser, server=live_server)
    try:
        yield checker
    finally:
        for visitor in checker.visitors.values():
            visitor.context.close()


def candidates(app: Flask, name: str, user: str) -> list[str]:
    """The paths page ``name`` may be seen at, best first."""
    extra = dict(EXTRA_PAGES)
    if name in extra:
        return [extra[name]]
    rule = next(r for r in page_rules(app) if r.endpoint == name)
    if not rule.arguments:
        return [rule.rule]
    filler = filler_for(rule)
    assert filler is not None, f"{name} ({rule.rule}): no demo object for {sorted(rule.arguments)}"
    with app.test_request_context():
        paths = [
            rule.build(values, append_unknown=False)[1]  # type: ignore[index]
            for values in filler(app, rule, user)[:CANDIDATES_PER_RULE]
        ]
    assert paths, f"{name} ({rule.rule}): the demo has no object to show"
    return paths


def _sent_to_login(path: str, response: APIResponse) -> bool:
    return urlsplit(response.url).path == "/login" != urlsplit(path).path


def _refused(path: str, response: APIResponse) -> bool:
    """Whether the answer is a refusal: the log-in form instead, 401, 403 or 404."""
    return _sent_to_login(path, response) or response.status in (401, 403, 404)


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


#: pages each role must reach: what the role is for (a broken log-in or a demo object missing
#: would otherwise make the role's items pass on refusal pages)
MUST_REACH: dict[str, set[str]] = {
    "anonymous": {"datasets.home", "search.search_page", "datasets.dataset", "core.login"},
    "researcher": {
        "requests.new_request",
        "requests.request_page",
        "requests.print_view",
        "entitlements.my_access",
        "purposes.edit_purpose",
        "selection.selection_page",
        "jobs.job_page",
    },
    "custodian": {
        "datasets.edit_dataset",
        "data_use.edit",
        "agreements.agreement_page",
        "review.signoffs",
        "jobs.job_page",
    },
    "member": {"review.queue", "review.review_page", "oversight.committee_dashboard"},
    "chair": {"review.queue", "review.review_page", "oversight.committee_dashboard"},
    "admin": {"core.admin_users", "core.admin_user", "audit.admin_audit", "jobs.job_page"},
}

CASES = [(role, name) for role in ROLES for name in PAGES]


@pytest.mark.parametrize(("role", "name"), CASES, ids=[f"{r}-{n}" for r, n in CASES])
def test_page_has_no_serious_accessibility_violation(
    role: str, name: str, checker: Checker, live_server: LiveServer
) -> None:
    """The page as ``role`` sees it — or, when the role may not see it, the log-in form, 403
    or 404 it gets instead (never a server error) — has no serious or critical violation."""
    visitor = checker.visitor(role)
    chosen: tuple[str, APIResponse] | None = None
    for path in candidates(live_server.app, name, visitor.user_id):
        # the first the role may see (200 best), asked without opening it in the browser
        answer = visitor.context.request.get(path)
        assert answer.status < 500, f"{role} GET {path}: {answer.status}"
        if answer.status == 200 and not _sent_to_login(path, answer):
            chosen = (path, answer)
            break
        if chosen is None or (_refused(*chosen) and not _refused(path, answer)):
            chosen = (path, answer)  # a page that is not a refusal (409: nothing to edit now)
        if _sent_to_login(path, answer):
            break  # the rule needs a log-in, whichever object it shows
    assert chosen is not None
    path, response = chosen
    refused = _refused(path, response)
    if name in MUST_REACH[role]:
        assert not refused, f"{role} should see {name} ({path}): {response.status} {response.url}"
    if not response.headers.get("content-type", "").startswith("text/html"):
        return  # not a page (a file, a feed): nothing for axe
    if refused:  # the log-in form, 403 or 404 instead: checked once per role and kind
        kind = "login" if _sent_to_login(path, response) else str(response.status)
        if kind in visitor.refusals_checked:
            return
        visitor.refusals_checked.add(kind)
    problems = checker.problems(visitor, response.url, response.text(), _slug(role, name))
    assert not problems, problems


#: forms sent back with their errors (what a GET never shows): (role, path, the submit button)
FORMS_WITH_ERRORS = [
    ("anonymous", "/login", "Log in"),
    ("researcher", "/me/purposes/new", "Save the purpose"),
    ("custodian", "/datasets/new", "Register dataset"),
    ("admin", "/admin/users", "Create account"),
    ("admin", "/standard-sets/new", "Create the set"),
]


@pytest.mark.parametrize(
    ("role", "path", "button"), FORMS_WITH_ERRORS, ids=[f"{r}-{p}" for r, p, _ in FORMS_WITH_ERRORS]
)
def test_a_form_sent_back_with_its_errors_has_no_serious_violation(
    role: str, path: str, button: str, checker: Checker
) -> None:
    """The form sent empty (or, for the log-in, with a wrong password) comes back with its
    errors beside the fields: the errors must be as accessible as the form."""
    visitor = checker.visitor(role)
    page = visitor.page
    page.goto(path)
    if path == "/login":
        page.get_by_label("Email address").fill(f"nobody@{DEMO_DOMAIN}")
        page.get_by_label("Password").fill("not the password")
    # the browser's own checks (required, min …) would stop an empty form before the server
    page.evaluate("document.querySelectorAll('form').forEach(f => { f.noValidate = true; })")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name=button, exact=True).click()
    assert 400 <= sent.value.status < 500, f"{role} POST {path}: {sent.value.status}"
    page.wait_for_load_state()
    expect(
        page.locator(".field-error, .alert-error, .flash-error, [role=alert]").first
    ).to_be_visible()
    problems = axe_problems(visitor, _slug(role, path, "errors"))
    assert not problems, problems


def test_opened_menus_and_tree_nodes_have_no_serious_violation(checker: Checker) -> None:
    """What a click opens and no GET shows: the header's "More" and "Admin" menus (an
    administrator has both) and an ontology tree's node with the children its script loads."""
    visitor = checker.visitor("admin")
    page = visitor.page
    page.goto("/")
    menus = page.locator("header details")
    assert menus.count() == 2
    for index in range(menus.count()):  # one open at a time: opening one closes the other
        menus.nth(index).locator("summary").click()
        expect(menus.nth(index)).to_have_attribute("open", "")
        expect(page.locator("header details[open]")).to_have_count(1)
        problems = axe_problems(visitor, f"admin-open-menu-{index}")
        assert not problems, problems
    page.goto("/ontologies/DUO")
    closed = page.locator("details.tree-node:not([open])").first.get_attribute("data-children-url")
    node = page.locator(f'details.tree-node[data-children-url="{closed}"]')
    node.locator("summary").first.click()
    expect(node).to_have_attribute("data-loaded", "true")
    expect(node.locator("li").first).to_be_visible()
    problems = axe_problems(visitor, "admin-open-tree-node")
    assert not problems, problems


def test_every_page_rule_is_checked(live_server: LiveServer) -> None:
    """A page rule with arguments this module cannot fill is named here, not left out."""
    unfilled = [
        f"{rule.endpoint} ({rule.rule}): arguments {sorted(rule.arguments)}"
        for rule in page_rules(live_server.app)
        if rule.arguments and filler_for(rule) is None
    ]
    assert not unfilled, "add a FILLERS entry (a demo object) for:\n" + "\n".join(unfilled)
