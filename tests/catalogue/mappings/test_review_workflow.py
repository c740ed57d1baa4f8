"""Mapping review on the workflow kernel: every state x action x role answers what the table
and the dataset's policy say (generated from the table); each step is one audit event about
the dataset and one revision of its ETag; a refusal names what the state allows; the bulk
operations write one summarising event; the API's "actions" and the review page's buttons
come from the table; a page of mappings costs the same statements whatever its length."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from catalogue.datasets import services as datasets
from catalogue.mappings import services as mappings
from catalogue.mappings import workflow as review
from catalogue.models import Dataset, Mapping, MappingStatus, Variable
from core import audit, workflow
from core.db import get_session, writing
from core.errors import Conflict, PreconditionFailed, PreconditionRequired
from core.etags import UNCHECKED
from core.models import Role, User
from core.permissions import Permission
from core.policies import can
from tests.conftest import csrf_token, login, shared_world
from tests.core.workflow_cases import (
    assert_table_is_sound,
    case_params,
    expected_status,
    status_of,
)

FLOW = review.REVIEW
ROLES = ("custodian", "other_custodian", "researcher", "admin", "anonymous")
OTHER_TERM = "HV:0000126"
PARAMS = {"object_id": OTHER_TERM, "predicate": "skos:closeMatch", "comment": "checked"}
VARIABLES = [
    {"name": "hb_dx", "label": "Haemoglobin at diagnosis", "value_type": "decimal"},
    {"name": "flt3itd", "label": "FLT3-ITD", "value_type": "categorical"},
]


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[dict[str, Any]]:
    """A draft and a published dataset of one organisation, and the five roles (with API
    tokens and a password), once for the module; each test runs in a savepoint."""
    with shared_world(app, reference_engine) as make:
        organisation = make.organisation()
        users = {
            "custodian": make.user(Role.CUSTODIAN, organisation=organisation, name="Cora"),
            "other_custodian": make.user(Role.CUSTODIAN),
            "researcher": make.user(Role.RESEARCHER),
            "admin": make.user(Role.ADMIN),
        }
        draft = make.dataset(organisation, variables=VARIABLES)
        published = make.dataset(organisation, publish=True, variables=VARIABLES)
        tokens = {role: make.token(user) for role, user in users.items()}
        with app.app_context():
            session = get_session()
            variables = {}
            for identifier in (draft, published):
                dataset = session.scalar(select(Dataset).where(Dataset.identifier == identifier))
                version = dataset.versions[-1]
                variables[identifier] = session.scalar(
                    select(Variable.id).where(
                        Variable.version_id == version.id, Variable.name == "hb_dx"
                    )
                )
        yield {
            "people": {role: user.id for role, user in users.items()},
            "emails": {role: user.email for role, user in users.items()},
            "tokens": tokens,
            "draft": draft,
            "published": published,
            "variables": variables,
        }


def _add_mapping(world: dict[str, Any], state: str, identifier: str | None = None) -> int:
    mapping = Mapping(
        variable_id=world["variables"][identifier or world["draft"]],
        object_curie="HV:0000045",
        status=MappingStatus(state),
        confidence=0.9,
        author_label=mappings.ASSISTANT_LABEL,
    )
    get_session().add(mapping)
    get_session().commit()
    return mapping.id


@pytest.fixture
def ctx(app, world) -> Iterator[dict[str, Any]]:
    """An application context to act in, the actors, and a mapping maker."""
    with app.app_context(), writing():
        session = get_session()
        actors: dict[str, Any] = {
            role: session.get(User, user_id) for role, user_id in world["people"].items()
        }
        actors["anonymous"] = None

        def make_mapping(state: str, identifier: str | None = None) -> review.ReviewedMapping:
            identifier = identifier or world["draft"]
            mapping_id = _add_mapping(world, state, identifier)
            return review.load(actors["admin"], review.key(identifier, mapping_id))

        yield {"actors": actors, "make": make_mapping, "session": session, **world}


@pytest.fixture
def web(app, world) -> dict[str, Any]:
    """For requests (which must not share an application context with the test): the world
    and a maker of mappings that returns their ids."""

    def make_mapping(state: str, identifier: str | None = None) -> int:
        with app.app_context(), writing():
            return _add_mapping(world, state, identifier)

    return {"make": make_mapping, **world}


def dataset_events(dataset_id: str) -> list[str]:
    return [e.action for e in audit.events_for("dataset", dataset_id, newest_first=False)]


# --- the table ------------------------------------------------------------------------------


def test_the_table_is_sound_and_registered(app):
    assert_table_is_sound(FLOW)
    assert workflow.get("mapping") is FLOW
    assert FLOW.actions == ["accept", "reject", "reopen", "change_term", "edit", "delete"]


@pytest.mark.parametrize(("state", "action", "role"), case_params(FLOW, ROLES))
def test_every_state_action_and_role_on_the_open_draft(ctx, state, action, role):
    """A draft's mapping: its editors act as the table says; everyone else finds nothing."""
    reviewed = ctx["make"](state)
    actor = ctx["actors"][role]
    dataset_id, revision = reviewed.dataset.id, reviewed.dataset.revision
    seen = dataset_events(dataset_id)
    expected = expected_status(FLOW, actor, reviewed, action)
    answer = status_of(
        lambda: workflow.apply(
            FLOW,
            actor,
            review.key(ctx["draft"], reviewed.id),
            action,
            if_match=UNCHECKED,
            params=PARAMS,
        )
    )
    assert answer == expected
    ctx["session"].expire_all()
    dataset = ctx["session"].get(Dataset, dataset_id)
    if expected == 200:
        row = FLOW.row(state, action)
        assert dataset_events(dataset_id) == [*seen, row.event]
        assert dataset.revision == revision + 1  # the dataset's ETag moved once
        stored = ctx["session"].get(Mapping, reviewed.id)
        assert (stored.status.value if stored else review.DELETED) == row.to
    else:
        assert dataset_events(dataset_id) == seen
        assert dataset.revision == revision


@pytest.mark.parametrize(("state", "action", "role"), case_params(FLOW, ROLES, states=["accepted"]))
def test_a_published_version_s_mappings_do_not_change(ctx, state, action, role):
    """Readers see them (403 for a change), editors get the dataset's 409 from the rule."""
    reviewed = ctx["make"](state, ctx["published"])
    actor = ctx["actors"][role]
    expected = expected_status(
        FLOW,
        actor,
        reviewed,
        action,
        visible=lambda who, obj: can(who, Permission.DATASET_READ, obj.dataset),
        rule_answers={(s, a): 409 for s in FLOW.states for a in FLOW.actions},
    )
    key = review.key(ctx["published"], reviewed.id)
    answer = status_of(
        lambda: workflow.apply(FLOW, actor, key, action, if_match=UNCHECKED, params=PARAMS)
    )
    assert answer == expected
    if role == "custodian" and FLOW.row(state, action) is not None:
        with pytest.raises(Conflict, match="Published versions do not change"):
            workflow.apply(FLOW, actor, key, action, if_match=UNCHECKED, params=PARAMS)


# --- one step -------------------------------------------------------------------------------


def test_accepting_is_one_audit_event_about_the_dataset_and_one_new_etag(ctx):
    reviewed = ctx["make"]("suggested")
    rival = ctx["make"]("suggested").id  # another suggestion for hb_dx: withdrawn
    custodian = ctx["actors"]["custodian"]
    key = review.key(ctx["draft"], reviewed.id)
    etag = datasets.etag(reviewed.dataset)
    with pytest.raises(PreconditionRequired):
        workflow.apply(FLOW, custodian, key, "accept")
    with pytest.raises(PreconditionFailed):
        workflow.apply(FLOW, custodian, key, "accept", if_match='"stale-1"')
    outcome = workflow.apply(FLOW, custodian, key, "accept", if_match=etag, reason="Checked.")
    assert (outcome.previous, outcome.state) == ("suggested", "accepted")
    assert datasets.etag(reviewed.dataset) != etag
    assert ctx["session"].get(Mapping, rival) is None
    [entry] = [
        e
        for e in audit.events_for("dataset", reviewed.dataset.id)
        if e.action == "dataset.mapping_accepted"
    ]
    assert entry.before == {"state": "suggested"} and entry.after == {"state": "accepted"}
    assert entry.summary == "Accepted the mapping of hb_dx to HV:0000045."
    assert entry.context == {
        "mapping": reviewed.id,
        "subject": "hb_dx",
        "version": 1,
        "withdrawn": 1,
    }
    assert entry.reason == "Checked." and entry.actor_id == custodian.id
    assert ctx["session"].get(Mapping, reviewed.id).author_label == "Cora"
    history = datasets.history(custodian, ctx["draft"])
    assert history[0]["action"] == "mapping_accepted"
    with pytest.raises(PreconditionFailed):  # the ETag it was done with is stale now
        workflow.apply(FLOW, custodian, key, "reject", if_match=etag)


def test_a_refusal_names_what_the_state_allows(ctx):
    reviewed = ctx["make"]("accepted")
    with pytest.raises(Conflict) as refused:
        mappings.review_mapping(
            ctx["actors"]["custodian"], ctx["draft"], reviewed.id, "accepted", None, "*"
        )
    assert refused.value.detail == (
        "This mapping is accepted already. Allowed now: reject, reopen, change_term, edit, delete."
    )


def test_changing_the_term_and_reopening(ctx):
    reviewed = ctx["make"]("rejected")
    custodian = ctx["actors"]["custodian"]
    changed = mappings.review_mapping(custodian, ctx["draft"], reviewed.id, None, OTHER_TERM, "*")
    assert (changed.status, changed.object_curie, changed.confidence) == (
        MappingStatus.ACCEPTED,
        OTHER_TERM,
        None,
    )
    reopened = mappings.review_mapping(custodian, ctx["draft"], reviewed.id, "suggested", None, "*")
    assert reopened.status is MappingStatus.SUGGESTED
    actions = dataset_events(reviewed.dataset.id)[-2:]
    assert actions == ["dataset.mapping_term_changed", "dataset.mapping_reopened"]
    [changed_event] = [
        e
        for e in audit.events_for("dataset", reviewed.dataset.id)
        if e.action == "dataset.mapping_term_changed"
    ]
    assert changed_event.before == {"state": "rejected", "object_id": "HV:0000045"}
    assert changed_event.after == {"state": "accepted", "object_id": OTHER_TERM}


# --- bulk operations ------------------------------------------------------------------------


def test_each_bulk_operation_is_one_audit_event(ctx):
    custodian = ctx["actors"]["custodian"]
    identifier = ctx["draft"]
    dataset_id = datasets.get_dataset(custodian, identifier).id
    before = dataset_events(dataset_id)
    counts = mappings.suggest(custodian, identifier, "*")
    assert counts["suggested"] > 0
    result = mappings.bulk_accept(custodian, identifier, 0.5, "*")
    assert result["accepted"] > 0
    assert dataset_events(dataset_id)[len(before) :] == [
        "dataset.mappings_suggested",
        "dataset.mappings_accepted",
    ]


def test_bulk_acceptance_moves_only_what_the_table_allows(ctx, monkeypatch):
    """Bulk acceptance asks the table: without an accept row for suggestions, nothing moves."""
    custodian = ctx["actors"]["custodian"]
    ctx["make"]("suggested")
    rows = tuple(t for t in FLOW.transitions if (t.state, t.action) != ("suggested", "accept"))
    monkeypatch.setattr(review, "REVIEW", dataclasses.replace(FLOW, transitions=rows))
    assert mappings.bulk_accept(custodian, ctx["draft"], 0.5, "*")["accepted"] == 0


# --- actions in the API, buttons on the page ------------------------------------------------


@pytest.mark.parametrize(
    ("state", "role", "actions"),
    [
        ("suggested", "custodian", ["accept", "reject", "change_term", "edit", "delete"]),
        ("accepted", "custodian", ["reject", "reopen", "change_term", "edit", "delete"]),
        ("rejected", "admin", ["accept", "reopen", "change_term", "edit", "delete"]),
        ("suggested", "other_custodian", None),  # the draft is hidden: 404
        ("suggested", "researcher", None),
    ],
)
def test_the_mapping_json_carries_the_actions_of_the_caller(app, client, web, state, role, actions):
    mapping_id = web["make"](state)
    auth = {"Authorization": f"Bearer {web['tokens'][role]}"}
    response = client.get(f"/api/v1/datasets/{web['draft']}/mappings/{mapping_id}", headers=auth)
    if actions is None:
        assert response.status_code == 404
        return
    assert response.status_code == 200 and response.json["actions"] == actions
    listed = client.get(f"/api/v1/datasets/{web['draft']}/mappings", headers=auth).json
    assert {m["id"]: m["actions"] for m in listed["items"]}[mapping_id] == actions


def test_readers_of_a_published_version_get_no_actions(client, web):
    web["make"]("accepted", web["published"])
    for headers in ({}, {"Authorization": f"Bearer {web['tokens']['researcher']}"}):
        items = client.get(f"/api/v1/datasets/{web['published']}/mappings", headers=headers)
        assert items.status_code == 200
        assert [m["actions"] for m in items.json["items"]] == [[]]
    custodian = {"Authorization": f"Bearer {web['tokens']['custodian']}"}
    items = client.get(f"/api/v1/datasets/{web['published']}/mappings", headers=custodian).json
    assert [m["actions"] for m in items["items"]] == [[]]  # nothing changes there


def test_patch_answers_with_the_actions_the_new_state_allows(client, web):
    mapping_id = web["make"]("suggested")
    auth = {"Authorization": f"Bearer {web['tokens']['custodian']}"}
    url = f"/api/v1/datasets/{web['draft']}/mappings/{mapping_id}"
    etag = client.get(f"/api/v1/datasets/{web['draft']}", headers=auth).headers["ETag"]
    rejected = client.patch(url, json={"status": "rejected"}, headers=auth | {"If-Match": etag})
    assert rejected.status_code == 200, rejected.json
    assert rejected.json["actions"] == ["accept", "reopen", "change_term", "edit", "delete"]
    again = client.patch(
        url, json={"status": "rejected"}, headers=auth | {"If-Match": rejected.headers["ETag"]}
    )
    assert again.status_code == 409
    assert "Allowed now: accept, reopen" in again.json["detail"]


BUTTON = re.compile(
    r'<form[^>]*data-row-action(?P<hidden> hidden)?>.*?name="review_action" value="(?P<action>\w+)">'
    r"\s*<button[^>]*?(?P<disabled> disabled)?>",
    re.DOTALL,
)


@pytest.mark.parametrize(
    ("state", "enabled", "shown"),
    [
        ("suggested", {"accept", "reject"}, {"accept", "reject"}),
        ("accepted", {"reject", "reopen"}, {"accept", "reject", "reopen"}),
        ("rejected", {"accept", "reopen"}, {"accept", "reject", "reopen"}),
    ],
)
def test_the_review_page_s_buttons_come_from_the_table(client, web, state, enabled, shown):
    mapping_id = web["make"](state)
    login(client, web["emails"]["custodian"])
    html = client.get(f"/datasets/{web['draft']}/mappings?show={state}").get_data(as_text=True)
    row = html[html.index(f'data-mapping="{mapping_id}"') :]
    row = row[: row.index("</tr>")]
    buttons = {m["action"]: m for m in BUTTON.finditer(row)}
    assert set(buttons) == {"accept", "reject", "reopen"}
    assert {a for a, m in buttons.items() if not m["disabled"]} == enabled
    assert {a for a, m in buttons.items() if not m["hidden"]} == shown
    assert 'name="review_action" value="change_term"' in row  # the "Other term…" picker


def test_a_row_button_answers_the_page_s_script_with_the_new_actions(client, web):
    mapping_id = web["make"]("suggested")
    login(client, web["emails"]["custodian"])
    page = f"/datasets/{web['draft']}/mappings"
    html = client.get(page).get_data(as_text=True)
    etag = unescape(re.search(r'name="revision" value="([^"]+)"', html).group(1))
    answer = client.post(
        f"{page}/{mapping_id}",
        data={"review_action": "reject", "revision": etag},
        headers={"Accept": "application/json", "X-CSRFToken": csrf_token(client, "/")},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["mapping"]["status"] == "rejected"
    assert answer.json["mapping"]["actions"] == [
        "accept",
        "reopen",
        "change_term",
        "edit",
        "delete",
    ]
    assert answer.json["message"] == "Rejected: hb_dx → HV:0000045."


# --- the cost of a page ---------------------------------------------------------------------


def test_a_page_of_mappings_costs_the_same_statements_whatever_its_length(app, client, web):
    auth = {"Authorization": f"Bearer {web['tokens']['custodian']}"}
    url = f"/api/v1/datasets/{web['draft']}/mappings?per_page=100"
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def measure() -> int:
        client.get(url, headers=auth)  # warm: the first request loads the caller's grants
        statements.clear()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            body = client.get(url, headers=auth).json
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        assert all(m["actions"] for m in body["items"])
        return len(statements)

    web["make"]("suggested")
    few = measure()
    assert few > 0  # the statements are seen
    for state in ["accepted", "rejected", "suggested"] * 6:
        web["make"](state)
    assert measure() == few


def test_the_cli_shows_the_table(app):
    shown = app.test_cli_runner().invoke(args=["workflows", "show", "mapping"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.strip() == workflow.describe(FLOW)
