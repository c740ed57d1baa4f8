"""The workflow kernel on a toy: a lamp (off → on → broken → thrown away) kept in a table of
its own that exists only inside the test transaction. Every state x action x role answers what
the table and the policy say (the generated cases); one action goes through its steps in a
fixed order (404, 403, 409, 428/412, the rule's 422, the effect), commits once, writes its
audit event and its change event in the same transaction, and writes nothing when a step
fails; after-commit effects run only after the commit."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Integer, String, event, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from core import events, workflow
from core.db import get_session, writing
from core.errors import Conflict, InvalidInput, NotFound
from core.etags import UNCHECKED, revision_etag
from core.models import Role, User, new_public_id
from core.permissions import Permission
from core.policies import _RULES, Actor, is_admin, is_user
from core.workflow import DELETED, Step, Transition, Workflow
from tests.conftest import shared_world
from tests.core.workflow_cases import (
    assert_table_is_sound,
    case_params,
    expected_status,
    status_of,
)

audit = pytest.importorskip("core.audit")


class ToyBase(DeclarativeBase):
    """Not the application's metadata: the models-equal-migrations test never sees the toy."""


class Lamp(ToyBase):
    __tablename__ = "test_lamps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    owner_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="off")
    bulb: Mapped[str | None] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer, default=1)


# The toy borrows two permissions and gives them its own rules for the test's duration.
SEE = Permission.COMMITTEE_READ
OPERATE = Permission.COMMITTEE_UPDATE


def _see(actor: Actor, lamp: Any) -> bool:
    """Broken lamps are hidden from everyone but their owner and administrators."""
    return lamp.state != "broken" or _operate(actor, lamp)


def _operate(actor: Actor, lamp: Any) -> bool:
    return is_admin(actor) or (is_user(actor) and lamp.owner_id == actor.id)  # type: ignore[union-attr]


def load(actor: Actor, lamp_id: str) -> Lamp:
    lamp = get_session().get(Lamp, lamp_id)
    if lamp is None or not _see(actor, lamp):
        raise NotFound("No such lamp.")
    return lamp


def need_bulb(step: Step) -> None:
    if not step.params.get("bulb"):
        raise InvalidInput.field("bulb", "Screw a bulb in first.")


def screw_in(step: Step) -> str:
    step.before["bulb"] = step.obj.bulb
    step.obj.bulb = step.params["bulb"]
    step.after["bulb"] = step.obj.bulb
    step.summary = f"Switched on with a {step.obj.bulb} bulb."
    step.payload["bulb"] = step.obj.bulb
    return "light"


def throw_away(step: Step) -> None:
    get_session().delete(step.obj)


def not_twice(step: Step) -> None:
    if step.obj.bulb == "dim":
        raise Conflict("It is as dim as it gets.")


def dim(step: Step) -> None:
    step.obj.bulb = "dim"


FLOW = Workflow(
    name="lamp",
    object_type="lamp",
    states=("off", "on", "broken"),
    initial="off",
    transitions=(
        Transition("off", "switch_on", "on", OPERATE, rule=need_bulb, effect=screw_in),
        Transition("on", "switch_off", "off", OPERATE),
        Transition("on", "dim", "on", OPERATE, rule=not_twice, effect=dim, if_match=False),
        Transition("on", "smash", "broken", OPERATE, event="lamp.smashed"),
        Transition("off", "smash", "broken", OPERATE, event="lamp.smashed"),
        Transition("broken", "throw_away", DELETED, OPERATE, effect=throw_away),
        Transition("off", "throw_away", DELETED, OPERATE, effect=throw_away),
    ),
    state_of=lambda lamp: lamp.state,
    set_state=lambda lamp, state: setattr(lamp, "state", state),
    load=load,
    etag=lambda lamp: revision_etag(lamp.id, lamp.revision),
    read_permission=SEE,
    refusals={("broken", "switch_on"): "A broken lamp does not switch on; throw it away."},
)
ROLES = ("owner", "other", "admin", "anonymous")


@pytest.fixture(scope="module")
def world(app) -> Iterator[dict[str, Any]]:
    """The lamps' table and the people, once for the module (each test in a savepoint)."""
    with shared_world(app, app.extensions["harmony_db"].engine) as make:
        with app.app_context():
            ToyBase.metadata.create_all(get_session().connection())
            get_session().commit()
        owner = make.user(Role.RESEARCHER)
        people = {
            "owner": owner.id,
            "other": make.user(Role.RESEARCHER).id,
            "admin": make.user(Role.ADMIN).id,
        }
        yield {"people": people}


@pytest.fixture(autouse=True)
def toy_rules(monkeypatch) -> None:
    monkeypatch.setitem(_RULES, SEE, _see)
    monkeypatch.setitem(_RULES, OPERATE, _operate)


@pytest.fixture
def ctx(app, world) -> Iterator[dict[str, Any]]:
    """An application context in which the test acts, with its actors and a lamp maker."""
    with app.app_context(), writing():
        session = get_session()
        actors: dict[str, Actor] = {
            role: session.get(User, user_id) for role, user_id in world["people"].items()
        }
        actors["anonymous"] = None

        def make_lamp(state: str = "off", bulb: str | None = None) -> Lamp:
            lamp = Lamp(owner_id=world["people"]["owner"], state=state, bulb=bulb, revision=1)
            session.add(lamp)
            session.commit()
            return lamp

        yield {"actors": actors, "make": make_lamp, "session": session}


def audit_actions(lamp_id: str) -> list[str]:
    return [e.action for e in audit.events_for("lamp", lamp_id, newest_first=False)]


# --- the table ------------------------------------------------------------------------------


def test_the_toy_table_is_sound():
    assert_table_is_sound(FLOW)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"states": ("off", "on", "broken", "lost")}, "state 'lost' cannot be reached from 'off'"),
        ({"refusals": {("off", "repair"): "No."}}, "action 'repair' has no row in any state"),
        ({"refusals": {("on", "dim"): "No."}}, "on/dim is both a row and a refusal"),
        ({"set_state": None}, "row off/switch_on changes the state but there is no set_state"),
        ({"exhaustive": True}, "broken/switch_off is neither a row nor a refusal"),
        ({"initial": "new"}, "the initial state 'new' is not one of the states"),
        ({"states": ("off", "On", "on", "broken")}, "state 'On' is not a snake_case name"),
    ],
)
def test_a_table_with_a_hole_is_refused(change, problem):
    broken = dataclasses.replace(FLOW, **change)
    assert problem in workflow.check_table(broken)
    with pytest.raises(ValueError, match="workflow 'lamp'"):
        workflow.register(broken)


def test_two_rows_for_one_state_and_action_are_refused():
    twice = dataclasses.replace(
        FLOW, transitions=(*FLOW.transitions, Transition("on", "dim", "off", OPERATE))
    )
    assert "two rows for on/dim" in workflow.check_table(twice)


@pytest.mark.parametrize(("state", "action", "role"), case_params(FLOW, ROLES))
def test_every_state_action_and_role_answers_what_table_and_policy_say(ctx, state, action, role):
    lamp = ctx["make"](state)
    actor = ctx["actors"][role]
    expected = expected_status(FLOW, actor, lamp, action)
    answer = status_of(
        lambda: workflow.apply(
            FLOW, actor, lamp.id, action, if_match=UNCHECKED, params={"bulb": "LED"}
        )
    )
    assert answer == expected
    if expected == 200:
        assert audit_actions(lamp.id)[-1:] == [FLOW.row(state, action).event or f"lamp.{action}"]
    else:
        assert audit_actions(lamp.id) == []


def test_the_generated_cases_cover_every_pair_and_role():
    cases = case_params(FLOW, ROLES)
    assert len(cases) == 3 * 5 * 4
    assert {c.values[:2] for c in cases} == {
        (s, a)
        for s in FLOW.states
        for a in ("switch_on", "switch_off", "dim", "smash", "throw_away")
    }


# --- one action, step by step ---------------------------------------------------------------


@pytest.fixture
def commits(app) -> Iterator[list[Session]]:
    seen: list[Session] = []

    def count(session: Session) -> None:
        seen.append(session)

    event.listen(Session, "after_commit", count)
    yield seen
    event.remove(Session, "after_commit", count)


def switch_on(ctx, role, lamp, if_match, bulb="LED"):
    return workflow.apply(
        FLOW, ctx["actors"][role], lamp.id, "switch_on", if_match=if_match, params={"bulb": bulb}
    )


def test_the_steps_answer_in_order_and_write_nothing_until_all_pass(ctx, commits):
    """Each case breaks everything after one step too: the earliest broken step answers."""
    good = revision_etag
    hidden, lit, lamp = ctx["make"]("broken"), ctx["make"]("on"), ctx["make"]("off")
    commits.clear()
    assert status_of(lambda: switch_on(ctx, "other", hidden, '"stale"', bulb="")) == 404
    assert status_of(lambda: switch_on(ctx, "other", lit, '"stale"', bulb="")) == 403
    assert status_of(lambda: switch_on(ctx, "anonymous", lit, '"stale"', bulb="")) == 401
    assert status_of(lambda: switch_on(ctx, "owner", lit, '"stale"', bulb="")) == 409
    assert status_of(lambda: switch_on(ctx, "owner", lamp, '"stale"', bulb="")) == 412
    assert status_of(lambda: switch_on(ctx, "owner", lamp, None, bulb="")) == 428
    with pytest.raises(InvalidInput) as refused:
        switch_on(ctx, "owner", lamp, good(lamp.id, lamp.revision), bulb="")
    assert refused.value.errors == {"bulb": ["Screw a bulb in first."]}
    assert commits == []  # not one of them committed
    ctx["session"].expire_all()
    assert (lamp.state, lamp.bulb, lamp.revision) == ("off", None, 1)
    assert audit_actions(lamp.id) == []
    outbox = ctx["session"].scalar(select(func.count()).select_from(events.OutboxMessage))
    assert outbox == 0


def test_an_action_commits_once_with_its_audit_event_and_a_new_etag(ctx, commits):
    lamp, other = ctx["make"]("off"), ctx["make"]("off")
    commits.clear()
    before = revision_etag(lamp.id, lamp.revision)
    outcome = switch_on(ctx, "owner", lamp, before)
    assert len(commits) == 1
    assert (outcome.previous, outcome.state, outcome.result) == ("off", "on", "light")
    ctx["session"].expire_all()
    assert (lamp.state, lamp.bulb, lamp.revision) == ("on", "LED", 2)
    [entry] = audit.events_for("lamp", lamp.id)
    assert entry.action == "lamp.switch_on"
    assert entry.before == {"state": "off", "bulb": None}
    assert entry.after == {"state": "on", "bulb": "LED"}
    assert entry.summary == "Switched on with a LED bulb."
    again = status_of(lambda: switch_on(ctx, "owner", lamp, before))
    assert again == 409  # on now: switch_on is not allowed in that state
    assert status_of(lambda: switch_on(ctx, "owner", other, before)) == 412  # another's ETag


def test_a_refusal_names_what_the_state_allows_the_caller(ctx):
    lamp = ctx["make"]("broken")
    with pytest.raises(Conflict) as refused:
        switch_on(ctx, "owner", lamp, UNCHECKED)
    assert refused.value.detail == (
        "A broken lamp does not switch on; throw it away. Allowed now: throw_away."
    )
    lamp = ctx["make"]("on")
    with pytest.raises(Conflict) as refused:
        workflow.apply(FLOW, ctx["actors"]["admin"], lamp.id, "throw_away", if_match=UNCHECKED)
    assert refused.value.detail == (
        "A lamp that is on cannot be given “throw away”. Allowed now: switch_off, dim, smash."
    )


def test_an_action_that_keeps_the_state_and_needs_no_etag(ctx):
    lamp = ctx["make"]("on", bulb="LED")
    outcome = workflow.apply(FLOW, ctx["actors"]["owner"], lamp.id, "dim")
    assert (outcome.previous, outcome.state, lamp.bulb, lamp.revision) == ("on", "on", "dim", 2)
    with pytest.raises(Conflict, match="as dim as it gets"):  # the rule's 409
        workflow.apply(FLOW, ctx["actors"]["owner"], lamp.id, "dim")
    with pytest.raises(Exception) as stale:  # an ETag that came is still checked
        workflow.apply(FLOW, ctx["actors"]["owner"], lamp.id, "switch_off", if_match='"old"')
    assert getattr(stale.value, "status", None) == 412


def test_a_deleting_action_removes_the_object_and_keeps_its_audit_event(ctx):
    lamp = ctx["make"]("broken")
    lamp_id = lamp.id
    outcome = workflow.apply(
        FLOW, ctx["actors"]["owner"], lamp_id, "throw_away", if_match=UNCHECKED, reason="Glass."
    )
    assert outcome.state == DELETED
    assert ctx["session"].get(Lamp, lamp_id) is None
    [entry] = audit.events_for("lamp", lamp_id)
    assert (entry.action, entry.reason) == ("lamp.throw_away", "Glass.")
    with pytest.raises(NotFound):
        workflow.apply(FLOW, ctx["actors"]["owner"], lamp_id, "throw_away", if_match=UNCHECKED)


def test_a_failing_subscriber_rolls_everything_back_and_after_commit_effects_wait(ctx, commits):
    """The change, its audit event, the subscriber's own writes and the outbox row go
    together; an after-commit effect runs after the commit, and never after a rollback."""
    calls: list[int] = []

    def effect(step: Step) -> None:
        step.obj.bulb = "halogen"
        # the commits of the acting session (not those of the outbox's delivery)
        step.after_commit(lambda: calls.append(commits.count(ctx["session"])))

    def index(event: events.Event) -> None:
        get_session().add(Lamp(owner_id="index", state="off", revision=1))  # derived data
        if failing:
            raise RuntimeError("the index is full")

    flow = dataclasses.replace(
        FLOW,
        transitions=(Transition("off", "smash", "broken", OPERATE, effect=effect),),
        states=("off", "broken"),
        refusals={},
    )
    events.subscribe("lamp.smash", index)
    events.subscribe_after_commit("lamp.*", "test.lamp_mail", lambda event: None)
    try:
        failing = True
        lamp = ctx["make"]("off")
        commits.clear()
        with pytest.raises(RuntimeError, match="the index is full"):
            workflow.apply(flow, ctx["actors"]["owner"], lamp.id, "smash", if_match=UNCHECKED)
        assert calls == [] and commits == []
        session = ctx["session"]
        session.expire_all()
        assert (lamp.state, lamp.bulb, lamp.revision) == ("off", None, 1)
        assert session.scalar(select(func.count()).where(Lamp.owner_id == "index")) == 0
        assert session.scalar(select(func.count()).select_from(events.OutboxMessage)) == 0
        assert audit_actions(lamp.id) == []

        failing = False
        workflow.apply(flow, ctx["actors"]["owner"], lamp.id, "smash", if_match=UNCHECKED)
        assert calls == [1]  # after the one commit
        assert session.scalar(select(func.count()).where(Lamp.owner_id == "index")) == 1
        assert audit_actions(lamp.id) == ["lamp.smash"]
        message = session.scalar(select(events.OutboxMessage))
        assert (message.event, message.object_id, message.subscriber) == (
            "lamp.smash",
            lamp.id,
            "test.lamp_mail",
        )
        assert message.payload == {
            "action": "smash",
            "from_state": "off",
            "to_state": "broken",
            "actor_id": ctx["actors"]["owner"].id,
        }
    finally:
        events.unsubscribe(index)
        events.unsubscribe("test.lamp_mail")


# --- buttons, text and pictures -------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "bulb", "role", "actions"),
    [
        ("off", None, "owner", ["switch_on", "smash", "throw_away"]),
        ("on", "LED", "owner", ["switch_off", "dim", "smash"]),
        ("on", "LED", "admin", ["switch_off", "dim", "smash"]),
        ("on", "LED", "other", []),
        ("on", "LED", "anonymous", []),
        ("broken", None, "owner", ["throw_away"]),
    ],
)
def test_available_actions_are_what_the_caller_may_do_now(ctx, state, bulb, role, actions):
    lamp = ctx["make"](state, bulb=bulb)
    assert workflow.available_actions(FLOW, ctx["actors"][role], lamp) == actions


def test_offered_hides_a_button_the_rule_would_refuse(ctx):
    rows = tuple(
        dataclasses.replace(t, offered=lambda lamp: lamp.bulb != "dim") if t.action == "dim" else t
        for t in FLOW.transitions
    )
    flow = dataclasses.replace(FLOW, transitions=rows)
    lamp = ctx["make"]("on", bulb="dim")
    assert workflow.available_actions(flow, ctx["actors"]["owner"], lamp) == ["switch_off", "smash"]


def test_the_table_as_text_and_as_a_diagram():
    text = workflow.describe(FLOW)
    lines = text.splitlines()
    assert lines[0] == "lamp (lamp; starts off)"
    assert lines[1].split() == ["state", "action", "next", "state", "permission", "If-Match"]
    assert lines[3].split() == ["off", "switch_on", "on", OPERATE.value, "required"]
    assert lines[5].split() == ["on", "dim", "on", OPERATE.value, "optional"]
    assert "refused: broken/switch_on: A broken lamp does not switch on" in text
    assert workflow.mermaid(FLOW) == "\n".join(
        [
            "stateDiagram-v2",
            "    [*] --> off",
            "    off --> on: switch_on",
            "    on --> off: switch_off",
            "    on --> on: dim",
            "    on --> broken: smash",
            "    off --> broken: smash",
            "    broken --> [*]: throw_away",
            "    off --> [*]: throw_away",
        ]
    )


def test_readme_blocks_are_written_between_their_markers_and_checked():
    text = "# Title\n\n<!-- workflow:lamp -->\nold picture\n<!-- /workflow:lamp -->\n\nMore.\n"
    assert workflow.readme_problems(text, [FLOW]) == [
        "the block of workflow 'lamp' differs from its table"
    ]
    updated = workflow.update_readme(text, [FLOW])
    assert updated.startswith("# Title\n\n<!-- workflow:lamp -->\n```mermaid\nstateDiagram-v2\n")
    assert updated.endswith("```\n<!-- /workflow:lamp -->\n\nMore.\n")
    assert workflow.readme_problems(updated, [FLOW]) == []
    assert workflow.update_readme(updated, [FLOW]) == updated
    assert "no block for workflow 'lamp'" in workflow.readme_problems("# Title\n", [FLOW])[0]


def test_the_cli_shows_tables_and_keeps_a_readme_up_to_date(app, tmp_path):
    workflow.register(FLOW)
    try:
        runner = app.test_cli_runner()
        shown = runner.invoke(args=["workflows", "show", "lamp"])
        assert shown.exit_code == 0, shown.output
        assert shown.output.strip() == workflow.describe(FLOW)
        drawn = runner.invoke(args=["workflows", "show", "lamp", "--mermaid"])
        assert drawn.output.strip() == workflow.mermaid(FLOW)
        unknown = runner.invoke(args=["workflows", "show", "kettle"])
        assert unknown.exit_code == 1
        assert "no workflow named 'kettle'" in unknown.output
        readme = tmp_path / "README.md"
        readme.write_text(  # empty blocks of every registered workflow (the areas' too)
            "".join(
                f"<!-- workflow:{f.name} -->\n<!-- /workflow:{f.name} -->\n\n"
                for f in workflow.workflows()
            )
        )
        check = runner.invoke(args=["workflows", "readme", "--check", "--path", str(readme)])
        assert check.exit_code == 1
        written = runner.invoke(args=["workflows", "readme", "--path", str(readme)])
        assert written.exit_code == 0, written.output
        assert workflow.mermaid(FLOW) in readme.read_text()
        check = runner.invoke(args=["workflows", "readme", "--check", "--path", str(readme)])
        assert check.exit_code == 0, check.output
    finally:
        workflow.unregister("lamp")


def test_registering_twice_is_harmless_and_two_different_tables_are_not():
    workflow.register(FLOW)
    try:
        workflow.register(FLOW)
        with pytest.raises(RuntimeError, match="two workflows named 'lamp'"):
            workflow.register(
                dataclasses.replace(FLOW, initial="on", states=("on", "off", "broken"))
            )
    finally:
        workflow.unregister("lamp")


def test_the_readme_shows_every_registered_workflow_as_its_table_says(app):
    """The README's diagrams are made from the tables (``harmony workflows readme``), so the
    picture cannot drift from the code: a registered workflow without its block, or whose
    block differs, fails here."""
    from core.workflows_cli import README

    assert workflow.readme_problems(README.read_text(encoding="utf-8"), workflow.workflows()) == []
