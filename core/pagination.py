"""Paginated, sortable lists: every list endpoint answers ``{items, total, page, per_page}``.

A service builds its ``select()`` with the caller's filters and visibility and hands it to
:func:`paginate`; a list whose total comes from the same query (a window count) uses
:func:`check_page` and :func:`one_page`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.db import get_session
from core.errors import InvalidInput
from core.inputs import INT_MAX

T = TypeVar("T")
S = TypeVar("S", bound=Select[Any])
MAX_PER_PAGE = 200


@dataclass
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def check_page(page: int, per_page: int, max_per_page: int = MAX_PER_PAGE) -> None:
    """:raises InvalidInput: (422, naming the field) for a page below 1 or past what SQL's
    OFFSET takes, or a page size outside 1 to ``max_per_page``."""
    if not 1 <= page <= INT_MAX:  # the offset must stay within what SQL takes
        raise InvalidInput.field("page", f"Must be between 1 and {INT_MAX}.")
    if not 1 <= per_page <= max_per_page:
        raise InvalidInput.field("per_page", f"Must be between 1 and {max_per_page}.")


def one_page(statement: S, page: int, per_page: int) -> S:
    """``statement`` cut to page ``page`` (from 1) of ``per_page`` rows: for a statement whose
    total comes another way (a window ``count() over ()`` in the same query)."""
    return statement.limit(per_page).offset((page - 1) * per_page)


def sort_order(sort: str | None, sortable: Mapping[str, Any], default_sort: str) -> Any:
    """The ORDER BY clause ``sort`` names: a key of ``sortable`` (a column), ascending, or
    ``-key`` for descending.

    :raises InvalidInput: (field ``sort``) for a key not in ``sortable``.
    """
    sort = sort or default_sort
    key = sort.removeprefix("-")
    if key not in sortable:
        raise InvalidInput.field("sort", f"Sort by one of: {', '.join(sorted(sortable))}.")
    column = sortable[key]
    return column.desc() if sort.startswith("-") else column.asc()


def paginate(
    statement: Select[Any],
    /,
    *,
    page: int = 1,
    per_page: int = 25,
    order: Sequence[Any] = (),
    sort: str | None = None,
    sortable: Mapping[str, Any] | None = None,
    default_sort: str | None = None,
    tiebreak: Any = None,
    max_per_page: int = MAX_PER_PAGE,
    rows: bool = False,
    count: Select[Any] | None = None,
    session: Session | None = None,
) -> Page[Any]:
    """One page of what ``statement`` selects, with the total: two statements, a
    ``count(*)`` over the statement (without its ORDER BY) and the page with LIMIT/OFFSET, so
    the database counts and skips, nothing is read into Python but the page.

    The order is ``order`` (ORDER BY clauses), or the one ``sort`` names among ``sortable``
    (see :func:`sort_order`), then ``tiebreak`` (a unique column, for stable pages under ties).
    The items are the first column of each row (an ORM entity, de-duplicated as the ORM does
    for joined eager loads), or whole rows with ``rows=True``. ``count``: a cheaper statement
    to count than ``statement`` (the same rows without the joins only the page needs). A page
    past the last one is empty, with the total.

    :raises InvalidInput: (422 naming the field) for an out-of-range ``page`` or ``per_page``
        (1 to ``max_per_page``) or an unknown sort key.
    """
    check_page(page, per_page, max_per_page)
    ordering = list(order)
    if sortable is not None:
        ordering.insert(0, sort_order(sort, sortable, default_sort or next(iter(sortable))))
    if tiebreak is not None:
        ordering.append(tiebreak)
    session = session if session is not None else get_session()
    counted = (count if count is not None else statement).order_by(None)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    query = one_page(statement.order_by(*ordering) if ordering else statement, page, per_page)
    items: list[Any] = (
        list(session.execute(query).all()) if rows else list(session.scalars(query).unique())
    )
    return Page(items=items, total=total, page=page, per_page=per_page)
