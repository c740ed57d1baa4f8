"""The dataset lifecycle on the workflow kernel: every state x action x role answers what the
table and the policy say (generated from the table); each step is in the audit trail with what
it changed, and the chain verifies after them; the history (API and page) reads the trail; the
dataset JSON carries the caller's actions and the page shows their buttons, and nothing else;
a page of datasets costs the same number of statements however many it lists."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, func, select

from catalogue.datasets import services as datasets
from catalogue.datasets.workflow import LIFECYCLE
from catalogue.search.models import SearchDocument
from core import audit, events
from core.db import get_session, writing
from core.errors import InvalidInput, NotFound
from core.etags import UNCHECKED
from core.models import Role, User
from core.policies import SYSTEM, Actor
from core.workflow import DELETED
from tests.conftest import login, shared_world
from tests.core.workflow_cases import (
    assert_table_is_sound,
    case_params,
    expected_status,
    status_of,
)

ROLES = ("owner", "other_custodian", "researcher", "admin", "anonymous")
STATES = {
    "draft": "wf-draft",
    "published": "wf-published",
    "revising": "wf-revising",
    "retired": "wf-retired",
}
LISTED = 25  # published datasets of the list organisation, for the statement count

#: each action through the service function that pages and the API call
CALLS: dict[str, Callable[[Actor, str], Any]] = {
    "edit": lambda who, i: datasets.update_dataset(who, i, {"title": "A new title"}, UNCHECKED),
    "publish": lambda who, i: datasets.publish(who, i, UNCHECKED),
    "delete": lambda who, i: datasets.delete_draft(who, i, UNCHECKED),
    "new_version": lambda who, i: datasets.new_version(who, i, UNCHECKED),
    "retire": lambda who, i: datasets.retire(who, i, "Pooled elsewhere.", UNCHECKED),
}


@dataclass
class World:
    people: dict[str, str] = field(default_factory=dict)  # role → user id
    emails: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    list_organisation: str = ""


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[World]:
    with shared_world(app, reference_engine) as make:
        leiden = make.organisation(name="Leiden Haematology", country="NL")
        lyon = make.organisation(name="Lyon Blood Registry", country="FR")
        users = {
            "owner": make.user(Role.CUSTODIAN, organisation=leiden),
            "other_custodian": make.user(Role.CUSTODIAN, organisation=lyon),
            "researcher": make.user(Role.RESEARCHER),
            "admin": make.user(Role.ADMIN),
        }
        world = World(
            people={role: u.id for role, u in users.items()},
            emails={role: u.email for role, u in users.items()},
            tokens={role: make.token(u) for role, u in users.items()},
        )
        make.dataset(leiden, identifier="wf-draft", title="Draft AML trial")
        for state in ("published", "revising", "retired"):
            make.dataset(leiden, identifier=f"wf-{state}", title=f"AML {state}", publish=True)
        with app.app_context():
            datasets.new_version(SYSTEM, "wf-revising", UNCHECKED)
            datasets.retire(SYSTEM, "wf-retired", "Pooled elsewhere.", UNCHECKED)
        listed = make.organisation(name="Many Datasets Foundation", country="DE")
        world.list_organisation = listed.id
        for n in range(LISTED):
            make.dataset(listed, identifier=f"many-{n:02d}", publish=True)
        yield world


@pytest.fixture
def ctx(app, world) -> Iterator[dict[str, Actor]]:
    """An application context that writes, and the actors by role."""
    with app.app_context(), writing():
        session = get_session()
        actors: dict[str, Actor] = {
            role: session.get(User, user_id) for role, user_id in world.people.items()
        }
        actors["anonymous"] = None
        yield actors


# --- the table ------------------------------------------------------------------------------


def test_the_table_is_sound_and_registered():
    assert_table_is_sound(LIFECYCLE)
    from core import workflow

    assert workflow.get("dataset") is LIFECYCLE
    assert LIFECYCLE.exhaustive  # every state x action is a row or a refusal in words


@pytest.mark.parametrize(("state", "action", "role"), case_params(LIFECYCLE, ROLES))
def test_every_state_action_and_role(ctx, state, action, role):
    identifier = STATES[state]
    actor = ctx[role]
    dataset = datasets.get_dataset(SYSTEM, identifier)
    assert LIFECYCLE.state_of(dataset) == state
    expected = expected_status(LIFECYCLE, actor, dataset, action)
    assert status_of(lambda: CALLS[action](actor, identifier)) == expected
    if expected != 200:
        return
    row = LIFECYCLE.row(state, action)
    assert row is not None
    if row.to == DELETED:
        with pytest.raises(NotFound):
            datasets.get_dataset(SYSTEM, identifier)
    else:
        assert LIFECYCLE.state_of(datasets.get_dataset(SYSTEM, identifier)) == row.to


@pytest.mark.parametrize(
    ("state", "action", "words"),
    [
        ("draft", "retire", "A draft that was never published is deleted, not retired."),
        ("published", "edit", "Published versions do not change."),
        ("published", "delete", "Only drafts that were never published can be deleted"),
        ("retired", "edit", "This dataset is retired; it no longer changes."),
        ("retired", "retire", "This dataset is retired already."),
        ("revising", "new_version", "A new version is open as a draft already."),
    ],
)
def test_a_refusal_is_in_the_domains_words_and_names_what_is_allowed(
    client, world, state, action, words
):
    headers = {"Authorization": f"Bearer {world.tokens['owner']}"}
    url = f"/api/v1/datasets/{STATES[state]}"
    etag = client.get(url, headers=headers).headers["ETag"]
    headers["If-Match"] = etag
    path = {
        "edit": ("PATCH", url),
        "retire": ("POST", f"{url}/retire"),
        "delete": ("DELETE", url),
        "new_version": ("POST", f"{url}/versions"),
    }[action]
    answer = client.open(
        path[1], method=path[0], json={} if path[0] != "DELETE" else None, headers=headers
    )
    assert answer.status_code == 409
    assert words in answer.json["detail"]
    assert (
        "Allowed now:" in answer.json["detail"]
        or "Nothing is allowed now." in answer.json["detail"]
    )


def test_publishing_an_incomplete_draft_names_the_fields_and_records_nothing(ctx, make):
    organisation = make.organisation()
    identifier = make.dataset(organisation, description=None, contact_email=None)
    dataset_id = datasets.get_dataset(SYSTEM, identifier).id
    with pytest.raises(InvalidInput) as refused:
        datasets.publish(SYSTEM, identifier, UNCHECKED)
    assert {"description", "contact"} <= set(refused.value.errors)
    assert "dataset.published" not in {e.action for e in audit.events_for("dataset", dataset_id)}


# --- the audit trail, the change events, the search index ------------------------------------


def test_every_step_is_audited_with_what_it_changed_and_the_chain_verifies(ctx, make):
    owner = ctx["owner"]
    organisation_id = owner.custodian_of().pop()  # type: ignore[union-attr]
    heard: list[events.Event] = []
    events.subscribe("dataset.*", heard.append)
    try:
        created = datasets.create_dataset(
            owner,
            {
                "title": "Audited AML trial",
                "description": "Audited.",
                "diseases": ["NCIT:C3171"],
                "source_type": "clinical_trial",
                "contact_email": "desk@example.org",
                "patients": 100,
                "organisation_id": organisation_id,
            },
        )
        identifier = created.identifier
        datasets.update_dataset(owner, identifier, {"patients": 120}, UNCHECKED)
        datasets.update_dataset(owner, identifier, {"patients": 120}, UNCHECKED)  # no change
        datasets.publish(owner, identifier, UNCHECKED)
        datasets.new_version(owner, identifier, UNCHECKED)
        datasets.update_dataset(owner, identifier, {"patients": 150}, UNCHECKED)
        datasets.publish(owner, identifier, UNCHECKED)
        datasets.retire(owner, identifier, "Pooled into the AML cohort.", UNCHECKED)
    finally:
        events.unsubscribe(heard.append)
    dataset = datasets.get_dataset(SYSTEM, identifier)
    trail = audit.events_for("dataset", dataset.id, newest_first=False)
    assert [e.action for e in trail] == [
        "dataset.created", "dataset.updated", "dataset.published", "dataset.version_opened",
        "dataset.updated", "dataset.published", "dataset.retired",
    ]  # fmt: skip
    assert [e.name for e in heard] == [e.action for e in trail]  # announced as recorded
    assert {e.actor_id for e in trail} == {owner.id}  # type: ignore[union-attr]
    first_edit, first_publish, opened, second_edit, _, retired = trail[1:]
    assert (first_edit.before, first_edit.after) == ({"patients": 100}, {"patients": 120})
    assert first_edit.context == {"version": 1}
    assert (first_publish.before, first_publish.after) == (
        {"state": "draft"},
        {"state": "published"},
    )
    assert (opened.before, opened.after) == ({"state": "published"}, {"state": "revising"})
    assert opened.context == {"version": 2}
    assert second_edit.after == {"patients": 150} and second_edit.context == {"version": 2}
    assert retired.after == {"state": "retired", "retirement_note": "Pooled into the AML cohort."}
    assert retired.reason == "Pooled into the AML cohort."
    assert heard[2].payload["version"] == 1 and heard[2].payload["to_state"] == "published"
    result = audit.verify(get_session())
    assert result.ok, result.problem


def test_a_deleted_draft_keeps_its_audit_events_and_its_identifier(ctx, make):
    organisation = make.organisation()
    identifier = make.dataset(organisation, identifier="gone-draft")
    dataset_id = datasets.get_dataset(SYSTEM, identifier).id
    datasets.delete_draft(SYSTEM, identifier, UNCHECKED)
    actions = [e.action for e in audit.events_for("dataset", dataset_id, newest_first=False)]
    assert actions == ["dataset.created", "dataset.deleted"]
    assert audit.events_for("dataset", dataset_id)[0].context == {"identifier": "gone-draft"}
    assert datasets._identifier_taken("gone-draft")


def test_the_search_index_follows_the_lifecycle_through_the_change_events(ctx, make):
    organisation = make.organisation()
    identifier = make.dataset(organisation)
    dataset_id = datasets.get_dataset(SYSTEM, identifier).id

    def documents() -> int:
        return get_session().scalar(
            select(func.count())
            .select_from(SearchDocument)
            .where(SearchDocument.dataset_id == dataset_id)
        )

    assert documents() == 1  # the draft (found by its custodians)
    datasets.publish(SYSTEM, identifier, UNCHECKED)
    datasets.new_version(SYSTEM, identifier, UNCHECKED)
    assert documents() == 2  # the published version and the open draft
    datasets.retire(SYSTEM, identifier, None, UNCHECKED)
    assert documents() == 0


# --- the history reads the audit trail -------------------------------------------------------


def test_the_history_comes_from_the_trail_and_hides_people_and_drafts_from_the_public(
    client, world
):
    url = "/api/v1/datasets/wf-revising/history"
    owner = client.get(url, headers={"Authorization": f"Bearer {world.tokens['owner']}"}).json
    assert [h["action"] for h in owner] == ["version_opened", "published", "created"]
    assert [h["version"] for h in owner] == [2, 1, 1]
    assert owner[0]["changes"]["state"] == {"old": "published", "new": "revising"}
    assert "System" in owner[0]["who"] or "system" in owner[0]["who"]
    public = client.get(url).json
    assert [h["action"] for h in public] == ["published", "created"]  # not the open draft
    assert {h["who"] for h in public} == {"Leiden Haematology"}
    assert all(h["changes"] == {} for h in public)
    assert set(public[0]) == {"at", "version", "who", "action", "summary", "changes"}


def test_the_page_shows_the_history_from_the_trail(client, world):
    login(client, world.emails["owner"])
    html = client.get("/datasets/wf-retired").get_data(as_text=True)
    history = html.split('id="history-h"')[1]
    assert "Retired the dataset. Pooled elsewhere." in history
    assert "Published version 1." in history and "as a draft." in history


# --- actions in the JSON, buttons on the page -------------------------------------------------

EXPECTED_ACTIONS = {
    "draft": ["edit", "publish", "delete"],
    "published": ["new_version", "retire"],
    "revising": ["edit", "publish", "retire"],
    "retired": [],
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
def test_the_json_carries_the_actions_the_caller_may_take(client, world, state, role):
    headers = {"Authorization": f"Bearer {world.tokens[role]}"} if role != "anonymous" else {}
    answer = client.get(f"/api/v1/datasets/{STATES[state]}", headers=headers)
    editor = role in ("owner", "admin")
    if state == "draft" and not editor:
        assert answer.status_code == 404
        return
    assert answer.json["actions"] == (EXPECTED_ACTIONS[state] if editor else [])
    versions = client.get(f"/api/v1/datasets/{STATES[state]}/versions", headers=headers).json
    assert {tuple(v["actions"]) for v in versions["items"]} == {
        tuple(EXPECTED_ACTIONS[state] if editor else [])
    }


def test_the_list_carries_each_datasets_actions(client, world):
    headers = {"Authorization": f"Bearer {world.tokens['owner']}"}
    items = client.get("/api/v1/datasets?mine=true&per_page=100", headers=headers).json["items"]
    by_identifier = {i["identifier"]: i["actions"] for i in items}
    assert {
        by_identifier[identifier] == EXPECTED_ACTIONS[state] for state, identifier in STATES.items()
    } == {True}
    public = client.get("/api/v1/datasets?per_page=100").json["items"]
    assert {tuple(i["actions"]) for i in public} == {()}


def test_the_openapi_document_describes_the_actions(client):
    document = client.get("/api/v1/openapi.json").json
    schema = document["components"]["schemas"]["Dataset"]["properties"]["actions"]
    assert schema["type"] == "array" and schema["items"]["type"] == "string"
    assert "harmony workflows show dataset" in schema["description"]


BUTTONS = {
    "edit": ">Edit</a>",
    "publish": ">Publish</button>",
    "delete": ">Delete draft</button>",
    "new_version": ">New version</button>",
    "retire": ">Retire dataset</button>",
}


@pytest.mark.parametrize("role", ("owner", "other_custodian", "researcher", "admin"))
@pytest.mark.parametrize("state", STATES)
def test_the_page_shows_the_buttons_of_the_actions_and_no_others(client, world, state, role):
    login(client, world.emails[role])
    answer = client.get(f"/datasets/{STATES[state]}")
    editor = role in ("owner", "admin")
    if state == "draft" and not editor:
        assert answer.status_code == 404
        return
    html = answer.get_data(as_text=True)
    shown = [action for action, button in BUTTONS.items() if button in html]
    assert shown == sorted(EXPECTED_ACTIONS[state] if editor else [], key=list(BUTTONS).index)
    assert ("Manage this dataset" in html) == bool(shown)


def test_the_published_version_of_a_dataset_being_revised_offers_no_buttons(client, world):
    login(client, world.emails["owner"])
    html = client.get("/datasets/wf-revising/versions/1").get_data(as_text=True)
    assert "Manage this dataset" not in html
    assert not re.search(r">(New version|Publish|Retire dataset)</button>", html)


# --- a page of datasets costs the same however many it lists --------------------------------


def test_a_page_of_datasets_costs_the_same_number_of_statements_for_5_or_25(
    client, world, reference_engine
):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):  # not the session's SAVEPOINT
            statements.append(statement)

    url = f"/api/v1/datasets?custodian={world.list_organisation}&per_page="
    counted = {}
    event.listen(reference_engine, "before_cursor_execute", count)
    try:
        for per_page in (5, LISTED):
            statements.clear()
            answer = client.get(url + str(per_page))
            assert answer.status_code == 200 and len(answer.json["items"]) == per_page
            counted[per_page] = len(statements)
    finally:
        event.remove(reference_engine, "before_cursor_execute", count)
    assert counted[5] == counted[LISTED], counted
