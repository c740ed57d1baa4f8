"""The number words every page and message uses agree with their number."""

from __future__ import annotations

import pytest

from core.text import number_word, plural, plural_form, verb


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (0, "dataset", "0 datasets"),
        (1, "dataset", "1 dataset"),
        (2, "dataset", "2 datasets"),
        (1250, "row", "1,250 rows"),
        (1, "entry", "1 entry"),
        (3, "entry", "3 entries"),
        (2, "day", "2 days"),
        (2, "match", "2 matches"),
        (2, "person", "2 people"),
        (2, "status", "2 statuses"),
    ],
)
def test_plural(count: int, noun: str, expected: str) -> None:
    assert plural(count, noun) == expected


def test_plural_with_a_given_form() -> None:
    assert plural(2, "criterion", "criteria") == "2 criteria"
    assert plural(1, "criterion", "criteria") == "1 criterion"


def test_verbs_agree_with_their_subject() -> None:
    assert f"1 published dataset {verb(1, 'covers')}" == "1 published dataset covers"
    assert f"2 published datasets {verb(2, 'covers')}" == "2 published datasets cover"
    assert verb(1, "was") == "was" and verb(5, "was") == "were"
    assert number_word(1, "mapping") == "mapping" and plural_form("mapping") == "mappings"


def test_the_filters_are_available_to_templates(app) -> None:  # type: ignore[no-untyped-def]
    env = app.jinja_env
    rendered = env.from_string(
        "{{ 1 | plural('dataset') }}; {{ 3 | plural('dataset') }}; "
        "{{ 1 | pluralize('row was', 'rows were') }}; {{ 2 | pluralize('row was', 'rows were') }}"
    ).render()
    assert rendered == "1 dataset; 3 datasets; row was; rows were"
