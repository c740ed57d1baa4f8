"""The main menu as each role gets it: one row that fits a laptop's width (the rest in a "More"
menu, the administration pages in an "Admin" menu), the pages a role logged in for kept in the
row, and every page someone may use reachable from the menu."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from core import nav, services
from core.models import Role
from core.policies import SYSTEM
from tests.conftest import login, shared_world

ROLES = (None, Role.RESEARCHER, Role.CUSTODIAN, Role.DAC_MEMBER, Role.DAC_CHAIR, Role.ADMIN)


def menu(html: str) -> dict[str, list[str]]:
    """The labels of the row, of "More" and of "Admin" on a page."""
    header = html.split('<nav class="main-nav"')[1].split("</nav>")[0]

    def labels(part: str) -> list[str]:
        return re.findall(r"<a href=\"[^\"]+\"[^>]*>([^<]+)</a>", part)

    def details(name: str) -> str:
        match = re.search(
            rf'<details class="nav-menu nav-menu-{name}">(.*?)</details>', header, re.S
        )
        return match.group(1) if match else ""

    row = header.split('<ul class="nav-primary">')[1].split("</ul>")[0]
    return {"row": labels(row), "more": labels(details("more")), "admin": labels(details("admin"))}


@pytest.fixture(scope="module")
def pages(app) -> Iterator[dict[Role | None, str]]:
    """The home page as each role sees it."""
    with shared_world(app, app.extensions["harmony_db"].engine) as make:
        html: dict[Role | None, str] = {None: app.test_client().get("/").get_data(as_text=True)}
        for role in ROLES[1:]:
            client = app.test_client()
            login(client, make.user(role).email)
            html[role] = client.get("/").get_data(as_text=True)
        yield html


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_the_row_fits_a_laptop_and_nothing_is_lost(pages, role):
    got = menu(pages[role])
    width = sum(nav.estimated_width(label) for label in got["row"])
    width += nav.MENU_BUTTON_WIDTH * (bool(got["more"]) + bool(got["admin"]))
    assert width <= nav.ROW_WIDTH
    assert got["row"][0] == "Home"
    everything = got["row"] + got["more"] + got["admin"]
    assert len(set(got["row"] + got["more"])) == len(got["row"]) + len(got["more"])
    assert "Search" in everything and "Datasets" in everything and "API" in everything


def test_administration_is_in_its_own_menu_for_administrators_only(pages):
    admin = menu(pages[Role.ADMIN])
    assert {"Organisations", "Users", "Committees", "Audit trail"} <= set(admin["admin"])
    assert "Users" not in admin["row"] + admin["more"]
    for role in ROLES[:-1]:
        assert menu(pages[role])["admin"] == []


@pytest.mark.parametrize(
    ("role", "kept"),
    [
        (Role.DAC_MEMBER, {"Review", "Committee dashboard"}),
        (Role.DAC_CHAIR, {"Review", "Committee dashboard"}),
        (Role.CUSTODIAN, {"My datasets", "Agreements"}),
        (Role.ADMIN, {"My datasets", "Review", "Committee dashboard"}),
    ],
    ids=lambda v: v.value if isinstance(v, Role) else "",
)
def test_the_pages_a_role_logged_in_for_stay_in_the_row(pages, role, kept):
    got = menu(pages[role])
    assert kept <= set(got["row"]), got
    if got["more"]:  # what went into "More" is public: the pages everybody sees
        assert not kept & set(got["more"])


def test_a_page_in_a_menu_marks_the_menu_as_where_you_are(app, make):
    admin = make.user(Role.ADMIN)
    client = app.test_client()
    login(client, admin.email)
    html = client.get("/admin/users").get_data(as_text=True)
    admin_menu = re.search(r'<details class="nav-menu nav-menu-admin">(.*?)</details>', html, re.S)
    assert admin_menu is not None
    assert '<summary class="has-current">Admin' in admin_menu.group(1)
    assert 'href="/admin/users" aria-current="page"' in admin_menu.group(1)


def test_one_badge_per_role_naming_every_organisation(app, make):
    first, second = make.organisation(name="Leiden Trials"), make.organisation(name="Oslo Registry")
    user = make.user(Role.CUSTODIAN, organisation=first)
    with app.app_context():
        services.grant_role(SYSTEM, user.id, {"role": "custodian", "organisation_id": second.id})
    client = app.test_client()
    login(client, user.email)
    html = client.get("/").get_data(as_text=True)
    badges = re.findall(r'<span class="badge badge-role badge-custodian" title="([^"]+)">', html)
    assert len(badges) == 1
    assert badges[0] == "Data custodian of Leiden Trials, Oslo Registry"
