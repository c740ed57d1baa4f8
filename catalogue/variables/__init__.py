"""Variable pages and the harmonisation matrix: what one variable is, and which variables of
which datasets carry the same concept.

- :mod:`~catalogue.variables.services` — a variable's page (its definition, mappings and "the
  same concept in other datasets") and the matrix (terms by datasets), read in a fixed number
  of queries by the catalogue's coverage rule;
- :mod:`~catalogue.variables.units` — UCUM codes in words;
- :mod:`~catalogue.variables.views` — ``/datasets/{identifier}/variables/{name}`` (the
  variable's IRI), ``/harmonisation`` and ``/harmonisation.csv``;
- :mod:`~catalogue.variables.api` — ``GET /api/v1/harmonisation``.

Nothing here is stored: the sub-area reads the catalogue's datasets, variables, mappings, the
term closure and the standard sets.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pages and the API (again for every application the tests create)."""
    from catalogue.variables import api, views
    from core.api import api as core_api

    core_api.register_blueprint(api.blp)
    app.register_blueprint(views.bp)
