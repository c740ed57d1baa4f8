"""The dataset lifecycle in the service: draft, publish, new version, retire, delete."""

from __future__ import annotations

import pytest

from catalogue.datasets import services as datasets
from catalogue.models import DatasetStatus, Variable, VersionStatus
from core.db import get_session
from core.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from core.models import Role
from core.policies import SYSTEM


def test_publishing_a_new_version_keeps_the_old_one_readable(app, make, vocabularies):
    organisation = make.organisation()
    identifier = make.dataset(
        organisation,
        publish=True,
        title="AML trial",
        variables=[{"name": "hb", "mappings": ["HV:0000001"]}, {"name": "age"}],
    )
    with app.app_context():
        dataset = datasets.get_dataset(None, identifier)
        assert dataset.status is DatasetStatus.PUBLISHED
        draft = datasets.new_version(SYSTEM, identifier, datasets.etag(dataset))
        assert draft.number == 2
        names = (
            get_session()
            .scalars(
                Variable.__table__.select()
                .with_only_columns(Variable.name)
                .where(Variable.version_id == draft.id)
            )
            .all()
        )
        assert sorted(names) == ["age", "hb"]
        copied = (
            get_session()
            .scalars(Variable.__table__.select().where(Variable.version_id == draft.id))
            .all()
        )
        assert copied
        datasets.update_dataset(
            SYSTEM, identifier, {"title": "AML trial, freeze 2"}, datasets.UNCHECKED
        )
        # the public still sees version 1 while version 2 is a draft
        assert datasets.get_version(None, identifier).title == "AML trial"
        with pytest.raises(NotFound):
            datasets.get_version(None, identifier, 2)
        datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)
        assert datasets.get_version(None, identifier).title == "AML trial, freeze 2"
        old = datasets.get_version(None, identifier, 1)
        assert old.status is VersionStatus.SUPERSEDED and old.title == "AML trial"
        actions = [c["action"] for c in datasets.history(SYSTEM, identifier)]
        assert actions == ["published", "updated", "version_opened", "published", "created"]


def test_published_versions_do_not_change_and_stale_etags_are_refused(app, make, vocabularies):
    organisation = make.organisation()
    identifier = make.dataset(organisation, publish=True)
    with app.app_context():
        with pytest.raises(Conflict):
            datasets.update_dataset(SYSTEM, identifier, {"title": "x"}, datasets.UNCHECKED)
        with pytest.raises(PreconditionFailed):
            datasets.new_version(SYSTEM, identifier, '"stale-1"')


def test_a_draft_needs_a_known_disease_and_deleted_identifiers_are_never_reused(
    app, make, vocabularies
):
    organisation = make.organisation()
    custodian = make.user(Role.CUSTODIAN, organisation=organisation)
    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            datasets.create_dataset(
                custodian, {"title": "T", "diseases": ["NCIT:C0000"], "identifier": "t"}
            )
        assert "diseases" in error.value.errors
        dataset = datasets.create_dataset(custodian, {"title": "T", "diseases": ["NCIT:C3171"]})
        assert dataset.organisation_id == organisation.id and dataset.identifier == "t"
        datasets.delete_draft(custodian, "t", datasets.UNCHECKED)
        again = datasets.create_dataset(custodian, {"title": "T", "diseases": ["NCIT:C3171"]})
        assert again.identifier == "t-2"


def test_identifiers_that_would_shadow_a_page_are_refused_or_avoided(app, make, vocabularies):
    organisation = make.organisation()
    custodian = make.user(Role.CUSTODIAN, organisation=organisation)
    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            datasets.create_dataset(
                custodian, {"title": "x", "diseases": ["NCIT:C3171"], "identifier": "mine"}
            )
        assert "reserved" in error.value.errors["identifier"][0]
        made = datasets.create_dataset(custodian, {"title": "New", "diseases": ["NCIT:C3171"]})
        assert made.identifier == "new-2"
