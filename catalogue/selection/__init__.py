"""A researcher's selection: datasets (and, within them, variables) collected while searching,
kept on the server (it survives logging out), to turn into an access request in one step.

- :mod:`~catalogue.selection.models` — ``Selection`` (a user's, named; one "current" per user
  today), ``SelectionItem`` (a dataset), ``SelectionVariable`` (a variable, by name);
- :mod:`~catalogue.selection.services` — the use cases; governance reads a selection with
  :func:`~catalogue.selection.services.list_selection`;
- :mod:`~catalogue.selection.api` — ``/api/v1/me/selection``;
- :mod:`~catalogue.selection.views` — ``/me/selection``, the buttons on search hits and dataset
  pages, the header's "Selection (n)", and the page's slot ``"selection"`` for other areas'
  panels (see the module's docstring).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's rules, API, pages, panels and template helpers (again for every
    application the tests create: each registration is idempotent)."""
    from catalogue.selection import api as selection_api
    from catalogue.selection import policies, views
    from core.api import api

    policies.register()
    api.register_blueprint(selection_api.blp)
    app.register_blueprint(views.bp)
    views.register_extensions()
    app.add_template_global(views.selection_count, "selection_count")
    app.add_template_global(views.selection_picker, "selection_picker")
