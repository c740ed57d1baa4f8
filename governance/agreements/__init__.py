"""Data-sharing agreements between a custodian and the alliance: versions, the signed
document, expiry by date."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's blueprints, rules, workflows and hooks."""
    from core.api import api
    from governance.agreements import api as agreements_api
    from governance.agreements import cli, hooks, jobs, policies, workflow
    from governance.agreements.views import bp as pages

    policies.register()
    workflow.register()
    api.register_blueprint(agreements_api.blp)
    app.register_blueprint(pages)
    hooks.register()
    jobs.init_app(app)
    cli.register_commands(app)
