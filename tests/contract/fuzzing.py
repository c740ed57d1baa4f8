"""The API keeps its OpenAPI contract under schemathesis: every operation of the document (new
ones included, by construction), for every role, with valid and invalid input, then the stateful
chains the document links (create → read → change → delete). A run fails on any 5xx, on any
status the operation does not declare, and on any body, header or media type that breaks the
declared one. The seed is fixed (hypothesis ``derandomize``): a failure repeats.

This module holds the machinery; the tests are in one file per role (test_openapi_fuzz_*.py;
the administrator's, which tries every phase, in two: half of the operations each) and one for
the chains (test_openapi_chains.py), so that the workers of a parallel run (``--dist
loadfile``: a file's tests on one worker) share them.

What a role may not do (every row of the role table, tests/core/test_authorization.py, for the
operation answers it 401, 403 or 404) is tried with a few generated cases only: how input is
read does not depend on the caller, and the roles that may call the operation try it with
every phase.

The number of requests is counted and printed at the end of the session; a whole run must send
at least ``MIN_REQUESTS`` (see report.py), or the session fails.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
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
from tests.core.test_authorization import API_TABLE, ROLES, World, _build_world

EXAMPLES_PER_OPERATION = 12  # per role and operation (fewer when the inputs allow fewer)
EXAMPLES_WHEN_REFUSED = 3  # per role and operation the role table refuses it
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
REFUSED_SETTINGS = settings(FUZZ_SETTINGS, max_examples=EXAMPLES_WHEN_REFUSED)

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
# The administrator, whose calls pass every permission check, gets every phase, the coverage
# phase's boundary and invalid values included; for the others (whose difference is what they
# may do, not how input is read: the role table asserts that) the fuzzing phase's valid and
# invalid cases are enough. The custodian had every phase too until issue 15, when the new
# operations made it the second-slowest file of the run for no input path the admin misses.
FULL_ROLES = ("admin",)  # every operation passes its checks for an administrator
OTHER_ROLES = tuple(role for role in ROLES if role not in FULL_ROLES)
fuzz_only = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())
fuzz_only.config.phases.coverage.enabled = False
STATEFUL_ROLES = ("custodian", "admin")


def _share_constants(*schemas: Any) -> None:
    """Read the application's constants (the values schemathesis reuses in its cases) once
    per schema, before the role files take their subsets of it: a subset copies what its
    schema has read, and reads it again when that is nothing yet (0.3 s for each of twelve
    subsets, in every process of a run)."""
    try:
        from schemathesis.python._constants.orchestrator import build_constants_pool
    except ImportError:  # moved in a later schemathesis: each subset reads them, as before
        return
    for each in schemas:
        build_constants_pool(each)


_share_constants(schema, fuzz_only)


def _name(result: Any) -> str:
    """``"METHOD /path"`` of one operation of the document (an operation the document cannot
    describe fails here, when the tests are collected)."""
    operation = result.ok()
    return f"{operation.method.upper()} {operation.path}"


OPERATIONS = [_name(result) for result in schema.get_all_operations()]
#: the tests of a whole run: each operation for each role, and the chains for two roles
WHOLE_RUN_TESTS = len(OPERATIONS) * len(ROLES) + len(STATEFUL_ROLES)
REFUSALS = {401, 403, 404}


def refused(role: str) -> list[str]:
    """The operations (``"METHOD /path"``) that every row of the role table answers ``role``
    with a refusal; an operation the table lacks is not one of them."""
    found = []
    for name in OPERATIONS:
        method, template = name.split(" ", 1)
        shape = re.compile(re.sub(r"\{[^}]+\}", "[^/]+", template))
        rows = [e for m, p, _, e in API_TABLE if m == method and shape.fullmatch(p.split("?")[0])]
        if rows and all(expected[role] in REFUSALS for expected in rows):
            found.append(name)
    return found


def operation_tests(role: str, part: int = 0, parts: int = 1) -> dict[str, Callable[..., None]]:
    """The tests of one role's file, by name: each operation the role may call (every phase
    for the ``FULL_ROLES``, the fuzzing phase for the others), and each operation the role
    table refuses it (``EXAMPLES_WHEN_REFUSED`` generated cases of the fuzzing phase). With
    ``parts``, only every ``parts``-th operation of the document from the ``part``-th: the
    administrator's file (every phase of every operation) would be the slowest of the run on
    one worker, so it is split in two files the workers share."""
    mine = OPERATIONS[part::parts]
    no = [name for name in refused(role) if name in mine]
    yes = [name for name in mine if name not in no]
    allowed = schema if role in FULL_ROLES else fuzz_only
    tests: dict[str, Callable[..., None]] = {}

    @allowed.include(name=yes).parametrize()
    @pytest.mark.parametrize("role", [role])
    @FUZZ_SETTINGS
    def test_every_operation_keeps_its_contract(
        case: Any, role: str, app: Flask, world: World
    ) -> None:
        fuzz(case, role, app, world)

    tests[test_every_operation_keeps_its_contract.__name__] = (
        test_every_operation_keeps_its_contract
    )
    if no:

        @fuzz_only.include(name=no).parametrize()
        @pytest.mark.parametrize("role", [role])
        @REFUSED_SETTINGS
        def test_every_refused_operation_keeps_its_contract(
            case: Any, role: str, app: Flask, world: World
        ) -> None:
            fuzz(case, role, app, world)

        tests[test_every_refused_operation_keeps_its_contract.__name__] = (
            test_every_refused_operation_keeps_its_contract
        )
    return tests


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
        "request_id": (world.request_submitted, world.request_draft)[pick % 2],
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


def stateful_chains_keep_the_contract(app: Flask, world: World, role: str) -> None:
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
