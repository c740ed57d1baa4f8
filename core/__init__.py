"""Application factory of the HARMONY Catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from core.config import load_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(
    test_config: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> Flask:
    """Build the application.

    :param test_config: settings that override those from the environment (tests).
    :param env: the environment to read instead of ``os.environ`` (tests).
    :raises core.config.ConfigError: for a configuration that must not run (see README).
    """
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        static_folder="static",
        template_folder="templates",
    )
    app.config.from_mapping(load_config(Path(app.instance_path), env))
    if test_config:
        app.config.from_mapping(test_config)
    if app.config["HARMONY_ENV"] == "production":
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=0)  # type: ignore[method-assign]

    from core import api, auth, db, errors, policies, security

    policies.register()  # the accounts' permission rules; each area registers its own
    db.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    errors.register_error_handlers(app)
    api.init_app(app)
    from core import jobs_api

    jobs_api.init_app(app)  # the queue, the jobs resource and page (areas register handlers)
    from core import audit_api

    audit_api.init_app(app)  # the audit trail's API, page and `harmony audit` commands
    from core import notifications

    notifications.init_app(app)  # users' notifications: API, page, header count, their mail

    from core.views import bp as core_views

    app.register_blueprint(core_views)

    # Areas, in dependency order; each registers its API and pages.
    import catalogue
    import governance
    import ontologies

    for area in (ontologies, catalogue, governance):
        area.init_app(app)

    _register_template_helpers(app)

    from core.cli import register_commands

    register_commands(app)
    return app


def _register_template_helpers(app: Flask) -> None:
    from core import nav
    from core.db import utcnow
    from core.models import ROLE_LABELS

    @app.context_processor
    def _globals() -> dict[str, Any]:
        user = current_user if current_user.is_authenticated else None
        return {
            "current_actor": user,
            "nav_main": nav.entries_for(user, "main"),
            "nav_admin": nav.entries_for(user, "admin"),
            "nav_user": nav.entries_for(user, "user"),
            "role_labels": ROLE_LABELS,
            "environment": app.config["HARMONY_ENV"],
            "request_id": g.get("request_id"),
            "has_session": "sid" in session,
            "now_utc": utcnow,
        }

    from core.text import number_word, plural

    app.add_template_filter(plural, "plural")
    app.add_template_filter(number_word, "pluralize")

    @app.template_filter("datetime")
    def _datetime(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"
