"""Where the areas that build on the catalogue add to what it shows, without the catalogue
importing them (dependencies point one way: ``catalogue ← governance``).

Governance says what consent allows and whether a dataset can be requested; the catalogue
shows it on the dataset page, in the dataset JSON, on search hits and in the DCAT record. Each
such place asks the providers registered here, in bulk (one call per page of datasets or hits,
never one per dataset), and shows nothing more when none is registered.

Providers are registered by the area's ``init_app``; registering the same function again
(every application the tests create) changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

#: ``provider(actor, dataset_ids) -> {dataset_id: {field: value}}``: fields of the dataset JSON
#: the catalogue declares but others fill (``data_use``, ``requestable``, ``requestable_until``)
FactsProvider = Callable[[Any, list[str]], dict[str, dict[str, Any]]]
#: ``annotator(actor, query, hits)``: sets ``hit.extras[field]`` on a page of search hits
HitAnnotator = Callable[[Any, Any, list[Any]], None]
#: ``contributor(graph, subject, record, iris)``: adds triples about a published dataset
DcatContributor = Callable[[Any, Any, Any, Any], None]

#: the dataset JSON's fields that other areas fill, with what they are when nobody does
DATASET_FACT_DEFAULTS: dict[str, Any] = {
    "data_use": None,
    "requestable": False,
    "requestable_until": None,
}


@dataclass(frozen=True)
class Panel:
    """A section of a page that another area renders: ``template`` is included with the
    page's context plus what ``context(actor, dataset, version)`` returns; ``None`` from it
    leaves the section out."""

    slot: str  # "dataset" (the dataset page), "search_hit" (one hit on the search page)
    template: str
    context: Callable[..., dict[str, Any] | None] | None = None
    order: int = 100


_facts: list[FactsProvider] = []
_annotators: list[HitAnnotator] = []
_dcat: list[DcatContributor] = []
_panels: list[Panel] = []


def _add(registry: list[Any], item: Any) -> None:
    if item not in registry:
        registry.append(item)


def register_dataset_facts(provider: FactsProvider) -> None:
    _add(_facts, provider)


def register_hit_annotator(annotator: HitAnnotator) -> None:
    _add(_annotators, annotator)


def register_dcat_contributor(contributor: DcatContributor) -> None:
    _add(_dcat, contributor)


def register_panel(panel: Panel) -> None:
    _add(_panels, panel)
    _panels.sort(key=lambda p: p.order)


def dataset_facts(actor: Any, dataset_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Every registered provider's fields for each dataset, the defaults where none says."""
    ids = list(dict.fromkeys(dataset_ids))
    out = {i: dict(DATASET_FACT_DEFAULTS) for i in ids}
    if not ids:
        return out
    for provider in _facts:
        for dataset_id, values in provider(actor, ids).items():
            if dataset_id in out:
                out[dataset_id].update(values)
    return out


def annotate_hits(actor: Any, query: Any, hits: list[Any]) -> None:
    if hits:
        for annotator in _annotators:
            annotator(actor, query, hits)


def contribute_dcat(graph: Any, subject: Any, record: Any, iris: Any) -> None:
    for contributor in _dcat:
        contributor(graph, subject, record, iris)


def panels(slot: str, actor: Any, *args: Any) -> list[tuple[str, dict[str, Any]]]:
    """The sections another area adds to ``slot``, as (template, context) pairs to include."""
    out = []
    for panel in _panels:
        if panel.slot != slot:
            continue
        context = panel.context(actor, *args) if panel.context else {}
        if context is not None:
            out.append((panel.template, context))
    return out
