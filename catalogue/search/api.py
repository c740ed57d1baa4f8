"""JSON API of search: ``GET /api/v1/search``."""

from __future__ import annotations

from flask_smorest import Blueprint

from core.api import API_PREFIX

blp = Blueprint("search_api", __name__, url_prefix=API_PREFIX, description="Search")
