"""Who gets which dataset page and form action: anonymous, a researcher, a custodian of the
owning organisation, a custodian of another organisation, an admin. (The role table in
tests/core/test_authorization.py covers every route; this one adds the owning custodian.)"""

from __future__ import annotations

import pytest

from core.models import Role
from tests.conftest import csrf_token, login

pytestmark = pytest.mark.usefixtures("vocabularies")

CALLERS = ("anonymous", "researcher", "own_custodian", "other_custodian", "admin")
LOGIN = "login"  # a redirect to the login page
BACK = "back"  # a redirect after the action was done


@pytest.fixture
def world(make):
    org = make.organisation()
    users = {
        "researcher": make.user(Role.RESEARCHER),
        "own_custodian": make.user(Role.CUSTODIAN, organisation=org),
        "other_custodian": make.user(Role.CUSTODIAN, organisation=make.organisation()),
        "admin": make.user(Role.ADMIN),
    }
    return {
        "draft": make.dataset(org),
        "published": make.dataset(org, publish=True),
        "users": users,
    }


def _client_for(app, world, caller):
    client = app.test_client()
    if caller != "anonymous":
        assert login(client, world["users"][caller].email).status_code == 302
    return client


def expect(anonymous, researcher, own, other, admin):
    return dict(zip(CALLERS, (anonymous, researcher, own, other, admin), strict=True))


PAGES = [
    ("/datasets/{draft}", expect(404, 404, 200, 404, 200)),
    ("/datasets/{draft}/versions/1", expect(404, 404, 200, 404, 200)),
    ("/datasets/{draft}/edit", expect(LOGIN, 404, 200, 404, 200)),
    ("/datasets/{published}", expect(200, 200, 200, 200, 200)),
    ("/datasets/{published}/edit", expect(LOGIN, 403, 409, 403, 409)),
    ("/datasets/mine", expect(LOGIN, 403, 200, 200, 200)),
    ("/datasets/new", expect(LOGIN, 403, 200, 200, 200)),
    ("/datasets/{draft}/mappings", expect(LOGIN, 404, 200, 404, 200)),
    ("/datasets/{published}/mappings", expect(LOGIN, 403, 409, 403, 409)),
    ("/datasets/{draft}/dictionary", expect(LOGIN, 404, 200, 404, 200)),
    ("/datasets/{published}/dictionary", expect(LOGIN, 403, 409, 403, 409)),
]
ACTIONS = [
    ("/datasets/{draft}/publish", expect(LOGIN, 404, BACK, 404, BACK)),
    ("/datasets/{draft}/delete", expect(LOGIN, 404, BACK, 404, BACK)),
    ("/datasets/{published}/new-version", expect(LOGIN, 403, BACK, 403, BACK)),
    ("/datasets/{published}/retire", expect(LOGIN, 403, BACK, 403, BACK)),
    ("/datasets/{draft}/mappings/suggest", expect(LOGIN, 404, BACK, 404, BACK)),
]


def _check(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    elif expected == BACK:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/datasets/")
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("path", "expected"), PAGES, ids=[p for p, _ in PAGES])
def test_pages(app, world, caller, path, expected):
    client = _client_for(app, world, caller)
    response = client.get(path.format(**world))
    _check(response, expected[caller])
    if response.status_code == 200 and "{published}" in path and not path.endswith("edit"):
        editor = caller in ("own_custodian", "admin")
        assert ("Manage this dataset" in response.get_data(as_text=True)) is editor


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("path", "expected"), ACTIONS, ids=[p for p, _ in ACTIONS])
def test_actions(app, world, caller, path, expected):
    client = _client_for(app, world, caller)
    token = csrf_token(client, "/")
    response = client.post(path.format(**world), data={"csrf_token": token, "revision": "*"})
    _check(response, expected[caller])
    if expected[caller] == BACK:
        after = client.get(response.headers["Location"]).get_data(as_text=True)
        assert 'class="flash flash-success"' in after, after[:3000]
