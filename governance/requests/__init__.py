"""Access requests: a researcher's application for datasets, its lifecycle (the
``access_request`` and ``request_dataset`` workflows), and the consent checks stored with it.
The committee's review, the entitlements and the public register are their own sub-areas."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's rules, workflows, event subscribers, blueprints and hooks."""
    from core.api import api
    from governance.requests import api as requests_api
    from governance.requests import hooks, policies, services, workflow
    from governance.requests.views import bp as pages

    policies.register()
    workflow.register()
    services.register()
    api.register_blueprint(requests_api.blp)
    app.register_blueprint(pages)
    hooks.register()
