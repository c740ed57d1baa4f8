"""Charts as accessible SVG, drawn on the server: no script, no charting library.

Each chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>`` (the desc says
what the chart shows in words; the numbers are in the table the page puts next to it). Colours
come from the Okabe-Ito palette, which people with the common colour-vision deficiencies tell
apart, and every value is also printed as text, so no colour carries meaning alone.

A patient count hidden by the small-cell rule never sets a bar's length: its bar is drawn at the
threshold (and at least a few pixels long, so that it can be seen), hatched, and labelled
``<10``, whatever the figure behind it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from catalogue.stats.services import AllianceStats, DiseaseRow, Row

# Okabe & Ito (2008), "Color universal design"
BLUE = "#0072B2"
GREEN = "#009E73"
VERMILLION = "#D55E00"
TEXT = "#1a1a1a"
MUTED = "#4d4d4d"
TRACK = "#e8e8e8"
HIDDEN = "#5f5f5f"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

WIDTH = 760
LABEL_WIDTH = 270
VALUE_WIDTH = 170
ROW = 26
BAR = 16
HIDDEN_MIN = 8  # a hidden small cell is drawn at the threshold, but at least this long (px)


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the value as printed: "1,234" or "<10"
    value: int  # what the length is made of (the threshold for a hidden count)
    hidden: bool = False
    indent: int = 0  # levels of a tree
    note: str = ""  # after the value, muted: "3 datasets"


def _attrs(**values: object) -> str:
    return " ".join(
        f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in values.items()
    )


def _open(chart_id: str, title: str, description: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'preserveAspectRatio="xMinYMin meet" {_attrs(font_family=FONT, font_size=13)}>',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
        "<defs>"
        f'<pattern id="{escape(chart_id)}-hatch" patternUnits="userSpaceOnUse" width="6" '
        'height="6" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="{HIDDEN}"/>'
        "</pattern></defs>",
    ]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(chart_id: str, title: str, description: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, one per row, the value printed after each; long labels are shortened
    (the full label is the row's tooltip and is in the table)."""
    height = max(1, len(bars)) * ROW + 8
    parts = _open(chart_id, title, description, WIDTH, height)
    if not bars:
        parts.append(f'<text x="0" y="18" {_attrs(fill=MUTED)}>Nothing to show yet.</text></svg>')
        return Markup("".join(parts))  # noqa: S704 - every text part is escaped above
    largest = max((b.value for b in bars), default=0)  # a hidden bar's value is the threshold
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    for i, bar in enumerate(bars):
        y = i * ROW + 4
        indent = min(bar.indent, 6) * 14
        label = _truncate(bar.label, int((LABEL_WIDTH - 14 - indent) / 7))
        length = (bar.value / largest * area) if largest else 0.0
        if bar.hidden:
            length = max(length, HIDDEN_MIN)
            fill = f"url(#{escape(chart_id)}-hatch)"
        else:
            length = max(length, 2.0) if bar.value > 0 else 0.0
            fill = BLUE
        parts.append("<g>")
        tip = f"{bar.label}: {bar.text}" + (f" ({bar.note})" if bar.note else "")
        parts.append(f"<title>{escape(tip)}</title>")
        parts.append(
            f'<text x="{4 + indent}" y="{y + BAR - 3}" {_attrs(fill=TEXT)}>{escape(label)}</text>'
        )
        if length:
            stroke = f' stroke="{HIDDEN}" stroke-width="1"' if bar.hidden else ""
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR}" '
                f'fill="{fill}"{stroke} rx="2"/>'
            )
        value_x = LABEL_WIDTH + length + 6
        note = (
            f" <tspan {_attrs(fill=MUTED, font_size=12)}>{escape(bar.note)}</tspan>"
            if bar.note
            else ""
        )
        parts.append(
            f'<text x="{value_x:.1f}" y="{y + BAR - 3}" {_attrs(fill=TEXT, font_weight=600)}>'
            f"{escape(bar.text)}{note}</text>"
        )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above


def progress_chart(
    chart_id: str, title: str, description: str, text: str, value: int, goal: int, hidden: bool
) -> Markup:
    """One bar against a goal: the filled share, and the figure in words beneath."""
    width, height, bar_height = WIDTH, 58, 22
    parts = _open(chart_id, title, description, width, height)
    parts.append(f'<rect x="0" y="4" width="{width}" height="{bar_height}" fill="{TRACK}" rx="4"/>')
    if hidden:
        at = max(HIDDEN_MIN, value / goal * width if goal > 0 else 0.0)
        parts.append(
            f'<rect x="0" y="4" width="{at:.1f}" height="{bar_height}" '
            f'fill="url(#{escape(chart_id)}-hatch)" stroke="{HIDDEN}" rx="4"/>'
        )
    elif goal > 0 and value > 0:
        filled = min(1.0, value / goal) * width
        parts.append(
            f'<rect x="0" y="4" width="{max(filled, 3):.1f}" height="{bar_height}" '
            f'fill="{GREEN}" rx="4"/>'
        )
    parts.append(
        f'<text x="0" y="{bar_height + 26}" {_attrs(fill=TEXT, font_weight=600)}>'
        f"{escape(text)}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above


@dataclass(frozen=True)
class Column:
    label: str  # "2024-03"
    text: str
    value: int
    hidden: bool = False


def column_chart(
    chart_id: str, title: str, description: str, columns: Sequence[Column], colour: str = BLUE
) -> Markup:
    """Vertical columns over time (a running total); the axis names the first month of each
    year, the last column carries its value."""
    width, height, top, bottom, left = WIDTH, 220, 22, 28, 8
    parts = _open(chart_id, title, description, width, height)
    if not columns:
        parts.append(f'<text x="0" y="18" {_attrs(fill=MUTED)}>Nothing to show yet.</text></svg>')
        return Markup("".join(parts))  # noqa: S704 - every text part is escaped above
    area_height = height - top - bottom
    slot = (width - left * 2) / len(columns)
    column_width = max(2.0, min(28.0, slot * 0.75))
    largest = max((c.value for c in columns), default=0)  # hidden: the threshold
    parts.append(
        f'<line x1="{left}" y1="{top + area_height}" x2="{width - left}" '
        f'y2="{top + area_height}" stroke="{MUTED}" stroke-width="1"/>'
    )
    step = max(1, math.ceil(len(columns) / 12))
    for i, column in enumerate(columns):
        x = left + i * slot + (slot - column_width) / 2
        h = (column.value / largest * area_height) if largest else 0.0
        if column.hidden:
            h = max(h, HIDDEN_MIN)
            fill = f"url(#{escape(chart_id)}-hatch)"
        else:
            h = max(h, 1.5) if column.value > 0 else 0.0
            fill = colour
        parts.append(f"<g><title>{escape(column.label)}: {escape(column.text)}</title>")
        if h:
            stroke = f' stroke="{HIDDEN}"' if column.hidden else ""
            parts.append(
                f'<rect x="{x:.1f}" y="{top + area_height - h:.1f}" width="{column_width:.1f}" '
                f'height="{h:.1f}" fill="{fill}"{stroke}/>'
            )
        parts.append("</g>")
        first_of_year = column.label.endswith("-01") or i == 0
        if (first_of_year and len(columns) > 12) or (len(columns) <= 12 and i % step == 0):
            parts.append(
                f'<text x="{x + column_width / 2:.1f}" y="{height - 8}" text-anchor="middle" '
                f"{_attrs(fill=MUTED, font_size=12)}>{escape(column.label)}</text>"
            )
    last = columns[-1]
    lx = left + (len(columns) - 1) * slot + (slot - column_width) / 2 + column_width
    parts.append(
        f'<text x="{min(lx, width - 4):.1f}" y="14" text-anchor="end" '
        f"{_attrs(fill=TEXT, font_weight=600)}>{escape(last.label)}: {escape(last.text)}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above


# --- the dashboard's charts -----------------------------------------------------------------

MAX_DISEASE_BARS = 30
MAX_CUSTODIAN_BARS = 25


def _bars(rows: Sequence[Row], *, indent: bool = False) -> list[Bar]:
    return [
        Bar(
            label=row.label,
            text=str(row.patients),
            value=row.patients.bar,
            hidden=row.patients.hidden,
            indent=getattr(row, "depth", 0) if indent else 0,
            note=f"{row.datasets} dataset{'s' if row.datasets != 1 else ''}",
        )
        for row in rows
    ]


def disease_rows_for_chart(rows: Sequence[DiseaseRow]) -> list[DiseaseRow]:
    """The tree's upper levels: as many whole levels as fit in :data:`MAX_DISEASE_BARS` bars
    (at least the roots), in the tree's order."""
    depth = 0
    while depth < 20 and sum(1 for r in rows if r.depth <= depth + 1) <= MAX_DISEASE_BARS:
        if not any(r.depth == depth + 1 for r in rows):
            break
        depth += 1
    return [r for r in rows if r.depth <= depth]


def dashboard_charts(stats: AllianceStats) -> dict[str, Markup]:
    """Every chart of the dashboard, by name (also the name of its standalone ``.svg``)."""
    threshold = f"<{stats.threshold}"
    small = (
        f" Counts below {stats.threshold} are shown as “{threshold}” and drawn as a short "
        "hatched bar of one fixed length."
        if not stats.exact
        else ""
    )
    goal_text = f"{stats.patients} of {stats.goal:,} patients" + (
        f" ({stats.goal_share:.0%})" if stats.goal_share is not None else ""
    )
    disease_rows = disease_rows_for_chart(stats.diseases)
    shown_custodians = stats.custodians[:MAX_CUSTODIAN_BARS]
    mapped = stats.variables
    return {
        "goal": progress_chart(
            "chart-goal",
            "Patients covered against the alliance goal",
            f"Published datasets cover {goal_text}; the alliance's goal is data on "
            f"{stats.goal:,} patients.{small}",
            goal_text,
            stats.patients.bar,
            stats.goal,
            stats.patients.hidden,
        ),
        "diseases": bar_chart(
            "chart-diseases",
            "Patients per disease",
            "Patients of the published datasets per disease, rolled up the hierarchy of "
            "haematological malignancies: each dataset counts under its diseases and every "
            f"broader term. {len(disease_rows)} of {len(stats.diseases)} terms are drawn, "
            f"indented by level; the table lists all of them.{small}",
            _bars(disease_rows, indent=True),
        ),
        "countries": bar_chart(
            "chart-countries",
            "Patients per country",
            "Patients of the published datasets per country; a dataset that covers several "
            f"countries counts under each.{small}",
            _bars(stats.countries),
        ),
        "source_types": bar_chart(
            "chart-source-types",
            "Patients per source type",
            f"Patients of the published datasets per kind of source.{small}",
            _bars(stats.source_types),
        ),
        "custodians": bar_chart(
            "chart-custodians",
            "Patients per custodian",
            "Patients of the published datasets per custodian organisation"
            + (
                f" (the {len(shown_custodians)} largest of {len(stats.custodians)})."
                if len(shown_custodians) < len(stats.custodians)
                else "."
            )
            + small,
            _bars(shown_custodians),
        ),
        "age_groups": bar_chart(
            "chart-age-groups",
            "Patients per age group",
            "Patients of the published datasets per age group; a dataset of several age "
            f"groups counts under each.{small}",
            _bars(stats.age_groups),
        ),
        "growth_datasets": column_chart(
            "chart-growth-datasets",
            "Published datasets over time",
            "The number of published datasets at the end of each month, by the month of "
            "their first publication.",
            [
                Column(m.month, f"{m.cumulative_datasets:,}", m.cumulative_datasets)
                for m in stats.growth
            ],
        ),
        "growth_patients": column_chart(
            "chart-growth-patients",
            "Patients covered over time",
            "The patients of the published datasets at the end of each month, by the month of "
            f"their first publication.{small}",
            [
                Column(
                    m.month,
                    str(m.cumulative_patients),
                    m.cumulative_patients.bar,
                    m.cumulative_patients.hidden,
                )
                for m in stats.growth
            ],
            colour=VERMILLION,
        ),
        "variables": progress_chart(
            "chart-variables",
            "Share of variables mapped to standard terms",
            f"{mapped.mapped:,} of the {mapped.variables:,} variables of the published "
            "datasets have an accepted mapping to a standard term.",
            f"{mapped.mapped:,} of {mapped.variables:,} variables mapped ({mapped.share:.0%})",
            mapped.mapped,
            mapped.variables,
            False,
        ),
    }
