"""A dataset's data-use conditions in GA4GH DUO: one permission, modifiers with parameters,
numbered revisions; shown as badges on the dataset page and search hits, in the dataset JSON,
as a search facet and in the DCAT record."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's blueprints, rules and hooks (again for every application the
    tests create: each registration is idempotent)."""
    from core.api import api
    from governance.data_use import api as data_use_api
    from governance.data_use import policies

    policies.register()
    api.register_blueprint(data_use_api.blp)
