"""The role table: for every endpoint, each kind of caller gets exactly the status it should.

Default deny is visible here: a new endpoint that is not in these tables fails
``test_every_endpoint_is_in_the_role_table``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from core.db import get_session, writing
from core.models import ApiToken, Role
from tests import factories
from tests.conftest import login, shared_world
from tests.governance.agreements.conftest import make_agreement

ROLES = ("anonymous", "researcher", "custodian", "dac_member", "admin")


@dataclass
class World:
    organisation: str
    committee: str
    other_user: str
    other_grant: str
    other_token: str
    tokens: dict[str, str]
    draft: str = ""  # a draft dataset of ``organisation`` (the custodian role's organisation)
    published: str = ""  # a published dataset of ``organisation``
    foreign_draft: str = ""  # a draft dataset of another organisation
    foreign_published: str = ""  # a published dataset of another organisation
    version_one: str = "1"
    ontology: str = "HAEM"
    term: str = "NCIT:C3171"
    variable: str = "hb_dx"  # a variable of each dataset
    no_mapping: str = "0"  # a mapping id that does not exist
    standard_set: str = "test-set"  # a standard variable set (see the fixture)
    chart: str = "diseases"  # a chart of the dashboard
    job: str = ""  # a job of ``other_user`` (a researcher and custodian of no role below)
    # data-sharing agreements of ``organisation`` (a draft, an incomplete draft, an active
    # one) and an active one of another organisation
    agreement_draft: str = ""
    agreement_bare: str = ""
    agreement_active: str = ""
    foreign_agreement: str = ""
    purpose: str = ""  # a saved research purpose of ``other_user``
    # access requests of ``other_user`` (the applicant) for ``published``: a draft, and one
    # submitted to ``committee`` (the default committee). The world's custodian is a custodian
    # of the requested dataset's organisation, its DAC member a member of that committee —
    # from the dataset's organisation, so a conflicted one (recused, may not vote).
    request_draft: str = ""
    request_submitted: str = ""
    review_chart: str = "states"  # a chart of the committee's dashboard
    # a named selection of ``other_user`` holding ``published``, shared by a read-only link
    selection: str = ""
    share_token: str = ""
    value_code: str = "1"  # a permissible value of the ``categorical`` variable
    categorical: str = "sex"


@pytest.fixture(scope="module")
def world(app, reference_engine, tmp_path_factory) -> Iterator[World]:
    """Built once for the module (with the vocabularies); each test runs in a savepoint of its
    transaction, so what one test changes the next does not see."""
    saved = app.config.get("AGREEMENT_DOCUMENTS_DIR")
    app.config["AGREEMENT_DOCUMENTS_DIR"] = str(tmp_path_factory.mktemp("role-agreements"))
    try:
        with shared_world(app, reference_engine) as make:
            yield _build_world(app, make)
    finally:
        app.config["AGREEMENT_DOCUMENTS_DIR"] = saved


def _build_world(app, make) -> World:
    organisation = make.organisation()
    elsewhere = make.organisation()
    variables = [
        {"name": "hb_dx", "label": "Haemoglobin at diagnosis", "value_type": "decimal"},
        {
            "name": "sex",
            "label": "Sex",
            "value_type": "categorical",
            "permissible_values": [
                {"code": "1", "label": "Male"},
                {"code": "2", "label": "Female"},
            ],
        },
    ]
    datasets = {
        "draft": make.dataset(organisation, variables=variables),
        "published": make.dataset(organisation, publish=True, variables=variables),
        "foreign_draft": make.dataset(elsewhere, variables=variables),
        "foreign_published": make.dataset(elsewhere, publish=True, variables=variables),
    }
    with app.app_context():
        from catalogue.standards.services import create_set
        from core.policies import SYSTEM

        create_set(SYSTEM, NEW_SET | {"identifier": "test-set"})
    committee = make.committee(is_default=True)
    other = make.user(Role.RESEARCHER, Role.CUSTODIAN, organisation=organisation)
    make.token(other)
    with app.app_context():
        token_id = get_session().scalar(select(ApiToken.id).where(ApiToken.user_id == other.id))
    tokens = {}
    for role in ROLES[1:]:
        user = make.user(role, organisation=organisation, committee=committee)
        tokens[role] = make.token(user)
    grant = next(g for g in other.grants if g.role is Role.CUSTODIAN)
    with app.app_context():
        from core.jobs import Job

        job = Job(kind="dictionary_import", title="An import", owner_id=other.id)
        get_session().add(job)
        get_session().commit()
        job_id = job.id
    with app.app_context(), writing():
        from governance.matching.schemas import PurposeSchema
        from governance.purposes.services import create_purpose

        owner = get_session().get(type(other), other.id)
        purpose = create_purpose(owner, "AML outcomes", PurposeSchema().load(PURPOSE)).id
        agreements = {
            "agreement_draft": make_agreement(
                organisation.id, "DSA-R-D", "draft", [datasets["published"]]
            ),
            "agreement_bare": make_agreement(organisation.id, "DSA-R-B", "bare", []),
            "agreement_active": make_agreement(
                organisation.id, "DSA-R-A", "active", [datasets["published"]]
            ),
            "foreign_agreement": make_agreement(
                elsewhere.id, "DSA-R-F", "active", [datasets["foreign_published"]]
            ),
        }
        requests = _requests(owner, datasets["published"])
        shared = _shared_selection(owner, datasets["published"])
    return World(
        organisation.id,
        committee.id,
        other.id,
        grant.id,
        token_id,
        tokens,
        job=job_id,
        **datasets,
        **agreements,
        purpose=purpose,
        **requests,
        **shared,
    )


def _shared_selection(owner, dataset_id: str) -> dict[str, str]:
    """A named selection of ``owner`` with the dataset, and a read-only link to it."""
    from catalogue.selection import services as selections

    made = selections.create_selection(owner, "Shared AML")
    selections.add_dataset(owner, dataset_id, selection_id=made.id)
    link = selections.share_selection(owner, made.id)
    return {"selection": made.id, "share_token": link.token}


def _requests(applicant, dataset_id: str) -> dict[str, str]:
    """A draft and a submitted access request of ``applicant`` for the dataset (given GRU
    conditions here), made through the services."""
    from sqlalchemy import or_

    from catalogue.models import Dataset
    from core import workflow
    from core.etags import UNCHECKED
    from core.policies import SYSTEM
    from governance.data_use.services import set_conditions
    from governance.requests.services import create_request
    from tests.governance.requests.world import application

    session = get_session()
    identifier = session.scalar(
        select(Dataset.identifier).where(
            or_(Dataset.id == dataset_id, Dataset.identifier == dataset_id)
        )
    )
    set_conditions(SYSTEM, identifier, GRU | {"diseases": [], "modifiers": []}, UNCHECKED)
    content = application(
        datasets=[{"dataset": identifier}],
        purpose={"terms": ["DUO:0000042"], "commercial": False, "ethics_approval": True},
    )
    draft = create_request(applicant, content).id
    submitted = create_request(applicant, content).id
    session.commit()
    workflow.apply("access_request", applicant, submitted, "submit", if_match=UNCHECKED)
    return {"request_draft": draft, "request_submitted": submitted}


A, R, C, D, M = ROLES  # anonymous, researcher, custodian, dac member, admin
ALL_OK = dict.fromkeys(ROLES, 200)
ALL_SEE_OTHER = dict.fromkeys(ROLES, 303)


def users_only(status: int) -> dict[str, int]:
    return {A: 401, R: status, C: status, D: status, M: status}


def admin_only(status: int, others: int = 403) -> dict[str, int]:
    return {A: 401, R: others, C: others, D: others, M: status}


# who sees a draft of the custodian role's organisation, and a draft of another organisation
EDITORS_ONLY = {A: 404, R: 404, C: 200, D: 404, M: 200}
ADMIN_SEES = {A: 404, R: 404, C: 404, D: 404, M: 200}
ADMIN_SEES_LOGIN = {A: 302, R: 404, C: 404, D: 404, M: 200}
# admins have no organisation to default to, so their new dataset lacks a custodian (422)
NEW_DATASET = {"title": "A new AML cohort", "diseases": ["NCIT:C3171"]}
NEW_MAPPING = {"variable": "hb_dx", "object_id": "HV:0000045"}
REVIEW = {"status": "accepted"}
BULK_ACCEPT = {"min_confidence": 0.8}
NEW_SET = {"name": "Haemoglobin", "version": "1", "terms": [{"curie": "HV:0000045"}]}


NOBODY_ELSE = {A: 401, R: 404, C: 404, D: 404, M: 404}  # another user's own things
NOBODY = {A: 404, R: 404, C: 404, D: 404, M: 404}


def write(statuses: dict[str, int]) -> dict[str, int]:
    """The same for a change, except that anonymous callers are asked to log in first."""
    return statuses | {A: 401}


def edits_published(editor_status: int) -> dict[str, int]:
    """A change to a published dataset of the custodian role's organisation."""
    return {A: 401, R: 403, C: editor_status, D: 403, M: editor_status}


def foreign_edit(admin_status: int) -> dict[str, int]:
    """A change to a published dataset of another organisation: visible, not theirs."""
    return {A: 401, R: 403, C: 403, D: 403, M: admin_status}


# agreements: a draft is seen by its managers only; an active one of another organisation is
# seen by every user, changed by its managers only
MANAGERS = {A: 401, R: 404, C: 200, D: 404, M: 200}
NOT_THEIRS = {A: 401, R: 403, C: 403, D: 403, M: 200}
GRU = {"permission": "DUO:0000042"}
SEES_REQUEST = {A: 401, R: 404, C: 200, D: 200, M: 200}
NOT_APPLICANT = {A: 401, R: 404, C: 403, D: 403, M: 403}
HIDDEN_DRAFT = {A: 401, R: 404, C: 404, D: 404, M: 404}
PURPOSE = {"terms": ["DUO:0000007"], "diseases": ["NCIT:C3171"], "commercial": False}


BAD_PASSWORD_CHANGE = {"current_password": "not my password", "new_password": "x" * 20}

# (method, path template, JSON body, expected status per role)
API_TABLE = [
    ("GET", "/api/v1/version", None, ALL_OK),
    ("GET", "/api/v1/summary", None, ALL_OK),
    ("GET", "/api/v1/openapi.json", None, ALL_OK),
    ("GET", "/api/v1/me", None, users_only(200)),
    ("POST", "/api/v1/me/password", BAD_PASSWORD_CHANGE, users_only(422)),
    ("GET", "/api/v1/me/sessions", None, users_only(200)),
    ("POST", "/api/v1/me/sessions/revoke", None, users_only(200)),
    ("GET", "/api/v1/tokens", None, users_only(200)),
    ("POST", "/api/v1/tokens", {"name": "script"}, users_only(201)),
    ("DELETE", "/api/v1/tokens/{other_token}", None, users_only(404)),
    ("GET", "/api/v1/organisations", None, ALL_OK),
    (
        "POST",
        "/api/v1/organisations",
        {"name": "New Org", "country": "IT", "kind": "registry"},
        admin_only(201),
    ),
    ("GET", "/api/v1/organisations/{organisation}", None, ALL_OK),
    ("PATCH", "/api/v1/organisations/{organisation}", {"city": "Leiden"}, admin_only(200)),
    ("GET", "/api/v1/users", None, admin_only(200)),
    ("POST", "/api/v1/users", {"email": "new@example.org", "name": "New"}, admin_only(201)),
    ("GET", "/api/v1/users/{other_user}", None, admin_only(200, others=404)),
    ("PATCH", "/api/v1/users/{other_user}", {"name": "Renamed"}, admin_only(200, others=404)),
    (
        "PUT",
        "/api/v1/users/{other_user}/password",
        {"password": "a brand new password"},
        admin_only(204, others=404),
    ),
    ("POST", "/api/v1/users/{other_user}/roles", {"role": "admin"}, admin_only(201, others=404)),
    ("DELETE", "/api/v1/users/{other_user}/roles/{other_grant}", None, admin_only(204, others=404)),
    ("GET", "/api/v1/committees", None, users_only(200)),
    ("POST", "/api/v1/committees", {"name": "Paediatric DAC"}, admin_only(201)),
    ("GET", "/api/v1/committees/{committee}", None, users_only(200)),
    ("PATCH", "/api/v1/committees/{committee}", {"description": "AML requests"}, admin_only(200)),
    ("GET", "/api/v1/ontologies", None, ALL_OK),
    ("POST", "/api/v1/ontologies", None, admin_only(422)),  # admins get past auth: no file sent
    ("GET", "/api/v1/ontologies/{ontology}", None, ALL_OK),
    ("GET", "/api/v1/terms?q=role", None, ALL_OK),
    ("GET", "/api/v1/terms/{term}", None, ALL_OK),
    ("GET", "/api/v1/terms/{term}/descendants", None, ALL_OK),
    ("GET", "/api/v1/terms/{term}/ancestors", None, ALL_OK),
    # datasets: drafts are seen by their organisation's custodians and admins only (404 for
    # everyone else); published ones by everyone, changed by the same custodians and admins
    ("GET", "/api/v1/datasets", None, ALL_OK),
    ("POST", "/api/v1/datasets", NEW_DATASET, {A: 401, R: 403, C: 201, D: 403, M: 422}),
    ("GET", "/api/v1/datasets/{draft}", None, EDITORS_ONLY),
    ("GET", "/api/v1/datasets/{published}", None, ALL_OK),
    ("GET", "/api/v1/datasets/{foreign_draft}", None, ADMIN_SEES),
    ("PATCH", "/api/v1/datasets/{draft}", {"keywords": ["AML"]}, write(EDITORS_ONLY)),
    ("PATCH", "/api/v1/datasets/{foreign_draft}", {"keywords": ["x"]}, write(ADMIN_SEES)),
    # published versions do not change: editors get 409 (open a new version), others 403
    ("PATCH", "/api/v1/datasets/{published}", {"keywords": ["x"]}, edits_published(409)),
    ("PATCH", "/api/v1/datasets/{foreign_published}", {"keywords": ["x"]}, foreign_edit(409)),
    ("DELETE", "/api/v1/datasets/{draft}", None, write(EDITORS_ONLY) | {C: 204, M: 204}),
    ("DELETE", "/api/v1/datasets/{foreign_published}", None, foreign_edit(409)),
    ("POST", "/api/v1/datasets/{draft}/publish", None, write(EDITORS_ONLY)),
    ("POST", "/api/v1/datasets/{foreign_draft}/publish", None, write(ADMIN_SEES)),
    ("POST", "/api/v1/datasets/{published}/retire", {}, edits_published(200)),
    ("POST", "/api/v1/datasets/{foreign_published}/retire", {}, foreign_edit(200)),
    ("GET", "/api/v1/datasets/{published}/versions", None, ALL_OK),
    ("GET", "/api/v1/datasets/{draft}/versions", None, EDITORS_ONLY),
    ("POST", "/api/v1/datasets/{published}/versions", None, edits_published(201)),
    ("POST", "/api/v1/datasets/{foreign_published}/versions", None, foreign_edit(201)),
    ("GET", "/api/v1/datasets/{published}/versions/{version_one}", None, ALL_OK),
    ("GET", "/api/v1/datasets/{draft}/versions/{version_one}", None, EDITORS_ONLY),
    ("GET", "/api/v1/datasets/{published}/history", None, ALL_OK),
    ("GET", "/api/v1/datasets/{foreign_draft}/history", None, ADMIN_SEES),
    # dictionaries: editors get past the checks to “no file sent” (422); published ones change
    # only through a new version (409 for editors)
    ("POST", "/api/v1/datasets/{draft}/dictionary", None, write(EDITORS_ONLY) | {C: 422, M: 422}),
    ("POST", "/api/v1/datasets/{foreign_draft}/dictionary", None, write(ADMIN_SEES) | {M: 422}),
    ("POST", "/api/v1/datasets/{published}/dictionary", None, edits_published(409)),
    ("POST", "/api/v1/datasets/{foreign_published}/dictionary", None, foreign_edit(409)),
    ("GET", "/api/v1/datasets/{published}/variables", None, ALL_OK),
    ("GET", "/api/v1/datasets/{draft}/variables", None, EDITORS_ONLY),
    ("GET", "/api/v1/datasets/{foreign_draft}/variables", None, ADMIN_SEES),
    ("GET", "/api/v1/datasets/{published}/variables/{variable}", None, ALL_OK),
    ("GET", "/api/v1/datasets/{draft}/variables/{variable}", None, EDITORS_ONLY),
    ("GET", "/api/v1/datasets/{published}/dictionary.csv", None, ALL_OK),
    ("GET", "/api/v1/datasets/{draft}/dictionary.csv", None, EDITORS_ONLY),
    ("GET", "/api/v1/datasets/{published}/dictionary.xlsx", None, ALL_OK),
    ("GET", "/api/v1/datasets/{foreign_draft}/dictionary.xlsx", None, ADMIN_SEES),
    ("GET", "/api/v1/dictionary-template.csv", None, ALL_OK),
    ("GET", "/api/v1/dictionary-template.xlsx", None, ALL_OK),
    # mappings: read like their dataset, changed by its editors on the open draft; mapping
    # {no_mapping} does not exist, so callers who get past the dataset's checks find nothing (404)
    ("GET", "/api/v1/datasets/{draft}/mappings", None, EDITORS_ONLY),
    ("GET", "/api/v1/datasets/{published}/mappings", None, ALL_OK),
    ("GET", "/api/v1/datasets/{foreign_draft}/mappings", None, ADMIN_SEES),
    (
        "POST",
        "/api/v1/datasets/{draft}/mappings",
        NEW_MAPPING,
        write(EDITORS_ONLY) | {C: 201, M: 201},
    ),
    (
        "POST",
        "/api/v1/datasets/{foreign_draft}/mappings",
        NEW_MAPPING,
        write(ADMIN_SEES) | {M: 201},
    ),
    ("POST", "/api/v1/datasets/{published}/mappings", NEW_MAPPING, edits_published(409)),
    ("POST", "/api/v1/datasets/{foreign_published}/mappings", NEW_MAPPING, foreign_edit(409)),
    ("GET", "/api/v1/datasets/{published}/mappings/{no_mapping}", None, dict.fromkeys(ROLES, 404)),
    (
        "PATCH",
        "/api/v1/datasets/{draft}/mappings/{no_mapping}",
        REVIEW,
        write(dict.fromkeys(ROLES, 404)),
    ),
    ("PATCH", "/api/v1/datasets/{published}/mappings/{no_mapping}", REVIEW, edits_published(409)),
    (
        "DELETE",
        "/api/v1/datasets/{draft}/mappings/{no_mapping}",
        None,
        write(dict.fromkeys(ROLES, 404)),
    ),
    (
        "DELETE",
        "/api/v1/datasets/{foreign_published}/mappings/{no_mapping}",
        None,
        foreign_edit(409),
    ),
    ("POST", "/api/v1/datasets/{draft}/mappings/suggest", None, write(EDITORS_ONLY)),
    ("POST", "/api/v1/datasets/{foreign_draft}/mappings/suggest", None, write(ADMIN_SEES)),
    ("POST", "/api/v1/datasets/{published}/mappings/suggest", None, edits_published(409)),
    ("POST", "/api/v1/datasets/{draft}/mappings/accept", BULK_ACCEPT, write(EDITORS_ONLY)),
    (
        "POST",
        "/api/v1/datasets/{foreign_published}/mappings/accept",
        BULK_ACCEPT,
        foreign_edit(409),
    ),
    ("GET", "/api/v1/datasets/{published}/mappings.sssom.tsv", None, ALL_OK),
    ("GET", "/api/v1/datasets/{draft}/mappings.sssom.tsv", None, EDITORS_ONLY),
    ("GET", "/api/v1/datasets/{foreign_draft}/mappings.sssom.tsv", None, ADMIN_SEES),
    # an SSSOM import without a file: editors get past the checks to 422
    (
        "POST",
        "/api/v1/datasets/{draft}/mappings.sssom.tsv",
        None,
        write(EDITORS_ONLY) | {C: 422, M: 422},
    ),
    ("POST", "/api/v1/datasets/{published}/mappings.sssom.tsv", None, edits_published(409)),
    (
        "POST",
        "/api/v1/datasets/{foreign_draft}/mappings.sssom.tsv",
        None,
        write(ADMIN_SEES) | {M: 422},
    ),
    ("GET", "/api/v1/mappings.sssom.tsv", None, ALL_OK),
    # standard variable sets: read by everyone, managed by admins; coverage reads like the
    # dataset; the variable question and the statistics are public
    ("GET", "/api/v1/standard-sets", None, ALL_OK),
    ("POST", "/api/v1/standard-sets", NEW_SET, admin_only(201)),
    ("GET", "/api/v1/standard-sets/{standard_set}", None, ALL_OK),
    ("PATCH", "/api/v1/standard-sets/{standard_set}", {"version": "2"}, admin_only(200)),
    ("POST", "/api/v1/standard-sets/{standard_set}/retire", None, admin_only(200)),
    ("GET", "/api/v1/standard-sets/{standard_set}/feasibility", None, ALL_OK),
    ("GET", "/api/v1/datasets/{published}/coverage", None, ALL_OK),
    ("GET", "/api/v1/datasets/{draft}/coverage", None, EDITORS_ONLY),
    ("GET", "/api/v1/datasets/{foreign_draft}/coverage", None, ADMIN_SEES),
    ("GET", "/api/v1/search?q=aml", None, ALL_OK),
    ("GET", "/api/v1/search/variables?terms=HV:0000045", None, ALL_OK),
    ("GET", "/api/v1/stats", None, ALL_OK),
    ("GET", "/api/v1/stats.csv", None, ALL_OK),
    # jobs: only their owner (not one of these callers) and administrators see them
    ("GET", "/api/v1/jobs", None, users_only(200)),
    ("GET", "/api/v1/jobs/{job}", None, admin_only(200, others=404)),
    ("GET", "/api/v1/jobs/{job}/file", None, users_only(404)),  # no file: not an export
    ("POST", "/api/v1/exports/catalogue", None, users_only(202)),
    ("POST", "/api/v1/search/reindex", None, admin_only(202)),
    # the audit trail: administrators only
    ("GET", "/api/v1/audit", None, admin_only(200)),
    ("GET", "/api/v1/audit/export?format=json", None, admin_only(200)),
    # data-use conditions: read like the dataset, set by its custodians and admins
    ("GET", "/api/v1/datasets/{published}/data-use", None, ALL_OK),
    ("GET", "/api/v1/datasets/{draft}/data-use", None, EDITORS_ONLY),
    ("GET", "/api/v1/datasets/{foreign_draft}/data-use", None, ADMIN_SEES),
    ("PUT", "/api/v1/datasets/{published}/data-use", GRU, edits_published(200)),
    ("PUT", "/api/v1/datasets/{draft}/data-use", GRU, write(EDITORS_ONLY)),
    ("PUT", "/api/v1/datasets/{foreign_published}/data-use", GRU, foreign_edit(200)),
    # data-sharing agreements
    ("GET", "/api/v1/agreements", None, users_only(200)),
    (
        "POST",
        "/api/v1/agreements",
        {"reference": "DSA-ROLE-1"},
        {A: 401, R: 403, C: 201, D: 403, M: 422},  # an admin names the organisation
    ),
    ("GET", "/api/v1/agreements/{agreement_draft}", None, MANAGERS),
    ("GET", "/api/v1/agreements/{agreement_active}", None, users_only(200)),
    ("PATCH", "/api/v1/agreements/{agreement_draft}", {"title": "Renamed"}, MANAGERS),
    (
        "PATCH",
        "/api/v1/agreements/{agreement_active}",
        {"title": "x"},
        {A: 401, R: 403, C: 409, D: 403, M: 409},
    ),
    ("PATCH", "/api/v1/agreements/{foreign_agreement}", {"title": "x"}, NOT_THEIRS | {M: 409}),
    ("DELETE", "/api/v1/agreements/{agreement_draft}", None, MANAGERS | {C: 204, M: 204}),
    ("POST", "/api/v1/agreements/{agreement_bare}/activate", None, MANAGERS | {C: 422, M: 422}),
    (
        "POST",
        "/api/v1/agreements/{agreement_active}/terminate",
        {"reason": "Ended."},
        NOT_THEIRS | {C: 200},
    ),
    ("POST", "/api/v1/agreements/{agreement_active}/amend", None, NOT_THEIRS | {C: 201, M: 201}),
    ("GET", "/api/v1/agreements/{agreement_active}/versions", None, users_only(200)),
    ("GET", "/api/v1/agreements/{agreement_active}/document", None, NOT_THEIRS | {C: 200}),
    ("POST", "/api/v1/agreements/{agreement_draft}/document", None, MANAGERS | {C: 422, M: 422}),
    # the compatibility check: any user; saved purposes: one's own only
    ("POST", "/api/v1/data-use/check", {"purpose": PURPOSE, "conditions": GRU}, users_only(200)),
    ("GET", "/api/v1/me/purposes", None, users_only(200)),
    (
        "POST",
        "/api/v1/me/purposes",
        {"name": "Mine", "purpose": PURPOSE},
        users_only(201),
    ),
    ("GET", "/api/v1/me/purposes/{purpose}", None, users_only(404)),
    (
        "PUT",
        "/api/v1/me/purposes/{purpose}",
        {"name": "Theirs", "purpose": PURPOSE},
        users_only(404),
    ),
    ("DELETE", "/api/v1/me/purposes/{purpose}", None, users_only(404)),
    ("GET", "/api/v1/search?purpose={purpose}", None, {A: 422, R: 422, C: 422, D: 422, M: 422}),
    # notifications: one's own (an id of nobody's answers 404 like another user's)
    ("GET", "/api/v1/me/notifications", None, users_only(200)),
    ("POST", "/api/v1/me/notifications/read", None, users_only(200)),
    ("POST", "/api/v1/me/notifications/{no_mapping}/read", None, users_only(404)),
    # the selection (basket): one's own
    ("GET", "/api/v1/me/selection", None, users_only(200)),
    ("PUT", "/api/v1/me/selection/datasets/{published}", None, users_only(200)),
    (
        "DELETE",
        "/api/v1/me/selection/datasets/{published}/variables/{variable}",
        None,
        users_only(404),
    ),
    ("DELETE", "/api/v1/me/selection/datasets/{draft}", None, users_only(404)),
    ("DELETE", "/api/v1/me/selection", None, users_only(204)),
    # access requests: "custodian" holds the requested dataset's organisation, "dac_member"
    # sits on the request's committee but comes from that organisation (a conflict)
    ("GET", "/api/v1/access-requests", None, users_only(200)),
    (
        "POST",
        "/api/v1/access-requests",
        {"title": "A study"},
        {A: 401, R: 201, C: 403, D: 403, M: 403},
    ),
    (
        "GET",
        "/api/v1/access-requests/{request_draft}",
        None,
        {A: 401, R: 404, C: 404, D: 404, M: 404},
    ),
    ("GET", "/api/v1/access-requests/{request_submitted}", None, SEES_REQUEST),
    ("PATCH", "/api/v1/access-requests/{request_submitted}", {"title": "Mine now"}, NOT_APPLICANT),
    ("PATCH", "/api/v1/access-requests/{request_draft}", {"title": "Mine now"}, HIDDEN_DRAFT),
    ("POST", "/api/v1/access-requests/{request_submitted}/submit", None, NOT_APPLICANT),
    ("POST", "/api/v1/access-requests/{request_draft}/submit", None, HIDDEN_DRAFT),
    ("POST", "/api/v1/access-requests/{request_submitted}/withdraw", {}, NOT_APPLICANT),
    (
        "POST",
        "/api/v1/access-requests/{request_submitted}/signoffs",
        {"dataset": "{published}", "approve": True},
        {A: 401, R: 404, C: 409, D: 403, M: 403},
    ),
    (
        "POST",
        "/api/v1/access-requests/{request_submitted}/votes",
        {"choice": "approve"},
        {A: 401, R: 404, C: 403, D: 403, M: 403},
    ),
    (
        "POST",
        "/api/v1/access-requests/{request_submitted}/recusals",
        {"reason": "I co-author with the applicant."},
        {A: 401, R: 404, C: 403, D: 409, M: 403},  # D: recused already, by the conflict
    ),
    ("GET", "/api/v1/access-requests/{request_submitted}/decision", None, HIDDEN_DRAFT),  # none yet
    (
        "POST",
        "/api/v1/access-requests/{request_submitted}/decision",
        {"outcome": "approve"},
        {A: 401, R: 404, C: 403, D: 403, M: 403},
    ),
    (
        "POST",
        "/api/v1/access-requests/{request_submitted}/overrides",
        {"dataset": "{published}", "justification": "Needed."},
        {A: 401, R: 404, C: 403, D: 403, M: 403},
    ),
    ("GET", "/api/v1/access-requests/{request_submitted}/review", None, SEES_REQUEST),
    ("GET", "/api/v1/access-requests/{request_submitted}/terms", None, NOT_APPLICANT),
    (
        "POST",
        "/api/v1/access-requests/{request_submitted}/acceptance",
        {"terms_sha256": "0" * 64},
        NOT_APPLICANT,
    ),
    (
        "POST",
        "/api/v1/access-requests/{request_submitted}/revocations",
        {"reason": "A mistake."},
        {A: 401, R: 404, C: 403, D: 403, M: 409},
    ),
    ("GET", "/api/v1/access-requests/{request_submitted}/amendments", None, SEES_REQUEST),
    (
        "POST",
        "/api/v1/access-requests/{request_submitted}/amendments",
        {"extend_months": 6, "justification": "More time."},
        NOT_APPLICANT,
    ),
    ("GET", "/api/v1/access-requests/{request_submitted}/reports", None, SEES_REQUEST),
    (
        "POST",
        "/api/v1/access-requests/{request_submitted}/reports",
        {"kind": "progress", "title": "Year one", "text": "Done."},
        NOT_APPLICANT,
    ),
    # entitlements and visas: one's own; anyone's for data platforms and administrators
    (
        "GET",
        "/api/v1/entitlements?user={other_user}",
        None,
        {A: 401, R: 403, C: 403, D: 403, M: 200},
    ),
    ("GET", "/api/v1/me/entitlements", None, users_only(200)),
    ("GET", "/api/v1/users/{other_user}/visas", None, {A: 401, R: 403, C: 403, D: 403, M: 200}),
    # which committee reviews a dataset's requests: public; administrators assign
    ("GET", "/api/v1/datasets/{published}/committee", None, ALL_OK),
    (
        "PUT",
        "/api/v1/datasets/{published}/committee",
        {"committee_id": None},
        admin_only(200, others=403),
    ),
    # the committee's dashboard, and the public register of approved uses
    ("GET", "/api/v1/review/dashboard", None, {A: 401, R: 403, C: 403, D: 200, M: 200}),
    ("GET", "/api/v1/register", None, ALL_OK),
    # the harmonisation matrix: public
    ("GET", "/api/v1/harmonisation?datasets={published}&terms=HV:0000045", None, ALL_OK),
    # named selections: each user's own (another's is 404; here every role is another user)
    ("GET", "/api/v1/me/selections", None, users_only(200)),
    ("POST", "/api/v1/me/selections", {"name": "Mine"}, users_only(201)),
    ("GET", "/api/v1/me/selections/{selection}", None, NOBODY_ELSE),
    ("PATCH", "/api/v1/me/selections/{selection}", {"name": "Renamed"}, NOBODY_ELSE),
    ("DELETE", "/api/v1/me/selections/{selection}", None, NOBODY_ELSE),
    ("DELETE", "/api/v1/me/selections/{selection}/datasets", None, NOBODY_ELSE),
    ("PUT", "/api/v1/me/selections/{selection}/datasets/{published}", {}, NOBODY_ELSE),
    ("DELETE", "/api/v1/me/selections/{selection}/datasets/{published}", None, NOBODY_ELSE),
    (
        "DELETE",
        "/api/v1/me/selections/{selection}/datasets/{published}/variables/{variable}",
        None,
        NOBODY_ELSE,
    ),
    ("POST", "/api/v1/me/selections/{selection}/share", None, NOBODY_ELSE),
    ("DELETE", "/api/v1/me/selections/{selection}/share", None, NOBODY_ELSE),
    ("GET", "/api/v1/me/selections/{selection}/dictionary.csv", None, NOBODY_ELSE),
    ("GET", "/api/v1/me/selections/{selection}/dictionary.xlsx", None, NOBODY_ELSE),
    # a shared selection: read-only for whoever holds the link; copying it needs an account
    ("GET", "/api/v1/shared-selections/{share_token}", None, ALL_OK),
    ("GET", "/api/v1/shared-selections/{share_token}/dictionary.csv", None, ALL_OK),
    ("GET", "/api/v1/shared-selections/{share_token}/dictionary.xlsx", None, ALL_OK),
    ("GET", "/api/v1/shared-selections/not-a-token", None, NOBODY),
    ("POST", "/api/v1/shared-selections/{share_token}/copy", {}, users_only(201)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), API_TABLE, ids=[f"{m} {p}" for m, p, _, _ in API_TABLE]
)
def test_api_role_table(client, world, role, method, path, body, expected):
    headers = {} if role == A else {"Authorization": f"Bearer {world.tokens[role]}"}
    headers["If-Match"] = "*"  # edits of datasets need one; the ETag itself is tested elsewhere
    url = path.format(**vars(world))
    if isinstance(body, dict):  # "{published}" in a body names the world's object too
        body = {k: v.format(**vars(world)) if isinstance(v, str) else v for k, v in body.items()}
    response = client.open(url, method=method, json=body, headers=headers)
    assert response.status_code == expected[role], response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"


def _redirect_to_login(status: int = 302) -> dict[str, int]:
    return {A: status, R: 200, C: 200, D: 200, M: 200}


# HTML pages, reached with a browser session
PAGE_TABLE = [
    ("/", ALL_OK),
    ("/api/docs", ALL_OK),
    ("/healthz", ALL_OK),
    ("/account", _redirect_to_login()),
    ("/jobs/{job}", {A: 302, R: 404, C: 404, D: 404, M: 200}),
    ("/admin/organisations", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/admin/organisations/{organisation}", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/admin/users", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/admin/users/{other_user}", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/admin/committees", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/admin/audit", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/admin/ontologies", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/ontologies", ALL_OK),
    ("/ontologies/{ontology}", ALL_OK),
    ("/ontologies/search?q=aml", ALL_OK),
    ("/ontologies/tree/{term}", ALL_OK),
    ("/terms/{term}", ALL_OK),
    # dataset pages; here "custodian" is a custodian of ANOTHER organisation (the own
    # organisation's custodian is in tests/catalogue/datasets/test_pages_access.py)
    ("/datasets", ALL_OK),
    ("/datasets/mine", {A: 302, R: 403, C: 200, D: 403, M: 200}),
    ("/datasets/new", {A: 302, R: 403, C: 200, D: 403, M: 200}),
    ("/datasets/{published}", ALL_OK),
    ("/datasets/{draft}", ADMIN_SEES),
    ("/datasets/{published}/versions/{version_one}", ALL_OK),
    ("/datasets/{draft}/versions/{version_one}", ADMIN_SEES),
    ("/datasets/{draft}/edit", {A: 302, R: 404, C: 404, D: 404, M: 200}),
    ("/datasets/{published}/edit", {A: 302, R: 403, C: 403, D: 403, M: 409}),
    ("/datasets/{draft}/mappings", {A: 302, R: 404, C: 404, D: 404, M: 200}),
    ("/datasets/{published}/mappings", {A: 302, R: 403, C: 403, D: 403, M: 409}),
    ("/datasets/{draft}/dictionary", {A: 302, R: 404, C: 404, D: 404, M: 200}),
    ("/datasets/{published}/dictionary", {A: 302, R: 403, C: 403, D: 403, M: 409}),
    ("/search?q=aml", ALL_OK),
    ("/search/variables?terms=HV:0000045", ALL_OK),
    ("/standard-sets", ALL_OK),
    ("/standard-sets/{standard_set}", ALL_OK),
    ("/standard-sets/{standard_set}/feasibility", ALL_OK),
    ("/admin/standard-sets", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/standard-sets/new", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/standard-sets/{standard_set}/edit", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/dashboard", ALL_OK),
    ("/dashboard/charts/{chart}.svg", ALL_OK),
    # metadata for harvesters: public records only; a draft is nobody's record, not even its
    # custodian's (404 for all)
    ("/catalogue", ALL_OK),
    ("/catalogue.ttl", ALL_OK),
    ("/fdp", ALL_OK),
    ("/fdp.jsonld", ALL_OK),
    ("/datasets/{published}.ttl", ALL_OK),
    ("/datasets/{draft}.ttl", {A: 404, R: 404, C: 404, D: 404, M: 404}),
    ("/datasets/{published}/versions/{version_one}.rdf", ALL_OK),
    ("/datasets/{draft}/versions/{version_one}.rdf", {A: 404, R: 404, C: 404, D: 404, M: 404}),
    ("/datasets/{published}/dictionary.csvw.json", ALL_OK),
    ("/datasets/{draft}/dictionary.csvw.json", {A: 404, R: 404, C: 404, D: 404, M: 404}),
    ("/datasets/{published}/data-template.csv", ALL_OK),
    ("/datasets/{draft}/data-template.csv", {A: 404, R: 404, C: 404, D: 404, M: 404}),
    # governance; "custodian" is again one of another organisation
    ("/datasets/{draft}/data-use", {A: 302, R: 404, C: 404, D: 404, M: 200}),
    ("/datasets/{published}/data-use", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/agreements", _redirect_to_login()),
    ("/agreements/new", {A: 302, R: 403, C: 200, D: 403, M: 200}),
    ("/agreements/{agreement_active}", _redirect_to_login()),
    ("/agreements/{agreement_draft}", {A: 302, R: 404, C: 404, D: 404, M: 200}),
    ("/agreements/{agreement_draft}/edit", {A: 302, R: 404, C: 404, D: 404, M: 200}),
    ("/agreements/{agreement_active}/edit", {A: 302, R: 403, C: 403, D: 403, M: 409}),
    ("/agreements/{agreement_active}/document", {A: 302, R: 403, C: 403, D: 403, M: 200}),
    ("/me/purposes", _redirect_to_login()),
    ("/me/purposes/new", _redirect_to_login()),
    ("/me/purposes/{purpose}/edit", {A: 302, R: 404, C: 404, D: 404, M: 404}),
    ("/me/notifications", _redirect_to_login()),
    ("/me/selection", _redirect_to_login()),
    ("/me/notifications/{no_mapping}/open", {A: 302, R: 404, C: 404, D: 404, M: 404}),
    # the visa signing keys, public
    ("/.well-known/jwks.json", ALL_OK),
    # access requests: page users are fresh (the DAC member sits on another committee)
    ("/requests", _redirect_to_login()),
    ("/requests/new", {A: 302, R: 200, C: 403, D: 403, M: 403}),
    ("/requests/{request_submitted}", ADMIN_SEES_LOGIN),
    ("/requests/{request_draft}", {A: 302, R: 404, C: 404, D: 404, M: 404}),
    ("/requests/{request_submitted}/print", ADMIN_SEES_LOGIN),
    ("/requests/{request_submitted}/edit", {A: 302, R: 404, C: 404, D: 404, M: 403}),
    ("/requests/{request_submitted}/terms", {A: 302, R: 404, C: 404, D: 404, M: 403}),
    ("/requests/{request_submitted}/reports", ADMIN_SEES_LOGIN),
    ("/requests/{request_submitted}/amend", {A: 302, R: 404, C: 404, D: 404, M: 403}),
    ("/me/access", _redirect_to_login()),
    ("/review", {A: 302, R: 403, C: 403, D: 200, M: 200}),
    ("/review/{request_submitted}", ADMIN_SEES_LOGIN),
    ("/review/dashboard", {A: 302, R: 403, C: 403, D: 200, M: 200}),
    ("/signoffs", _redirect_to_login()),  # one's own organisations' sign-offs (or none)
    ("/review/dashboard/charts/{review_chart}.svg", {A: 302, R: 403, C: 403, D: 200, M: 200}),
    ("/register", ALL_OK),
    # publishers, variables, every published address (issue 15): public
    ("/organisations", ALL_OK),
    ("/organisations/{organisation}", ALL_OK),
    ("/organisations/not-an-organisation", NOBODY),
    ("/organisations/{organisation}.ttl", ALL_OK),
    ("/datasets?status=retired", ALL_OK),
    ("/datasets/{published}/variables/{variable}", ALL_OK),
    ("/datasets/{draft}/variables/{variable}", ADMIN_SEES),
    ("/datasets/{published}/variables/{variable}?version={version_one}", ALL_OK),
    ("/datasets/{published}/variables/{variable}.ttl", ALL_OK),
    ("/datasets/{draft}/variables/{variable}.ttl", NOBODY),
    ("/datasets/{published}/variables/{categorical}/values/{value_code}", ALL_SEE_OTHER),
    ("/datasets/{draft}/variables/{categorical}/values/{value_code}", NOBODY),
    ("/fdp/catalogs", ALL_SEE_OTHER),
    ("/fdp/catalogs.ttl", ALL_OK),
    ("/harmonisation", ALL_OK),
    ("/harmonisation?datasets={published}&terms=HV:0000045", ALL_OK),
    ("/harmonisation.csv?datasets={published}&terms=HV:0000045", ALL_OK),
    # selections: one's own (another user's is 404); a shared one for whoever has the link
    ("/me/selections", _redirect_to_login()),
    ("/me/selections/{selection}", {A: 302, R: 404, C: 404, D: 404, M: 404}),
    ("/shared/selections/{share_token}", ALL_OK),
    ("/shared/selections/not-a-token", NOBODY),
]


@pytest.fixture(scope="module")
def signed_in(app, world: World) -> dict[str, str]:
    """For the page table, each role's session cookie: a user of the role (a custodian of an
    organisation of its own, a DAC member of a committee of its own) logged in once, in the
    world's transaction; each test's client starts with the cookie, and what a request changes
    (the session's last use) is rolled back with the test's savepoint."""
    make = factories.Maker(app)
    cookies = {}
    for role in ROLES[1:]:
        client = app.test_client()
        assert login(client, make.user(role, committee=None).email).status_code == 302
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        assert cookie is not None
        cookies[role] = cookie.value
    return cookies


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "expected"), PAGE_TABLE, ids=[p for p, _ in PAGE_TABLE])
def test_page_role_table(app, client, signed_in, world, role, path, expected):
    if role != A:
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], signed_in[role])
    response = client.get(path.format(**vars(world)))
    assert response.status_code == expected[role]
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login?next=")


def _shape(path: str) -> str:
    shaped = re.sub(r"<[^>]+>|\{[^}]+\}", "*", path.split("?")[0])
    return re.sub(r"\.(ttl|jsonld|rdf|nt)$", ".*", shaped)  # one route serves each format


# Form actions: their authorization is asserted where they are used (test_auth, test_pages).
FORM_ACTIONS = {
    "/login",
    "/logout",
    "/account/password",
    "/account/sessions/revoke",
    "/account/tokens",
    "/account/tokens/*/revoke",
    "/admin/users/*/roles",
    "/admin/users/*/roles/*/revoke",
    "/admin/ontologies/bundled",
    "/datasets/*/publish",
    "/datasets/*/new-version",
    "/datasets/*/retire",
    "/datasets/*/delete",
    "/datasets/*/mappings/*",
    "/datasets/*/mappings/new",
    "/datasets/*/mappings/suggest",
    "/datasets/*/mappings/accept-all",
    "/standard-sets/*/retire",
    "/agreements/*/activate",
    "/agreements/*/terminate",
    "/agreements/*/amend",
    "/agreements/*/delete",
    "/me/purposes/*/delete",
    "/me/notifications/read",
    "/me/selection/datasets/*/add",
    "/me/selection/datasets/*/remove",
    "/me/selection/datasets/*/variables",
    "/me/selection/datasets/*/variables/*/remove",
    "/me/selection/clear",
    "/requests/*/autosave",
    "/requests/*/submit",
    "/requests/*/withdraw",
    "/requests/*/revocations",
    "/review/*/decision",
    "/review/*/override",
    "/review/*/recusal",
    "/review/*/signoff",
    "/review/*/vote",
    "/datasets/*/committee",
    "/me/selections",  # POST beside the GET page: its rules are asserted by the page's row
    "/me/selections/*/share",  # its GET only leads back to the selection's page
    "/me/selections/*/rename",
    "/me/selections/*/current",
    "/me/selections/*/delete",
    "/me/selections/*/unshare",
    "/me/selections/*/clear",
    "/me/selections/*/datasets/*/remove",
    "/me/selections/*/datasets/*/variables/*/remove",
    "/shared/selections/*/copy",
}
NOT_ENDPOINTS = {
    "/static/*",
    "/api/docs/assets/*",
    "/favicon.ico",
    "/catalogue/static/*",
    "/data-use/static/*",
    "/purposes/static/*",
    "/review/static/*",
    "/static/requests/*",
    "/static/selection/*",
    "/variables/static/*",
}


def test_every_endpoint_is_in_the_role_table(app):
    covered = {_shape(p) for _, p, _, _ in API_TABLE} | {_shape(p) for p, _ in PAGE_TABLE}
    routes = {_shape(rule.rule) for rule in app.url_map.iter_rules()}
    missing = routes - covered - FORM_ACTIONS - NOT_ENDPOINTS
    assert missing == set(), "add these endpoints to the role tables"


def test_every_api_method_is_in_the_role_table(app):
    """Per method too: a route that gains a method (a PUT beside a PATCH) needs its row."""
    covered = {(method, _shape(path)) for method, path, _, _ in API_TABLE}
    api_methods = {
        (method, _shape(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert api_methods - covered == set(), "add rows for these methods to API_TABLE"


def test_each_user_may_read_their_own_account(client, make):
    user = make.user(Role.RESEARCHER)
    token = make.token(user)
    response = client.get(f"/api/v1/users/{user.id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["email"] == user.email
    change = client.patch(
        f"/api/v1/users/{user.id}",
        json={"name": "Promoted Myself"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert change.status_code == 403


@pytest.mark.parametrize(("role", "status"), [(A, 401), (R, 403), (C, 403), (M, 422)])
def test_permission_is_checked_before_the_input_is_read(client, world, role, status):
    headers = {} if role == A else {"Authorization": f"Bearer {world.tokens[role]}"}
    response = client.post("/api/v1/organisations", json={"nonsense": True}, headers=headers)
    assert response.status_code == status
