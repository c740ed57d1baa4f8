"""Attributes that form macros pass on (maxlength, min/max, spellcheck, autocapitalize…)
reach the browser as attributes, not as escaped text it ignores (``maxlength=&#34;300&#34;``)
— on every form page that uses them."""

from __future__ import annotations

import re

import pytest

from core.models import Role
from tests.conftest import login

ESCAPED_ATTRIBUTE = re.compile(r"<[^>]*\s[\w-]+=&#34;")
PAGES = {
    "/datasets/new": ['maxlength="300"', 'spellcheck="false"', 'autocapitalize="none"'],
    "/standard-sets/new": ['maxlength="200"', 'maxlength="40"'],
    "/agreements/new": ['maxlength="64"', 'max="3650"'],
    "/me/purposes/new": ['maxlength="100"', 'max="600"'],
    "/account": ['max="366"'],
    "/admin/organisations": ['maxlength="2"'],
    "/admin/committees": ['max="100"'],
}


@pytest.mark.parametrize(("page", "attributes"), PAGES.items(), ids=list(PAGES))
def test_form_attributes_are_attributes(client, make, vocabularies, page, attributes):
    user = make.user(Role.ADMIN, Role.RESEARCHER, Role.CUSTODIAN)
    assert login(client, user.email).status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert not ESCAPED_ATTRIBUTE.findall(html)
    for attribute in attributes:
        assert attribute in html, (page, attribute)


def test_the_application_form_s_attributes_are_attributes(client, make, vocabularies):
    researcher = make.user(Role.RESEARCHER)
    assert login(client, researcher.email).status_code == 302
    from tests.conftest import post_form

    started = post_form(client, "/requests/new", {}, page="/requests/new")
    assert started.status_code == 302
    html = client.get(started.headers["Location"]).get_data(as_text=True)
    assert not ESCAPED_ATTRIBUTE.findall(html)
    assert 'maxlength="300"' in html and 'class="input-short"' in html
