"""The public register of approved data uses (``/register``, ``GET /api/v1/register``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's blueprints and its entry in the main navigation."""
    from core import nav
    from core.api import api
    from governance.register import api as register_api
    from governance.register import views

    api.register_blueprint(register_api.blp)
    app.register_blueprint(views.bp)
    nav.register(
        nav.NavEntry("Register of data uses", "register.register_page", nav.everyone, "main", 60)
    )
