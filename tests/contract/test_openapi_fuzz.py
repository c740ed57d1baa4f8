"""The API keeps its OpenAPI contract under schemathesis: every operation of the document (new
ones included, by construction), for every role, with valid and invalid input, then the stateful
chains the document links (create → read → change → delete). A run fails on any 5xx, on any
status the operation does not declare, and on any body, header or media type that breaks the
declared one. The seed is fixed (hypothesis ``derandomize``): a failure repeats.

The number of requests is counted and printed at the end of the session; a whole run must send
at least ``MIN_REQUESTS`` (see conftest.py), or the session fails.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from core import create_app
from tests.conftest import TEST_ENV, _forget_worker_caches, _shared, shared_world
from tests.core.test_authorization import ROLES, World, _build_world

EXAMPLES_PER_OPERATION = 12  # per role and operation (fewer when the inputs allow fewer)
STATEFUL_SCENARIOS = 50  # per role that can create things
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# along the chains also: a created resource can be read, a deleted one is gone
STATEFUL_CHECKS = [*CHECKS, ensure_resource_availability, use_after_free]
FUZZ_SETTINGS = settings(
    derandomize=True,  # the seed is fixed: a failure repeats
    database=None,
    deadline=None,
    max_examples=EXAMPLES_PER_OPERATION,
    suppress_health_check=list(HealthCheck),
)

# this process's counts; each test reports what it added (see _report_counts and conftest.py)
requests_sent: Counter[str] = Counter()  # "stateless", "stateful"
by_phase: Counter[str] = Counter()
chain_answers: Counter[str] = Counter()  # "METHOD path status" along the stateful chains


@pytest.fixture(scope="module")
def world(app, reference_engine, tmp_path_factory) -> Iterator[World]:
    """The role table's world (organisations, datasets, users with a token per role, a job,
    agreements, a saved purpose), built once; each test runs in a savepoint of it. Signed
    documents go to a temporary folder."""
    saved = app.config.get("AGREEMENT_DOCUMENTS_DIR")
    app.config["AGREEMENT_DOCUMENTS_DIR"] = str(tmp_path_factory.mktemp("fuzz-agreements"))
    try:
        with shared_world(app, reference_engine) as make:
            yield _build_world(app, make)
    finally:
        app.config["AGREEMENT_DOCUMENTS_DIR"] = saved


def _document_app() -> Flask:
    """An app that only serves the document, read when the tests are collected (the document
    does not depend on the database): one test per operation and role."""
    return create_app({"DATABASE_URL": "sqlite://"}, env=TEST_ENV)


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())
# The roles whose calls pass the permission checks get every phase, the coverage phase's
# boundary and invalid values included; for the others (whose difference is what they may do,
# not how input is read) the fuzzing phase's valid and invalid cases are enough.
FULL_ROLES = ("custodian", "admin")
OTHER_ROLES = tuple(role for role in ROLES if role not in FULL_ROLES)
fuzz_only = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())
fuzz_only.config.phases.coverage.enabled = False
STATEFUL_ROLES = ("custodian", "admin")
#: the tests of a whole run: each operation for each role, and the chains for two roles
WHOLE_RUN_TESTS = sum(1 for _ in schema.get_all_operations()) * len(ROLES) + len(STATEFUL_ROLES)


def headers_for(role: str, world: World) -> dict[str, str]:
    token = world.tokens.get(role)
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture(autouse=True)
def _report_counts(record_property: Any) -> Iterator[None]:
    """Each test tells the session (conftest.py, also across xdist workers) how many requests
    it sent, by phase, and how many tests a whole run has."""
    sent, phases, answers = Counter(requests_sent), Counter(by_phase), Counter(chain_answers)
    yield
    record_property("schemathesis_requests", dict(requests_sent - sent))
    record_property("schemathesis_phases", dict(by_phase - phases))
    record_property("schemathesis_chains", dict(chain_answers - answers))
    record_property("schemathesis_tests", WHOLE_RUN_TESTS)


def real_values(world: World, path: str, pick: int) -> dict[str, str]:
    """Path parameters naming things that exist, so that a valid case reaches the service."""
    dataset = (world.published, world.draft, world.foreign_draft, world.foreign_published)[pick % 4]
    identifier = (
        world.term
        if path.startswith("/api/v1/terms")
        else world.standard_set
        if path.startswith("/api/v1/standard-sets")
        else dataset
    )
    return {
        "identifier": identifier,
        "organisation_id": world.organisation,
        "committee_id": world.committee,
        "user_id": world.other_user,
        "grant_id": world.other_grant,
        "token_id": world.other_token,
        "job_id": world.job,
        "prefix": world.ontology,
        "number": world.version_one,
        "name": world.variable,
        "agreement_id": (
            world.agreement_active,
            world.agreement_draft,
            world.agreement_bare,
            world.foreign_agreement,
        )[pick % 4],
        "purpose_id": world.purpose,
    }


def fuzz(case: Any, role: str, app: Flask, world: World) -> None:
    """One generated case as ``role``. Half of the valid cases with path parameters name
    things that exist (a dataset of the role's organisation, another's …)."""
    meta = case.meta
    phase = f"{meta.phase.name.value}/{meta.generation.mode.value}" if meta else "explicit"
    by_phase[phase] += 1
    if case.path_parameters and phase.endswith("positive"):
        pick = int(hashlib.sha256(repr(case.path_parameters).encode()).hexdigest(), 16)
        if pick % 2:
            known = real_values(world, case.path, pick // 2)
            for name in case.path_parameters:
                if name in known:
                    case.path_parameters[name] = known[name]
    requests_sent["stateless"] += 1
    case.call_and_validate(headers=headers_for(role, world), checks=CHECKS, app=app)


@schema.parametrize()
@pytest.mark.parametrize("role", FULL_ROLES)
@FUZZ_SETTINGS
def test_every_operation_keeps_its_contract(case: Any, role: str, app: Flask, world: World) -> None:
    """Each operation, as a custodian and as an administrator, with the coverage phase's
    boundary and invalid values and the fuzzing phase's generated ones."""
    fuzz(case, role, app, world)


@fuzz_only.parametrize()
@pytest.mark.parametrize("role", OTHER_ROLES)
@FUZZ_SETTINGS
def test_every_operation_keeps_its_contract_for_other_callers(
    case: Any, role: str, app: Flask, world: World
) -> None:
    """Each operation, anonymously, as a researcher and as a DAC member, with generated valid
    and invalid input."""
    fuzz(case, role, app, world)


@pytest.mark.parametrize("role", STATEFUL_ROLES)
def test_stateful_chains_keep_the_contract(app, world: World, role: str) -> None:
    """The linked chains (POST /datasets → GET/PATCH/DELETE /datasets/{identifier}, POST
    /organisations → …) as a custodian and as an administrator."""
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = headers_for(role, world)

    connection = _shared[id(app)]  # the world's transaction (see the ``world`` fixture)

    class Chains(api.as_state_machine()):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            # each scenario starts from the same world: what it makes is rolled back after it
            self.savepoint = connection.begin_nested()

        def teardown(self) -> None:
            if self.savepoint.is_active:
                self.savepoint.rollback()
            _forget_worker_caches(app)
            super().teardown()

        def before_call(self, case: Any) -> None:
            """Most chains start with a dataset: random titles and CURIEs rarely make one, so
            a new dataset is a valid one, half the time with the generated fields on top; half
            the changes of a dataset are valid ones."""
            super().before_call(case)
            if case.method.upper() == "POST" and case.path == "/api/v1/datasets":
                valid = {"title": "A fuzzed AML cohort", "diseases": [world.term]}
                if role == "admin":
                    valid["custodian"] = world.organisation
                generated = case.body if isinstance(case.body, dict) else {}
                mixed = int(hashlib.sha256(repr(generated).encode()).hexdigest(), 16) % 2
                case.body = {**generated, **valid} if mixed else valid
            if case.method.upper() == "PATCH" and case.path == "/api/v1/datasets/{identifier}":
                generated = case.body if isinstance(case.body, dict) else {}
                if int(hashlib.sha256(repr(generated).encode()).hexdigest(), 16) % 2:
                    case.body = {"description": "Changed along a fuzzed chain"}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            requests_sent["stateful"] += 1
            return {"headers": headers}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            chain_answers[f"{case.method.upper()} {case.path} {response.status_code}"] += 1

        def validate_response(self, response: Any, case: Any, *_: Any, **kwargs: Any) -> None:
            # an optional attachment (an agreement's signed document) exists only once it is
            # uploaded: its 404 right after the agreement's creation is the truth, not a
            # resource that went missing
            attachment = case.path.endswith("/document") and response.status_code == 404
            case.validate_response(
                response,
                checks=CHECKS if attachment else STATEFUL_CHECKS,
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Chains.run(
        settings=settings(
            derandomize=True,
            database=None,
            deadline=None,
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=8,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure as found
            suppress_health_check=list(HealthCheck),
        )
    )
