"""Entitlements: the access an approved request gives each team member — granted on approval,
started by the person's acceptance of the terms, revoked by the chair or an administrator,
ended by its date or the end of the membership — with the data platforms' query, the
researchers' own list and GA4GH Passport visas (signed by :mod:`governance.visas`)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API, the pages, the hourly job and ``harmony entitlements``."""
    from core.api import api
    from governance.entitlements import cli, jobs
    from governance.entitlements.api import blp
    from governance.entitlements.views import bp
    from governance.requests import policies

    policies.register()  # the access requests' rules (registering them again changes nothing)
    api.register_blueprint(blp)
    app.register_blueprint(bp)
    jobs.init_app(app)
    cli.register_commands(app)
