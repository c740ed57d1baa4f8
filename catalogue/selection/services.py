"""A researcher's selections: the use cases behind ``/api/v1/me/selection(s)``,
``/me/selection(s)`` and the shared links ``/shared/selections/<token>``.

A user keeps several named selections; one is *current* (the one most recently made current:
a new or copied selection becomes current, deleting the current one makes the previously
current one current again). The "Add to selection" buttons and ``/api/v1/me/selection`` act
on the current one; every change takes an optional ``selection_id`` to act on another.

A selection is its owner's alone: every use case reads only the caller's rows (another user's
selection is missing, never forbidden), and anonymous callers are refused (401). Only
*published* datasets the caller may see can be added: drafts (even one's own) and datasets the
caller may not see are 404, as the catalogue answers for them elsewhere; a retired dataset is
409 (it is no longer offered). Variables are chosen by name within the dataset's latest
published version; a name it does not have is 422, naming it. A dataset that is retired after
it was added stays in the selection (listed as retired) until its owner removes it.

The default selection is created by the first add; reading an empty one writes nothing.
Changes may quote the selection's ETag in ``If-Match`` (optional: a cart is one person's, and
buttons on many pages change it; when given it must be current). Like a saved purpose, a
selection is a private working note, not a decision: its changes are not audited (the access
request made of it will be). Sharing it is audited: making a share link and revoking it are
events of the trail, since from then on people without an account read it.

A shared selection is read with the link's token alone (:func:`shared_selection`): only its
published datasets and their chosen variables, never its owner. An unknown or revoked token,
or one of a deactivated owner, is 404.

Other areas read selections through :func:`list_selection` (governance turns one into an
access request), :func:`selection_for_matrix` / :func:`shared_selection_for_matrix` (the
harmonisation matrix) and :mod:`catalogue.selection.dictionary` (the combined dictionary).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from catalogue.datasets import services as datasets
from catalogue.models import Dataset, DatasetStatus, DatasetVersion, Variable, VersionStatus
from catalogue.selection.models import (
    DEFAULT_NAME,
    NAME_MAX,
    Selection,
    SelectionItem,
    SelectionVariable,
)
from core import audit
from core.db import get_session, lock_revision, transactional, utcnow
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.etags import check_etag, revision_etag
from core.models import User
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import Actor, require
from core.text import plural

#: datasets in one selection: more than one request covers, few enough to list on one page
MAX_DATASETS = 200
#: variables chosen within one dataset of a selection
MAX_VARIABLES = 1000
#: selections one user keeps
MAX_SELECTIONS = 50
#: a share link's token: ``secrets.token_urlsafe(SHARE_TOKEN_BYTES)`` (43 characters)
SHARE_TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")


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
    """A selection as read (``id`` None: the caller's current selection before anything was
    ever added to it)."""

    id: str | None
    name: str
    revision: int
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    datasets: list[SelectedDataset]
    is_current: bool = True
    #: when the present share link was made; None when not shared
    shared_at: dt.datetime | None = None

    @property
    def total(self) -> int:
        return len(self.datasets)

    @property
    def variable_total(self) -> int:
        return sum(len(d.variables) for d in self.datasets)

    @property
    def is_shared(self) -> bool:
        return self.shared_at is not None

    @property
    def etag(self) -> str:
        return revision_etag(self.id or "none", self.revision)


@dataclass(frozen=True)
class SelectionSummary:
    """One line of the caller's list of selections."""

    id: str
    name: str
    revision: int
    is_current: bool
    is_shared: bool
    dataset_total: int
    variable_total: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def etag(self) -> str:
        return revision_etag(self.id, self.revision)


@dataclass(frozen=True)
class SharedLink:
    """A share link just made: the token is shown this once (only its digest is kept)."""

    selection: SelectionView
    token: str


def etag(selection: Selection) -> str:
    return revision_etag(selection.id, selection.revision)


# --- reading --------------------------------------------------------------------------------


def _user_id(actor: Actor) -> str:
    require(actor, Permission.SELECTION_MANAGE)
    if not isinstance(actor, User):  # the command line's actor passes every check
        raise Forbidden("Only a user has a selection.")
    return actor.id


def _current_order() -> tuple[Any, ...]:
    return (Selection.made_current_at.desc(), Selection.created_at.desc(), Selection.id)


def _current(user_id: str) -> Selection | None:
    """The user's current selection: the one most recently made current."""
    return get_session().scalar(
        select(Selection).where(Selection.user_id == user_id).order_by(*_current_order()).limit(1)
    )


def _current_id(user_id: str) -> Any:
    """The current selection's id, as a scalar subquery."""
    return (
        select(Selection.id)
        .where(Selection.user_id == user_id)
        .order_by(*_current_order())
        .limit(1)
        .scalar_subquery()
    )


def _owned(user_id: str, selection_id: str) -> Selection:
    """:raises NotFound: when the user has no selection of this id."""
    selection = get_session().scalar(
        select(Selection).where(Selection.id == selection_id, Selection.user_id == user_id)
    )
    if selection is None:
        raise NotFound(f"You have no selection “{selection_id}”.")
    return selection


def current_selection(actor: Actor) -> Selection | None:
    """The caller's current selection row, None before their first add.

    :raises Unauthenticated: for anonymous callers.
    """
    return _current(_user_id(actor))


def _latest_versions(dataset_ids: list[str]) -> dict[str, tuple[str, int, str]]:
    """dataset id → (version id, number, title) of its latest published (or retired)
    version."""
    latest: dict[str, tuple[str, int, str]] = {}
    if not dataset_ids:
        return latest
    for dataset_id, version_id, number, title in get_session().execute(
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
    return latest


def _view(selection: Selection, *, is_current: bool, published_only: bool = False) -> SelectionView:
    """The selection's datasets in the order they were added, each with its title and status
    (from its latest published version) and the variables chosen in it (with their labels,
    and whether that version still has them). ``published_only``: leave out the datasets that
    are not published now (what a shared link shows)."""
    session = get_session()
    statement = (
        select(SelectionItem.id, SelectionItem.dataset_id, SelectionItem.added_at)
        .add_columns(Dataset.identifier, Dataset.status)
        .join(Dataset, Dataset.id == SelectionItem.dataset_id)
        .where(SelectionItem.selection_id == selection.id)
        .order_by(SelectionItem.added_at, SelectionItem.id)
    )
    if published_only:
        statement = statement.where(Dataset.status == DatasetStatus.PUBLISHED)
    items = session.execute(statement).all()
    latest = _latest_versions([row.dataset_id for row in items])
    if published_only:  # a published dataset has a published version; be sure of it
        items = [row for row in items if row.dataset_id in latest]
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
        is_current=is_current,
        shared_at=selection.shared_at if selection.share_token_hash else None,
    )


def list_selection(actor: Actor, selection_id: str | None = None) -> SelectionView:
    """One of the caller's selections as it reads (see :func:`_view`): the current one, or the
    one ``selection_id`` names.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: for a ``selection_id`` the caller has no selection of.
    """
    user_id = _user_id(actor)
    current = _current(user_id)
    if selection_id is None:
        if current is None:
            return SelectionView(None, DEFAULT_NAME, 0, None, None, [])
        return _view(current, is_current=True)
    selection = _owned(user_id, selection_id)
    return _view(selection, is_current=current is not None and current.id == selection.id)


get_selection = list_selection


def list_selections(
    actor: Actor, *, page: int = 1, per_page: int = 50, sort: str | None = None
) -> Page[SelectionSummary]:
    """The caller's selections with how many datasets and variables each holds; the current
    one first unless ``sort`` names another order (``name``, ``created_at``, ``updated_at``,
    ``-`` before one for descending).

    :raises Unauthenticated: for anonymous callers.
    :raises InvalidInput: (page, per_page, sort) out of range or unknown.
    """
    user_id = _user_id(actor)
    session = get_session()
    current = _current(user_id)
    found = paginate(
        select(Selection).where(Selection.user_id == user_id),
        page=page,
        per_page=per_page,
        sort=sort,
        sortable={
            "name": Selection.name,
            "created_at": Selection.created_at,
            "updated_at": Selection.updated_at,
        }
        if sort
        else None,
        order=() if sort else _current_order(),
        tiebreak=Selection.id,
    )
    ids = [s.id for s in found.items]
    datasets_in: dict[str, int] = {}
    variables_in: dict[str, int] = {}
    if ids:
        datasets_in = dict(
            session.execute(
                select(SelectionItem.selection_id, func.count(SelectionItem.id))
                .where(SelectionItem.selection_id.in_(ids))
                .group_by(SelectionItem.selection_id)
            ).all()  # rows, not the Result (whose keys() dict() would take for a mapping)
        )
        variables_in = dict(
            session.execute(
                select(SelectionItem.selection_id, func.count(SelectionVariable.id))
                .join(SelectionVariable, SelectionVariable.item_id == SelectionItem.id)
                .where(SelectionItem.selection_id.in_(ids))
                .group_by(SelectionItem.selection_id)
            ).all()  # rows, not the Result (whose keys() dict() would take for a mapping)
        )
    return Page(
        items=[
            SelectionSummary(
                id=s.id,
                name=s.name,
                revision=s.revision,
                is_current=current is not None and s.id == current.id,
                is_shared=s.share_token_hash is not None,
                dataset_total=datasets_in.get(s.id, 0),
                variable_total=variables_in.get(s.id, 0),
                created_at=s.created_at,
                updated_at=s.updated_at,
            )
            for s in found.items
        ],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
    )


def selected_dataset_ids(actor: Actor) -> frozenset[str]:
    """The ids (``Dataset.id``) of the datasets in the caller's current selection; none for
    anonymous callers (for the buttons and the header count on every page)."""
    user_id = getattr(actor, "id", None)
    if user_id is None:
        return frozenset()
    return frozenset(
        get_session().scalars(
            select(SelectionItem.dataset_id).where(
                SelectionItem.selection_id == _current_id(user_id)
            )
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


def current_name(actor: Actor) -> str | None:
    """The name of the caller's current selection (None: anonymous, or none yet), for the
    buttons that say where they put things."""
    user_id = getattr(actor, "id", None)
    if user_id is None:
        return None
    return get_session().scalar(select(Selection.name).where(Selection.id == _current_id(user_id)))


# --- the harmonisation matrix's input -------------------------------------------------------

#: what the matrix gets: (Dataset.id, the chosen variable names, or None for the whole dataset)
MatrixInput = list[tuple[str, frozenset[str] | None]]


def _matrix_input(selection: Selection) -> MatrixInput:
    """The published datasets of ``selection`` (``Dataset.id``) in the order they were added,
    each with the names of the variables chosen in it, or None when none were chosen (the
    whole dataset). The names are as chosen: one the latest published version no longer has
    is kept (it matches nothing there)."""
    session = get_session()
    rows = session.execute(
        select(SelectionItem.id, SelectionItem.dataset_id)
        .join(Dataset, Dataset.id == SelectionItem.dataset_id)
        .where(
            SelectionItem.selection_id == selection.id,
            Dataset.status == DatasetStatus.PUBLISHED,
        )
        .order_by(SelectionItem.added_at, SelectionItem.id)
    ).all()
    names: dict[int, set[str]] = {}
    if rows:
        for item_id, name in session.execute(
            select(SelectionVariable.item_id, SelectionVariable.name).where(
                SelectionVariable.item_id.in_([row.id for row in rows])
            )
        ):
            names.setdefault(item_id, set()).add(name)
    return [(row.dataset_id, frozenset(names[row.id]) if row.id in names else None) for row in rows]


def selection_for_matrix(actor: Actor, selection_id: str) -> MatrixInput:
    """What the harmonisation matrix compares for ``?selection=<id>``: the *published*
    datasets of one of the caller's selections, as ``(Dataset.id, chosen variable names or
    None for the whole dataset)`` in the order they were added (retired datasets are left out:
    they are no longer offered). ``Dataset.id`` is the internal id;
    :func:`catalogue.datasets.services.get_dataset` takes it as well as the identifier.

    :raises NotFound: for anyone but the selection's owner (anonymous callers included: the
        matrix is a public page, and an id alone gives nothing away), or an unknown id.
    """
    user_id = getattr(actor, "id", None) if isinstance(actor, User) else None
    if user_id is None:
        raise NotFound(f"No selection “{selection_id}”.")
    require(actor, Permission.SELECTION_MANAGE)
    return _matrix_input(_owned(user_id, selection_id))


def shared_selection_for_matrix(token: str) -> MatrixInput:
    """As :func:`selection_for_matrix`, for the selection a share link's token opens (anyone
    holding the link, logged in or not).

    :raises NotFound: for an unknown or revoked token.
    """
    return _matrix_input(_shared(token))


# --- sharing (reading) ----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _shared(token: str) -> Selection:
    """The selection a share link opens.

    :raises NotFound: for a malformed, unknown or revoked token, or a deactivated owner's.
    """
    gone = NotFound("This shared selection does not exist, or its owner stopped sharing it.")
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        raise gone
    digest = _token_hash(token)
    row = (
        get_session()
        .execute(
            select(Selection, User.is_active)
            .join(User, User.id == Selection.user_id)
            .where(Selection.share_token_hash == digest)
        )
        .first()
    )
    if row is None:
        raise gone
    selection, owner_active = row
    # the lookup is by digest, so a timing difference says nothing about the token; compare
    # again in constant time all the same, as resolve_token does for API tokens
    if not hmac.compare_digest(selection.share_token_hash or "", digest) or not owner_active:
        raise gone
    return selection


def shared_selection(token: str) -> SelectionView:
    """The read-only view of a shared selection: its name, and its published datasets with
    the variables chosen in them (nothing of its owner).

    :raises NotFound: for an unknown or revoked token.
    """
    return _view(_shared(token), is_current=False, published_only=True)


# --- changing -------------------------------------------------------------------------------


def _what(selection: Selection | None, is_current: bool) -> str:
    if selection is None or is_current:
        return "your selection"
    return f"the selection “{selection.name}”"


def _for_change(
    actor: Actor, if_match: str | None, *, create: bool, selection_id: str | None = None
) -> Selection | None:
    """The selection to change, held for the change: the caller's current one (created when
    ``create`` and there is none), or the one ``selection_id`` names.

    :raises NotFound: for a ``selection_id`` the caller has no selection of.
    :raises PreconditionFailed: (412) for a stale ``if_match``.
    """
    user_id = _user_id(actor)
    session = get_session()
    if selection_id is not None:
        named = _owned(user_id, selection_id)
        lock_revision(named)
        check_etag(etag(named), if_match, required=False, what="the selection")
        return named
    selection = _current(user_id)
    if selection is None:
        check_etag(revision_etag("none", 0), if_match, required=False, what="your selection")
        if not create:
            return None
        now = utcnow()
        selection = Selection(
            user_id=user_id, name=DEFAULT_NAME, revision=0, made_current_at=now, created_at=now
        )
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


def _result(actor: Actor, selection_id: str | None) -> SelectionView:
    return list_selection(actor, selection_id)


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
        noun = "variables" if len(unknown) > 1 else "variable"
        raise InvalidInput.field("variables", f"{dataset.identifier} has no {noun} named {listed}.")


def _item(selection: Selection, dataset_id: str) -> SelectionItem | None:
    return get_session().scalar(
        select(SelectionItem).where(
            SelectionItem.selection_id == selection.id, SelectionItem.dataset_id == dataset_id
        )
    )


def _add(selection: Selection, dataset: Dataset, names: list[str], what: str) -> bool:
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
                f"{what[0].upper()}{what[1:]} holds at most {plural(MAX_DATASETS, 'dataset')}: "
                "remove some before adding more.",
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
            f"At most {plural(MAX_VARIABLES, 'variable')} of one dataset can be in {what}.",
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
    *,
    selection_id: str | None = None,
) -> SelectionView:
    """Add a dataset (its public identifier or id) to the caller's current selection (or the
    one ``selection_id`` names), with the named variables of its latest published version;
    adding what is there already changes nothing. The current selection is created on the
    first add.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: for a draft or a dataset the caller may not see; for a ``selection_id``
        the caller has no selection of.
    :raises Conflict: for a retired dataset.
    :raises InvalidInput: (variables) naming variables the dataset does not have; (dataset_id)
        past :data:`MAX_DATASETS`; (variables) past :data:`MAX_VARIABLES`.
    :raises PreconditionFailed: (412) when ``if_match`` is given and stale.
    """
    _user_id(actor)
    names = _clean_names(variables)
    dataset = _published(actor, dataset_ref)
    _check_variables(dataset, names)
    selection = _for_change(actor, if_match, create=True, selection_id=selection_id)
    assert selection is not None  # noqa: S101 - create=True
    if _add(selection, dataset, names, _what(selection, selection_id is None)):
        _touch(selection)
    get_session().commit()
    return _result(actor, selection_id)


@transactional
def choose_variables(
    actor: Actor,
    dataset_ref: str,
    chosen: Iterable[str],
    shown: Iterable[str],
    if_match: str | None = None,
    *,
    selection_id: str | None = None,
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
    selection = _for_change(actor, if_match, create=bool(names), selection_id=selection_id)
    if selection is None:
        return _result(actor, selection_id)
    what = _what(selection, selection_id is None)
    changed = _add(selection, dataset, names, what) if dataset is not None else False
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
    return _result(actor, selection_id)


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


def _not_selected(dataset_ref: str, what: str) -> NotFound:
    return NotFound(f"“{dataset_ref}” is not in {what}.")


@transactional
def remove_dataset(
    actor: Actor,
    dataset_ref: str,
    if_match: str | None = None,
    *,
    selection_id: str | None = None,
) -> None:
    """Remove a dataset (public identifier or id), and the variables chosen in it, from the
    caller's current selection (or the one ``selection_id`` names).

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: when the dataset is not in the selection, or for a ``selection_id`` the
        caller has no selection of.
    :raises PreconditionFailed: (412) when ``if_match`` is given and stale.
    """
    selection = _for_change(actor, if_match, create=False, selection_id=selection_id)
    found = _item_by_ref(selection, dataset_ref)
    if selection is None or found is None:
        raise _not_selected(dataset_ref, _what(selection, selection_id is None))
    session = get_session()
    session.delete(found[0])
    _touch(selection)
    session.commit()


@transactional
def remove_variable(
    actor: Actor,
    dataset_ref: str,
    name: str,
    if_match: str | None = None,
    *,
    selection_id: str | None = None,
) -> None:
    """Remove one chosen variable; the dataset stays in the selection.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: when the dataset, or the variable within it, is not in the selection.
    :raises PreconditionFailed: (412) when ``if_match`` is given and stale.
    """
    selection = _for_change(actor, if_match, create=False, selection_id=selection_id)
    what = _what(selection, selection_id is None)
    found = _item_by_ref(selection, dataset_ref)
    if selection is None or found is None:
        raise _not_selected(dataset_ref, what)
    item, identifier = found
    session = get_session()
    chosen = session.scalar(
        select(SelectionVariable).where(
            SelectionVariable.item_id == item.id, SelectionVariable.name == name
        )
    )
    if chosen is None:
        raise NotFound(f"The variable “{name}” of {identifier} is not in {what}.")
    session.delete(chosen)
    _touch(selection)
    session.commit()


@transactional
def clear_selection(
    actor: Actor, if_match: str | None = None, *, selection_id: str | None = None
) -> None:
    """Empty the caller's current selection (or the one ``selection_id`` names); the
    selection itself stays, with its name.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: for a ``selection_id`` the caller has no selection of.
    :raises PreconditionFailed: (412) when ``if_match`` is given and stale.
    """
    selection = _for_change(actor, if_match, create=False, selection_id=selection_id)
    if selection is None:
        return
    session = get_session()
    result = session.execute(
        delete(SelectionItem).where(SelectionItem.selection_id == selection.id)
    )
    if getattr(result, "rowcount", 0):
        _touch(selection)
    session.commit()


# --- named selections -----------------------------------------------------------------------


def _clean_name(name: Any) -> str:
    """:raises InvalidInput: (name) for an empty or too long name."""
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise InvalidInput.field("name", "Give the selection a name.")
    if len(cleaned) > NAME_MAX:
        raise InvalidInput.field("name", f"A name has at most {plural(NAME_MAX, 'character')}.")
    return cleaned


def _check_name_free(user_id: str, name: str, *, other_than: str | None = None) -> None:
    """:raises InvalidInput: (name) when the user has a selection of that name already (in
    any case: two selections called "AML" and "aml" would be told apart by nobody)."""
    statement = select(Selection.id).where(
        Selection.user_id == user_id, func.lower(Selection.name) == name.lower()
    )
    if other_than is not None:
        statement = statement.where(Selection.id != other_than)
    if get_session().scalar(statement.limit(1)) is not None:
        raise InvalidInput.field("name", f"You already have a selection named “{name}”.")


def _new_selection(user_id: str, name: str) -> Selection:
    """A new, empty selection of the user, made current.

    :raises InvalidInput: (name) for a name taken (also by a request a moment ago); past
        :data:`MAX_SELECTIONS`.
    """
    session = get_session()
    count = session.scalar(select(func.count(Selection.id)).where(Selection.user_id == user_id))
    if (count or 0) >= MAX_SELECTIONS:
        raise InvalidInput.field(
            "name",
            f"You keep at most {plural(MAX_SELECTIONS, 'selection')}: delete one you no "
            "longer need first.",
        )
    _check_name_free(user_id, name)
    now = _next_current_time(user_id)
    selection = Selection(
        user_id=user_id,
        name=name,
        revision=1,
        created_at=now,
        updated_at=now,
        made_current_at=now,
    )
    try:
        with session.begin_nested():
            session.add(selection)
    except IntegrityError:
        raise InvalidInput.field("name", f"You already have a selection named “{name}”.") from None
    return selection


def _next_current_time(user_id: str) -> dt.datetime:
    """A moment later than the present current selection's: the newest is current, so two
    switches within one clock tick must still come out in order."""
    now = utcnow()
    latest = get_session().scalar(
        select(func.max(Selection.made_current_at)).where(Selection.user_id == user_id)
    )
    if latest is not None and latest >= now:
        return latest + dt.timedelta(microseconds=1)
    return now


@transactional
def create_selection(actor: Actor, name: str) -> SelectionView:
    """A new, empty selection named ``name``, which becomes the caller's current one (the
    "Add to selection" buttons put things there from now on).

    :raises Unauthenticated: for anonymous callers.
    :raises InvalidInput: (name) empty, too long, or one the caller has already; past
        :data:`MAX_SELECTIONS`.
    """
    user_id = _user_id(actor)
    selection = _new_selection(user_id, _clean_name(name))
    get_session().commit()
    return _view(selection, is_current=True)


@transactional
def update_selection(
    actor: Actor,
    selection_id: str,
    *,
    name: str | None = None,
    make_current: bool = False,
    if_match: str | None = None,
) -> SelectionView:
    """Rename one of the caller's selections and/or make it their current one. Renaming
    counts as a change (its ETag moves); making it current does not.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: for a ``selection_id`` the caller has no selection of.
    :raises InvalidInput: (name) empty, too long, or another of the caller's selections'.
    :raises PreconditionFailed: (412) when ``if_match`` is given and stale.
    """
    user_id = _user_id(actor)
    selection = _for_change(actor, if_match, create=False, selection_id=selection_id)
    assert selection is not None  # noqa: S101 - selection_id given
    if name is not None:
        cleaned = _clean_name(name)
        if cleaned != selection.name:
            _check_name_free(user_id, cleaned, other_than=selection.id)
            selection.name = cleaned
            _touch(selection)
    if make_current:
        current = _current(user_id)
        if current is None or current.id != selection.id:
            selection.made_current_at = _next_current_time(user_id)
    session = get_session()
    try:
        session.flush()
    except IntegrityError:  # another request took the name a moment ago
        session.rollback()
        raise InvalidInput.field("name", f"You already have a selection named “{name}”.") from None
    session.commit()
    return list_selection(actor, selection_id)


def make_current(actor: Actor, selection_id: str) -> SelectionView:
    """Make one of the caller's selections their current one (see :func:`update_selection`)."""
    return update_selection(actor, selection_id, make_current=True)


@transactional
def delete_selection(actor: Actor, selection_id: str, if_match: str | None = None) -> str:
    """Delete one of the caller's selections with its datasets and variables (and its share
    link, which stops working). When it was the current one, the one current before it is
    current again. Returns its name.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: for a ``selection_id`` the caller has no selection of.
    :raises PreconditionFailed: (412) when ``if_match`` is given and stale.
    """
    selection = _for_change(actor, if_match, create=False, selection_id=selection_id)
    assert selection is not None  # noqa: S101 - selection_id given
    name = selection.name
    session = get_session()
    if selection.share_token_hash is not None:
        audit.record(
            actor,
            "selection.share_revoked",
            "selection",
            selection.id,
            before={"shared_at": selection.shared_at},
            summary=f"The share link of the selection “{name}” stopped working: the selection "
            "was deleted.",
        )
    session.delete(selection)
    session.commit()
    return name


# --- sharing (changing) ---------------------------------------------------------------------


@transactional
def share_selection(actor: Actor, selection_id: str) -> SharedLink:
    """Make a read-only link to one of the caller's selections. The link's token is returned
    this once (only its digest is kept); making another link replaces the previous one, which
    stops working.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: for a ``selection_id`` the caller has no selection of.
    """
    selection = _for_change(actor, None, create=False, selection_id=selection_id)
    assert selection is not None  # noqa: S101 - selection_id given
    replaced = selection.share_token_hash is not None
    token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
    now = utcnow()
    selection.share_token_hash = _token_hash(token)
    selection.shared_at = now
    audit.record(
        actor,
        "selection.shared",
        "selection",
        selection.id,
        after={"shared_at": now},
        summary=f"Made a read-only link to the selection “{selection.name}”"
        + (", replacing the previous link." if replaced else "."),
        context={"replaced": replaced},
    )
    get_session().commit()
    return SharedLink(list_selection(actor, selection_id), token)


@transactional
def unshare_selection(actor: Actor, selection_id: str) -> bool:
    """Stop sharing one of the caller's selections: its link answers 404 from now on. Whether
    it was shared (stopping what is not shared changes nothing).

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: for a ``selection_id`` the caller has no selection of.
    """
    selection = _for_change(actor, None, create=False, selection_id=selection_id)
    assert selection is not None  # noqa: S101 - selection_id given
    if selection.share_token_hash is None:
        return False
    before = {"shared_at": selection.shared_at}
    selection.share_token_hash = None
    selection.shared_at = None
    selection.share_revoked_at = utcnow()
    audit.record(
        actor,
        "selection.share_revoked",
        "selection",
        selection.id,
        before=before,
        summary=f"Stopped sharing the selection “{selection.name}”: its link no longer works.",
    )
    get_session().commit()
    return True


def _free_copy_name(user_id: str, name: str) -> str:
    """``name``, or "name (copy)", "name (copy 2)" … the first the user does not have yet."""
    taken = {
        n.lower()
        for n in get_session().scalars(select(Selection.name).where(Selection.user_id == user_id))
    }
    candidate = name
    number = 1
    while candidate.lower() in taken:
        suffix = " (copy)" if number == 1 else f" (copy {number})"
        candidate = name[: NAME_MAX - len(suffix)] + suffix
        number += 1
    return candidate


@transactional
def copy_shared_selection(actor: Actor, token: str, name: str | None = None) -> SelectionView:
    """Copy the selection a share link opens into the caller's own selections (what the link
    shows: its published datasets and their chosen variables), as their current selection,
    named ``name`` or the shared selection's name (with "(copy)" when taken).

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: for an unknown or revoked token.
    :raises InvalidInput: (name) as :func:`create_selection`.
    """
    user_id = _user_id(actor)
    source = _shared(token)
    view = _view(source, is_current=False, published_only=True)
    wanted = _clean_name(name) if name is not None else _free_copy_name(user_id, source.name)
    selection = _new_selection(user_id, wanted)
    session = get_session()
    now = utcnow()
    for item in view.datasets:
        copy = SelectionItem(selection_id=selection.id, dataset_id=item.id, added_at=now)
        session.add(copy)
        session.flush()
        session.add_all(
            SelectionVariable(item_id=copy.id, name=v.name, added_at=now) for v in item.variables
        )
    session.commit()
    return list_selection(actor, selection.id)
