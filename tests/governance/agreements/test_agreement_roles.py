"""Every agreement endpoint and page, for each kind of caller, answers the status it should
(the rows proposed for tests/core/test_authorization.py, checked here against this area's
world: ``custodian`` is a custodian of the agreements' organisation, ``foreign`` an active
agreement of another organisation). Changes send ``If-Match: *``."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.core.test_authorization import (  # the role table's roles and status helpers
    MANAGERS,
    NOT_THEIRS,
    ROLES,
    users_only,
)

A, R, C, D, M = ROLES
USER = {"custodian": "owner"}

API = [
    ("GET", "/api/v1/agreements", None, users_only(200)),
    ("POST", "/api/v1/agreements", {"reference": "DSA-ROLE-1"},
     {A: 401, R: 403, C: 201, D: 403, M: 422}),  # admins name the organisation
    ("GET", "/api/v1/agreements/{draft}", None, MANAGERS),
    ("GET", "/api/v1/agreements/{active}", None, users_only(200)),
    ("PATCH", "/api/v1/agreements/{draft}", {"title": "Renamed"}, MANAGERS),
    ("PATCH", "/api/v1/agreements/{active}", {"title": "x"},
     {A: 401, R: 403, C: 409, D: 403, M: 409}),
    ("PATCH", "/api/v1/agreements/{foreign}", {"title": "x"}, NOT_THEIRS | {M: 409}),
    ("DELETE", "/api/v1/agreements/{draft}", None, MANAGERS | {C: 204, M: 204}),
    ("POST", "/api/v1/agreements/{bare}/activate", None, MANAGERS | {C: 422, M: 422}),
    ("POST", "/api/v1/agreements/{active}/terminate", {"reason": "Ended."},
     NOT_THEIRS | {C: 200}),
    ("POST", "/api/v1/agreements/{foreign}/terminate", {"reason": "Ended."}, NOT_THEIRS),
    ("POST", "/api/v1/agreements/{active}/amend", None, NOT_THEIRS | {C: 201, M: 201}),
    ("GET", "/api/v1/agreements/{active}/versions", None, users_only(200)),
    ("GET", "/api/v1/agreements/{active}/document", None, NOT_THEIRS | {C: 200}),
    ("GET", "/api/v1/agreements/{bare}/document", None, MANAGERS | {C: 404, M: 404}),
    ("POST", "/api/v1/agreements/{draft}/document", None, MANAGERS | {C: 422, M: 422}),
]  # fmt: skip

PAGES = [
    ("/agreements", {A: 302, R: 200, C: 200, D: 200, M: 200}),
    ("/agreements/new", {A: 302, R: 403, C: 200, D: 403, M: 200}),
    ("/agreements/{active}", {A: 302, R: 200, C: 200, D: 200, M: 200}),
    ("/agreements/{draft}", {A: 302, R: 404, C: 200, D: 404, M: 200}),
    ("/agreements/{draft}/edit", {A: 302, R: 404, C: 200, D: 404, M: 200}),
    ("/agreements/{active}/edit", {A: 302, R: 403, C: 409, D: 403, M: 409}),
    ("/agreements/{active}/document", {A: 302, R: 403, C: 200, D: 403, M: 200}),
]


def ids(world) -> dict[str, str]:
    a = world.agreements
    return {"draft": a["draft"], "bare": a["bare"], "active": a["aml"], "foreign": a["lyon"]}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), API, ids=[f"{m} {p}" for m, p, _, _ in API]
)
def test_api_role_table(client, world, role, method, path, body, expected):
    headers = {"If-Match": "*"}
    if role != A:
        headers["Authorization"] = f"Bearer {world.tokens[USER.get(role, role)]}"
    response = client.open(path.format(**ids(world)), method=method, json=body, headers=headers)
    assert response.status_code == expected[role], response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "expected"), PAGES, ids=[p for p, _ in PAGES])
def test_page_role_table(client, world, role, path, expected):
    if role != A:
        login(client, world.emails[USER.get(role, role)])
    response = client.get(path.format(**ids(world)))
    assert response.status_code == expected[role]
