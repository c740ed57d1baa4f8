"""Ontology term store: ontologies, terms, synonyms and the hierarchy closure (issue 3)."""

from __future__ import annotations

from flask import Flask

from core.text import plural


def init_app(app: Flask) -> None:
    from core.api import api
    from ontologies import policies
    from ontologies.api import blp
    from ontologies.views import bp

    policies.register()  # who may read and load ontologies
    api.register_blueprint(blp)
    app.register_blueprint(bp)

    from ontologies.admin_views import bp as admin_bp

    app.register_blueprint(admin_bp)

    from ontologies.cli import register_commands

    register_commands(app)

    from core import demo

    demo.register_step(_demo_vocabularies)


def _demo_vocabularies(result: object) -> None:
    """``harmony demo load`` loads the bundled vocabularies too (unchanged ones are left alone)."""
    from core.policies import SYSTEM
    from ontologies.bundled import load_bundled

    for report in load_bundled(SYSTEM):
        result.notes.append(  # type: ignore[attr-defined]
            f"vocabulary {report.prefix}: {report.status}, {plural(report.total, 'term')}"
        )
