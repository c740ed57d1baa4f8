"""Logging in and out, sessions that the server can revoke, CSRF, rate limits and API tokens."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

from sqlalchemy import select, update

from core.db import get_session, utcnow
from core.models import ApiToken, Role, User, UserSession
from tests.conftest import PASSWORD, api_headers, csrf_token, login, post_form


def _me(client, **kwargs):
    return client.get("/api/v1/me", **kwargs)


def test_login_then_logout(client, make):
    user = make.user(Role.RESEARCHER, name="Rosa Researcher")
    response = login(client, user.email)
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Rosa Researcher" in home and "Log out" in home
    assert _me(client).json["email"] == user.email
    post_form(client, "/logout", {})
    assert _me(client).status_code == 401
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_login_accepts_email_in_any_case(client, make):
    user = make.user(Role.RESEARCHER, email="Mixed.Case@Example.org")
    assert user.email == "mixed.case@example.org"
    assert login(client, "MIXED.case@example.ORG").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make):
    user = make.user(Role.RESEARCHER)
    wrong = login(client, user.email, "not the password at all")
    unknown = login(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    message = "The email address or password is incorrect."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert _me(client).status_code == 401


def test_deactivated_account_cannot_log_in(client, make, app):
    user = make.user(Role.RESEARCHER)
    with app.app_context():
        get_session().execute(update(User).where(User.id == user.id).values(is_active=False))
        get_session().commit()
    response = login(client, user.email)
    assert response.status_code == 401
    assert "The email address or password is incorrect." in response.get_data(as_text=True)


def test_passwords_are_stored_as_argon2id_hashes(make, app):
    user = make.user(Role.RESEARCHER)
    with app.app_context():
        stored = get_session().get(User, user.id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_login_redirects_only_to_local_pages(client, make):
    user = make.user(Role.ADMIN)
    token = csrf_token(client)
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    evil = client.post("/login", data={**data, "next": "https://evil.example/steal"})
    assert evil.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client)
    local = client.post("/login", data={**data, "csrf_token": token, "next": "/admin/users?q=x"})
    assert local.headers["Location"] == "/admin/users?q=x"


def test_session_cookie_flags(client, make):
    user = make.user(Role.RESEARCHER)
    response = login(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "harmony_session" in c)
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    # the 12-hour absolute lifetime, not Flask's 31-day default
    assert dt.timedelta(hours=11, minutes=59) < expires - utcnow() <= dt.timedelta(hours=12)


def test_logout_makes_a_copied_cookie_useless(app, make):
    user = make.user(Role.RESEARCHER)
    browser, thief = app.test_client(), app.test_client()
    login(browser, user.email)
    stolen = browser.get_cookie("harmony_session").value
    thief.set_cookie("harmony_session", stolen)
    assert _me(thief).status_code == 200
    post_form(browser, "/logout", {})
    assert _me(thief).status_code == 401


def test_password_change_ends_other_sessions_but_keeps_this_one(app, make):
    user = make.user(Role.RESEARCHER)
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user.email)
    login(phone, user.email)
    new_password = "a much better passphrase 42"
    response = laptop.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=api_headers(laptop),
    )
    assert response.status_code == 204
    assert _me(laptop).status_code == 200
    assert _me(phone).status_code == 401
    assert login(app.test_client(), user.email, new_password).status_code == 302
    assert login(app.test_client(), user.email, PASSWORD).status_code == 401


def test_password_change_checks_current_password_and_policy(client, make):
    user = make.user(Role.RESEARCHER)
    login(client, user.email)
    headers = api_headers(client)
    wrong = client.post(
        "/api/v1/me/password",
        json={"current_password": "nope nope nope", "new_password": "long enough password"},
        headers=headers,
    )
    assert wrong.status_code == 422 and "current_password" in wrong.json["errors"]
    short = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=headers,
    )
    assert short.status_code == 422
    assert "12 characters" in " ".join(short.json["errors"]["new_password"])
    same_as_email = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": user.email},
        headers=headers,
    )
    assert same_as_email.status_code == 422
    assert "email" in " ".join(same_as_email.json["errors"]["new_password"])


def test_log_out_everywhere(app, make):
    user = make.user(Role.RESEARCHER)
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user.email)
    login(elsewhere, user.email)
    response = here.post("/api/v1/me/sessions/revoke", headers=api_headers(here))
    assert response.json == {"revoked": 1}
    assert _me(here).status_code == 200
    assert _me(elsewhere).status_code == 401


def test_deactivation_ends_sessions_and_tokens(app, make):
    admin = make.user(Role.ADMIN)
    user = make.user(Role.RESEARCHER)
    token = make.token(user)
    browser, admin_client = app.test_client(), app.test_client()
    login(browser, user.email)
    login(admin_client, admin.email)
    response = admin_client.patch(
        f"/api/v1/users/{user.id}", json={"is_active": False}, headers=api_headers(admin_client)
    )
    assert response.status_code == 200 and response.json["is_active"] is False
    assert _me(browser).status_code == 401
    assert _me(app.test_client(), headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_idle_session_expires(client, make, app):
    user = make.user(Role.RESEARCHER)
    login(client, user.email)
    assert _me(client).status_code == 200
    with app.app_context():
        get_session().execute(
            update(UserSession).values(last_seen_at=utcnow() - dt.timedelta(hours=2, minutes=1))
        )
        get_session().commit()
    assert _me(client).status_code == 401


def test_session_has_an_absolute_lifetime(client, make, app):
    user = make.user(Role.RESEARCHER)
    login(client, user.email)
    with app.app_context():
        record = get_session().scalar(select(UserSession).where(UserSession.user_id == user.id))
        assert record.expires_at - record.created_at == dt.timedelta(hours=12)
        get_session().execute(update(UserSession).values(expires_at=utcnow()))
        get_session().commit()
    assert _me(client).status_code == 401


def test_forms_without_csrf_token_are_refused(client, make):
    user = make.user(Role.RESEARCHER)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "security token" in response.get_data(as_text=True)
    assert _me(client).status_code == 401


def test_cookie_api_calls_need_csrf_but_token_calls_do_not(client, make):
    admin = make.user(Role.ADMIN)
    body = {"name": "Hospital Without Token", "country": "FR", "kind": "hospital"}
    login(client, admin.email)
    refused = client.post("/api/v1/organisations", json=body)
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    accepted = client.post("/api/v1/organisations", json=body, headers=api_headers(client))
    assert accepted.status_code == 201
    token = make.token(admin)
    fresh = client.application.test_client()
    by_token = fresh.post(
        "/api/v1/organisations",
        json={**body, "name": "Hospital With Token"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert by_token.status_code == 201


def test_api_token_authenticates_and_is_stored_hashed(client, make, app):
    user = make.user(Role.RESEARCHER)
    token = make.token(user)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["id"] == user.id
    with app.app_context():
        stored = get_session().scalar(select(ApiToken).where(ApiToken.user_id == user.id))
        assert stored.token_hash != token and token not in stored.token_hash
        assert stored.last_used_at is not None


def test_token_lifecycle_through_the_api(client, make):
    user = make.user(Role.RESEARCHER)
    login(client, user.email)
    created = client.post(
        "/api/v1/tokens", json={"name": "harvester", "days": 7}, headers=api_headers(client)
    )
    assert created.status_code == 201
    secret = created.json["token"]
    assert secret.startswith("hmy_")
    listed = client.get("/api/v1/tokens").json
    assert [t["name"] for t in listed] == ["harvester"]
    assert "token" not in listed[0]  # the secret is never shown again
    bearer = {"Authorization": f"Bearer {secret}"}
    other = client.application.test_client()
    assert other.get("/api/v1/me", headers=bearer).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{created.json['id']}", headers=api_headers(client))
    assert revoked.status_code == 204
    assert other.get("/api/v1/me", headers=bearer).status_code == 401


def test_expired_token_is_refused(client, make, app):
    user = make.user(Role.RESEARCHER)
    token = make.token(user, days=1)
    with app.app_context():
        get_session().execute(
            update(ApiToken).where(ApiToken.user_id == user.id).values(expires_at=utcnow())
        )
        get_session().commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_garbage_tokens_are_refused(client):
    for value in ("Bearer hmy_notatoken", "Bearer something-else", "Bearer " + "x" * 5000):
        assert client.get("/api/v1/me", headers={"Authorization": value}).status_code == 401


def test_someone_elses_token_cannot_be_revoked(client, make):
    owner = make.user(Role.RESEARCHER)
    make.token(owner)
    intruder = make.user(Role.RESEARCHER)
    login(client, intruder.email)
    with client.application.app_context():
        token_id = get_session().scalar(select(ApiToken.id).where(ApiToken.user_id == owner.id))
    response = client.delete(f"/api/v1/tokens/{token_id}", headers=api_headers(client))
    assert response.status_code == 404


def test_token_lifetime_is_bounded(client, make):
    user = make.user(Role.RESEARCHER)
    login(client, user.email)
    response = client.post(
        "/api/v1/tokens", json={"name": "forever", "days": 10000}, headers=api_headers(client)
    )
    assert response.status_code == 422 and "days" in response.json["errors"]


def test_token_page_shows_the_secret_once(client, make):
    user = make.user(Role.RESEARCHER)
    login(client, user.email)
    page = post_form(client, "/account/tokens", {"name": "notebook", "days": "30"}, "/account")
    html = page.get_data(as_text=True)
    assert page.status_code == 201
    secret = html.split('id="new-token" class="secret">')[1].split("<")[0]
    assert secret.startswith("hmy_")
    assert secret not in client.get("/account").get_data(as_text=True)
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
