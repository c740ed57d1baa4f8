"""Metadata export: the catalogue as DCAT-AP 3 with the HealthDCAT-AP health extension, a FAIR
Data Point, harvesting with tombstones, CSVW data dictionaries and the streamed export.

:mod:`services` reads what may be published, :mod:`graph` builds rdflib graphs (and
:mod:`resources` those of the variables and publishers the records name), :mod:`serialize`
writes them (through Oxigraph), :mod:`csvw` writes the dictionaries, :mod:`views` and
:mod:`negotiation` serve them, :mod:`cli` exports the whole catalogue.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from catalogue import catalogue_group
    from catalogue.dcat.api import blp
    from catalogue.dcat.cli import export_command
    from catalogue.dcat.views import bp
    from core.api import api

    app.register_blueprint(bp)
    api.register_blueprint(blp)  # the whole-catalogue export, as a job
    catalogue_group.add_command(export_command)
