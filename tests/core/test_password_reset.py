"""An administrator's password reset ends the account's sessions and its API tokens: the reset
is for a lost or taken-over account, and tokens made with the old password must not outlive it."""

from __future__ import annotations

from core.models import Role
from tests.conftest import login


def _me(client, token):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_an_admin_reset_revokes_the_users_tokens_and_sessions(app, client, make):
    admin = {"Authorization": f"Bearer {make.token(make.user(Role.ADMIN))}"}
    user = make.user(Role.RESEARCHER)
    token = make.token(user)
    browser = app.test_client()
    assert login(browser, user.email).status_code == 302
    assert _me(client, token).status_code == 200
    reset = client.put(
        f"/api/v1/users/{user.id}/password", json={"password": "given by the admin"}, headers=admin
    )
    assert reset.status_code == 204
    assert _me(client, token).status_code == 401
    assert browser.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=admin).status_code == 200  # the admin's token stays


def test_the_cli_reset_revokes_the_users_tokens(app, client, make):
    user = make.user(Role.RESEARCHER)
    token = make.token(user)
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "--email", user.email, "--password", "set on the shell"]
    )
    assert result.exit_code == 0, result.output
    assert "tokens" in result.stderr
    assert _me(client, token).status_code == 401
    assert login(app.test_client(), user.email, "set on the shell").status_code == 302
