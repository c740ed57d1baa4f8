"""factory_boy factories for accounts, and a Maker that runs them in an application context."""

from __future__ import annotations

from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from flask import Flask

from core import services
from core.db import get_session
from core.models import DataAccessCommittee, Organisation, OrganisationKind, Role, User
from core.policies import SYSTEM

PASSWORD = "correct horse battery staple"


class OrganisationFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Organisation
        sqlalchemy_session_factory = get_session
        sqlalchemy_session_persistence = "commit"

    name = factory.Sequence(lambda n: f"Haematology Centre {n}")
    country = "NL"
    kind = OrganisationKind.HOSPITAL
    city = "Rotterdam"


class CommitteeFactory(SQLAlchemyModelFactory):
    class Meta:
        model = DataAccessCommittee
        sqlalchemy_session_factory = get_session
        sqlalchemy_session_persistence = "commit"

    name = factory.Sequence(lambda n: f"Committee {n}")
    description = "Reviews access requests."


class Maker:
    """Creates test data the way the service would, each call in its own application context."""

    def __init__(self, app: Flask):
        self.app = app

    def organisation(self, **kwargs: Any) -> Organisation:
        with self.app.app_context():
            return OrganisationFactory(**kwargs)

    def committee(self, **kwargs: Any) -> DataAccessCommittee:
        with self.app.app_context():
            return CommitteeFactory(**kwargs)

    def user(
        self,
        *roles: Role | str,
        email: str | None = None,
        organisation: Organisation | None = None,
        committee: DataAccessCommittee | None = None,
        password: str | None = PASSWORD,
        name: str = "Test Person",
    ) -> User:
        """A user holding ``roles``; custodians get an organisation, DAC roles a committee."""
        with self.app.app_context():
            grants = []
            for role in (Role(r) for r in roles):
                grant: dict[str, Any] = {"role": role.value}
                if role is Role.CUSTODIAN:
                    organisation = organisation or OrganisationFactory()
                    grant["organisation_id"] = organisation.id
                if role in (Role.DAC_MEMBER, Role.DAC_CHAIR):
                    committee = committee or CommitteeFactory()
                    grant["committee_id"] = committee.id
                grants.append(grant)
            email = (
                email or f"{'-'.join(r for r in map(str, roles)) or 'nobody'}-{_next()}@example.org"
            )
            user = services.create_user(
                SYSTEM,
                {
                    "email": email,
                    "name": name,
                    "password": password,
                    "roles": grants,
                    "organisation_id": organisation.id if organisation else None,
                },
            )
            return user

    def token(self, user: User, days: int | None = None) -> str:
        with self.app.app_context():
            owner = get_session().get(User, user.id)
            _, secret = services.create_token(SYSTEM, owner, "test", days)  # type: ignore[arg-type]
            return secret

    def dataset(
        self,
        organisation: Organisation,
        *,
        publish: bool = False,
        variables: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> str:
        """A dataset of ``organisation`` (needs the ``vocabularies`` fixture), as a draft or
        published, optionally with variables (dicts of Variable columns; ``mappings``: a list
        of CURIEs mapped to the variable, accepted). Returns its public identifier."""
        from catalogue.datasets import services as datasets
        from catalogue.models import Mapping, MappingStatus, Variable

        data: dict[str, Any] = {
            "title": f"Dataset {_next()}",
            "description": "A dataset for the tests.",
            "diseases": ["NCIT:C3171"],
            "source_type": "clinical_trial",
            "contact_name": "Data Desk",
            "contact_email": "data@example.org",
            "organisation_id": organisation.id,
            "patients": 120,
        } | fields
        with self.app.app_context():
            dataset = datasets.create_dataset(SYSTEM, data)
            identifier = dataset.identifier
            version = dataset.versions[-1]
            session = get_session()
            for position, spec in enumerate(variables or []):
                spec = dict(spec)
                curies = spec.pop("mappings", [])
                spec.setdefault("label", spec["name"])
                spec.setdefault("value_type", "text")
                variable = Variable(version_id=version.id, position=position, **spec)
                variable.mappings = [
                    Mapping(object_curie=c, status=MappingStatus.ACCEPTED) for c in curies
                ]
                session.add(variable)
            session.commit()
            if publish:
                datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)
            return identifier


_counter = iter(range(1, 10**9))


def _next() -> int:
    return next(_counter)
