"""A researcher's selection: the use cases behind ``/api/v1/me/selection`` and ``/me/selection``.

A selection is its owner's alone: every use case reads only the caller's rows (another user's
selection is missing, never forbidden), and anonymous callers are refused (401). Only
*published* datasets the caller may see can be added: drafts (even one's own) and datasets the
caller may not see are 404, as the catalogue answers for them elsewhere; a retired dataset is
409 (it is no longer offered). Variables are chosen by name within the dataset's latest
published version; a name it does not have is 422, naming it. A dataset that is retired after
it was added stays in the selection (listed as retired) until its owner removes it.

The selection is created by the first add; reading an empty one writes nothing. Changes may
quote the selection's ETag in ``If-Match`` (optional: a cart is one person's, and buttons on
many pages change it; when given it must be current). Like a saved purpose, a selection is a
private working note, not a decision: its changes are not audited (the access request made of
it will be).

Governance turns a selection into an access request with :func:`list_selection` (the
datasets, their titles and status, and the chosen variables).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from catalogue.datasets import services as datasets
from catalogue.models import Dataset, DatasetStatus, DatasetVersion, Variable, VersionStatus
from catalogue.selection.models import (
    DEFAULT_NAME,
    Selection,
    SelectionItem,
    SelectionVariable,
)
from core.db import get_session, lock_revision, transactional, utcnow
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.etags import check_etag, revision_etag
from core.models import User
from core.permissions import Permission
from core.policies import Actor, require

#: datasets in one selection: more than one request covers, few enough to list on one page
MAX_DATASETS = 200
#: variables chosen within one dataset of a selection
MAX_VARIABLES = 1000


# --- what a selection looks like to its readers ---------------------------------------------


@dataclass(frozen=True)
class SelectedVariable:
    name: str
    #: the label in the dataset's latest published version; None when that version no longer
    #: has a variable of this name (``available`` False)
    label: str | None
    available: bool
    added_at: dt.datetime


@dataclass(frozen=True)
class SelectedDataset:
    id: str  # Dataset.id
    identifier: str
    title: str  # of the latest published version
    status: str  # "published" or "retired"
    version: int | None  # the latest published version's number
    added_at: dt.datetime
    variables: list[SelectedVariable] = field(default_factory=list)


@dataclass(frozen=True)
class SelectionView:
    """The caller's current selection as read (``id`` None: nothing was ever added)."""

    id: str | None
    name: str
    revision: int
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    datasets: list[SelectedDataset]

    @property
    def total(self) -> int:
        return len(self.datasets)

    @property
    def etag(self) -> str:
        return revision_etag(self.id or "none", self.revision)


def etag(selection: Selection) -> str:
    return revision_etag(selection.id, selection.revision)


# --- reading --------------------------------------------------------------------------------


def _user_id(actor: Actor) -> str:
    require(actor, Permission.SELECTION_MANAGE)
    if not isinstance(actor, User):  # the command line's actor passes every check
        raise Forbidden("Only a user has a selection.")
    return actor.id


def _current(user_id: str) -> Selection | None:
    """The user's current selection: their first (today the only one; several named
    selections will choose another way)."""
    return get_session().scalar(
        select(Selection)
        .where(Selection.user_id == user_id)
        .order_by(Selection.created_at, Selection.id)
        .limit(1)
    )


def current_selection(actor: Actor) -> Selection | None:
    """The caller's current selection row, None before their first add.

    :raises Unauthenticated: for anonymous callers.
    """
    return _current(_user_id(actor))


def list_selection(actor: Actor) -> SelectionView:
    """The caller's current selection: its datasets in the order they were added, each with
    its title and status (from its latest published version) and the variables chosen in it
    (with their labels, and whether that version still has them).

    :raises Unauthenticated: for anonymous callers.
    """
    selection = _current(_user_id(actor))
    if selection is None:
        return SelectionView(None, DEFAULT_NAME, 0, None, None, [])
    session = get_session()
    items = session.execute(
        select(SelectionItem.id, SelectionItem.dataset_id, SelectionItem.added_at)
        .add_columns(Dataset.identifier, Dataset.status)
        .join(Dataset, Dataset.id == SelectionItem.dataset_id)
        .where(SelectionItem.selection_id == selection.id)
        .order_by(SelectionItem.added_at, SelectionItem.id)
    ).all()
    dataset_ids = [row.dataset_id for row in items]
    latest: dict[str, tuple[str, int, str]] = {}  # dataset id → (version id, number, title)
    if dataset_ids:
        for dataset_id, version_id, number, title in session.execute(
            select(
                DatasetVersion.dataset_id,
                DatasetVersion.id,
                DatasetVersion.number,
                DatasetVersion.title,
            ).where(
                DatasetVersion.dataset_id.in_(dataset_ids),
                DatasetVersion.status != VersionStatus.DRAFT,
            )
        ):
            if dataset_id not in latest or number > latest[dataset_id][1]:
                latest[dataset_id] = (version_id, number, title)
    chosen: dict[int, list[tuple[str, dt.datetime]]] = {}
    for item_id, name, added_at in session.execute(
        select(SelectionVariable.item_id, SelectionVariable.name, SelectionVariable.added_at)
        .join(SelectionItem, SelectionItem.id == SelectionVariable.item_id)
        .where(SelectionItem.selection_id == selection.id)
        .order_by(SelectionVariable.added_at, SelectionVariable.id)
    ):
        chosen.setdefault(item_id, []).append((name, added_at))
    labels: dict[tuple[str, str], str] = {}  # (dataset id, name) → label
    version_ids = [v[0] for v in latest.values()]
    if chosen and version_ids:
        for dataset_id, name, label in session.execute(
            select(SelectionItem.dataset_id, Variable.name, Variable.label)
            .join(SelectionVariable, SelectionVariable.item_id == SelectionItem.id)
            .join(DatasetVersion, DatasetVersion.dataset_id == SelectionItem.dataset_id)
            .join(
                Variable,
                and_(
                    Variable.version_id == DatasetVersion.id,
                    Variable.name == SelectionVariable.name,
                ),
            )
            .where(SelectionItem.selection_id == selection.id, DatasetVersion.id.in_(version_ids))
        ):
            labels[(dataset_id, name)] = label
    out = []
    for row in items:
        version = latest.get(row.dataset_id)
        out.append(
            SelectedDataset(
                id=row.dataset_id,
                identifier=row.identifier,
                title=version[2] if version else row.identifier,
                status=DatasetStatus(row.status).value,
                version=version[1] if version else None,
                added_at=row.added_at,
                variables=[
                    SelectedVariable(
                        name=name,
                        label=labels.get((row.dataset_id, name)),
                        available=(row.dataset_id, name) in labels,
                        added_at=added_at,
                    )
                    for name, added_at in chosen.get(row.id, [])
                ],
            )
        )
    return SelectionView(
        selection.id,
        selection.name,
        selection.revision,
        selection.created_at,
        selection.updated_at,
        out,
    )


def selected_dataset_ids(actor: Actor) -> frozenset[str]:
    """The ids (``Dataset.id``) of the datasets in the caller's current selection; none for
    anonymous callers (for the buttons and the header count on every page)."""
    user_id = getattr(actor, "id", None)
    if user_id is None:
        return frozenset()
    return frozenset(
        get_session().scalars(
            select(SelectionItem.dataset_id)
            .join(Selection, Selection.id == SelectionItem.selection_id)
            .where(Selection.id == _current_id(user_id))
        )
    )


def selected_variables(actor: Actor, dataset_id: str) -> frozenset[str] | None:
    """The names of the variables chosen in one dataset (``Dataset.id``) of the caller's
    current selection; None when the dataset is not in it (or the caller is anonymous)."""
    user_id = getattr(actor, "id", None)
    if user_id is None:
        return None
    session = get_session()
    item_id = session.scalar(
        select(SelectionItem.id).where(
            SelectionItem.selection_id == _current_id(user_id),
            SelectionItem.dataset_id == dataset_id,
        )
    )
    if item_id is None:
        return None
    return frozenset(
        session.scalars(select(SelectionVariable.name).where(SelectionVariable.item_id == item_id))
    )


def _current_id(user_id: str) -> Any:
    """The current selection's id, as a scalar subquery."""
    return (
        select(Selection.id)
        .where(Selection.user_id == user_id)
        .order_by(Selection.created_at, Selection.id)
        .limit(1)
        .scalar_subquery()
    )


# --- changing -------------------------------------------------------------------------------


def _for_change(actor: Actor, if_match: str | None, *, create: bool) -> Selection | None:
    """The caller's current selection, held for the change (created when ``create``)."""
    user_id = _user_id(actor)
    session = get_session()
    selection = _current(user_id)
    if selection is None:
        check_etag(revision_etag("none", 0), if_match, required=False, what="your selection")
        if not create:
            return None
        selection = Selection(user_id=user_id, name=DEFAULT_NAME, revision=0)
        try:
            with session.begin_nested():
                session.add(selection)
        except IntegrityError:  # the same user's other request made it a moment ago
            selection = _current(user_id)
            if selection is None:
                raise
        else:
            return selection
    lock_revision(selection)
    check_etag(etag(selection), if_match, required=False, what="your selection")
    return selection


def _touch(selection: Selection) -> None:
    selection.revision += 1
    selection.updated_at = utcnow()


def _published(actor: Actor, dataset_ref: str) -> Dataset:
    """A dataset that may be added: published, and one the caller sees.

    :raises NotFound: for a draft (even the caller's own) or one the caller may not see.
    :raises Conflict: for a retired dataset.
    """
    dataset = datasets.get_dataset(actor, dataset_ref)
    if dataset.status is DatasetStatus.DRAFT:
        raise NotFound(f"No published dataset “{dataset_ref}”: only published ones can be added.")
    if dataset.status is DatasetStatus.RETIRED:
        raise Conflict(f"“{dataset.identifier}” is retired: it is no longer offered.")
    return dataset


def _clean_names(names: Iterable[str]) -> list[str]:
    out = list(dict.fromkeys(n.strip() for n in names))
    if "" in out:
        raise InvalidInput.field("variables", "A variable name is empty.")
    return out


def _check_variables(dataset: Dataset, names: list[str]) -> None:
    """:raises InvalidInput: (variables) naming those the latest published version lacks."""
    unknown = datasets.unknown_variables(dataset, names)
    if unknown:
        listed = ", ".join(f"“{n}”" for n in unknown)
        plural = "variables" if len(unknown) > 1 else "variable"
        raise InvalidInput.field(
            "variables", f"{dataset.identifier} has no {plural} named {listed}."
        )


def _item(selection: Selection, dataset_id: str) -> SelectionItem | None:
    return get_session().scalar(
        select(SelectionItem).where(
            SelectionItem.selection_id == selection.id, SelectionItem.dataset_id == dataset_id
        )
    )


def _add(selection: Selection, dataset: Dataset, names: list[str]) -> bool:
    """Add the dataset and the named variables (already checked); whether anything changed.

    :raises InvalidInput: past :data:`MAX_DATASETS` or :data:`MAX_VARIABLES`.
    """
    session = get_session()
    changed = False
    item = _item(selection, dataset.id)
    if item is None:
        count = session.scalar(
            select(func.count(SelectionItem.id)).where(SelectionItem.selection_id == selection.id)
        )
        if (count or 0) >= MAX_DATASETS:
            raise InvalidInput.field(
                "dataset_id",
                f"Your selection holds at most {MAX_DATASETS} datasets: remove some before "
                "adding more.",
            )
        item = SelectionItem(selection_id=selection.id, dataset_id=dataset.id)
        session.add(item)
        session.flush()
        changed = True
    have = set(
        session.scalars(select(SelectionVariable.name).where(SelectionVariable.item_id == item.id))
    )
    new = [n for n in names if n not in have]
    if len(have) + len(new) > MAX_VARIABLES:
        raise InvalidInput.field(
            "variables",
            f"At most {MAX_VARIABLES} variables of one dataset can be in your selection.",
        )
    now = utcnow()
    session.add_all(SelectionVariable(item_id=item.id, name=n, added_at=now) for n in new)
    return changed or bool(new)


@transactional
def add_dataset(
    actor: Actor,
    dataset_ref: str,
    variables: Iterable[str] = (),
    if_match: str | None = None,
) -> SelectionView:
    """Add a dataset (its public identifier or id) to the caller's current selection, with
    the named variables of its latest published version; adding what is there already
    changes nothing. The selection is created on the first add.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: for a draft or a dataset the caller may not see.
    :raises Conflict: for a retired dataset.
    :raises InvalidInput: (variables) naming variables the dataset does not have; (dataset_id)
        past :data:`MAX_DATASETS`; (variables) past :data:`MAX_VARIABLES`.
    :raises PreconditionFailed: (412) when ``if_match`` is given and stale.
    """
    _user_id(actor)
    names = _clean_names(variables)
    dataset = _published(actor, dataset_ref)
    _check_variables(dataset, names)
    selection = _for_change(actor, if_match, create=True)
    assert selection is not None  # noqa: S101 - create=True
    if _add(selection, dataset, names):
        _touch(selection)
    get_session().commit()
    return list_selection(actor)


@transactional
def choose_variables(
    actor: Actor,
    dataset_ref: str,
    chosen: Iterable[str],
    shown: Iterable[str],
    if_match: str | None = None,
) -> SelectionView:
    """What a page's variable checkboxes submit: the ``chosen`` variables are added (and the
    dataset with them), those ``shown`` on the page but not chosen are removed (the dataset
    stays in the selection).

    :raises: as :func:`add_dataset` (the dataset is checked only when something is added).
    """
    _user_id(actor)
    names = _clean_names(chosen)
    dropped = set(_clean_names(shown)) - set(names)
    dataset = None
    if names:
        dataset = _published(actor, dataset_ref)
        _check_variables(dataset, names)
    selection = _for_change(actor, if_match, create=bool(names))
    if selection is None:
        return list_selection(actor)
    changed = _add(selection, dataset, names) if dataset is not None else False
    found = _item_by_ref(selection, dataset_ref)
    if dropped and found is not None:
        result = get_session().execute(
            delete(SelectionVariable).where(
                SelectionVariable.item_id == found[0].id,
                SelectionVariable.name.in_(sorted(dropped)),
            )
        )
        changed = changed or bool(getattr(result, "rowcount", 0))
    if changed:
        _touch(selection)
    get_session().commit()
    return list_selection(actor)


def _item_by_ref(selection: Selection | None, dataset_ref: str) -> tuple[SelectionItem, str] | None:
    """The selection's item of a dataset given by public identifier or id (whatever the
    dataset's state now), with the dataset's identifier."""
    if selection is None:
        return None
    row = (
        get_session()
        .execute(
            select(SelectionItem, Dataset.identifier)
            .join(Dataset, Dataset.id == SelectionItem.dataset_id)
            .where(
                SelectionItem.selection_id == selection.id,
                or_(Dataset.identifier == dataset_ref, Dataset.id == dataset_ref),
            )
        )
        .first()
    )
    return (row[0], row[1]) if row is not None else None


def _not_selected(dataset_ref: str) -> NotFound:
    return NotFound(f"“{dataset_ref}” is not in your selection.")


@transactional
def remove_dataset(actor: Actor, dataset_ref: str, if_match: str | None = None) -> None:
    """Remove a dataset (public identifier or id), and the variables chosen in it, from the
    caller's selection.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: when the dataset is not in the selection.
    :raises PreconditionFailed: (412) when ``if_match`` is given and stale.
    """
    selection = _for_change(actor, if_match, create=False)
    found = _item_by_ref(selection, dataset_ref)
    if selection is None or found is None:
        raise _not_selected(dataset_ref)
    session = get_session()
    session.delete(found[0])
    _touch(selection)
    session.commit()


@transactional
def remove_variable(actor: Actor, dataset_ref: str, name: str, if_match: str | None = None) -> None:
    """Remove one chosen variable; the dataset stays in the selection.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: when the dataset, or the variable within it, is not in the selection.
    :raises PreconditionFailed: (412) when ``if_match`` is given and stale.
    """
    selection = _for_change(actor, if_match, create=False)
    found = _item_by_ref(selection, dataset_ref)
    if selection is None or found is None:
        raise _not_selected(dataset_ref)
    item, identifier = found
    session = get_session()
    chosen = session.scalar(
        select(SelectionVariable).where(
            SelectionVariable.item_id == item.id, SelectionVariable.name == name
        )
    )
    if chosen is None:
        raise NotFound(f"The variable “{name}” of {identifier} is not in your selection.")
    session.delete(chosen)
    _touch(selection)
    session.commit()


@transactional
def clear_selection(actor: Actor, if_match: str | None = None) -> None:
    """Empty the caller's current selection (the selection itself stays, with its name).

    :raises Unauthenticated: for anonymous callers.
    :raises PreconditionFailed: (412) when ``if_match`` is given and stale.
    """
    selection = _for_change(actor, if_match, create=False)
    if selection is None:
        return
    session = get_session()
    result = session.execute(
        delete(SelectionItem).where(SelectionItem.selection_id == selection.id)
    )
    if getattr(result, "rowcount", 0):
        _touch(selection)
    session.commit()
