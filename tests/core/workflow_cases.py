"""Tests generated from a workflow's table: one case per state x action x role, with the status
the TABLE and the POLICY say, for any workflow registered with :mod:`core.workflow`.

A test module of an area uses it like this (the dataset lifecycle, say)::

    from tests.core.workflow_cases import assert_table_is_sound, case_params, expected_status

    FLOW = catalogue.datasets.workflow.LIFECYCLE
    ROLES = ("owner", "other_custodian", "admin", "researcher", "anonymous")

    def test_the_table_is_sound():
        assert_table_is_sound(FLOW)

    @pytest.mark.parametrize(("state", "action", "role"), case_params(FLOW, ROLES))
    def test_every_state_action_and_role(world, state, action, role):
        obj = world.make_in(state)        # an object in that state, complete (rules pass)
        actor = world.actors[role]
        expected = expected_status(FLOW, actor, obj, action)
        assert status_of(lambda: apply(FLOW, actor, obj.id, action, if_match=UNCHECKED)) == expected

What the expected status is, in :func:`apply`'s order: 404 when the policy hides the object
from the role (``Workflow.read_permission``, or ``visible``), 401/403 when the role holds none of
the action's permissions, 409 when the state has no row for the action (a state x action pair
without a row is an implicit 409: see :func:`core.workflow.check_table`), else success (200) —
or what ``rule_answers`` says the rule answers for that (state, action), for objects the maker
cannot make complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from core.errors import ServiceError
from core.policies import Actor, can
from core.workflow import Workflow, check_table

SUCCESS = 200


def assert_table_is_sound(workflow: Workflow) -> None:
    """Fail with every problem :func:`core.workflow.check_table` finds (an action without a
    row, an unreachable state, …)."""
    problems = check_table(workflow)
    assert not problems, f"workflow {workflow.name!r}: " + "; ".join(problems)


def case_params(
    workflow: Workflow, roles: Iterable[str], states: Iterable[str] | None = None
) -> list[Any]:
    """``pytest.param(state, action, role)`` for every state x action x role, with readable
    ids (``published-delete-researcher``): for ``@pytest.mark.parametrize``."""
    roles = list(roles)
    return [
        pytest.param(state, action, role, id=f"{state}-{action}-{role}")
        for state in (states if states is not None else workflow.states)
        for action in workflow.actions
        for role in roles
    ]


def expected_status(
    workflow: Workflow,
    actor: Actor,
    obj: Any,
    action: str,
    *,
    visible: Callable[[Actor, Any], bool] | None = None,
    rule_answers: Mapping[tuple[str, str], int] | None = None,
) -> int:
    """The status the table and the policy give ``actor`` taking ``action`` on ``obj``."""
    if visible is not None:
        if not visible(actor, obj):
            return 404
    elif workflow.read_permission is not None and not can(actor, workflow.read_permission, obj):
        return 404
    state = workflow.state_of(obj)
    row = workflow.row(state, action)
    rows = [row] if row is not None else workflow.rows_of(action)
    if not any(can(actor, t.permission, obj) for t in rows):
        return 401 if actor is None else 403
    if row is None:
        return 409
    return (rule_answers or {}).get((state, action), SUCCESS)


def status_of(call: Callable[[], Any]) -> int:
    """The status a service call answers: the :class:`~core.errors.ServiceError`'s, or 200."""
    try:
        call()
    except ServiceError as exc:
        return exc.status
    return SUCCESS
