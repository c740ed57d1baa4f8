"""A ready world for the access-request tests (the application, the review, the entitlements,
the register): build it once per module inside :func:`tests.conftest.shared_world` with the
reference engine (datasets need the bundled vocabularies)::

    @pytest.fixture(scope="module")
    def world(app, reference_engine):
        with shared_world(app, reference_engine) as make:
            yield build_world(app, make)

What it holds:

- organisations: ``amsterdam`` (the applicant's; contributes no data), ``leiden`` (custodian
  of the AML datasets), ``lyon`` (custodian of the myeloma dataset);
- people (``world.people[name]`` → user id, ``world.emails``, ``world.tokens``):
  ``applicant`` and ``teammate`` (researchers at Amsterdam), ``outsider`` (a researcher at
  Lyon, on no team), ``aml_custodian`` (Leiden), ``myeloma_custodian`` (Lyon), ``chair`` and
  ``member_1`` … ``member_3`` of the default committee (``member_1`` is from Amsterdam, the
  applicant's organisation: a conflict), ``admin``;
- datasets (``world.datasets[identifier]`` → id): ``req-aml`` (Leiden; DS for AML with IRB;
  an active agreement that requires the custodian's sign-off; variables FLT3_ITD, NPM1,
  KARYOTYPE), ``req-myeloma`` (Lyon; HMB; an active agreement without sign-off; variables
  ISS_STAGE, CYTOGENETICS), ``req-closed`` (Leiden; published, with conditions, but no
  agreement: not requestable);
- ``world.committee``: the default committee's id; ``world.agreements``: name → id.

:func:`application` is the content of a complete request (everything the submission checks);
:func:`submit_request` creates one through the services and submits it through the workflow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from core.db import get_session, writing
from core.etags import UNCHECKED
from core.models import Role, User
from core.policies import SYSTEM, Actor
from tests.factories import Maker

AML = "NCIT:C3171"
MYELOMA = "NCIT:C3242"
AML_CONDITIONS = {
    "permission": "DUO:0000007",
    "diseases": [AML],
    "modifiers": [{"term": "DUO:0000021"}],
}
MYELOMA_CONDITIONS = {"permission": "DUO:0000006", "diseases": [], "modifiers": []}
#: a purpose compatible with both requestable datasets
PURPOSE = {
    "terms": ["DUO:0000007"],
    "diseases": [AML],
    "commercial": False,
    "ethics_approval": True,
    "country": "NL",
    "duration_months": 24,
}


@dataclass
class RequestWorld:
    people: dict[str, str] = field(default_factory=dict)  # name → user id
    emails: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    organisations: dict[str, str] = field(default_factory=dict)  # name → id
    datasets: dict[str, str] = field(default_factory=dict)  # identifier → id
    agreements: dict[str, str] = field(default_factory=dict)  # "aml", "myeloma" → id
    committee: str = ""

    def actor(self, name: str) -> Actor:
        """The user ``name`` in the current session (None for "anonymous")."""
        if name == "anonymous":
            return None
        return get_session().get(User, self.people[name])

    def auth(self, name: str) -> dict[str, str]:
        """Bearer headers for ``name`` ({} for "anonymous")."""
        return {} if name == "anonymous" else {"Authorization": f"Bearer {self.tokens[name]}"}


def application(**overrides: Any) -> dict[str, Any]:
    """A complete application for ``req-aml`` (three variables) and ``req-myeloma`` (whole)."""
    data: dict[str, Any] = {
        "title": "Outcomes of FLT3-ITD AML and high-risk myeloma",
        "lay_summary": "We study how genetic changes affect survival in two blood cancers.",
        "scientific_abstract": "Retrospective analysis of FLT3-ITD, NPM1 and karyotype ...",
        "public_benefit": "Better risk stratification for patients with AML.",
        "purpose": dict(PURPOSE),
        "ethics_reference": "METC-2026-014",
        "processing_country": "NL",
        "processing_environment": "The Amsterdam UMC trusted research environment.",
        "data_justification": "FLT3-ITD, NPM1 and karyotype define the ELN risk groups.",
        "publication_plan": "Peer-reviewed journal; aggregate results only.",
        "team_training": "All members completed GCP and GDPR training in 2026.",
        "requested_months": 24,
        "funding": "KWF grant 2026-1",
        "conflicts_of_interest": "None.",
        "datasets": [
            {"dataset": "req-aml", "variables": ["FLT3_ITD", "NPM1", "KARYOTYPE"]},
            {"dataset": "req-myeloma"},
        ],
    }
    return data | overrides


def _agreement(organisation_id: str, reference: str, dataset_id: str, signoff: bool) -> str:
    from governance.agreements.models import Agreement, AgreementDataset, AgreementStatus

    today = dt.date.today()
    session = get_session()
    agreement = Agreement(
        reference=reference,
        version=1,
        organisation_id=organisation_id,
        counterparty="HARMONY Alliance",
        status=AgreementStatus.ACTIVE,
        effective_on=today - dt.timedelta(days=60),
        expires_on=today + dt.timedelta(days=3 * 365),
        permitted_uses=["DUO:0000042"],
        acknowledgement=f"Data provided under {reference}.",
        publication_review_days=30,
        requires_custodian_signoff=signoff,
        activated_at=dt.datetime.now(dt.UTC),
    )
    session.add(agreement)
    session.flush()
    session.add(AgreementDataset(agreement_id=agreement.id, dataset_id=dataset_id))
    session.commit()
    return agreement.id


def build_world(app: Flask, make: Maker) -> RequestWorld:
    """Everything above, committed in the current (shared-world) transaction."""
    from catalogue.models import Dataset
    from governance.data_use import services as data_use

    amsterdam = make.organisation(name="Amsterdam UMC", country="NL")
    leiden = make.organisation(name="Leiden AML Group", country="NL")
    lyon = make.organisation(name="Lyon Myeloma Registry", country="FR")
    committee = make.committee(name="HARMONY Data Access Committee", is_default=True)
    users = {
        "applicant": make.user(Role.RESEARCHER, organisation=amsterdam, name="Ann Applicant"),
        "teammate": make.user(Role.RESEARCHER, organisation=amsterdam, name="Tom Teammate"),
        "outsider": make.user(Role.RESEARCHER, organisation=lyon, name="Olga Outsider"),
        "aml_custodian": make.user(Role.CUSTODIAN, organisation=leiden, name="Carla Leiden"),
        "myeloma_custodian": make.user(Role.CUSTODIAN, organisation=lyon, name="Chris Lyon"),
        "chair": make.user(Role.DAC_CHAIR, committee=committee, name="Charles Chair"),
        "member_1": make.user(
            Role.DAC_MEMBER, committee=committee, organisation=amsterdam, name="Mia Amsterdam"
        ),
        "member_2": make.user(Role.DAC_MEMBER, committee=committee, name="Max Member"),
        "member_3": make.user(Role.DAC_MEMBER, committee=committee, name="Mona Member"),
        "admin": make.user(Role.ADMIN, name="Ada Admin"),
    }
    world = RequestWorld(
        people={name: u.id for name, u in users.items()},
        emails={name: u.email for name, u in users.items()},
        tokens={name: make.token(u) for name, u in users.items()},
        organisations={"amsterdam": amsterdam.id, "leiden": leiden.id, "lyon": lyon.id},
        committee=committee.id,
    )
    aml_variables = [
        {"name": "FLT3_ITD", "label": "FLT3 internal tandem duplication"},
        {"name": "NPM1", "label": "NPM1 mutation"},
        {"name": "KARYOTYPE", "label": "Karyotype"},
        {"name": "AGE", "label": "Age at diagnosis", "value_type": "integer"},
    ]
    make.dataset(
        leiden, identifier="req-aml", title="Leiden AML trials", publish=True,
        variables=aml_variables,
    )  # fmt: skip
    make.dataset(
        lyon, identifier="req-myeloma", title="Lyon myeloma registry", publish=True,
        diseases=[MYELOMA],
        variables=[{"name": "ISS_STAGE", "label": "ISS stage"},
                   {"name": "CYTOGENETICS", "label": "High-risk cytogenetics"}],
    )  # fmt: skip
    make.dataset(leiden, identifier="req-closed", title="Leiden MDS cohort", publish=True)
    with app.app_context(), writing():
        for identifier, shape in (
            ("req-aml", AML_CONDITIONS),
            ("req-myeloma", MYELOMA_CONDITIONS),
            ("req-closed", AML_CONDITIONS),
        ):
            etag = data_use.get_conditions(SYSTEM, identifier).etag
            data_use.set_conditions(SYSTEM, identifier, shape, etag)
        session = get_session()
        world.datasets = {
            d.identifier: d.id
            for d in session.query(Dataset).filter(Dataset.identifier.like("req-%"))
        }
        world.agreements["aml"] = _agreement(
            leiden.id, "DSA-REQ-AML", world.datasets["req-aml"], signoff=True
        )
        world.agreements["myeloma"] = _agreement(
            lyon.id, "DSA-REQ-MYELOMA", world.datasets["req-myeloma"], signoff=False
        )
    return world


def create_request(world: RequestWorld, applicant: str = "applicant", **overrides: Any) -> str:
    """A draft with :func:`application`'s content (call inside an app context that writes);
    returns its id."""
    from governance.requests import services

    request = services.create_request(world.actor(applicant), application(**overrides))
    return request.id


def submit_request(world: RequestWorld, applicant: str = "applicant", **overrides: Any) -> str:
    """A submitted request (call inside an app context that writes); returns its id."""
    from core import workflow

    request_id = create_request(world, applicant, **overrides)
    workflow.apply(
        "access_request", world.actor(applicant), request_id, "submit", if_match=UNCHECKED
    )
    return request_id
