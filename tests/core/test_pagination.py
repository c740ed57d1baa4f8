"""core.pagination.paginate: the total, the page, its order and its limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import InvalidInput
from core.inputs import INT_MAX
from core.models import Organisation
from core.pagination import MAX_PER_PAGE, paginate


@pytest.fixture
def seven(app, make):
    with app.app_context():
        names = [make.organisation(name=f"Paged centre {n}").name for n in (3, 1, 7, 5, 2, 6, 4)]
    return names


def paged(**options):
    return paginate(select(Organisation).where(Organisation.name.like("Paged centre %")), **options)


def names(page) -> list[str]:
    return [o.name for o in page.items]


def test_a_page_holds_its_slice_in_order_and_the_total_of_all(app, seven):
    with app.app_context():
        second = paged(page=2, per_page=3, order=[Organisation.name])
    assert names(second) == ["Paged centre 4", "Paged centre 5", "Paged centre 6"]
    assert (second.total, second.page, second.per_page, second.pages) == (7, 2, 3, 3)


def test_sort_keys_name_a_column_ascending_or_descending(app, seven):
    sortable = {"name": Organisation.name}
    with app.app_context():
        newest = paged(per_page=2, sort="-name", sortable=sortable, default_sort="name")
        default = paged(per_page=2, sortable=sortable, default_sort="name")
        with pytest.raises(InvalidInput) as unknown:
            paged(sort="colour", sortable=sortable, default_sort="name")
    assert names(newest) == ["Paged centre 7", "Paged centre 6"]
    assert names(default) == ["Paged centre 1", "Paged centre 2"]
    assert "sort" in unknown.value.errors


def test_a_page_past_the_last_is_empty_but_keeps_the_total(app, seven):
    with app.app_context():
        past = paged(page=4, per_page=3, order=[Organisation.name])
    assert past.items == []
    assert past.total == 7


@pytest.mark.parametrize(
    ("page", "per_page", "field"),
    [
        (0, 10, "page"),
        (INT_MAX + 1, 10, "page"),
        (1, 0, "per_page"),
        (1, MAX_PER_PAGE + 1, "per_page"),
    ],
)
def test_pages_and_page_sizes_out_of_range_are_refused_naming_the_field(app, page, per_page, field):
    with app.app_context(), pytest.raises(InvalidInput) as refused:
        paged(page=page, per_page=per_page)
    assert list(refused.value.errors) == [field]


def test_an_area_may_allow_larger_pages(app, seven):
    with app.app_context():
        large = paged(per_page=MAX_PER_PAGE + 100, max_per_page=500, order=[Organisation.name])
    assert len(large.items) == 7
