"""Catalogue: datasets, variables, mappings, search and the public summary."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from catalogue.api import blp
    from catalogue.views import bp
    from core.api import api

    api.register_blueprint(blp)
    from catalogue.api_dictionary import blp as dictionary_blp

    api.register_blueprint(dictionary_blp)
    from catalogue.api_mappings import blp as mappings_blp

    api.register_blueprint(mappings_blp)
    from catalogue.standards.api import blp as standards_blp
    from catalogue.stats.api import blp as stats_blp

    api.register_blueprint(standards_blp)
    api.register_blueprint(stats_blp)
    from catalogue.search.api import blp as search_blp

    api.register_blueprint(search_blp)
    from catalogue.api_jobs import blp as catalogue_jobs_blp

    api.register_blueprint(catalogue_jobs_blp)  # the export and the re-index, as jobs
    from catalogue.cli import catalogue_group, register_commands
    from catalogue.search.cli import register_commands as register_search_commands

    register_search_commands(catalogue_group)  # harmony catalogue reindex
    register_commands(app)
    app.register_blueprint(bp)
    from catalogue.standards.views import bp as standards_pages
    from catalogue.stats.views import bp as stats_pages

    app.register_blueprint(standards_pages)
    app.register_blueprint(stats_pages)
    from catalogue.search.views import bp as search_pages

    app.register_blueprint(search_pages)
    from catalogue.dcat import init_app as init_metadata_export

    init_metadata_export(app)  # DCAT-AP, FAIR Data Point, CSVW, `harmony catalogue export`
    from catalogue.demo import register_demo_step

    register_demo_step()  # after the vocabularies step, which the datasets need
    from catalogue.standards.demo import register_demo_step as register_sets_step

    register_sets_step()  # the pre-defined standard variable sets (they need the HV terms)
