"""HTML pages of the ontology browser (filled in by the ontologies issue)."""

from flask import Blueprint

bp = Blueprint("ontologies", __name__, template_folder="templates")
