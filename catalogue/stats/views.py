"""The alliance dashboard: ``/dashboard`` (charts with their numbers as tables) and each chart as
a standalone SVG. Works without JavaScript; the figures follow the small-cell rule."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from catalogue.stats import charts, services
from core.api import actor
from core.errors import NotFound
from core.nav import NavEntry, everyone, register

bp = Blueprint("stats", __name__, template_folder="templates")
register(NavEntry("Dashboard", "stats.dashboard", everyone, "main", 30))


@bp.get("/dashboard")
def dashboard() -> str:
    stats = services.alliance_stats(actor())
    return render_template(
        "stats/dashboard.html", stats=stats, charts=charts.dashboard_charts(stats)
    )


@bp.get("/dashboard/charts/<name>.svg")
def chart(name: str) -> Response:
    """One chart of the dashboard as an SVG file (for slides and reports)."""
    drawn = charts.dashboard_charts(services.alliance_stats(actor()))
    key = name.replace("-", "_")
    if key not in drawn:
        raise NotFound(f"No chart “{name}”; there are: {', '.join(sorted(drawn))}.")
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + str(drawn[key]),
        mimetype="image/svg+xml",
    )
