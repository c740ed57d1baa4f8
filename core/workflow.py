"""Workflows as data: a resource's lifecycle is one table of rows ``(state, action) → (next
state, permission, rule)``, and one function, :func:`apply`, takes every action through the
same steps in the same order:

1. load the object as the caller may see it (``Workflow.load``; 404 for what it may not see);
2. the permission of the action (403; 401 when nobody is logged in);
3. the state allows the action: a row exists for (state, action) (409, naming the actions
   the state allows this caller);
4. ``If-Match`` against the object's ETag (428 when missing where the row requires it, 412
   when stale; the row is locked first with :func:`core.db.lock_revision`);
5. the action's rule (422 naming the field, or 409);
6. the change (the row's effect, whose return value the caller gets back);
7. the new state, and the object's revision bumped (its ETag changes);
8. a change event (:func:`core.events.announce`: in-transaction subscribers run now,
   after-commit ones get an outbox row);
9. an audit event (:func:`core.audit.record`), in the same transaction (last, as it locks
   the head of the audit chain until the commit);
10. one commit; then the effects the step asked to run after it (:meth:`Step.after_commit`).

Nothing is written when any step fails: the transaction is rolled back.

Pages and the API do not compare status strings: they ask :func:`available_actions` which
buttons to show. ``harmony workflows show`` prints each table, and the README's diagrams are
generated from them (:func:`mermaid`, ``harmony workflows readme``).

A state x action pair without a row is refused with 409; :attr:`Workflow.refusals` may say why
in the domain's words. :func:`check_table` finds what cannot be right in a table (an action
named only in refusals, an unreachable state, a state change with nowhere to store it …); a
workflow with problems is not registered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect as sa_inspect

from core import events
from core.db import get_session, lock_revision, writes_now
from core.errors import Conflict
from core.etags import check_etag
from core.permissions import Permission
from core.policies import Actor, can, require

log = logging.getLogger("harmony.workflow")

DELETED = "(deleted)"
"""The ``to`` of a row whose action removes the object (its effect deletes it)."""

STATE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Step:
    """What a rule and an effect get: the action under way, and what it will record.

    An effect fills ``summary`` (one sentence for history pages), ``before``/``after`` (the
    fields it changed, beyond the state), ``context`` (small facts, e.g. ``{"version": 3}``)
    and ``payload`` (extra facts for the change event), and may ask for work after the commit
    (:meth:`after_commit`).
    """

    workflow: Workflow
    transition: Transition
    actor: Actor
    obj: Any
    state: str
    params: dict[str, Any]
    reason: str | None = None
    summary: str | None = None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    later: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, func: Callable[[], None]) -> None:
        """Run ``func()`` once the change has committed (never after a rollback). It must not
        need the database to be changed: the change is done. A failure is logged."""
        self.later.append(func)


Rule = Callable[[Step], None]
Effect = Callable[[Step], Any]


@dataclass(frozen=True)
class Transition:
    """One row: in ``state``, ``action`` leads to ``to`` for callers holding ``permission``.

    ``rule(step)`` raises :class:`~core.errors.InvalidInput` (naming the field) or
    :class:`~core.errors.Conflict` when the action cannot be done now; ``effect(step)`` makes
    the change beyond the state and may return a result. ``offered(obj)`` is the rule's cheap
    precondition for :func:`available_actions` (no button for what the rule would refuse
    anyway, e.g. "publish" without an open draft); the rule itself still decides.
    ``if_match``: the action needs the object's current ETag (428 without). ``event``: the
    name of the change event and of the audit event's action, by default
    ``<object_type>.<action>`` (``dataset.published`` reads better than ``dataset.publish``).
    """

    state: str
    action: str
    to: str
    permission: Permission
    label: str = ""
    rule: Rule | None = None
    effect: Effect | None = None
    if_match: bool = True
    offered: Callable[[Any], bool] | None = None
    event: str | None = None

    @property
    def title(self) -> str:
        """The button's text."""
        return self.label or self.action.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Workflow:
    """A resource's lifecycle as a table, and how to reach its objects.

    ``load(actor, object_id)`` returns the object as ``actor`` may see it and raises
    :class:`~core.errors.NotFound` otherwise; ``state_of(obj)`` names its state and
    ``set_state(obj, state)`` stores a new one; ``etag(obj)`` is its current ETag (None: no
    ``If-Match`` checks); ``audit_object_id(obj)`` identifies it in the audit trail and in
    change events. ``read_permission`` says who may see an object (the generated tests use it
    for their 404s). ``revision``: the attribute counting the object's changes, bumped by
    every action (and locked before an ``If-Match`` check when it is a database column).
    ``exhaustive``: every state x action pair must be a row or an entry of ``refusals``.
    """

    name: str
    object_type: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]
    state_of: Callable[[Any], str]
    load: Callable[[Actor, str], Any]
    set_state: Callable[[Any, str], None] | None = None
    etag: Callable[[Any], str] | None = None
    audit_object_id: Callable[[Any], str] = lambda obj: str(obj.id)
    read_permission: Permission | None = None
    refusals: Mapping[tuple[str, str], str] = field(default_factory=dict)
    revision: str | None = "revision"
    exhaustive: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", tuple(self.states))
        object.__setattr__(self, "transitions", tuple(self.transitions))

    @property
    def actions(self) -> list[str]:
        """Every action of the table, in the order of its first row."""
        return list(dict.fromkeys(t.action for t in self.transitions))

    def row(self, state: str, action: str) -> Transition | None:
        for transition in self.transitions:
            if transition.state == state and transition.action == action:
                return transition
        return None

    def rows_of(self, action: str) -> list[Transition]:
        return [t for t in self.transitions if t.action == action]

    def allowed_in(self, state: str) -> list[str]:
        """The actions the table allows in ``state`` (whoever the caller)."""
        return [t.action for t in self.transitions if t.state == state]


@dataclass(frozen=True)
class Outcome:
    """What :func:`apply` did: the object (as it is now; deleted, when ``state`` is
    :data:`DELETED`), its state before and after, and what the effect returned."""

    obj: Any
    action: str
    previous: str
    state: str
    result: Any = None


# --- the registry ---------------------------------------------------------------------------

_REGISTRY: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    """Make ``workflow`` known to ``harmony workflows``, the README check and the generated
    tests; called by the area's ``init_app``. Registering it again (a second app in one
    process) changes nothing.

    :raises ValueError: when :func:`check_table` finds problems in the table.
    :raises RuntimeError: when another workflow is registered under the same name.
    """
    problems = check_table(workflow)
    if problems:
        raise ValueError(f"workflow {workflow.name!r}: " + "; ".join(problems))
    existing = _REGISTRY.get(workflow.name)
    if existing is not None and existing != workflow:
        raise RuntimeError(f"two workflows named {workflow.name!r}")
    _REGISTRY[workflow.name] = workflow
    return workflow


def get(name: str) -> Workflow:
    """:raises LookupError: for a name no area registered."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise LookupError(f"no workflow named {name!r} (registered: {known})") from None


def workflows() -> list[Workflow]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def unregister(name: str) -> None:
    """For tests that register a workflow of their own."""
    _REGISTRY.pop(name, None)


def check_table(workflow: Workflow) -> list[str]:
    """What cannot be right in the table (empty when nothing):

    - a state whose name is not ``snake_case``, a duplicate state, an initial state not listed;
    - a row from or to a state not listed (``to`` may be :data:`DELETED`);
    - two rows for one (state, action);
    - an action named in ``refusals`` that has no row in any state (an action without a
      row), a refusal for a pair that is a row, or for an unknown state;
    - a state that cannot be reached from the initial one;
    - a row that changes the state of a workflow without ``set_state``;
    - with ``exhaustive``: a state x action pair that is neither a row nor a refusal.
    """
    problems: list[str] = []
    states = workflow.states
    known = set(states)
    for state in states:
        if not STATE_NAME.match(state):
            problems.append(f"state {state!r} is not a snake_case name")
    if len(known) != len(states):
        problems.append("a state is listed twice")
    if workflow.initial not in known:
        problems.append(f"the initial state {workflow.initial!r} is not one of the states")
    seen: set[tuple[str, str]] = set()
    for t in workflow.transitions:
        if t.state not in known:
            problems.append(f"row {t.state}/{t.action}: no state {t.state!r}")
        if t.to != DELETED and t.to not in known:
            problems.append(f"row {t.state}/{t.action}: leads to no state {t.to!r}")
        if (t.state, t.action) in seen:
            problems.append(f"two rows for {t.state}/{t.action}")
        seen.add((t.state, t.action))
        if t.to not in (t.state, DELETED) and workflow.set_state is None:
            problems.append(f"row {t.state}/{t.action} changes the state but there is no set_state")
    actions = set(workflow.actions)
    for state, action in workflow.refusals:
        if action not in actions:
            problems.append(f"action {action!r} has no row in any state")
        if state not in known:
            problems.append(f"refusal {state}/{action}: no state {state!r}")
        if (state, action) in seen:
            problems.append(f"{state}/{action} is both a row and a refusal")
    reached = {workflow.initial}
    frontier = [workflow.initial]
    while frontier:
        state = frontier.pop()
        for t in workflow.transitions:
            if t.state == state and t.to != DELETED and t.to not in reached:
                reached.add(t.to)
                frontier.append(t.to)
    for state in states:
        if state not in reached:
            problems.append(f"state {state!r} cannot be reached from {workflow.initial!r}")
    if workflow.exhaustive:
        for state in states:
            for action in workflow.actions:
                if (state, action) not in seen and (state, action) not in workflow.refusals:
                    problems.append(f"{state}/{action} is neither a row nor a refusal")
    return problems


# --- acting ---------------------------------------------------------------------------------


def _permitted(workflow: Workflow, actor: Actor, obj: Any, action: str, state: str) -> bool:
    row = workflow.row(state, action)
    rows = [row] if row is not None else workflow.rows_of(action)
    return any(can(actor, t.permission, obj) for t in rows)


def _require_permission(
    workflow: Workflow, actor: Actor, obj: Any, action: str, state: str
) -> None:
    """The row's permission; for an action the state does not allow, the permission of any of
    the action's rows (so that a caller who could never act learns 403 before 409)."""
    if _permitted(workflow, actor, obj, action, state):
        return
    row = workflow.row(state, action)
    require(actor, (row or workflow.rows_of(action)[0]).permission, obj)


def available_actions(workflow: Workflow | str, actor: Actor, obj: Any) -> list[str]:
    """The actions ``actor`` may take on ``obj`` now, in the table's order: the state allows
    them, the actor holds their permission, and their ``offered`` precondition holds (the
    rule may still refuse, e.g. a draft that is not complete: the page explains why)."""
    flow = get(workflow) if isinstance(workflow, str) else workflow
    state = flow.state_of(obj)
    return [
        t.action
        for t in flow.transitions
        if t.state == state
        and can(actor, t.permission, obj)
        and (t.offered is None or t.offered(obj))
    ]


def refusal(workflow: Workflow, actor: Actor, obj: Any, action: str) -> str:
    """Why the state forbids ``action``, and what the caller may do instead."""
    state = workflow.state_of(obj)
    reason = workflow.refusals.get((state, action))
    if reason is None:
        title = action.replace("_", " ")
        reason = f"A {workflow.object_type} that is {state} cannot be given “{title}”."
    allowed = [
        t.action for t in workflow.transitions if t.state == state and can(actor, t.permission, obj)
    ]
    return reason + (
        f" Allowed now: {', '.join(allowed)}." if allowed else " Nothing is allowed now."
    )


def _is_column(obj: Any, attribute: str) -> bool:
    state = sa_inspect(obj, raiseerr=False)
    return state is not None and attribute in state.mapper.column_attrs


def _record_audit(actor: Actor, action: str, object_type: str, object_id: str, **kw: Any) -> Any:
    from core import audit

    return audit.record(actor, action, object_type, object_id, **kw)


def apply(
    workflow: Workflow | str,
    actor: Actor,
    object_id: str,
    action: str,
    *,
    if_match: str | None = None,
    params: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> Outcome:
    """Take ``action`` on the object ``object_id`` for ``actor``, in the order the module
    describes, and commit once. ``params`` go to the rule and the effect (a retirement note);
    ``reason`` goes to the audit event. Pass :data:`core.etags.UNCHECKED` as ``if_match`` to
    skip the ETag check (internal callers).

    :raises NotFound: (404) the object does not exist or the actor may not see it.
    :raises Unauthenticated: (401) nobody is logged in and the action needs someone.
    :raises Forbidden: (403) the actor may not take the action.
    :raises Conflict: (409) the state does not allow the action, or its rule refuses it.
    :raises PreconditionRequired: (428) no ``If-Match`` where the row requires one.
    :raises PreconditionFailed: (412) a stale ``If-Match``.
    :raises InvalidInput: (422) the rule finds a field missing or wrong.
    :raises ValueError: for an action that has no row in any state (a defect of the caller).
    """
    flow = get(workflow) if isinstance(workflow, str) else workflow
    if not flow.rows_of(action):
        raise ValueError(f"workflow {flow.name!r} has no action {action!r}")
    session = get_session()
    try:
        obj = flow.load(actor, object_id)
        _require_permission(flow, actor, obj, action, flow.state_of(obj))
        revision = flow.revision
        if revision and writes_now() and _is_column(obj, revision):
            lock_revision(obj, revision)  # what follows sees the row as it is committed now
        state = flow.state_of(obj)
        row = flow.row(state, action)
        if row is None:
            raise Conflict(refusal(flow, actor, obj, action))
        if flow.etag is not None:
            check_etag(
                flow.etag(obj), if_match, required=row.if_match, what=f"the {flow.object_type}"
            )
        step = Step(flow, row, actor, obj, state, dict(params or {}), reason)
        if row.rule is not None:
            row.rule(step)
        audit_id = str(flow.audit_object_id(obj))  # before the effect: it may delete obj
        result = row.effect(step) if row.effect is not None else None
        if row.to not in (state, DELETED):
            if flow.set_state is None:  # register() refuses such a table
                raise RuntimeError(f"workflow {flow.name!r} cannot store a new state")
            flow.set_state(obj, row.to)
            step.before.setdefault("state", state)
            step.after.setdefault("state", row.to)
        if row.to != DELETED and revision and isinstance(getattr(obj, revision, None), int):
            setattr(obj, revision, getattr(obj, revision) + 1)
        happened = row.event or f"{flow.object_type}.{action}"
        events.announce(
            happened,
            object_type=flow.object_type,
            object_id=audit_id,
            action=action,
            from_state=state,
            to_state=row.to,
            actor_id=getattr(actor, "id", None),
            **step.payload,
        )
        # last before the commit: the audit trail's head stays locked until the commit
        _record_audit(
            actor,
            happened,
            flow.object_type,
            audit_id,
            before=step.before or None,
            after=step.after or None,
            summary=step.summary or f"{row.title} ({state} → {row.to}).",
            context=step.context or None,
            reason=reason,
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    for func in step.later:
        try:
            func()
        except Exception:  # the change is committed; the effect is only late
            log.exception("%s.%s: an after-commit effect failed", flow.object_type, action)
    return Outcome(obj=obj, action=action, previous=state, state=row.to, result=result)


# --- text and pictures ----------------------------------------------------------------------


def describe(workflow: Workflow) -> str:
    """The table as text: state, action, next state, permission, If-Match."""
    header = ("state", "action", "next state", "permission", "If-Match")
    rows = [
        (t.state, t.action, t.to, t.permission.value, "required" if t.if_match else "optional")
        for t in workflow.transitions
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Iterable[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    title = f"{workflow.name} ({workflow.object_type}; starts {workflow.initial})"
    lines = [title, line(header), line("-" * w for w in widths)]
    lines += [line(r) for r in rows]
    for (state, action), why in workflow.refusals.items():
        lines.append(f"refused: {state}/{action}: {why}")
    return "\n".join(lines)


def mermaid(workflow: Workflow) -> str:
    """The table as a Mermaid ``stateDiagram-v2`` (one arrow per state and next state, labelled
    with its actions; ``[*]`` for the start and for deletion)."""
    arrows: dict[tuple[str, str], list[str]] = {}
    for t in workflow.transitions:
        arrows.setdefault((t.state, "[*]" if t.to == DELETED else t.to), []).append(t.action)
    lines = ["stateDiagram-v2", f"    [*] --> {workflow.initial}"]
    lines += [f"    {a} --> {b}: {', '.join(actions)}" for (a, b), actions in arrows.items()]
    return "\n".join(lines)


def readme_block(workflow: Workflow) -> str:
    """The README's block for ``workflow``, markers included."""
    return (
        f"<!-- workflow:{workflow.name} -->\n```mermaid\n{mermaid(workflow)}\n```\n"
        f"<!-- /workflow:{workflow.name} -->"
    )


def _block_pattern(name: str) -> re.Pattern[str]:
    escaped = re.escape(name)
    return re.compile(rf"<!-- workflow:{escaped} -->.*?<!-- /workflow:{escaped} -->", re.DOTALL)


def readme_problems(text: str, flows: Iterable[Workflow]) -> list[str]:
    """Which workflows' README blocks are missing or differ from their tables."""
    problems = []
    for flow in flows:
        found = _block_pattern(flow.name).search(text)
        if found is None:
            problems.append(
                f"no block for workflow {flow.name!r} (add the lines "
                f"'<!-- workflow:{flow.name} -->' and '<!-- /workflow:{flow.name} -->')"
            )
        elif found.group(0) != readme_block(flow):
            problems.append(f"the block of workflow {flow.name!r} differs from its table")
    return problems


def update_readme(text: str, flows: Iterable[Workflow]) -> str:
    """``text`` with each workflow's block (between its markers) made from its table; a
    workflow without markers is left out (see :func:`readme_problems`)."""
    for flow in flows:
        pattern = _block_pattern(flow.name)
        found = pattern.search(text)
        if found is not None:
            text = text[: found.start()] + readme_block(flow) + text[found.end() :]
    return text
