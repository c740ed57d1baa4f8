"""JSON API of the alliance statistics."""

from __future__ import annotations

from flask_smorest import Blueprint

from core.api import API_PREFIX

blp = Blueprint("stats_api", __name__, url_prefix=API_PREFIX, description="Alliance statistics")
