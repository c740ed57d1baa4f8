"""The search page, ``/search``: the same service and parameters as ``GET /api/v1/search``.

The page is one GET form (search box, sort, facet checkboxes), so it works without JavaScript
and every result page has its own URL; ``search.js`` only folds the facet trees and offers
term autocomplete.

The dataset list (``/datasets``, :func:`catalogue.datasets.views.dataset_list`) is this page
with no query to begin with: :func:`render_search` draws both, each page's links (facets,
sorts, pages) staying on the page they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pycountry
from flask import Blueprint, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from catalogue import extensions
from catalogue.datasets import services as datasets
from catalogue.models import DATA_MODEL_LABELS, SOURCE_TYPE_LABELS, DataModel, SourceType
from catalogue.search import services, text
from catalogue.search.facets import AGE_GROUP_LABELS, FacetValue, facets
from catalogue.search.query import MAX_WORDS
from core.api import actor
from core.errors import InvalidInput
from core.nav import NavEntry, everyone, register

bp = Blueprint("search", __name__, template_folder="templates")
register(NavEntry("Search", "search.search_page", everyone, "main", 15))

SHOWN_VALUES = 8  # values of a flat facet shown before "Show all"


@dataclass
class TreeNode:
    value: FacetValue
    children: list[TreeNode] = field(default_factory=list)
    open: bool = False  # selected, or above a selected value


def tree(values: list[FacetValue]) -> list[TreeNode]:
    """The values of a hierarchical facet (depth first, with their parents) as nested nodes;
    a value with two parents among the values appears under both."""
    by_value = {v.value: v for v in values}
    children: dict[str, list[str]] = {}
    for v in values:
        for parent in v.parents:
            children.setdefault(parent, []).append(v.value)

    def build(value: str, path: frozenset[str]) -> TreeNode:
        node = TreeNode(by_value[value])
        for child in children.get(value, []):
            if child not in path:
                node.children.append(build(child, path | {child}))
        node.open = any(c.value.selected or c.open for c in node.children)
        return node

    roots = [build(v.value, frozenset({v.value})) for v in values if not v.parents]
    for root in roots:  # the first level shows at once
        root.open = True
    return roots


def page_url(args: MultiDict[str, str], **changes: Any) -> str:
    """This page (the search or the dataset list) with ``args`` changed: a value None removes
    the parameter, a list sets repeated values; ``page`` goes back to 1 unless given."""
    new = MultiDict(args)
    if "page" not in changes:
        new.pop("page", None)
    for name, value in changes.items():
        new.pop(name, None)
        if value is None:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            new.add(name, str(item))
    return url_for(_endpoint(), **new.to_dict(flat=False))  # type: ignore[arg-type]


def _endpoint() -> str:
    """The page being drawn (its links stay on it): the search, or the dataset list."""
    return request.endpoint or "search.search_page"


def without_value(args: MultiDict[str, str], name: str, value: str) -> str:
    return page_url(args, **{name: [v for v in args.getlist(name) if v != value] or None})


def _selected_filters(args: MultiDict[str, str], result: services.SearchResult) -> list[Any]:
    """``(label, url without it)`` for every selected facet value (the chips above the
    results, and the empty state's suggestions)."""
    chips = []
    for facet in facets():
        values = {v.value: v.label for v in result.facets.get(facet.name, [])}
        if facet.name == "patients":
            low, high = args.get("patients_min"), args.get("patients_max")
            if low or high:
                label = f"{low or 0}–{high or '…'} patients"  # noqa: RUF001 - a range
                chips.append((label, page_url(args, patients_min=None, patients_max=None)))
            continue
        for value in dict.fromkeys(args.getlist(facet.name)):
            if not value.strip():
                continue
            label = values.get(value) or _label_of(facet.name, value)
            chips.append((f"{facet.label}: {label}", without_value(args, facet.name, value)))
    return chips


def _label_of(name: str, value: str) -> str:
    if name == "source_type" and value in SourceType._value2member_map_:
        return SOURCE_TYPE_LABELS[SourceType(value)]
    if name == "data_model" and value in DataModel._value2member_map_:
        return DATA_MODEL_LABELS[DataModel(value)]
    if name == "age_group":
        return AGE_GROUP_LABELS.get(value, value)  # type: ignore[call-overload]
    if name == "country":
        country = pycountry.countries.get(alpha_2=value.upper())
        return country.name if country else value
    return value


@bp.get("/search")
def search_page() -> tuple[str, int] | str:
    return render_search("search/search.html")


def render_search(
    template: str, args: MultiDict[str, str] | None = None, **extra: Any
) -> tuple[str, int] | str:
    """The search's results for the query string (or ``args``) drawn with ``template`` (the
    search page, or a page extending it) and ``extra`` in its context; parameters the search
    refuses are named above the results (422), which then ignore the filters."""
    if args is None:
        args = MultiDict((k, v) for k, v in request.args.items(multi=True))
    errors: dict[str, list[str]] = {}
    try:
        query = services.parse_query(args.to_dict(flat=False))
        result = services.search(actor(), query)  # may refuse a selection for this caller
    except InvalidInput as exc:
        errors = exc.errors or {"q": [exc.detail]}
        query = services.SearchQuery(q=(args.get("q") or "").strip())
        result = services.search(actor(), query)
        return render_template(template, **_context(args, query, result, errors), **extra), 422
    return render_template(template, **_context(args, query, result, errors), **extra)


def _context(
    args: MultiDict[str, str],
    query: services.SearchQuery,
    result: services.SearchResult,
    errors: dict[str, list[str]],
) -> dict[str, Any]:
    registered = {f.name: f for f in facets()}
    who = actor()
    trees = {
        name: tree(values)
        for name, values in result.facets.items()
        if registered[name].hierarchical
    }
    meaning = result.interpretation
    suggestions = []
    if not result.total:
        for label, url in _selected_filters(args, result):
            suggestions.append((f"Remove the filter {label}", url))
        if len(meaning.parts) > 1:
            for part in meaning.parts:
                fewer = " ".join(w for p in meaning.parts if p is not part for w in p.words)
                suggestions.append(
                    (f"Search without “{' '.join(part.words)}”", page_url(args, q=fewer))
                )
    return {
        "endpoint": _endpoint(),
        "query": query,
        "result": result,
        "variable_counts": datasets.variable_counts(h.version_id for h in result.items),
        "errors": errors,
        "args": args,
        "facet_list": sorted(
            (registered[name] for name in result.facets), key=lambda f: f.page_order
        ),
        "facet_boxes": {
            f.name: f.page_context(who, result.query.selections.get(f.name))
            for f in registered.values()
            if f.template
        },
        "hit_panels": extensions.panels("search_hit", who),
        "trees": trees,
        "chips": _selected_filters(args, result),
        "suggestions": suggestions,
        "sorts": services.SORTS,
        "page_url": page_url,
        "without_value": without_value,
        "shown_values": SHOWN_VALUES,
        "max_word": text.MAX_WORD,
        "max_words": MAX_WORDS,
        "source_type_labels": {t.value: label for t, label in SOURCE_TYPE_LABELS.items()},
        "data_model_labels": {m.value: label for m, label in DATA_MODEL_LABELS.items()},
        "age_group_labels": {a.value: label for a, label in AGE_GROUP_LABELS.items()},
    }
