"""Researchers' saved research purposes, and search by fit to a purpose and by
requestability."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's blueprints, rules and search hooks (again for every application
    the tests create: each registration is idempotent)."""
    from catalogue import extensions
    from catalogue.search.api import refresh_parameters_doc
    from catalogue.search.facets import facets, register_facet
    from core import nav
    from core.api import api
    from governance.purposes import api as purposes_api
    from governance.purposes import policies, search, views

    policies.register()
    api.register_blueprint(purposes_api.blp)
    app.register_blueprint(views.bp)
    registered = {f.name for f in facets()}
    for facet in (search.RequestableFacet(), search.FitFacet()):
        if facet.name not in registered:
            register_facet(facet)
    search.register_engine()  # the search engine's field of agreements, kept current
    refresh_parameters_doc()  # the OpenAPI document names purpose, fit and requestable
    extensions.register_hit_annotator(search.annotate_fit)
    extensions.register_panel(extensions.Panel("search_hit", "purposes/_fit_badge.html", order=10))
    nav.register(nav.NavEntry("My purposes", "purposes.purpose_list", nav.logged_in, "user", 10))
