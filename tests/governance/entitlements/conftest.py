"""A world for the entitlements' tests, built once per module: the access-request world
(:mod:`tests.governance.requests.world`) plus a data platform's service account, and approved
requests made directly from the models (the review's own path is its tests' business; here
what matters is what an approval *gives*). The visas' RSA keys come from a small pool made
once per run (see :mod:`tests.governance.visas.conftest`)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient

from core import create_app
from core.db import get_session, utcnow, writing
from core.models import Role
from governance.entitlements import services
from governance.requests.models import (
    AccessRequest,
    DatasetState,
    Decision,
    DecisionOutcome,
    RequestDataset,
    RequestMember,
    RequestState,
)
from tests import conftest as root
from tests.conftest import TEST_ENV, shared_world
from tests.governance.requests.world import RequestWorld, build_world
from tests.governance.visas.conftest import _pooled_keys, rsa_pool  # noqa: F401  (fixtures)

_references = itertools.count(1)


@pytest.fixture(scope="session")
def ent_app(app: Flask, database_url: str) -> Flask:
    """The run's application once ``governance.init_app`` registers the entitlements; until
    then an application of its own on the same database, with them."""
    if "entitlements" in app.blueprints:
        return app
    from governance import entitlements

    own = create_app({"DATABASE_URL": database_url}, env=TEST_ENV)
    entitlements.init_app(own)
    return own


@pytest.fixture(scope="module")
def world(ent_app: Flask, reference_engine: Any) -> Iterator[RequestWorld]:
    with shared_world(ent_app, reference_engine) as make:
        built = build_world(ent_app, make)
        platform = make.user(Role.PLATFORM, name="Data Platform Service")
        built.people["platform"] = platform.id
        built.emails["platform"] = platform.email
        built.tokens["platform"] = make.token(platform)
        yield built


@pytest.fixture(autouse=True)
def _own_savepoint(app: Flask, ent_app: Flask, world: RequestWorld) -> Iterator[None]:
    """Each test in a savepoint of the world's transaction (the root harness does this for
    the run's application; this for the entitlements' own one, while they have one)."""
    if ent_app is app:
        yield
        return
    connection = root._shared[id(ent_app)]
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        if savepoint.is_active:
            savepoint.rollback()


@pytest.fixture
def ctx(ent_app: Flask) -> Iterator[None]:
    with ent_app.app_context(), writing():
        yield


class FreshCallerClient(FlaskClient):
    """A test client whose each request finds its caller anew. Under the tests' application
    context (:func:`ctx`) every request shares one ``g``, where flask-login keeps the caller
    it loaded: without this, the second request of a test would act as the first one's
    caller whatever token it sends."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def eclient(ent_app: Flask) -> FlaskClient:
    ent_app.test_client_class = FreshCallerClient
    try:
        return ent_app.test_client()
    finally:
        ent_app.test_client_class = None


def approved_request(
    world: RequestWorld,
    *,
    requested_months: int | None = 24,
    datasets: dict[str, list[str] | None] | None = None,
    conditions: list[str] | None = None,
    extra_members: list[dict[str, Any]] | None = None,
    decided_at: dt.datetime | None = None,
    grant: bool = True,
) -> AccessRequest:
    """An approved request of ``applicant`` with ``teammate`` on the team (and
    ``extra_members``), for ``datasets`` (identifier → variables; default: req-aml with three
    variables, req-myeloma whole), decided by the chair; its entitlements granted unless
    ``grant`` is False. Call inside :func:`ctx`; commits."""
    datasets = (
        datasets
        if datasets is not None
        else {"req-aml": ["FLT3_ITD", "NPM1", "KARYOTYPE"], "req-myeloma": None}
    )
    session = get_session()
    now = decided_at or utcnow()
    request = AccessRequest(
        reference=f"AR-T-{next(_references):04d}",
        state=RequestState.APPROVED,
        applicant_id=world.people["applicant"],
        organisation_id=world.organisations["amsterdam"],
        committee_id=world.committee,
        title="Outcomes of FLT3-ITD AML",
        requested_months=requested_months,
        round=1,
        decided_at=now,
    )
    session.add(request)
    session.flush()
    for name, is_applicant in (("applicant", True), ("teammate", False)):
        session.add(
            RequestMember(
                request_id=request.id,
                user_id=world.people[name],
                email=world.emails[name],
                email_key=world.emails[name],
                is_applicant=is_applicant,
            )
        )
    for spec in extra_members or []:
        session.add(RequestMember(request_id=request.id, **spec))
    for position, (identifier, variables) in enumerate(datasets.items()):
        session.add(
            RequestDataset(
                request_id=request.id,
                dataset_id=world.datasets[identifier],
                position=position,
                state=DatasetState.APPROVED,
                variables=variables,
            )
        )
    decision = Decision(
        request_id=request.id,
        round=1,
        outcome=DecisionOutcome.APPROVE_WITH_CONDITIONS if conditions else DecisionOutcome.APPROVE,
        reasons="A sound project.",
        conditions=conditions or [],
        dataset_outcomes={world.datasets[i]: "approved" for i in datasets},
        decided_by_id=world.people["chair"],
        decided_at=now,
    )
    session.add(decision)
    session.flush()
    session.refresh(request)
    if grant:
        services.grant_for_decision(request, decision)
    session.commit()
    return request


def auth(world: RequestWorld, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[name]}"}
