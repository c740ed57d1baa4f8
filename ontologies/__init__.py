"""Ontology term store: ontologies, terms, synonyms and the hierarchy closure (issue 3)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from core.api import api
    from ontologies.api import blp
    from ontologies.views import bp

    api.register_blueprint(blp)
    app.register_blueprint(bp)

    from ontologies.admin_views import bp as admin_bp

    app.register_blueprint(admin_bp)

    from ontologies.cli import register_commands

    register_commands(app)
