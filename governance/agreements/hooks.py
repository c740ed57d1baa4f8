"""What agreements add to the catalogue (through :mod:`catalogue.extensions`): whether a
dataset can be requested, and until when — in the dataset JSON, on the dataset page and on
search hits. Each asks in bulk: one query per page of datasets or hits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from catalogue import extensions
from catalogue.models import Dataset
from core.db import get_session
from core.policies import Actor
from governance.agreements import services


def dataset_facts(actor: Any, dataset_ids: list[Any]) -> dict[Any, dict[str, Any]]:
    """``requestable`` and ``requestable_until`` (ISO date, or None) of each dataset."""
    until = services.requestable_until(dataset_ids)
    return {
        i: {
            "requestable": i in until,
            "requestable_until": until[i].isoformat() if i in until else None,
        }
        for i in dataset_ids
    }


def annotate_hits(actor: Actor, query: Any, hits: list[Any]) -> None:
    """``hit.extras["requestable"]`` and ``["requestable_until"]`` on a page of hits — those
    the search has not filled from the dataset facts already (:func:`dataset_facts`), so that
    a page of hits costs one query either way."""
    hits = [h for h in hits if "requestable" not in (getattr(h, "extras", None) or {})]
    if not hits:
        return
    ids: dict[int, str] = {}
    missing: dict[str, list[int]] = {}
    for n, hit in enumerate(hits):
        dataset_id = getattr(hit, "dataset_id", None)
        if dataset_id:
            ids[n] = dataset_id
        else:
            missing.setdefault(hit.identifier, []).append(n)
    if missing:
        rows = get_session().execute(
            select(Dataset.identifier, Dataset.id).where(Dataset.identifier.in_(sorted(missing)))
        )
        for identifier, dataset_id in rows:
            for n in missing[identifier]:
                ids[n] = dataset_id
    until = services.requestable_until(ids.values())
    for n, hit in enumerate(hits):
        extras = getattr(hit, "extras", None)
        if extras is None:
            continue
        day = until.get(ids.get(n, ""))
        extras["requestable"] = day is not None
        extras["requestable_until"] = day.isoformat() if day is not None else None


def dataset_panel(actor: Actor, dataset: Dataset, version: Any = None) -> dict[str, Any] | None:
    """The dataset page's section: requestable until when, under which agreement, or why not
    (no agreement in effect; no data-use conditions yet), with links for those who can act."""
    covering = services.covering_agreements([dataset.id]).get(dataset.id, [])
    conditions = dataset.id in services.has_conditions([dataset.id])
    logged_in = actor is not None
    return {
        "agreements": covering if logged_in else [],
        "agreement": covering[0] if covering else None,
        "until": covering[0].expires_on if covering else None,
        "has_conditions": conditions,
        "requestable": bool(covering) and conditions,
        "logged_in": logged_in,
        "can_manage": services.can_manage(actor, dataset.organisation_id),
        "dataset": dataset.identifier,
        "organisation_id": dataset.organisation_id,
    }


def register() -> None:
    extensions.register_dataset_facts(dataset_facts)
    extensions.register_hit_annotator(annotate_hits)
    extensions.register_panel(
        extensions.Panel("dataset", "agreements/_dataset_panel.html", dataset_panel, order=60)
    )
    extensions.register_panel(
        extensions.Panel("search_hit", "agreements/_search_hit_panel.html", order=5)
    )
