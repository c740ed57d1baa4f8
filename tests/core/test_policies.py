"""Rules are declared per area and put in force by the area's registration, once or again."""

from __future__ import annotations

import pytest

from core import policies
from core.models import Role
from core.permissions import Permission
from core.policies import Rules, can


@pytest.fixture
def no_rules(monkeypatch):
    """An empty table of rules in force, as before any area registered."""
    monkeypatch.setattr(policies, "_RULES", {})


def _anyone(actor, obj):
    return True


def test_a_declared_rule_is_in_force_only_once_registered(no_rules, app, make):
    researcher = make.user(Role.RESEARCHER)
    area = Rules()
    area(Permission.ORGANISATION_READ)(_anyone)
    assert not can(researcher, Permission.ORGANISATION_READ)  # declared: nothing allowed yet
    area.register()
    assert can(researcher, Permission.ORGANISATION_READ)


def test_registering_the_same_rules_again_changes_nothing(no_rules):
    area = Rules()
    area(Permission.ORGANISATION_READ)(_anyone)
    area.register()
    area.register()  # a second application in the same process
    assert {Permission.ORGANISATION_READ: _anyone} == policies._RULES


def test_two_areas_ruling_on_one_permission_are_refused(no_rules):
    first, second = Rules(), Rules()
    first(Permission.ORGANISATION_READ)(_anyone)
    second(Permission.ORGANISATION_READ)(lambda actor, obj: False)
    first.register()
    with pytest.raises(RuntimeError, match="two rules"):
        second.register()
    with pytest.raises(RuntimeError, match="two rules"):
        first(Permission.ORGANISATION_READ)(lambda actor, obj: False)


def test_every_application_has_the_rules_of_every_area(app):
    from catalogue import policies as catalogue_rules
    from ontologies import policies as ontology_rules

    for area in (policies.rules, catalogue_rules.rules, ontology_rules.rules):
        for permission, rule in area.table.items():
            assert policies._RULES[permission] is rule


def test_every_permission_has_words_and_a_refusal_shows_them_not_the_code(client, make):
    """People read "Your roles do not allow you to list the users.", not "core:user:list"."""
    from core.models import Role
    from core.permissions import WORDS, Permission
    from tests.conftest import login

    assert set(WORDS) == set(Permission)
    researcher = make.user(Role.RESEARCHER)
    token = make.token(researcher)
    answer = client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert answer.get_json()["detail"] == "Your roles do not allow you to list the users."
    assert login(client, researcher.email).status_code == 302
    page = client.get("/admin/users")
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "list the users" in html and "core:user:list" not in html
