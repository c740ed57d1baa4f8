"""HTML pages of the accounts area: login, own account, and the administration pages."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import swagger_ui_bundle
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from sqlalchemy import text
from werkzeug.wrappers import Response as WerkzeugResponse

from core import audit, auth, services
from core.api import actor
from core.auth import current_session_id
from core.db import get_session
from core.errors import InvalidInput, TooManyRequests, Unauthenticated
from core.forms import load_form
from core.models import ROLE_LABELS, OrganisationKind, Role
from core.nav import NavEntry, has_role, logged_in, register
from core.schemas import (
    CommitteeInputSchema,
    OrganisationInputSchema,
    OrganisationUpdateSchema,
    PasswordChangeSchema,
    RoleGrantInputSchema,
    TokenInputSchema,
    UserCreateSchema,
    UserUpdateSchema,
)
from core.text import plural

bp = Blueprint("core", __name__, template_folder="templates")

register(NavEntry("Organisations", "core.admin_organisations", has_role(Role.ADMIN), "admin", 10))
register(NavEntry("Users", "core.admin_users", has_role(Role.ADMIN), "admin", 20))
register(NavEntry("Committees", "core.admin_committees", has_role(Role.ADMIN), "admin", 30))
register(NavEntry("API", "core.api_docs", lambda u: True, "main", 90))
register(NavEntry("My account", "core.account", logged_in, "account", 10))


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce the user to another site."""
    if not target:
        return url_for("datasets.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("datasets.home")
    return target


# --- health and API docs --------------------------------------------------------------------


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        get_session().execute(text("SELECT 1"))
    except Exception:
        current_app.logger.exception("health check failed")
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


@bp.get("/favicon.ico")
def favicon() -> WerkzeugResponse:
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/api/docs")
def api_docs() -> str:
    return render_template("core/api_docs.html")


@bp.get("/api/docs/assets/<path:filename>")
def api_docs_asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


# --- login ----------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if actor() is not None:
            return redirect(next_url)
        return render_template("core/login.html", next_url=next_url, email="")
    email = request.form.get("email", "")
    try:
        user = services.authenticate(email, request.form.get("password", ""), request.remote_addr)
    except Unauthenticated as exc:
        return render_template(
            "core/login.html", next_url=next_url, email=email, error=exc.detail
        ), 401
    except TooManyRequests as exc:
        page = render_template("core/login.html", next_url=next_url, email=email, error=exc.detail)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    auth.log_in(user)
    flash(f"Welcome, {user.name}.", "success")
    return redirect(next_url)


@bp.post("/logout")
def logout() -> WerkzeugResponse:
    auth.log_out()
    flash("You are logged out.", "success")
    return redirect(url_for("datasets.home"))


# --- own account ----------------------------------------------------------------------------


def _account_page(status: int = 200, **context: Any) -> tuple[str, int]:
    me = services.current_account(actor())
    current = current_session_id()
    return render_template(
        "core/account.html",
        me=me,
        sessions=services.list_sessions(me),
        current_session=current,
        tokens=services.list_tokens(me),
        role_labels=ROLE_LABELS,
        **context,
    ), status


@bp.get("/account")
def account() -> Any:
    return _account_page()


@bp.post("/account/password")
def account_password() -> Any:
    try:
        data = load_form(PasswordChangeSchema(), request.form, drop_empty=False)
        services.change_password(
            actor(),
            data["current_password"],
            data["new_password"],
            current_session_id(),
            request.remote_addr,
        )
    except InvalidInput as exc:
        return _account_page(422, password_errors=exc.errors)
    except TooManyRequests as exc:
        page, _ = _account_page(429, password_errors={"current_password": [exc.detail]})
        return page, 429, {"Retry-After": str(exc.retry_after)}
    flash("Your password is changed. Every other session of yours has ended.", "success")
    return redirect(url_for("core.account"))


@bp.post("/account/sessions/revoke")
def account_revoke_sessions() -> Any:
    count = services.log_out_everywhere(actor(), current_session_id())
    flash(f"Logged out everywhere else ({plural(count, 'session')} ended).", "success")
    return redirect(url_for("core.account"))


@bp.post("/account/tokens")
def account_create_token() -> Any:
    me = services.current_account(actor())
    try:
        data = load_form(TokenInputSchema(), request.form)
        token, secret = services.create_token(me, me, data["name"], data.get("days"))
    except InvalidInput as exc:
        return _account_page(422, token_errors=exc.errors)
    return _account_page(201, new_token=token, new_secret=secret)


@bp.post("/account/tokens/<token_id>/revoke")
def account_revoke_token(token_id: str) -> Any:
    token = services.revoke_token(actor(), token_id)
    flash(f"Token “{token.name}” is revoked.", "success")
    return redirect(url_for("core.account"))


# --- administration: organisations ----------------------------------------------------------


def _page_args() -> dict[str, Any]:
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    return {"page": page, "per_page": 25, "sort": request.args.get("sort") or None}


@bp.route("/admin/organisations", methods=["GET", "POST"])
def admin_organisations() -> Any:
    errors: dict[str, list[str]] = {}
    form: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            organisation = services.create_organisation(
                actor(), load_form(OrganisationInputSchema(), request.form)
            )
        except InvalidInput as exc:
            errors, status = exc.errors or {}, 422
        else:
            flash(f"Organisation “{organisation.name}” is registered.", "success")
            return redirect(url_for("core.admin_organisations", q=organisation.name))
    q = request.args.get("q", "").strip() or None
    services.open_admin_console(actor())
    page = services.list_organisations(actor(), q=q, **_page_args())
    return render_template(
        "core/admin_organisations.html",
        page=page,
        q=q or "",
        errors=errors,
        form=form,
        kinds=list(OrganisationKind),
    ), status


@bp.route("/admin/organisations/<organisation_id>", methods=["GET", "POST"])
def admin_organisation(organisation_id: str) -> Any:
    services.open_admin_console(actor())
    organisation = services.get_organisation(actor(), organisation_id)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            data = load_form(OrganisationUpdateSchema(), request.form, drop_empty=False)
            services.update_organisation(actor(), organisation_id, data)
        except InvalidInput as exc:
            errors, status = exc.errors or {}, 422
        else:
            flash("Saved.", "success")
            return redirect(url_for("core.admin_organisation", organisation_id=organisation_id))
    return render_template(
        "core/admin_organisation.html",
        organisation=organisation,
        errors=errors,
        kinds=list(OrganisationKind),
        history=audit.history(actor(), "organisation", organisation.id),
    ), status


# --- administration: users ------------------------------------------------------------------


@bp.route("/admin/users", methods=["GET", "POST"])
def admin_users() -> Any:
    errors: dict[str, list[str]] = {}
    form: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = request.form.to_dict()
        fields = request.form.copy()
        role = fields.pop("role", "")
        scope_org = fields.pop("role_organisation_id", "")
        scope_committee = fields.pop("role_committee_id", "")
        try:
            data = load_form(UserCreateSchema(), fields)
            if role:
                data["roles"] = [
                    load_form(RoleGrantInputSchema(), _grant_form(role, scope_org, scope_committee))
                ]
            user = services.create_user(actor(), data)
        except InvalidInput as exc:
            errors, status = _form_field_names(exc.errors or {}), 422
        else:
            flash(f"Account for {user.email} is created.", "success")
            return redirect(url_for("core.admin_user", user_id=user.id))
    q = request.args.get("q", "").strip() or None
    role_filter = request.args.get("role") or None
    page = services.list_users(actor(), q=q, role=role_filter, **_page_args())
    return render_template(
        "core/admin_users.html",
        page=page,
        q=q or "",
        role_filter=role_filter or "",
        errors=errors,
        form=form,
        **_choices(),
    ), status


def _form_field_names(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The first role's scope fields are called role_organisation_id / role_committee_id on the
    form; the service names them roles.0.organisation_id / roles.0.committee_id."""
    return {re.sub(r"^roles\.0\.", "role_", key): messages for key, messages in errors.items()}


def _grant_form(role: str, organisation_id: str, committee_id: str) -> Any:
    from werkzeug.datastructures import MultiDict

    return MultiDict(
        {"role": role, "organisation_id": organisation_id, "committee_id": committee_id}
    )


def _choices() -> dict[str, Any]:
    return {
        "organisations": services.list_organisations(actor(), per_page=200).items,
        "committees": services.list_committees(actor()),
        "roles": list(Role),
        "role_labels": ROLE_LABELS,
    }


@bp.route("/admin/users/<user_id>", methods=["GET", "POST"])
def admin_user(user_id: str) -> Any:
    services.open_admin_console(actor())
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        form = request.form.copy()
        form.setdefault("is_active", "false")
        if form.get("organisation_id") == "":
            form["organisation_id"] = "__none__"
        try:
            data = load_form(UserUpdateSchema(), form)
            if data.get("organisation_id") == "__none__":
                data["organisation_id"] = None
            services.update_user(actor(), user_id, data)
        except InvalidInput as exc:
            errors, status = exc.errors or {}, 422
        else:
            flash("Saved.", "success")
            return redirect(url_for("core.admin_user", user_id=user_id))
    user = services.get_user(actor(), user_id)
    history = audit.history(actor(), "user", user.id)
    return render_template(
        "core/admin_user.html", user=user, errors=errors, history=history, **_choices()
    ), status


@bp.post("/admin/users/<user_id>/roles")
def admin_grant_role(user_id: str) -> Any:
    try:
        data = load_form(RoleGrantInputSchema(), request.form)
        services.grant_role(actor(), user_id, data)
    except InvalidInput as exc:
        for field, messages in (exc.errors or {}).items():
            flash(f"{field}: {' '.join(messages)}", "error")
    else:
        flash("Role granted.", "success")
    return redirect(url_for("core.admin_user", user_id=user_id))


@bp.post("/admin/users/<user_id>/roles/<grant_id>/revoke")
def admin_revoke_role(user_id: str, grant_id: str) -> Any:
    services.revoke_role(actor(), user_id, grant_id)
    flash("Role revoked.", "success")
    return redirect(url_for("core.admin_user", user_id=user_id))


# --- administration: committees -------------------------------------------------------------


@bp.route("/admin/committees", methods=["GET", "POST"])
def admin_committees() -> Any:
    services.open_admin_console(actor())
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            committee = services.create_committee(
                actor(), load_form(CommitteeInputSchema(), request.form)
            )
        except InvalidInput as exc:
            errors, status = exc.errors or {}, 422
        else:
            flash(f"Committee “{committee.name}” is created.", "success")
            return redirect(url_for("core.admin_committees"))
    return render_template(
        "core/admin_committees.html",
        committees=services.list_committees(actor()),
        errors=errors,
        role_labels=ROLE_LABELS,
    ), status
