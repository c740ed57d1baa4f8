"""Pages and buttons of selections: the current selection ``/me/selection``, the list of one's
selections ``/me/selections`` (make, switch, rename, delete), one selection
``/me/selections/<id>`` (share, download its combined dictionary, compare it in the
harmonisation matrix), the read-only shared page ``/shared/selections/<token>``, the "Add to
selection" / "In selection ✓" buttons on search hits and on a dataset's page, the variable
checkboxes on a dataset's page and the header's "Selection (n)". The add buttons always act
on the *current* selection.

Every button is a small CSRF-protected form that posts to ``/me/selection(s)/…`` and goes back
to the page it came from (the form's ``next``, a path of this site), so it works without
JavaScript. Anonymous callers are sent to log in and back to that page.

What the pages around ask of the selection is read once per request (:func:`_selected_ids`,
kept in ``flask.g``): the header's count and every hit's button share one query.

The selection page has a slot for what areas that build on the catalogue add, e.g.
governance's "Request access for this selection": ``extensions.register_panel(Panel(
"selection", template, context))``, where ``context(actor, selection)`` gets the
:class:`~catalogue.selection.services.SelectionView` shown (return None to show nothing) and
the template sees it as ``selection`` and its own context as ``panel``. The slot is filled on
the page of the *current* selection only: governance starts a request from the current one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as WerkzeugResponse

from catalogue import extensions
from catalogue.datasets import services as datasets
from catalogue.models import Dataset, DatasetStatus, DatasetVersion
from catalogue.selection import services
from core.api import actor
from core.errors import InvalidInput, NotFound
from core.forms import form_action
from core.policies import Actor, require_login

bp = Blueprint(
    "selection",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/selection",
)
log = logging.getLogger("harmony.selection")

#: where the harmonisation matrix is when no route of it is registered (see matrix_url)
MATRIX_FALLBACK = "/harmonisation"


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
        "name": services.current_name(who),
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


def matrix_url(*, selection_id: str | None = None, datasets: list[str] | None = None) -> str:
    """The harmonisation matrix opened on one of the caller's selections
    (``?selection=<id>``, which the matrix reads with
    :func:`~catalogue.selection.services.selection_for_matrix`), or on a shared selection's
    published datasets (``?datasets=<identifier>`` each: the link's token stays out of the
    matrix's address). The matrix's registered route (the rule ``/harmonisation``), else
    :data:`MATRIX_FALLBACK`."""
    path = MATRIX_FALLBACK
    for rule in current_app.url_map.iter_rules():
        if rule.rule == "/harmonisation" and "GET" in (rule.methods or ()):
            path = rule.rule
            break
    query = [("selection", selection_id)] if selection_id else []
    query += [("datasets", identifier) for identifier in datasets or ()]
    return f"{path}?{urlencode(query)}" if query else path


# --- the pages --------------------------------------------------------------------------------


def _selection_page(
    who: Actor,
    view: services.SelectionView,
    status: int = 200,
    *,
    errors: dict[str, list[str]] | None = None,
    new_link: str | None = None,
    name_value: str | None = None,
) -> tuple[str, int]:
    others = services.list_selections(who, per_page=services.MAX_SELECTIONS).items
    return (
        render_template(
            "selection/selection.html",
            selection=view,
            selections=others,
            panels=extensions.panels("selection", who, view) if view.is_current else [],
            max_datasets=services.MAX_DATASETS,
            errors=errors or {},
            new_link=new_link,
            name_value=name_value if name_value is not None else view.name,
            matrix=matrix_url(selection_id=view.id) if view.id else None,
        ),
        status,
    )


@bp.get("/me/selection")
def selection_page() -> Any:
    """The current selection (the header's "Selection (n)")."""
    who = actor()
    require_login(who)
    return _selection_page(who, services.list_selection(who))


@bp.get("/me/selections/<selection_id>")
def named_selection_page(selection_id: str) -> Any:
    who = actor()
    require_login(who)
    return _selection_page(who, services.get_selection(who, selection_id))


def _list_page(who: Actor, status: int = 200, **context: Any) -> tuple[str, int]:
    page = services.list_selections(who, per_page=services.MAX_SELECTIONS)
    return (
        render_template(
            "selection/selections.html",
            selections=page.items,
            max_selections=services.MAX_SELECTIONS,
            errors=context.pop("errors", {}),
            **context,
        ),
        status,
    )


@bp.get("/me/selections")
def selections_page() -> Any:
    who = actor()
    require_login(who)
    return _list_page(who)


@bp.post("/me/selections")
def create_selection() -> Any:
    who = actor()
    if who is None:
        return redirect(url_for("core.login", next=url_for("selection.selections_page")))
    name = request.form.get("name", "")
    try:
        view = services.create_selection(who, name)
    except InvalidInput as exc:
        return _list_page(who, 422, errors=exc.errors or {}, name_value=name)
    flash(
        f"“{view.name}” is your current selection: the “Add to selection” buttons put "
        "datasets there.",
        "success",
    )
    return redirect(url_for("selection.named_selection_page", selection_id=view.id))


@bp.post("/me/selections/<selection_id>/rename")
def rename_selection(selection_id: str) -> Any:
    """A new name; a name that is empty, too long or taken is shown beside the field."""
    who = actor()
    if who is None:
        return redirect(url_for("core.login", next=_back()))
    name = request.form.get("name", "")
    try:
        view = services.update_selection(who, selection_id, name=name)
    except InvalidInput as exc:
        shown = services.get_selection(who, selection_id)
        return _selection_page(who, shown, 422, errors=exc.errors or {}, name_value=name)
    flash(f"The selection is now called “{view.name}”.", "success")
    return redirect(url_for("selection.named_selection_page", selection_id=selection_id))


@bp.post("/me/selections/<selection_id>/current")
def make_current(selection_id: str) -> WerkzeugResponse:
    return _button(
        lambda who: services.make_current(who, selection_id),
        lambda view: (
            f"“{view.name}” is your current selection: the “Add to selection” "
            "buttons put datasets there."
        ),
    )


@bp.post("/me/selections/<selection_id>/delete")
def delete_selection(selection_id: str) -> WerkzeugResponse:
    who = actor()
    if who is None:
        return redirect(url_for("core.login", next=url_for("selection.selections_page")))
    return form_action(
        lambda who: services.delete_selection(
            who, selection_id, request.form.get("revision") or None
        ),
        success=lambda name: f"The selection “{name}” is deleted.",
        done=url_for("selection.selections_page"),
        back=_back(),
    )


@bp.post("/me/selections/<selection_id>/share")
def share_selection(selection_id: str) -> Any:
    """Make the link and show it on the selection's page, this once (only its digest is
    kept), as the account page shows a new API token."""
    who = actor()
    if who is None:
        return redirect(url_for("core.login", next=_back()))
    from catalogue.selection.api import share_url

    link = services.share_selection(who, selection_id)
    return _selection_page(who, link.selection, 201, new_link=share_url(link.token))


@bp.get("/me/selections/<selection_id>/share")
def share_page_again(selection_id: str) -> WerkzeugResponse:
    """The address the browser shows after making a link: opened again (a bookmark, the
    address bar), it leads to the selection's page (the link is not shown twice)."""
    return redirect(url_for("selection.named_selection_page", selection_id=selection_id))


@bp.post("/me/selections/<selection_id>/unshare")
def unshare_selection(selection_id: str) -> WerkzeugResponse:
    return _button(
        lambda who: services.unshare_selection(who, selection_id),
        "The selection is no longer shared: its link does not open it any more.",
    )


# --- the shared page --------------------------------------------------------------------------


def _shared_headers() -> dict[str, str]:
    # a revoked link must stop working at once: no shared cache may keep the page
    return {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


@bp.get("/shared/selections/<token>")
def shared_page(token: str) -> Any:
    """The read-only page a share link opens (anyone holding it)."""
    view = services.shared_selection(token)
    return (
        render_template(
            "selection/shared.html",
            selection=view,
            token=token,
            matrix=matrix_url(datasets=[d.identifier for d in view.datasets]),
        ),
        200,
        _shared_headers(),
    )


@bp.post("/shared/selections/<token>/copy")
def copy_shared(token: str) -> WerkzeugResponse:
    back = url_for("selection.shared_page", token=token)
    if actor() is None:
        return redirect(url_for("core.login", next=back))
    return form_action(
        lambda who: services.copy_shared_selection(who, token),
        success=lambda view: f"“{view.name}” is now one of your selections, and your current one.",
        done=lambda view: url_for("selection.named_selection_page", selection_id=view.id),
        back=back,
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


@bp.post("/me/selections/<selection_id>/datasets/<dataset_id>/remove")
def remove_dataset_from(selection_id: str, dataset_id: str) -> WerkzeugResponse:
    return _button(
        lambda who: _removing(
            lambda: services.remove_dataset(who, dataset_id, selection_id=selection_id)
        ),
        f"“{request.form.get('title') or dataset_id}” is no longer in the selection.",
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


@bp.post("/me/selections/<selection_id>/datasets/<dataset_id>/variables/<path:name>/remove")
def remove_variable_from(selection_id: str, dataset_id: str, name: str) -> WerkzeugResponse:
    return _button(
        lambda who: _removing(
            lambda: services.remove_variable(who, dataset_id, name, selection_id=selection_id)
        ),
        f"The variable “{name}” is no longer in the selection.",
    )


@bp.post("/me/selection/clear")
def clear_selection() -> WerkzeugResponse:
    return _button(lambda who: services.clear_selection(who), "Your selection is empty.")


@bp.post("/me/selections/<selection_id>/clear")
def clear_selection_of(selection_id: str) -> WerkzeugResponse:
    return _button(
        lambda who: services.clear_selection(who, selection_id=selection_id),
        "The selection is empty.",
    )
