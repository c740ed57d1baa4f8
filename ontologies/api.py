"""JSON API of the ontology term store (filled in by the ontologies issue)."""

from flask_smorest import Blueprint

from core.api import API_PREFIX

blp = Blueprint(
    "ontologies_api", __name__, url_prefix=API_PREFIX, description="Ontologies and terms"
)
