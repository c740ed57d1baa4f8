"""The agreement's workflow on the kernel: every state x action x role answers what the table
and the policy say (generated from the table); activation names what is missing by field;
each step is audited; an amendment supersedes the version it amends, which stays readable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from core import audit, workflow
from core.errors import Conflict, Forbidden, InvalidInput
from core.etags import UNCHECKED
from core.policies import SYSTEM, Actor
from governance.agreements import services
from governance.agreements.models import AgreementStatus
from governance.agreements.workflow import AGREEMENT
from tests.core.workflow_cases import (
    assert_table_is_sound,
    case_params,
    expected_status,
    status_of,
)
from tests.governance.agreements.conftest import ROLES, TODAY, complete

FAR = TODAY + dt.timedelta(days=4000)

CALLS: dict[str, Callable[[Actor, str], Any]] = {
    "edit": lambda who, i: services.update_agreement(who, i, {"title": "New title"}, UNCHECKED),
    "activate": lambda who, i: services.activate(who, i, UNCHECKED),
    "delete": lambda who, i: services.delete_draft(who, i, UNCHECKED),
    "amend": lambda who, i: services.amend(who, i, UNCHECKED),
    "terminate": lambda who, i: services.terminate(who, i, "Funding ended.", UNCHECKED),
    "expire": lambda who, i: workflow.apply(
        AGREEMENT, who, i, "expire", if_match=UNCHECKED, params={"today": FAR}
    ),
    "supersede": lambda who, i: workflow.apply(AGREEMENT, who, i, "supersede", if_match=UNCHECKED),
}
#: what the rules answer people for the system's own steps
SYSTEM_ONLY = {("active", "expire"): 403, ("active", "supersede"): 403}


def test_the_table_is_sound_and_registered():
    assert_table_is_sound(AGREEMENT)
    assert workflow.get("agreement") is AGREEMENT
    assert set(CALLS) == set(AGREEMENT.actions)


@pytest.mark.parametrize(("state", "action", "role"), case_params(AGREEMENT, ROLES))
def test_every_state_action_and_role(world, ctx, state, action, role):
    agreement = services.find(world.agreements[state])
    assert AGREEMENT.state_of(agreement) == state
    expected = expected_status(AGREEMENT, ctx[role], agreement, action, rule_answers=SYSTEM_ONLY)
    assert status_of(lambda: CALLS[action](ctx[role], agreement.id)) == expected


def test_the_system_expires_and_supersedes(world, ctx):
    outcome = CALLS["expire"](SYSTEM, world.agreements["active"])
    assert outcome.state == "expired"
    with pytest.raises(Conflict, match="in effect until"):
        workflow.apply(
            AGREEMENT, SYSTEM, world.agreements["aml"], "expire", if_match=UNCHECKED,
            params={"today": TODAY},
        )  # fmt: skip


def test_activation_names_every_missing_field(world, ctx):
    with pytest.raises(InvalidInput) as caught:
        services.activate(ctx["owner"], world.agreements["bare"], UNCHECKED)
    assert set(caught.value.errors) == {
        "datasets", "permitted_uses", "effective_on", "expires_on", "document", "signatories",
    }  # fmt: skip
    assert services.find(world.agreements["bare"]).status is AgreementStatus.DRAFT


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"effective_on": TODAY + dt.timedelta(days=3)}, "effective_on"),
        (
            {"effective_on": TODAY - dt.timedelta(days=30), "expires_on": TODAY},
            "expires_on",
        ),
        ({"datasets": []}, "datasets"),
        ({"permitted_uses": []}, "permitted_uses"),
        ({"signatories": complete([])["signatories"][:1]}, "signatories"),
    ],
)
def test_activation_refuses_an_incomplete_draft_by_field(world, ctx, change, field):
    draft = world.agreements["draft"]
    services.update_agreement(ctx["owner"], draft, change, UNCHECKED)
    with pytest.raises(InvalidInput) as caught:
        services.activate(ctx["owner"], draft, UNCHECKED)
    assert set(caught.value.errors) == {field}


def test_a_draft_covers_only_its_organisations_datasets_and_known_duo_terms(world, ctx):
    draft = world.agreements["draft"]
    with pytest.raises(InvalidInput) as caught:
        services.update_agreement(ctx["owner"], draft, {"datasets": ["agr-lyon"]}, UNCHECKED)
    assert "datasets" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        services.update_agreement(
            ctx["owner"], draft, {"permitted_uses": ["DUO:9999999"]}, UNCHECKED
        )
    assert "permitted_uses" in caught.value.errors
    updated = services.update_agreement(
        ctx["owner"],
        draft,
        {"permitted_uses": ["http://purl.obolibrary.org/obo/DUO_0000006"]},
        UNCHECKED,
    )
    assert updated.permitted_uses == ["DUO:0000006"]


def test_every_step_is_audited(world, ctx):
    agreement = world.agreements["aml"]
    services.terminate(ctx["owner"], agreement, "The trial group dissolved.", UNCHECKED)
    events = audit.events_for("agreement", agreement)
    actions = [e.action for e in events]
    assert actions[:2] == ["agreement.terminated", "agreement.activated"]
    assert "agreement.created" in actions and "agreement.updated" in actions
    assert events[0].reason == "The trial group dissolved."
    assert events[0].after["state"] == "terminated"


def test_an_amendment_supersedes_the_old_version_which_stays_readable(world, ctx):
    old = services.find(world.agreements["superseded"])
    new = services.find(world.agreements["amendment"])
    assert old.status is AgreementStatus.SUPERSEDED and new.status is AgreementStatus.ACTIVE
    assert new.supersedes_id == old.id and new.version == old.version + 1
    assert services.get_agreement(ctx["researcher"], old.id).reference == old.reference
    versions = services.versions_of(ctx["researcher"], new.id)
    assert [(v.version, v.status.value) for v in versions] == [(1, "superseded"), (2, "active")]
    assert audit.events_for("agreement", old.id)[0].action == "agreement.superseded"


def test_an_amendment_is_a_copy_signed_anew(world, ctx):
    active = services.find(world.agreements["aml"])
    new = services.amend(ctx["owner"], active.id, services.etag(active))
    assert new.status is AgreementStatus.DRAFT and new.version == 2
    assert new.dataset_ids == active.dataset_ids
    assert new.permitted_uses == active.permitted_uses
    assert new.acknowledgement == active.acknowledgement
    assert new.document_sha256 is None
    assert all(s["signed_on"] is None for s in new.signatories)
    assert services.find(active.id).status is AgreementStatus.ACTIVE  # until it is activated
    with pytest.raises(Conflict, match="open already"):
        services.amend(ctx["owner"], active.id, UNCHECKED)


def test_nobody_expires_an_agreement_by_hand(world, ctx):
    with pytest.raises(Forbidden):
        CALLS["expire"](ctx["admin"], world.agreements["active"])
    assert "expire" not in workflow.available_actions(
        AGREEMENT, ctx["admin"], services.find(world.agreements["active"])
    )
