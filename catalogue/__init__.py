"""Catalogue: what data exists. Its sub-areas, each with the same rooms (``models``,
``schemas``, ``services``, ``policies``, ``api``, ``views``, ``templates/<area>``):

- :mod:`catalogue.datasets` — datasets, their versions, lifecycle and history; the home page;
- :mod:`catalogue.dictionary` — data dictionaries: import, export, variables;
- :mod:`catalogue.mappings` — variable → term mappings: review, the assistant, SSSOM, coverage;
- :mod:`catalogue.search`, :mod:`catalogue.standards`, :mod:`catalogue.stats`,
  :mod:`catalogue.dcat` — search, standard variable sets, the dashboard, metadata export;
- :mod:`catalogue.publishers` — the organisations that publish datasets, and their pages.

The models of every sub-area live in :mod:`catalogue.models` (they reference one another) and
the area's permission rules in :mod:`catalogue.policies`. :func:`init_app` wires everything.
The templates and static files the sub-areas share (``catalogue/_macros.html``, the CSS and
scripts under ``/catalogue/static``) live in the datasets room, served by its ``shared``
blueprint (named ``catalogue``).
"""

from __future__ import annotations

import click
from flask import Flask


@click.group("catalogue")
def catalogue_group() -> None:
    """The catalogue: data dictionaries, the search index, the metadata export."""


def init_app(app: Flask) -> None:
    from catalogue import policies
    from catalogue.datasets import api as datasets_api
    from catalogue.datasets import views as datasets_views
    from catalogue.datasets import workflow as datasets_workflow
    from catalogue.datasets.demo import register_demo_step
    from catalogue.dcat import init_app as init_metadata_export
    from catalogue.dictionary import api as dictionary_api
    from catalogue.dictionary import cli as dictionary_cli
    from catalogue.dictionary import views as dictionary_views
    from catalogue.mappings import api as mappings_api
    from catalogue.mappings import views as mappings_views
    from catalogue.mappings import workflow as mapping_review
    from catalogue.publishers import views as publishers_views
    from catalogue.search import api as search_api
    from catalogue.search import cli as search_cli
    from catalogue.search import indexer as search_indexer
    from catalogue.search import usage as search_usage
    from catalogue.search import views as search_views
    from catalogue.search.engine import sync as search_engine
    from catalogue.selection import init_app as init_selection
    from catalogue.standards import api as standards_api
    from catalogue.standards import views as standards_views
    from catalogue.standards.demo import register_demo_step as register_sets_step
    from catalogue.stats import api as stats_api
    from catalogue.stats import views as stats_views
    from catalogue.variables import init_app as init_variables
    from core.api import api

    policies.register()  # the catalogue's permission rules (who sees drafts, who edits)
    app.register_blueprint(datasets_views.shared)
    datasets_workflow.register()  # the dataset lifecycle (core.workflow)
    search_indexer.subscribe()  # the search index follows every dataset.* change event
    search_engine.init_app(app)  # SEARCH_ENGINE checked; the engine follows the commits
    for area_api in (datasets_api, dictionary_api, mappings_api, standards_api, stats_api):
        api.register_blueprint(area_api.blp)
    api.register_blueprint(search_api.blp)  # search, and the re-index job
    for area_views in (
        datasets_views,
        dictionary_views,
        mappings_views,
        standards_views,
        stats_views,
        search_views,
        publishers_views,
    ):
        app.register_blueprint(area_views.bp)
    dictionary_cli.register_commands(catalogue_group)  # import-dictionary, export-dictionary
    search_cli.register_commands(catalogue_group)  # harmony catalogue reindex
    init_metadata_export(app)  # DCAT-AP, FAIR Data Point, CSVW, `harmony catalogue export`
    app.cli.add_command(catalogue_group)
    mapping_review.register()  # mapping review's table: `harmony workflows show mapping`
    search_usage.register_term_usage()  # term pages list the datasets and variables using them
    register_demo_step()  # after the vocabularies step, which the datasets need
    register_sets_step()  # the pre-defined standard variable sets (they need the HV terms)
    init_selection(app)  # a researcher's selection: /me/selection, its buttons and API
    init_variables(app)  # variable pages, the harmonisation matrix and its API
