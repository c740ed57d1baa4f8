"""Paginated, sortable lists: every list endpoint answers ``{items, total, page, per_page}``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.inputs import INT_MAX

T = TypeVar("T")
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


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    page: int = 1,
    per_page: int = 25,
    sort: str | None = None,
    sortable: Mapping[str, Any],
    default_sort: str,
    tiebreak: Any = None,
) -> Page[Any]:
    """Run ``stmt`` for one page, ordered by ``sort`` (``name`` or ``-name`` for descending).

    :raises InvalidInput: for an unknown sort key or an out-of-range page or page size.
    """
    if not 1 <= page <= INT_MAX:  # the offset must stay within what SQL takes
        raise InvalidInput.field("page", f"Must be between 1 and {INT_MAX}.")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput.field("per_page", f"Must be between 1 and {MAX_PER_PAGE}.")
    sort = sort or default_sort
    key = sort.removeprefix("-")
    if key not in sortable:
        raise InvalidInput.field("sort", f"Sort by one of: {', '.join(sorted(sortable))}.")
    column = sortable[key]
    order = column.desc() if sort.startswith("-") else column.asc()
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    ordering = [order] if tiebreak is None else [order, tiebreak]  # stable pages under ties
    rows = session.scalars(stmt.order_by(*ordering).limit(per_page).offset((page - 1) * per_page))
    return Page(items=list(rows.unique()), total=total, page=page, per_page=per_page)
