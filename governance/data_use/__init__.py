"""A dataset's data-use conditions in GA4GH DUO: one permission, modifiers with parameters,
numbered revisions; shown as badges on the dataset page and search hits, in the dataset JSON,
as a search facet and in the DCAT record."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's blueprints, rules and hooks (again for every application the
    tests create: each registration is idempotent)."""
    from catalogue import extensions
    from core.api import api
    from governance.data_use import api as data_use_api
    from governance.data_use import dcat, demo, policies, search, services, views

    policies.register()
    api.register_blueprint(data_use_api.blp)
    app.register_blueprint(views.bp)
    extensions.register_dataset_facts(services.dataset_facts)
    extensions.register_hit_annotator(services.annotate_hits)
    extensions.register_panel(
        extensions.Panel("dataset", "data_use/_dataset_panel.html", views.dataset_panel, 10)
    )
    extensions.register_panel(
        extensions.Panel(
            "search_hit", "data_use/_search_hit_panel.html", views.search_hit_panel, 10
        )
    )
    extensions.register_dcat_contributor(dcat.add_policy)
    search.register()
    demo.register_demo_step()  # after the catalogue's: the demo datasets exist then
