"""JSON API of standard variable sets, coverage, feasibility and the variable-level question."""

from __future__ import annotations

from flask_smorest import Blueprint

from core.api import API_PREFIX

blp = Blueprint(
    "standards_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Standard variable sets, coverage, feasibility and the variable-level question",
)
