"""Charts as accessible SVG, drawn on the server: no script, no charting library.

Each chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>`` (the desc says
what the chart shows in words; the numbers are in the table the page puts next to it). Colours
come from the Okabe-Ito palette, which people with the common colour-vision deficiencies tell
apart, and every value is also printed as text, so no colour carries meaning alone.

A patient count hidden by the small-cell rule never sets a bar's length: its bar is drawn at the
threshold (and at least a few pixels long, so that it can be seen), hatched, and labelled
``<10``, whatever the figure behind it.

Layout. The drawing is :data:`WIDTH` units wide, about the width of a dashboard card at 1366
pixels, and the ``<svg>`` fills its container (``width="100%"`` over the ``viewBox``), so a
chart is drawn at close to its natural size on a laptop and scales with the card elsewhere. The
server cannot measure text, so every text's width is estimated generously from its length
(:func:`text_width`, 0.6 em a character) and the layout keeps each estimated box inside the
drawing: the label column is as wide as the labels need (up to :data:`MAX_LABEL_SHARE` of the
width), a long label wraps onto a second line and is then shortened with "…", and two labels
that would still read alike are told apart (the full label is always the row's tooltip and is in
the table beside the chart). Bars and columns stand on an axis with ticks and numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from catalogue.stats.services import AllianceStats, DiseaseRow, Row
from core.text import plural, verb

# Okabe & Ito (2008), "Color universal design"
BLUE = "#0072B2"
GREEN = "#009E73"
VERMILLION = "#D55E00"
TEXT = "#1a1a1a"
MUTED = "#4d4d4d"
GRID = "#d9d9d9"
TRACK = "#e8e8e8"
HIDDEN = "#5f5f5f"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

WIDTH = 1100  # the drawing's width (viewBox units): a dashboard card's content at 1366 px
FONT_SIZE = 13  # labels and values
SMALL = 12  # ticks, notes, axis titles
CHAR_EM = 0.6  # estimated width of a character in em (generous: system-ui averages ~0.5)
LINE = 15  # distance between the two lines of a wrapped label
ROW = 26  # a row of one line
ROW_WRAPPED = 40  # a row whose label wraps onto a second line
BAR = 16
INDENT = 14  # per level of a tree
MAX_INDENT_LEVELS = 6
MIN_LABEL_WIDTH = 120
MAX_LABEL_SHARE = 0.36  # of the width, for the label column
GAP = 8  # between a label and its bar, a bar and its value
HIDDEN_MIN = 8  # a hidden small cell is drawn at the threshold, but at least this long (px)
ELLIPSIS = "…"


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """The width a text is expected to take: 0.6 em per character (over-estimates on purpose,
    so that what is laid out to fit does fit in any sans-serif font)."""
    return len(text) * CHAR_EM * size


def _chars_fitting(width: float, size: float = FONT_SIZE) -> int:
    return max(4, int(width / (CHAR_EM * size)))


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the value as printed: "1,234" or "<10"
    value: int  # what the length is made of (the threshold for a hidden count)
    hidden: bool = False
    indent: int = 0  # levels of a tree
    note: str = ""  # after the value, muted: "3 datasets"
    key: str = ""  # a code that tells two rows of the same label apart (a CURIE, a country)


@dataclass(frozen=True)
class Axis:
    """The value axis: its title and how a value reads as a tick (``value * scale`` and the
    ``suffix``). ``scale=0.1`` draws bars of tenths of a day as days."""

    title: str = ""
    scale: float = 1.0
    suffix: str = ""

    def tick_text(self, value: float) -> str:
        shown = value * self.scale
        if abs(shown - round(shown)) < 1e-9:
            return f"{round(shown):,}{self.suffix}"
        return f"{shown:,.1f}{self.suffix}"


def _attrs(**values: object) -> str:
    return " ".join(
        f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in values.items()
    )


def _open(chart_id: str, title: str, description: str, height: float) -> list[str]:
    """The ``<svg>`` element: as wide as its container, as high as the width allows."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" {_attrs(font_family=FONT, font_size=FONT_SIZE)}>',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
        "<defs>"
        f'<pattern id="{escape(chart_id)}-hatch" patternUnits="userSpaceOnUse" width="6" '
        'height="6" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="{HIDDEN}"/>'
        "</pattern></defs>",
    ]


def _empty(parts: list[str]) -> Markup:
    parts.append(f'<text x="0" y="18" {_attrs(fill=MUTED)}>Nothing to show yet.</text></svg>')
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped


# --- ticks ----------------------------------------------------------------------------------


def nice_ticks(largest: float, most: int = 6) -> list[float]:
    """Round tick values from 0 to at least ``largest``, at most ``most`` + 1 of them: steps
    of 1, 2, 2.5 or 5 times a power of ten (2.5 only from 25 up, so that counts keep whole
    ticks); ``[0, 1]`` for an empty scale."""
    if largest <= 0:
        return [0.0, 1.0]
    raw = largest / most
    magnitude = 10 ** math.floor(math.log10(raw))
    multiples = (1, 2, 2.5, 5, 10) if magnitude >= 10 else (1, 2, 5, 10)
    step = next(m * magnitude for m in multiples if m * magnitude >= raw)
    step = max(step, 1)
    count = math.ceil(largest / step - 1e-9)
    return [i * step for i in range(count + 1)]


# --- labels ---------------------------------------------------------------------------------


def _shorten_end(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary where one is near, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("/"), cut.rfind("-"))
    if space >= limit * 0.6:
        cut = cut[: space + (1 if cut[space] in "/-" else 0)]
    return cut.rstrip() + ELLIPSIS


def _shorten_middle(text: str, limit: int) -> str:
    """``text`` in ``limit`` characters keeping its start and its end ("Chronic Lymph…
    Lymphoma"): what tells apart labels that begin alike."""
    if len(text) <= limit:
        return text
    tail = (limit - 1) * 2 // 5
    head = limit - 1 - tail
    return text[:head].rstrip() + ELLIPSIS + text[len(text) - tail :].lstrip()


def _wrap(text: str, per_line: int, lines: int = 2, *, middle: bool = False) -> list[str]:
    """``text`` on at most ``lines`` lines of ``per_line`` characters, broken between words;
    what does not fit is shortened with "…" (at the end, or in the middle of the last line)."""
    words = text.split()
    out: list[str] = []
    current = ""
    while words and len(out) < lines - 1:
        word = words[0]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= per_line:
            current = candidate
            words.pop(0)
            continue
        if not current:  # one word longer than the line: break it
            current, words[0] = word[:per_line], word[per_line:]
        out.append(current)
        current = ""
    rest = " ".join(([current] if current else []) + words)
    if rest:
        out.append(_shorten_middle(rest, per_line) if middle else _shorten_end(rest, per_line))
    return out or [""]


def fit_labels(
    labels: Sequence[str], widths: Sequence[float], keys: Sequence[str]
) -> list[list[str]]:
    """Each label as the lines drawn in its width (at most two), no two alike.

    A label that does not fit is shortened at its end; labels that then read alike are
    shortened in the middle instead (their differing ends show), then given their key
    ("… (NCIT:C3163)"), then numbered — whatever it takes, two rows never look the same."""
    per_line = [_chars_fitting(w) for w in widths]
    drawn = [_wrap(label, n) for label, n in zip(labels, per_line, strict=True)]

    def duplicates() -> list[int]:
        seen: dict[str, list[int]] = {}
        for i, lines in enumerate(drawn):
            seen.setdefault(" ".join(lines), []).append(i)
        return sorted(i for group in seen.values() if len(group) > 1 for i in group)

    for i in duplicates():
        drawn[i] = _wrap(labels[i], per_line[i], middle=True)
    for i in duplicates():
        if keys[i]:
            drawn[i] = _wrap(f"{labels[i]} ({keys[i]})", per_line[i], middle=True)
    for number, i in enumerate(duplicates(), start=1):
        drawn[i] = _wrap(f"{labels[i]} #{number}", per_line[i], middle=True)
    return drawn


# --- bar chart ------------------------------------------------------------------------------


def _counts_axis(bars: Sequence[Bar]) -> Axis | None:
    """Ticks of the values themselves when every printed value is its bar's length (a count);
    None when the printed values are something else (days, shares …) and no axis was given."""
    for bar in bars:
        if bar.hidden:
            continue
        digits = re.sub(r"[,\s]", "", bar.text)
        if not digits.isdigit() or int(digits) != bar.value:
            return None
    return Axis()


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    *,
    axis: Axis | None = None,
) -> Markup:
    """Horizontal bars, one per row, the value printed after each, over an axis with ticks.

    The label column takes the width the labels need (within :data:`MAX_LABEL_SHARE`); a long
    label wraps onto two lines and is shortened with "…" beyond, never so that two rows read
    alike; the full label is the row's tooltip. ``axis`` says what the ticks read (by default
    the values themselves, when they are counts: when the printed values are not the lengths
    and no axis is given, the axis has a baseline and no numbers)."""
    if not bars:
        return _empty(_open(chart_id, title, description, 30))
    axis = axis if axis is not None else _counts_axis(bars)
    indents = [min(b.indent, MAX_INDENT_LEVELS) * INDENT for b in bars]

    # columns: labels | bars | values
    wanted = max(i + text_width(b.label) for i, b in zip(indents, bars, strict=True))
    label_column = min(max(MIN_LABEL_WIDTH, wanted + 4), WIDTH * MAX_LABEL_SHARE)
    lines = fit_labels(
        [b.label for b in bars], [label_column - 4 - i for i in indents], [b.key for b in bars]
    )
    value_column = max(
        text_width(b.text) + (text_width(" " + b.note, SMALL) if b.note else 0) for b in bars
    )
    bar_left = label_column + GAP
    area = WIDTH - bar_left - GAP - value_column - 2
    largest = max((b.value for b in bars), default=0)  # a hidden bar's value is the threshold
    ticks = nice_ticks(largest) if axis is not None else [0.0, float(max(largest, 1))]
    top_value = ticks[-1]

    heights = [ROW_WRAPPED if len(label) > 1 else ROW for label in lines]
    top = 6
    plot_height = sum(heights)
    axis_y = top + plot_height + 2
    height = axis_y + (38 if axis is not None and axis.title else 24)
    parts = _open(chart_id, title, description, height)

    # the axis: gridlines and ticks behind the bars
    parts.append('<g class="axis axis-x" aria-hidden="true">')
    for tick in ticks if axis is not None else [0.0]:
        x = bar_left + tick / top_value * area
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{axis_y + 4}" '
            f'stroke="{GRID if tick else MUTED}" stroke-width="1"/>'
        )
        if axis is not None:
            label = axis.tick_text(tick)
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle" '
                f"{_attrs(fill=MUTED, font_size=SMALL)}>{escape(label)}</text>"
            )
    parts.append(
        f'<line x1="{bar_left}" y1="{axis_y}" x2="{bar_left + area:.1f}" y2="{axis_y}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
    )
    if axis is not None and axis.title:
        parts.append(
            f'<text class="axis-title" x="{bar_left + area / 2:.1f}" y="{axis_y + 33}" '
            f'text-anchor="middle" {_attrs(fill=MUTED, font_size=SMALL)}>'
            f"{escape(axis.title)}</text>"
        )
    parts.append("</g>")

    y = top
    for bar, indent, label_lines, row_height in zip(bars, indents, lines, heights, strict=True):
        bar_y = y + (row_height - BAR) / 2
        length = (bar.value / top_value * area) if top_value else 0.0
        if bar.hidden:
            length = max(length, HIDDEN_MIN)
            fill = f"url(#{escape(chart_id)}-hatch)"
        else:
            length = max(length, 2.0) if bar.value > 0 else 0.0
            fill = BLUE
        tip = f"{bar.label}: {bar.text}" + (f" ({bar.note})" if bar.note else "")
        parts.append(f"<g><title>{escape(tip)}</title>")
        first_baseline = y + row_height / 2 + 4.5 - (LINE / 2 if len(label_lines) > 1 else 0)
        parts.append(
            f'<text class="label" x="{4 + indent}" y="{first_baseline:.1f}" {_attrs(fill=TEXT)}>'
        )
        for n, line in enumerate(label_lines):
            dy = f' dy="{LINE}"' if n else ""
            parts.append(f'<tspan x="{4 + indent}"{dy}>{escape(line)}</tspan>')
        parts.append("</text>")
        if length:
            stroke = f' stroke="{HIDDEN}" stroke-width="1"' if bar.hidden else ""
            parts.append(
                f'<rect x="{bar_left}" y="{bar_y:.1f}" width="{length:.1f}" height="{BAR}" '
                f'fill="{fill}"{stroke} rx="2"/>'
            )
        note = (
            f" <tspan {_attrs(fill=MUTED, font_size=SMALL, font_weight=400)}>"
            f"{escape(bar.note)}</tspan>"
            if bar.note
            else ""
        )
        parts.append(
            f'<text class="value" x="{bar_left + length + GAP:.1f}" y="{bar_y + BAR - 3.5:.1f}" '
            f"{_attrs(fill=TEXT, font_weight=600)}>{escape(bar.text)}{note}</text>"
        )
        parts.append("</g>")
        y += row_height
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above


# --- progress against a goal ----------------------------------------------------------------


def progress_chart(
    chart_id: str,
    title: str,
    description: str,
    text: str,
    value: int,
    goal: int,
    hidden: bool,
    *,
    axis: Axis | None = None,
) -> Markup:
    """One bar against a goal across the whole width, a scale of ticks from 0 to the goal
    beneath (``axis``: by default the goal's own numbers), and the figure in words."""
    bar_height, track_y = 22, 4
    axis = axis or Axis()
    height = 84
    parts = _open(chart_id, title, description, height)
    parts.append(
        f'<rect x="0" y="{track_y}" width="{WIDTH}" height="{bar_height}" fill="{TRACK}" rx="4"/>'
    )
    if hidden:
        at = max(HIDDEN_MIN, value / goal * WIDTH if goal > 0 else 0.0)
        parts.append(
            f'<rect x="0" y="{track_y}" width="{at:.1f}" height="{bar_height}" '
            f'fill="url(#{escape(chart_id)}-hatch)" stroke="{HIDDEN}" rx="4"/>'
        )
    elif goal > 0 and value > 0:
        filled = min(1.0, value / goal) * WIDTH
        parts.append(
            f'<rect x="0" y="{track_y}" width="{max(filled, 3):.1f}" height="{bar_height}" '
            f'fill="{GREEN}" rx="4"/>'
        )
    if goal > 0:
        axis_y = track_y + bar_height
        parts.append('<g class="axis axis-x" aria-hidden="true">')
        parts.append(
            f'<line x1="0" y1="{axis_y}" x2="{WIDTH}" y2="{axis_y}" stroke="{MUTED}" '
            'stroke-width="1"/>'
        )
        quarters = [goal * q / 4 for q in range(5)]
        for i, tick in enumerate(quarters):
            x = tick / goal * WIDTH
            anchor = "start" if i == 0 else "end" if i == len(quarters) - 1 else "middle"
            x_line = min(max(x, 0.5), WIDTH - 0.5)
            parts.append(
                f'<line x1="{x_line:.1f}" y1="{axis_y}" x2="{x_line:.1f}" y2="{axis_y + 5}" '
                f'stroke="{MUTED}" stroke-width="1"/>'
            )
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{axis_y + 18}" text-anchor="{anchor}" '
                f"{_attrs(fill=MUTED, font_size=SMALL)}>{escape(axis.tick_text(tick))}</text>"
            )
        parts.append("</g>")
    parts.append(
        f'<text class="value" x="0" y="{height - 8}" {_attrs(fill=TEXT, font_weight=600)}>'
        f"{escape(text)}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above


# --- columns over time ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: str  # "2024-03"
    text: str
    value: int
    hidden: bool = False


def _month_labels(columns: Sequence[Column]) -> list[int]:
    """The columns that get a label on the time axis: every one when there are few, else the
    first and the first month of each year (``…-01``)."""
    if len(columns) <= 12:
        return list(range(len(columns)))
    return [i for i, c in enumerate(columns) if i == 0 or c.label.endswith("-01")]


def column_chart(
    chart_id: str,
    title: str,
    description: str,
    columns: Sequence[Column],
    colour: str = BLUE,
    *,
    axis: Axis | None = None,
    time_title: str = "",
) -> Markup:
    """Vertical columns over time (a running total) between a value axis (ticks, numbers,
    gridlines, ``axis.title`` above it) and a time axis (the months, thinned so that no two
    labels overlap, ``time_title`` beneath); the last column carries its value."""
    if not columns:
        return _empty(_open(chart_id, title, description, 30))
    axis = axis or Axis()
    largest = max((c.value for c in columns), default=0)  # hidden: the threshold
    ticks = nice_ticks(largest, most=5)
    tick_texts = [axis.tick_text(t) for t in ticks]
    left = max(text_width(t, SMALL) for t in tick_texts) + 12
    right = 8
    top = 40  # the axis title and the last column's value
    bottom = 30 + (18 if time_title else 0)
    plot_height = 170
    height = top + plot_height + bottom
    base = top + plot_height
    parts = _open(chart_id, title, description, height)

    parts.append('<g class="axis axis-y" aria-hidden="true">')
    for tick, label in zip(ticks, tick_texts, strict=True):
        y = base - tick / ticks[-1] * plot_height
        parts.append(
            f'<line x1="{left - 4:.1f}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" '
            f'stroke="{GRID if tick else MUTED}" stroke-width="1"/>'
        )
        parts.append(
            f'<text class="tick" x="{left - 7:.1f}" y="{y + 4:.1f}" text-anchor="end" '
            f"{_attrs(fill=MUTED, font_size=SMALL)}>{escape(label)}</text>"
        )
    parts.append(
        f'<line x1="{left:.1f}" y1="{top - 6}" x2="{left:.1f}" y2="{base}" stroke="{MUTED}" '
        'stroke-width="1"/>'
    )
    if axis.title:
        parts.append(
            f'<text class="axis-title" x="0" y="{top - 24}" {_attrs(fill=MUTED, font_size=SMALL)}>'
            f"{escape(axis.title)}</text>"
        )
    parts.append("</g>")

    slot = (WIDTH - left - right - 4) / len(columns)
    column_width = max(2.0, min(28.0, slot * 0.75))

    def x_of(i: int) -> float:
        return left + 4 + i * slot + (slot - column_width) / 2

    for i, column in enumerate(columns):
        h = (column.value / ticks[-1] * plot_height) if ticks[-1] else 0.0
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
                f'<rect x="{x_of(i):.1f}" y="{base - h:.1f}" width="{column_width:.1f}" '
                f'height="{h:.1f}" fill="{fill}"{stroke}/>'
            )
        parts.append("</g>")

    # the time axis: labels centred under their column, kept inside the drawing, never two
    # overlapping (a label that would touch the one before is left out)
    parts.append('<g class="axis axis-time" aria-hidden="true">')
    previous_end = -math.inf
    for i in _month_labels(columns):
        label = columns[i].label
        centre = x_of(i) + column_width / 2
        half = text_width(label, SMALL) / 2
        centre = min(max(centre, half), WIDTH - half)
        if centre - half < previous_end + 10:
            continue
        previous_end = centre + half
        parts.append(
            f'<line x1="{x_of(i) + column_width / 2:.1f}" y1="{base}" '
            f'x2="{x_of(i) + column_width / 2:.1f}" y2="{base + 5}" stroke="{MUTED}" '
            'stroke-width="1"/>'
        )
        parts.append(
            f'<text class="tick" x="{centre:.1f}" y="{base + 19}" text-anchor="middle" '
            f"{_attrs(fill=MUTED, font_size=SMALL)}>{escape(label)}</text>"
        )
    if time_title:
        parts.append(
            f'<text class="axis-title" x="{left + (WIDTH - left) / 2:.1f}" y="{height - 6}" '
            f'text-anchor="middle" {_attrs(fill=MUTED, font_size=SMALL)}>'
            f"{escape(time_title)}</text>"
        )
    parts.append("</g>")

    last = columns[-1]
    last_text = f"{last.label}: {last.text}"
    end = min(x_of(len(columns) - 1) + column_width, WIDTH - 2)
    end = max(end, text_width(last_text) + 2)
    parts.append(
        f'<text class="value" x="{end:.1f}" y="{top - 10}" text-anchor="end" '
        f"{_attrs(fill=TEXT, font_weight=600)}>{escape(last_text)}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above


# --- the dashboard's charts -----------------------------------------------------------------

MAX_DISEASE_BARS = 30
MAX_CUSTODIAN_BARS = 25
PATIENTS = Axis("Patients")


def _bars(rows: Sequence[Row], *, indent: bool = False) -> list[Bar]:
    return [
        Bar(
            label=row.label,
            text=str(row.patients),
            value=row.patients.bar,
            hidden=row.patients.hidden,
            indent=getattr(row, "depth", 0) if indent else 0,
            note=plural(row.datasets, "dataset"),
            key=row.value,
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
    goal_text = f"{stats.patients} of {plural(stats.goal, 'patient')}" + (
        f" ({stats.goal_share:.0%})" if stats.goal_share is not None else ""
    )
    disease_rows = disease_rows_for_chart(stats.diseases)
    shown_custodians = stats.custodians[:MAX_CUSTODIAN_BARS]
    mapped = stats.variables
    month = "Month of first publication"
    return {
        "goal": progress_chart(
            "chart-goal",
            "Patients covered against the alliance goal",
            f"Published datasets cover {goal_text}; the alliance's goal is data on "
            f"{plural(stats.goal, 'patient')}.{small}",
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
            f"broader term. {len(disease_rows)} of {plural(len(stats.diseases), 'term')} "
            f"{verb(len(disease_rows), 'is')} drawn, indented by level; the table "
            f"lists all of them.{small}",
            _bars(disease_rows, indent=True),
            axis=PATIENTS,
        ),
        "countries": bar_chart(
            "chart-countries",
            "Patients per country",
            "Patients of the published datasets per country; a dataset that covers several "
            f"countries counts under each.{small}",
            _bars(stats.countries),
            axis=PATIENTS,
        ),
        "source_types": bar_chart(
            "chart-source-types",
            "Patients per source type",
            f"Patients of the published datasets per kind of source.{small}",
            _bars(stats.source_types),
            axis=PATIENTS,
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
            axis=PATIENTS,
        ),
        "age_groups": bar_chart(
            "chart-age-groups",
            "Patients per age group",
            "Patients of the published datasets per age group; a dataset of several age "
            f"groups counts under each.{small}",
            _bars(stats.age_groups),
            axis=PATIENTS,
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
            axis=Axis("Published datasets"),
            time_title=month,
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
            axis=Axis("Patients covered"),
            time_title=month,
        ),
        "variables": progress_chart(
            "chart-variables",
            "Share of variables mapped to standard terms",
            f"{mapped.mapped:,} of the {plural(mapped.variables, 'variable')} of the published "
            f"datasets {verb(mapped.mapped, 'has')} an accepted mapping to a "
            "standard term.",
            f"{mapped.mapped:,} of {plural(mapped.variables, 'variable')} mapped "
            f"({mapped.share:.0%})",
            mapped.mapped,
            mapped.variables,
            False,
            axis=Axis(scale=100 / mapped.variables, suffix="%") if mapped.variables else None,
        ),
    }
