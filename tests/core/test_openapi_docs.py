"""The API documentation as people read it (``/api/docs`` renders ``/api/v1/openapi.json``):
groups of operations with human names and a sentence saying what each is for, in a sensible
order, and descriptions in Markdown — not the code's internal blueprint names
(``catalogue_api``) nor the reStructuredText of the docstrings (````x````, ``:class:`X```)
shown as typed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from core.openapi import TAGS, rst_to_markdown, rst_to_plain, tag_name

RST = re.compile(r"``|:(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj|const|ref):`")


@pytest.fixture(scope="module")
def document(app) -> dict[str, Any]:
    return app.test_client().get("/api/v1/openapi.json").json


def texts(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every summary and description in the document, with where it is."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in {"summary", "description"} and isinstance(inner, str):
                yield f"{where}/{key}", inner
            else:
                yield from texts(inner, f"{where}/{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from texts(inner, f"{where}/{i}")


def operations(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in document["paths"].values():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield operation


def test_every_group_has_a_human_name_and_says_what_it_is_for(document):
    tags = document["tags"]
    assert tags
    for tag in tags:
        assert "_" not in tag["name"] and not tag["name"].lower().endswith("api"), tag
        assert tag["name"][0].isupper(), tag
        assert len(tag.get("description", "")) > 10, tag
    names = [t["name"] for t in tags]
    assert len(set(names)) == len(names)
    assert {"Datasets", "Dictionary", "Mappings", "Search", "Access requests"} <= set(names)


def test_every_operation_is_in_a_declared_group_and_every_group_has_operations(document):
    declared = {t["name"] for t in document["tags"]}
    used = {tag for operation in operations(document) for tag in operation["tags"]}
    assert used == declared  # no group without operations (governance's empty umbrella)


def test_the_groups_come_in_the_order_of_the_table(document):
    order = [name for name, _ in TAGS.values()]
    listed = [t["name"] for t in document["tags"] if t["name"] in order]
    assert listed == sorted(listed, key=order.index)
    assert listed[0] == "Datasets"


def test_no_description_shows_restructuredtext(document):
    found = [f"{where}: {text[:80]}" for where, text in texts(document) if RST.search(text)]
    assert found == []


def test_summaries_are_plain_text_as_the_docs_page_prints_them(document):
    summaries = [s for where, s in texts(document) if where.endswith("/summary")]
    assert len(summaries) > 100
    assert [s for s in summaries if "`" in s] == []
    patch_user = document["paths"]["/api/v1/users/{user_id}"]["patch"]
    assert "; is_active: false ends its sessions" in patch_user["summary"]


def test_literals_in_descriptions_become_markdown_code(document):
    search = document["paths"]["/api/v1/search"]["get"]
    assert "(`country=DE&country=NL`)" in search["description"]


@pytest.mark.parametrize(
    ("rst", "markdown"),
    [
        ("Send ``If-Match``.", "Send `If-Match`."),
        ("See :class:`core.errors.Conflict`.", "See `core.errors.Conflict`."),
        ("Raises :exc:`~core.errors.Conflict`.", "Raises `Conflict`."),
        ("As :func:`the checker <core.checks.run>` says.", "As the checker says."),
        ("Read `the RFC <https://www.rfc-editor.org/rfc/rfc9457>`_.",
         "Read [the RFC](https://www.rfc-editor.org/rfc/rfc9457)."),
        ("Already `markdown` stays.", "Already `markdown` stays."),
    ],
)  # fmt: skip
def test_restructuredtext_to_markdown(rst, markdown):
    assert rst_to_markdown(rst) == markdown


def test_restructuredtext_to_plain_text():
    assert rst_to_plain("``mine``: see :class:`~a.B` and `the RFC <https://x.org>`_.") == (
        "mine: see B and the RFC (https://x.org)."
    )


def test_a_blueprint_missing_from_the_table_still_gets_a_readable_name():
    assert tag_name("catalogue_api") == "Datasets"
    assert tag_name("new_area_api") == "New area"
