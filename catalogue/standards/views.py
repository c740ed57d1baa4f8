"""HTML pages of standard variable sets, feasibility and the variable-level question."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("standards", __name__)
