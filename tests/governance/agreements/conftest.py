"""A world for the agreements' tests: two custodian organisations with datasets (some with
data-use conditions), one user per role, and agreements in every state of the workflow, built
once per module (see :func:`tests.conftest.shared_world`). The signed documents go to a
temporary folder."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from core import workflow
from core.db import get_session, writing
from core.etags import UNCHECKED
from core.models import Role, User
from core.policies import SYSTEM, Actor
from governance.agreements import services
from governance.agreements.models import Agreement
from tests.conftest import shared_world

TODAY = services.today()
ROLES = ("owner", "other_custodian", "researcher", "admin", "anonymous")


def pdf(text: str = "signed") -> bytes:
    """A small, well-formed PDF."""
    body = (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        + f"% {text}\n".encode()
        + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
    return body


def complete(datasets: list[str], **overrides: Any) -> dict[str, Any]:
    """The content of a draft that can be activated today."""
    return {
        "datasets": datasets,
        "effective_on": TODAY - dt.timedelta(days=30),
        "expires_on": TODAY + dt.timedelta(days=365),
        "permitted_uses": ["DUO:0000042"],
        "acknowledgement": "Data provided by the Leiden AML group.",
        "publication_review_days": 30,
        "return_of_results": True,
        "return_of_results_text": "Derived variables, within 6 months",
        "moratorium_months": 12,
        "signatories": [
            {"name": "Dr A. Custodian", "role": "Director", "side": "custodian",
             "signed_on": (TODAY - dt.timedelta(days=40)).isoformat()},
            {"name": "Prof B. Alliance", "role": "Coordinator", "side": "alliance",
             "signed_on": (TODAY - dt.timedelta(days=35)).isoformat()},
        ],
    } | overrides  # fmt: skip


def make_agreement(
    organisation_id: str, reference: str, state: str, datasets: list[str], **overrides: Any
) -> str:
    """An agreement in ``state`` (built through the services, as SYSTEM); returns its id
    (for ``superseded``: the id of the superseded version 1)."""
    data = {"reference": reference, "organisation_id": organisation_id}
    if state == "bare":
        return services.create_agreement(SYSTEM, data).id
    agreement = services.create_agreement(SYSTEM, data | complete(datasets, **overrides))
    services.attach_document(
        SYSTEM, agreement.id, io.BytesIO(pdf(reference)), f"{reference}.pdf", UNCHECKED
    )
    if state == "draft":
        return agreement.id
    services.activate(SYSTEM, agreement.id, UNCHECKED)
    if state == "expired":
        workflow.apply(
            "agreement", SYSTEM, agreement.id, "expire", if_match=UNCHECKED,
            params={"today": TODAY + dt.timedelta(days=400)},
        )  # fmt: skip
    elif state == "terminated":
        services.terminate(SYSTEM, agreement.id, "Funding ended.", UNCHECKED)
    elif state == "superseded":
        amendment = services.amend(SYSTEM, agreement.id, UNCHECKED)
        services.update_agreement(SYSTEM, amendment.id, complete(datasets), UNCHECKED)
        services.attach_document(
            SYSTEM, amendment.id, io.BytesIO(pdf(reference + "-2")), "v2.pdf", UNCHECKED
        )
        services.activate(SYSTEM, amendment.id, UNCHECKED)
    return agreement.id


def add_conditions(dataset_identifier: str) -> None:
    from catalogue.models import Dataset
    from governance.data_use.models import DataUseConditions

    session = get_session()
    dataset = session.query(Dataset).filter_by(identifier=dataset_identifier).one()
    session.add(
        DataUseConditions(
            dataset_id=dataset.id, revision=1, permission="DUO:0000042", diseases=[],
            modifiers=[], signature="0" * 64,
        )
    )  # fmt: skip
    session.commit()


@dataclass
class World:
    people: dict[str, str] = field(default_factory=dict)  # role → user id
    emails: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    organisations: dict[str, str] = field(default_factory=dict)
    datasets: dict[str, str] = field(default_factory=dict)  # identifier → id
    agreements: dict[str, str] = field(default_factory=dict)  # name → id
    documents: Path = Path()

    def actor(self, role: str) -> Actor:
        if role == "anonymous":
            return None
        return get_session().get(User, self.people[role])


@pytest.fixture(scope="module")
def world(app: Flask, reference_engine: Any, tmp_path_factory: Any) -> Iterator[World]:
    documents = tmp_path_factory.mktemp("agreements")
    saved = app.config.get("AGREEMENT_DOCUMENTS_DIR")
    app.config["AGREEMENT_DOCUMENTS_DIR"] = str(documents)
    try:
        with shared_world(app, reference_engine) as make:
            leiden = make.organisation(name="Leiden AML Group", country="NL")
            lyon = make.organisation(name="Lyon Myeloma Registry", country="FR")
            users = {
                "owner": make.user(Role.CUSTODIAN, organisation=leiden),
                "other_custodian": make.user(Role.CUSTODIAN, organisation=lyon),
                "researcher": make.user(Role.RESEARCHER),
                "admin": make.user(Role.ADMIN),
                "dac_member": make.user(Role.DAC_MEMBER),
            }
            world = World(
                people={role: u.id for role, u in users.items()},
                emails={role: u.email for role, u in users.items()},
                tokens={role: make.token(u) for role, u in users.items()},
                organisations={"leiden": leiden.id, "lyon": lyon.id},
                documents=documents,
            )
            for identifier, organisation in (
                ("agr-aml", leiden),
                ("agr-mds", leiden),
                ("agr-bare", leiden),
                ("agr-lyon", lyon),
            ):
                make.dataset(organisation, identifier=identifier, publish=True)
            with app.app_context(), writing():
                from catalogue.models import Dataset

                session = get_session()
                world.datasets = {
                    d.identifier: d.id
                    for d in session.query(Dataset).filter(Dataset.identifier.like("agr-%"))
                }
                add_conditions("agr-aml")
                add_conditions("agr-lyon")
                for state in ("draft", "active", "expired", "terminated", "superseded"):
                    world.agreements[state] = make_agreement(
                        leiden.id, f"DSA-WF-{state.upper()}", state, ["agr-mds"]
                    )
                world.agreements["bare"] = make_agreement(leiden.id, "DSA-BARE", "bare", [])
                world.agreements["aml"] = make_agreement(
                    leiden.id, "DSA-AML", "active", ["agr-aml"]
                )
                world.agreements["lyon"] = make_agreement(
                    lyon.id, "DSA-LYON", "active", ["agr-lyon"]
                )
                latest = (
                    session.query(Agreement)
                    .filter_by(reference="DSA-WF-SUPERSEDED", version=2)
                    .one()
                )
                world.agreements["amendment"] = latest.id
            yield world
    finally:
        app.config["AGREEMENT_DOCUMENTS_DIR"] = saved


@pytest.fixture
def ctx(app: Flask, world: World) -> Iterator[dict[str, Actor]]:
    """An application context that writes, and the actors by role."""
    with app.app_context(), writing():
        yield {role: world.actor(role) for role in ROLES}
