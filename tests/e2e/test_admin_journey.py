"""An administrator's first day, in a real browser: log in, register an organisation, create a
custodian account for it, log out; then that custodian logs in; and the skip link works."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from core import services
from core.models import Role
from core.policies import SYSTEM
from tests.e2e.conftest import ADMIN_EMAIL, DEMO_PASSWORD, LiveServer, Session

pytestmark = pytest.mark.e2e

RUN = uuid.uuid4().hex[:6]
ORGANISATION = f"Instituto Hematologico E2E {RUN}"
CUSTODIAN = {
    "email": f"carmen.e2e.{RUN}@example.org",
    "name": f"Carmen Custodian {RUN}",
    "password": "a long enough e2e password",
}


def test_admin_registers_organisation_and_custodian(web: Session) -> None:
    page = web.page

    # Log in through the login page.
    page.goto("/login")
    expect(page).to_have_title(re.compile("^Log in"))
    web.shot("login page")
    page.get_by_label("Email address").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    user_box = page.locator(".site-header .user-box")
    expect(user_box.locator(".user-name")).to_have_text("Ada Admin")
    expect(user_box.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator(".flash-success")).to_contain_text("Welcome, Ada Admin.")
    web.shot("logged in as admin")

    # Register an organisation: first with a country code that does not exist.
    page.get_by_role("navigation", name="Main").get_by_text("Admin").click()  # its menu
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organisations").click()
    expect(page).to_have_url(re.compile(r"/admin/organisations$"))
    expect(page.get_by_role("heading", name="Register an organisation")).to_be_visible()
    web.shot("organisations page")
    form = page.locator("form", has=page.get_by_role("button", name="Register organisation"))
    form.get_by_label("Name").fill(ORGANISATION)
    form.get_by_label("Country code").fill("XX")
    form.get_by_label("Kind").select_option("hospital")
    form.get_by_label("City").fill("Salamanca")
    web.log.allow_status(422)
    with page.expect_navigation() as navigation:
        form.get_by_role("button", name="Register organisation").click()
    response = navigation.value
    assert response is not None and response.status == 422
    country = page.get_by_label("Country code")
    expect(country).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#country-error")).to_be_visible()
    expect(page.locator("#country-error")).not_to_be_empty()
    expect(page.locator(".field.has-error")).to_have_count(1)
    expect(page.get_by_label("Name")).to_have_value(ORGANISATION)  # nothing typed is lost
    expect(page.get_by_label("Kind")).to_have_value("hospital")
    web.shot("organisation with bad country code")

    # Correct the code: the organisation is registered and listed.
    country.fill("ES")
    page.get_by_role("button", name="Register organisation").click()
    expect(page.locator(".flash-success")).to_contain_text(f"“{ORGANISATION}” is registered")
    row = page.locator("table.table tbody tr", has_text=ORGANISATION)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("ES")
    expect(row.locator("td").nth(3)).to_have_text("Salamanca")
    expect(page.get_by_label("Search organisations")).to_have_value(ORGANISATION)
    web.shot("organisation registered")

    # Create an account with a role; the scope field follows the chosen role.
    page.get_by_role("navigation", name="Main").get_by_text("Admin").click()  # its menu
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    form = page.locator("form", has=page.get_by_role("button", name="Create account"))
    role = form.get_by_label("First role")
    custodian_of = form.get_by_label("Custodian of")
    committee = form.get_by_label("Committee")
    expect(custodian_of).to_be_hidden()
    expect(committee).to_be_hidden()
    web.shot("users page")
    role.select_option(Role.DAC_MEMBER.value)
    expect(committee).to_be_visible()
    expect(custodian_of).to_be_hidden()
    role.select_option(Role.RESEARCHER.value)
    expect(committee).to_be_hidden()
    expect(custodian_of).to_be_hidden()
    role.select_option(Role.CUSTODIAN.value)
    expect(custodian_of).to_be_visible()
    expect(committee).to_be_hidden()
    form.get_by_label("Email address").fill(CUSTODIAN["email"])
    form.get_by_label("Full name").fill(CUSTODIAN["name"])
    form.get_by_label("Organisation", exact=True).select_option(label=ORGANISATION)
    form.get_by_label("Initial password").fill(CUSTODIAN["password"])
    custodian_of.select_option(label=ORGANISATION)
    web.shot("account form filled in")
    form.get_by_role("button", name="Create account").click()

    # The new user's page shows the role badge, scoped to the organisation.
    expect(page).to_have_url(re.compile(r"/admin/users/[^/]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(CUSTODIAN["name"])
    expect(page.locator(".flash-success")).to_contain_text(f"Account for {CUSTODIAN['email']}")
    grant = page.locator(".grant-row")
    expect(grant).to_have_count(1)
    expect(grant.locator(".badge-role")).to_have_text("Data custodian")
    expect(grant).to_contain_text(f"of {ORGANISATION}")
    home_organisation = page.get_by_label("Organisation", exact=True)
    expect(home_organisation.locator("option:checked")).to_have_text(ORGANISATION)
    web.shot("new user page")

    # Log out: the header offers to log in again.
    page.get_by_role("button", name="Log out").click()
    expect(page.locator(".site-header").get_by_role("link", name="Log in")).to_be_visible()
    expect(page.locator(".site-header .user-name")).to_have_count(0)
    expect(page.locator(".flash-success")).to_contain_text("You are logged out.")
    web.shot("logged out")


def _ensure_custodian(live_server: LiveServer) -> None:
    """The account the journey above creates, made directly when this test runs on its own."""
    with live_server.app.app_context():
        if services.find_user_by_email(CUSTODIAN["email"]) is not None:
            return
        organisation = services.create_organisation(
            SYSTEM, {"name": ORGANISATION, "country": "ES", "kind": "hospital"}
        )
        services.create_user(
            SYSTEM,
            {
                **CUSTODIAN,
                "organisation_id": organisation.id,
                "roles": [{"role": Role.CUSTODIAN.value, "organisation_id": organisation.id}],
            },
        )


def test_new_custodian_logs_in_and_sees_role(web: Session, live_server: LiveServer) -> None:
    _ensure_custodian(live_server)
    page = web.page
    page.goto("/login")
    page.get_by_label("Email address").fill(CUSTODIAN["email"])
    page.get_by_label("Password").fill(CUSTODIAN["password"])
    page.get_by_role("button", name="Log in").click()
    user_box = page.locator(".site-header .user-box")
    expect(user_box.locator(".user-name")).to_have_text(CUSTODIAN["name"])
    badge = user_box.get_by_label("Your roles").locator(".badge-role")
    expect(badge).to_have_text(["Data custodian"])
    expect(badge).to_have_attribute("title", f"Data custodian of {ORGANISATION}")
    # A custodian is not an administrator.
    expect(page.get_by_role("navigation", name="Main").get_by_text("Admin")).to_have_count(0)
    web.shot("custodian logged in")


def test_skip_link_is_first_tab_stop(web: Session) -> None:
    page = web.page
    page.goto("/")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    web.shot("skip link focused")
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
