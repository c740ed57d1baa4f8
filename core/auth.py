"""Who is calling: a browser session (cookie → server-side session record) or a personal API
token (``Authorization: Bearer …``). flask-login keeps ``current_user``; we only load users."""

from __future__ import annotations

from flask import Flask, Request, g, request, session
from flask_login import LoginManager

from core import services
from core.models import User

login_manager = LoginManager()
SESSION_KEY = "sid"


def bearer_token(req: Request) -> str | None:
    header = req.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


@login_manager.request_loader
def _load_user_from_request(req: Request) -> User | None:
    token = bearer_token(req)
    if token is not None:
        g.auth_method = "token"
        return services.resolve_token(token)
    secret = session.get(SESSION_KEY)
    if isinstance(secret, str):
        resolved = services.resolve_session(secret)
        if resolved is None:
            session.pop(SESSION_KEY, None)
            return None
        g.auth_method = "session"
        g.session_id = resolved.session_id
        return resolved.user
    return None


def log_in(user: User) -> None:
    secret = services.start_session(user, request.remote_addr, request.user_agent.string)
    session.clear()
    session[SESSION_KEY] = secret
    session.permanent = True


def log_out() -> None:
    secret = session.get(SESSION_KEY)
    if isinstance(secret, str):
        services.end_session(secret)
    session.clear()


def current_session_id() -> str | None:
    return g.get("session_id")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "core.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.session_protection = None  # sessions are server-side records already
