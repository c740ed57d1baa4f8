"""The questions run over the same datasets whichever way they are answered: from the search
index's precomputed coverage (the usual way) or live by the coverage rule (before the index is
first built)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from catalogue.search.models import SearchDocument
from catalogue.standards import ranking, scope
from core.db import get_session
from core.models import User
from core.policies import SYSTEM
from tests.catalogue.standards.conftest import CALLERS, FLT3_ITD, KARYOTYPE, NPM1, open_draft_with


@pytest.fixture
def actors(app, world, make):
    from core.models import Role

    users = {
        "researcher": make.user(Role.RESEARCHER),
        "custodian": make.user(Role.CUSTODIAN, organisation=world.organisation),
        "other_custodian": make.user(Role.CUSTODIAN, organisation=make.organisation()),
        "admin": make.user(Role.ADMIN),
    }
    return {"anonymous": None, "system": SYSTEM} | users


@pytest.mark.parametrize("caller", [*CALLERS, "system"])
def test_the_index_scope_is_the_dataset_pages_scope(app, world, actors, caller):
    open_draft_with(app, world.ids["aml_part"], "extra", NPM1)  # a published one with a draft
    with app.app_context():
        session = get_session()
        actor = actors[caller]
        if isinstance(actor, User):
            actor = session.get(User, actor.id)
        live = set(session.scalars(select(scope.visible_versions(actor).subquery().c.version_id)))
        indexed = set(
            session.scalars(select(SearchDocument.version_id).where(scope.visible_documents(actor)))
        )
        assert live == indexed
        assert len(live) >= 4


@pytest.mark.parametrize("caller", ["anonymous", "custodian", "admin"])
def test_before_the_index_is_built_the_rule_answers_the_same(app, client, world, caller):
    asked = {"terms": f"{NPM1},{FLT3_ITD},{KARYOTYPE}"}
    headers = world.headers[caller]
    from_index = client.get("/api/v1/search/variables", query_string=asked, headers=headers)
    with app.app_context():
        session = get_session()
        session.execute(delete(SearchDocument))  # as if the index had never been built
        session.commit()
        assert not ranking.index_ready()
    live = client.get("/api/v1/search/variables", query_string=asked, headers=headers)
    assert live.status_code == from_index.status_code == 200
    assert live.json == from_index.json
    assert live.json["total"] >= 2
