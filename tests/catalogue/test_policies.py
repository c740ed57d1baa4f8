"""Who sees drafts: one rule (catalogue.policies), per role, in Python and in SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from catalogue import policies
from catalogue.datasets import services as datasets
from catalogue.models import Dataset
from core.db import get_session
from core.models import Role, User
from core.permissions import Permission
from core.policies import SYSTEM, can

pytestmark = pytest.mark.usefixtures("vocabularies")


@pytest.fixture
def world(app, make):
    ours, theirs = make.organisation(), make.organisation()
    ids = {
        "our draft": make.dataset(ours),
        "their draft": make.dataset(theirs),
        "our published": make.dataset(ours, publish=True),
        "their retired": make.dataset(theirs, publish=True),
    }
    with app.app_context():
        datasets.retire(SYSTEM, ids["their retired"], "superseded", datasets.UNCHECKED)
    users = {
        "anonymous": None,
        "researcher": make.user(Role.RESEARCHER),
        "our custodian": make.user(Role.CUSTODIAN, organisation=ours),
        "their custodian": make.user(Role.CUSTODIAN, organisation=theirs),
        "admin": make.user(Role.ADMIN),
    }
    return ids, users, ours.id


PUBLIC = {"our published", "their retired"}
SEES = {
    "anonymous": PUBLIC,
    "researcher": PUBLIC,
    "our custodian": PUBLIC | {"our draft"},
    "their custodian": PUBLIC | {"their draft"},
    "admin": PUBLIC | {"our draft", "their draft"},
}


@pytest.mark.parametrize("role", sorted(SEES))
def test_each_role_sees_the_public_datasets_and_only_the_drafts_it_may(app, world, role):
    ids, users, _ = world
    with app.app_context():
        session = get_session()
        actor = session.get(User, users[role].id) if users[role] else None
        names = {v: k for k, v in ids.items()}
        in_sql = set(
            session.scalars(
                select(Dataset.identifier).where(
                    Dataset.identifier.in_(ids.values()), policies.visible_datasets(actor)
                )
            )
        )
        rows = session.scalars(select(Dataset).where(Dataset.identifier.in_(ids.values())))
        by_rule = {d.identifier for d in rows if can(actor, Permission.DATASET_READ, d)}
    assert {names[i] for i in in_sql} == SEES[role]
    assert {names[i] for i in by_rule} == SEES[role]


def test_whose_drafts_each_role_sees(app, world):
    _, users, ours = world
    with app.app_context():
        session = get_session()

        def seen(role):
            return policies.draft_organisations(session.get(User, users[role].id))

        assert policies.draft_organisations(None) == frozenset()
        assert seen("researcher") == frozenset()
        assert seen("our custodian") == {ours}
        assert seen("admin") is None  # every organisation's
        assert policies.draft_organisations(SYSTEM) is None
