"""Pages and buttons of the selection: the page ``/me/selection``, the "Add to selection" /
"In selection ✓" buttons on search hits and on a dataset's page, the variable checkboxes on a
dataset's page and the header's "Selection (n)".

Every button is a small CSRF-protected form that posts to ``/me/selection/…`` and goes back to
the page it came from (the form's ``next``, a path of this site), so it works without
JavaScript. Anonymous callers are sent to log in and back to that page.

What the pages around ask of the selection is read once per request (:func:`_selected_ids`,
kept in ``flask.g``): the header's count and every hit's button share one query.

The page has a slot for what areas that build on the catalogue add, e.g. governance's
"Request access for this selection": ``extensions.register_panel(Panel("selection",
template, context))``, where ``context(actor, selection)`` gets the
:class:`~catalogue.selection.services.SelectionView` shown (return None to show nothing) and
the template sees it as ``selection`` and its own context as ``panel``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as WerkzeugResponse

from catalogue import extensions
from catalogue.datasets import services as datasets
from catalogue.models import Dataset, DatasetStatus, DatasetVersion
from catalogue.selection import services
from core.api import actor
from core.errors import NotFound
from core.forms import form_action
from core.policies import Actor, require_login

bp = Blueprint("selection", __name__, template_folder="templates")
log = logging.getLogger("harmony.selection")


# --- what other pages show --------------------------------------------------------------------


def _selected_ids(who: Actor) -> frozenset[str] | None:
    """The caller's selected datasets (``Dataset.id``), once per request; None when
    anonymous."""
    if who is None:
        return None
    if "selection_ids" not in g:
        g.selection_ids = services.selected_dataset_ids(who)
    ids: frozenset[str] = g.selection_ids
    return ids


def selection_count() -> int | None:
    """The header's number: datasets in the caller's selection (None: anonymous). A page
    must render even when the database failed (the error page extends the same base), so a
    failure here shows no number rather than a second error."""
    try:
        ids = _selected_ids(actor())
    except SQLAlchemyError:
        log.warning("the selection's count was not shown", exc_info=True)
        return None
    return None if ids is None else len(ids)


@dataclass(frozen=True)
class VariablePicker:
    """The variable checkboxes of a dataset's page: which variables are chosen already."""

    dataset_id: str
    identifier: str
    in_selection: bool
    chosen: frozenset[str]


def selection_picker(dataset: Dataset, version: DatasetVersion) -> VariablePicker | None:
    """The checkboxes for the variables table of ``version``'s page: only for a logged-in
    reader, a published dataset and its latest published version (the one whose variable
    names a selection keeps)."""
    who = actor()
    if who is None or dataset.status is not DatasetStatus.PUBLISHED:
        return None
    if version is not datasets.latest_published(dataset):
        return None
    chosen = services.selected_variables(who, dataset.id)
    return VariablePicker(dataset.id, dataset.identifier, chosen is not None, chosen or frozenset())


def _dataset_panel(who: Actor, dataset: Dataset, version: DatasetVersion) -> dict[str, Any] | None:
    """The "Your selection" card on a dataset's page (slot "dataset")."""
    ids = _selected_ids(who)
    if ids is None:
        return None
    selected = dataset.id in ids
    if not selected and dataset.status is not DatasetStatus.PUBLISHED:
        return None
    chosen = services.selected_variables(who, dataset.id) if selected else None
    return {
        "in_selection": selected,
        "addable": dataset.status is DatasetStatus.PUBLISHED,
        "variables": len(chosen or ()),
    }


def _hit_panel(who: Actor) -> dict[str, Any] | None:
    """The button on each search hit (slot "search_hit")."""
    ids = _selected_ids(who)
    return None if ids is None else {"selected": ids}


def register_extensions() -> None:
    extensions.register_panel(
        extensions.Panel("search_hit", "selection/_hit_button.html", _hit_panel, order=90)
    )
    extensions.register_panel(
        extensions.Panel("dataset", "selection/_dataset_panel.html", _dataset_panel, order=5)
    )


# --- the page ---------------------------------------------------------------------------------


@bp.get("/me/selection")
def selection_page() -> str:
    who = actor()
    require_login(who)
    selection = services.list_selection(who)
    return render_template(
        "selection/selection.html",
        selection=selection,
        panels=extensions.panels("selection", who, selection),
        max_datasets=services.MAX_DATASETS,
    )


# --- the buttons ------------------------------------------------------------------------------


def _back() -> str:
    """Where a button goes back to: the form's ``next`` when it is a path of this site, else
    the selection page."""
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return url_for("selection.selection_page")
    return target


def _button(
    action: Callable[[Actor], Any], success: str | Callable[[Any], str]
) -> WerkzeugResponse:
    back = _back()
    if actor() is None:
        return redirect(url_for("core.login", next=back))
    return form_action(action, success=success, done=back, back=back)


def _title(view: services.SelectionView, dataset_ref: str) -> str:
    for item in view.datasets:
        if dataset_ref in (item.id, item.identifier):
            return item.title
    return dataset_ref


@bp.post("/me/selection/datasets/<dataset_id>/add")
def add_dataset(dataset_id: str) -> WerkzeugResponse:
    return _button(
        lambda who: services.add_dataset(who, dataset_id),
        lambda view: f"“{_title(view, dataset_id)}” is in your selection.",
    )


def _removing(remove: Callable[[], None]) -> None:
    """A remove button pressed twice (or in two tabs) finds nothing the second time: what the
    user wanted is done, so no error page."""
    with contextlib.suppress(NotFound):
        remove()


@bp.post("/me/selection/datasets/<dataset_id>/remove")
def remove_dataset(dataset_id: str) -> WerkzeugResponse:
    return _button(
        lambda who: _removing(lambda: services.remove_dataset(who, dataset_id)),
        f"“{request.form.get('title') or dataset_id}” is no longer in your selection.",
    )


@bp.post("/me/selection/datasets/<dataset_id>/variables")
def choose_variables(dataset_id: str) -> WerkzeugResponse:
    return _button(
        lambda who: services.choose_variables(
            who, dataset_id, request.form.getlist("variables"), request.form.getlist("shown")
        ),
        lambda view: f"Your selection of variables of “{_title(view, dataset_id)}” is saved.",
    )


@bp.post("/me/selection/datasets/<dataset_id>/variables/<path:name>/remove")
def remove_variable(dataset_id: str, name: str) -> WerkzeugResponse:
    return _button(
        lambda who: _removing(lambda: services.remove_variable(who, dataset_id, name)),
        f"The variable “{name}” is no longer in your selection.",
    )


@bp.post("/me/selection/clear")
def clear_selection() -> WerkzeugResponse:
    return _button(lambda who: services.clear_selection(who), "Your selection is empty.")
