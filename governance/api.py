"""JSON API of the governance area."""

from flask_smorest import Blueprint

from core.api import API_PREFIX

blp = Blueprint(
    "governance_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Agreements, access requests and decisions",
)
