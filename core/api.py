"""JSON API of the accounts area, under /api/v1. Views parse, call one service, dump."""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException

from core import inputs, services
from core.auth import current_session_id
from core.errors import http_exception_response
from core.models import User
from core.permissions import Permission
from core.policies import Actor, require, require_login
from core.schemas import (
    CommitteeInputSchema,
    CommitteeSchema,
    CommitteeUpdateSchema,
    OrganisationInputSchema,
    OrganisationPageSchema,
    OrganisationQuerySchema,
    OrganisationSchema,
    OrganisationUpdateSchema,
    PasswordChangeSchema,
    PasswordSetSchema,
    RevokedCountSchema,
    RoleGrantInputSchema,
    RoleGrantSchema,
    SessionSchema,
    TokenCreatedSchema,
    TokenInputSchema,
    TokenSchema,
    UserCreateSchema,
    UserPageSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
    VersionSchema,
)

API_PREFIX = "/api/v1"
PARSER = inputs.PARSER  # every Blueprint's arguments go through core.inputs (see there)


class HarmonyApi(Api):
    """flask-smorest's Api, answering errors as problem details like the rest of the service."""

    def handle_http_exception(self, error: HTTPException) -> Response:
        return http_exception_response(error)

    def register_blueprint(self, blp: Blueprint, *, parameters: Any = None, **options: Any) -> None:
        """Register as flask-smorest does, then name the blueprint's group of operations for
        people (``catalogue_api`` → "Datasets", see :data:`core.openapi.TAGS`)."""
        from core.openapi import ProblemDocs

        super().register_blueprint(blp, parameters=parameters, **options)
        for plugin in self.spec.plugins:
            if isinstance(plugin, ProblemDocs):
                plugin.name_tag(options.get("name", blp.name))


api = HarmonyApi()


def actor() -> Actor:
    """The caller as services see it: the logged-in user, or None for anonymous."""
    user = current_user._get_current_object()
    return user if isinstance(user, User) else None


def _columns(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


F = TypeVar("F", bound=Callable[..., Any])


def login_required(func: F) -> F:
    """The endpoint is for logged-in callers: anonymous ones get 401 before their input is
    even read (services check the finer permissions)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_login(actor())
        return func(*args, **kwargs)

    wrapper.harmony_guard = "login"  # type: ignore[attr-defined]  # see core.openapi
    return wrapper  # type: ignore[return-value]


def permission_required(permission: Permission) -> Callable[[F], F]:
    """The endpoint needs ``permission`` whatever the object: callers without it are refused
    (401/403) before their input is read."""

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require(actor(), permission)
            return func(*args, **kwargs)

        wrapper.harmony_guard = permission  # type: ignore[attr-defined]  # see core.openapi
        return wrapper  # type: ignore[return-value]

    return decorator


def page_body(page: Any) -> dict[str, Any]:
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}


# --- meta -----------------------------------------------------------------------------------

meta = Blueprint("meta", __name__, url_prefix=API_PREFIX, description="Service information")


@meta.route("/version")
class VersionResource(MethodView):
    @meta.response(200, VersionSchema)
    def get(self) -> dict[str, str]:
        """Name and version of this service (public)."""
        from importlib.metadata import version

        return {
            "name": "HARMONY Catalogue",
            "version": version("harmony-catalogue"),
            "api": "v1",
            "environment": current_app.config["HARMONY_ENV"],
        }


# --- the caller's own account ---------------------------------------------------------------

me = Blueprint("me", __name__, url_prefix=API_PREFIX, description="Your own account")


@me.route("/me")
class MeResource(MethodView):
    @login_required
    @me.response(200, UserSchema)
    def get(self) -> User:
        """The logged-in user with their roles."""
        me = services.current_account(actor())
        return services.get_user(me, me.id)


@me.route("/me/password")
class PasswordResource(MethodView):
    @login_required
    @me.arguments(PasswordChangeSchema)
    @me.response(204)
    def post(self, data: dict[str, str]) -> None:
        """Change your password; every other session of yours ends."""
        services.change_password(
            actor(),
            data["current_password"],
            data["new_password"],
            current_session_id(),
            request.remote_addr,
        )


@me.route("/me/sessions")
class SessionsResource(MethodView):
    @login_required
    @me.response(200, SessionSchema(many=True))
    def get(self) -> list[SimpleNamespace]:
        """Your open browser sessions."""
        current = current_session_id()
        return [
            SimpleNamespace(**_columns(s), current=s.id == current)
            for s in services.list_sessions(actor())
        ]


@me.route("/me/sessions/revoke")
class RevokeSessionsResource(MethodView):
    @login_required
    @me.response(200, RevokedCountSchema)
    def post(self) -> dict[str, int]:
        """Log out everywhere else: every session but the one making this call ends."""
        return {"revoked": services.log_out_everywhere(actor(), current_session_id())}


@me.route("/tokens")
class TokensResource(MethodView):
    @login_required
    @me.response(200, TokenSchema(many=True))
    def get(self) -> list[Any]:
        """Your personal API tokens (never their secrets)."""
        return services.list_tokens(actor())

    @login_required
    @me.arguments(TokenInputSchema)
    @me.response(201, TokenCreatedSchema)
    def post(self, data: dict[str, Any]) -> SimpleNamespace:
        """Create a personal API token. The secret is in this answer and nowhere else."""
        me = services.current_account(actor())
        token, secret = services.create_token(me, me, data["name"], data["days"])
        return SimpleNamespace(**_columns(token), token=secret)


@me.route("/tokens/<token_id>")
class TokenResource(MethodView):
    @login_required
    @me.response(204)
    def delete(self, token_id: str) -> None:
        """Revoke one of your tokens; it stops working at once."""
        services.revoke_token(actor(), token_id)


# --- organisations --------------------------------------------------------------------------

orgs = Blueprint("organisations", __name__, url_prefix=API_PREFIX, description="Organisations")


@orgs.route("/organisations")
class OrganisationsResource(MethodView):
    @orgs.arguments(OrganisationQuerySchema, location="query")
    @orgs.response(200, OrganisationPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Partner organisations (public). Sort by name, country, kind or created_at."""
        return page_body(services.list_organisations(actor(), **query))

    @permission_required(Permission.ORGANISATION_CREATE)
    @orgs.arguments(OrganisationInputSchema)
    @orgs.response(201, OrganisationSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register an organisation (admin)."""
        return services.create_organisation(actor(), data)


@orgs.route("/organisations/<organisation_id>")
class OrganisationResource(MethodView):
    @orgs.response(200, OrganisationSchema)
    def get(self, organisation_id: str) -> Any:
        """One organisation (public)."""
        return services.get_organisation(actor(), organisation_id)

    @permission_required(Permission.ORGANISATION_UPDATE)
    @orgs.arguments(OrganisationUpdateSchema())
    @orgs.response(200, OrganisationSchema)
    def patch(self, data: dict[str, Any], organisation_id: str) -> Any:
        """Change an organisation (admin)."""
        return services.update_organisation(actor(), organisation_id, data)


# --- users and roles ------------------------------------------------------------------------

users = Blueprint("users", __name__, url_prefix=API_PREFIX, description="Users and roles (admin)")


@users.route("/users")
class UsersResource(MethodView):
    @permission_required(Permission.USER_LIST)
    @users.arguments(UserQuerySchema, location="query")
    @users.response(200, UserPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """All accounts (admin). Sort by name, email, created_at or last_login_at."""
        return page_body(services.list_users(actor(), **query))

    @permission_required(Permission.USER_CREATE)
    @users.arguments(UserCreateSchema)
    @users.response(201, UserSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an account, optionally with a password and roles (admin)."""
        return services.create_user(actor(), data)


@users.route("/users/<user_id>")
class UserResource(MethodView):
    @login_required
    @users.response(200, UserSchema)
    def get(self, user_id: str) -> Any:
        """One account (admin, or the user themself)."""
        return services.get_user(actor(), user_id)

    @login_required
    @users.arguments(UserUpdateSchema)
    @users.response(200, UserSchema)
    def patch(self, data: dict[str, Any], user_id: str) -> Any:
        """Change an account (admin); ``is_active: false`` ends its sessions and tokens."""
        return services.update_user(actor(), user_id, data)


@users.route("/users/<user_id>/password")
class UserPasswordResource(MethodView):
    @login_required
    @users.arguments(PasswordSetSchema)
    @users.response(204)
    def put(self, data: dict[str, str], user_id: str) -> None:
        """Set an account's password (admin); the user's sessions end and API tokens are
        revoked."""
        services.set_password(actor(), user_id, data["password"])


@users.route("/users/<user_id>/roles")
class RolesResource(MethodView):
    @login_required
    @users.arguments(RoleGrantInputSchema)
    @users.response(201, RoleGrantSchema)
    def post(self, data: dict[str, Any], user_id: str) -> Any:
        """Grant a role: custodian names an organisation, DAC roles name a committee (admin)."""
        return services.grant_role(actor(), user_id, data)


@users.route("/users/<user_id>/roles/<grant_id>")
class RoleResource(MethodView):
    @login_required
    @users.response(204)
    def delete(self, user_id: str, grant_id: str) -> None:
        """Revoke a role grant (admin). The last administrator cannot be removed."""
        services.revoke_role(actor(), user_id, grant_id)


# --- committees -----------------------------------------------------------------------------

committees = Blueprint(
    "committees", __name__, url_prefix=API_PREFIX, description="Data access committees"
)


@committees.route("/committees")
class CommitteesResource(MethodView):
    @login_required
    @committees.response(200, CommitteeSchema(many=True))
    def get(self) -> list[Any]:
        """Data access committees with their members (logged-in users)."""
        return services.list_committees(actor())

    @permission_required(Permission.COMMITTEE_CREATE)
    @committees.arguments(CommitteeInputSchema)
    @committees.response(201, CommitteeSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a committee (admin); members are added by granting DAC roles."""
        return services.create_committee(actor(), data)


@committees.route("/committees/<committee_id>")
class CommitteeResource(MethodView):
    @login_required
    @committees.response(200, CommitteeSchema)
    def get(self, committee_id: str) -> Any:
        """One committee (logged-in users)."""
        return services.get_committee(actor(), committee_id)

    @permission_required(Permission.COMMITTEE_UPDATE)
    @committees.arguments(CommitteeUpdateSchema())
    @committees.response(200, CommitteeSchema)
    def patch(self, data: dict[str, Any], committee_id: str) -> Any:
        """Rename or describe a committee (admin)."""
        return services.update_committee(actor(), committee_id, data)


def init_app(app: Flask) -> None:
    from core.openapi import ProblemDocs

    api.init_app(
        app,
        spec_kwargs={
            "extra_plugins": [ProblemDocs(app)],  # problem+json errors, uploads, links
            "security": [{"bearer": []}, {}],
            "info": {
                "description": (
                    "Metadata catalogue and consent governance of the HARMONY alliance. Errors are "
                    "RFC 9457 problem details. Authenticate with a browser session (and an "
                    "X-CSRFToken header) or with `Authorization: Bearer <personal API token>`."
                )
            },
        },
    )
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in (meta, me, orgs, users, committees):
        api.register_blueprint(blueprint)
