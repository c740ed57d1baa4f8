"""HTML pages of the catalogue. For now: the home page."""

from __future__ import annotations

from flask import Blueprint, render_template

from catalogue import services

bp = Blueprint("catalogue", __name__, template_folder="templates")


@bp.get("/")
def home() -> str:
    return render_template("catalogue/home.html", summary=services.catalogue_summary())
