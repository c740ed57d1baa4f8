"""JSON API of the harmonisation matrix: ``GET /api/v1/harmonisation`` (public).

The same grid as the page ``/harmonisation``: rows the terms (a standard set's, in its order,
then those named), columns published datasets, each cell the dataset's variables that carry
the term. Errors are problem+json naming the field (``datasets``, ``terms``, ``set``,
``selection``), all of them at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.variables import services
from catalogue.variables.schemas import HarmonisationQuerySchema, HarmonisationSchema
from catalogue.variables.views import variable_linker
from core.api import API_PREFIX, actor

blp = Blueprint(
    "harmonisation",
    __name__,
    url_prefix=API_PREFIX,
    description="The harmonisation matrix: which dataset has which variable for each term",
)


def cell_variable(ref: services.VariableRef, link: Callable[[str, str], str]) -> dict[str, Any]:
    return {
        "name": ref.name,
        "label": ref.label,
        "url": link(ref.identifier, ref.name),
        "value_type": ref.value_type.value,
        "unit": ref.unit,
        "unit_words": ref.unit_words,
        "minimum": ref.minimum,
        "maximum": ref.maximum,
        "permissible_values": [
            {"code": str(v.get("code")), "label": v.get("label")} for v in ref.permissible_values
        ],
        "predicate_id": ref.predicate.value,
        "via": ref.via,
        "through_value": ref.through_value,
    }


def external_linker() -> Callable[[str, str], str]:
    """Variables' page addresses as ``url_for(…, _external=True)`` writes them, its scheme and
    host asked once (a matrix has tens of thousands of variables)."""
    sample = url_for("variables.variable", identifier="x", name="y", _external=True)
    origin = sample.removesuffix(url_for("variables.variable", identifier="x", name="y"))
    link = variable_linker()
    return lambda identifier, name: origin + link(identifier, name)


def matrix_body(matrix: services.Matrix, query: list[tuple[str, str]]) -> dict[str, Any]:
    total = len(matrix.rows)
    link = external_linker()
    standard_set = matrix.standard_set
    return {
        "set": None
        if standard_set is None
        else {
            "identifier": standard_set.identifier,
            "name": standard_set.name,
            "version": standard_set.version,
            "url": url_for(
                "standards_api.StandardSetResource",
                identifier=standard_set.identifier,
                _external=True,
            ),
        },
        "selection": matrix.selection_id,
        "datasets": [
            {
                "identifier": c.identifier,
                "title": c.title,
                "custodian": c.custodian,
                "version_number": c.version_number,
                "url": url_for(
                    "catalogue_api.DatasetResource", identifier=c.identifier, _external=True
                ),
                "chosen_variables": sorted(c.chosen) if c.chosen is not None else None,
                "covered": c.covered,
                "coverage": round(c.covered / total, 4) if total else 0.0,
            }
            for c in matrix.columns
        ],
        "terms": [
            {
                "curie": row.term.curie,
                "label": row.term.label,
                "note": row.note,
                "covered": row.covered,
                "cells": {
                    c.identifier: [cell_variable(v, link) for v in cell]
                    for c, cell in zip(matrix.columns, row.cells, strict=True)
                },
            }
            for row in matrix.rows
        ],
        "csv_url": url_for("variables.harmonisation_csv", _external=True) + "?" + urlencode(query),
    }


@blp.route("/harmonisation")
class HarmonisationResource(MethodView):
    @blp.arguments(HarmonisationQuerySchema, location="query")
    @blp.response(200, HarmonisationSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Which of these published datasets has a variable for each of these terms: one row
        per term (a standard set's terms in its order, then the terms named), one cell per
        dataset listing its variables mapped to the term or to a narrower one (accepted
        mappings, exact, close or broad match) with their units and value sets. At most 50
        datasets and 500 terms; a selection of yours may give the datasets (and, where it
        chose some, their variables). 422 names every field that is wrong."""
        request = services.MatrixRequest(
            datasets=services.split_values(query["datasets"]),
            terms=services.split_values(query["terms"]),
            standard_set=query["set"],
            selection=query["selection"],
        )
        matrix = services.build_matrix(actor(), request)
        echoed: list[tuple[str, str]] = []
        if request.selection:
            echoed.append(("selection", request.selection))
        if request.standard_set:
            echoed.append(("set", request.standard_set))
        echoed += [("terms", t) for t in request.terms]
        echoed += [("datasets", d) for d in request.datasets]
        return matrix_body(matrix, echoed)
