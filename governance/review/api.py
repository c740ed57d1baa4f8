"""``/api/v1/access-requests/{id}/…``: the committee's review — custodians' sign-offs,
overrides, members' votes and recusals, and the chair's decision.

Logged-in callers only (401); a request the caller may not see is 404; a caller without the
role for the action is 403; an action the request's state or round does not allow is 409.
"""

from __future__ import annotations

from typing import Any

from flask import request as http_request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from core.api import API_PREFIX, actor, login_required
from core.openapi import if_match_doc
from governance.review import services
from governance.review.schemas import (
    DecisionInputSchema,
    DecisionSchema,
    OverrideInputSchema,
    RecusalInputSchema,
    RecusalSchema,
    RequestDatasetStateSchema,
    ReviewSchema,
    SignoffInputSchema,
    SignoffSchema,
    VoteInputSchema,
    VoteSchema,
)

blp = Blueprint(
    "review_api",
    __name__,
    url_prefix=API_PREFIX,
    description="The data access committee's review of access requests",
)
IF_MATCH = if_match_doc("access request")


def signoff_json(signoff: Any) -> dict[str, Any]:
    from core.db import get_session
    from governance.requests.models import RequestDataset

    item = get_session().get(RequestDataset, signoff.request_dataset_id)
    return {
        "id": signoff.id,
        "round": signoff.round,
        "dataset": item.dataset.identifier if item else None,
        "user_id": signoff.user_id,
        "approved": signoff.approved,
        "reason": signoff.reason,
        "created_at": signoff.created_at,
    }


def review_json(who: Any, request_id: str) -> dict[str, Any]:
    request = services.get_request(who, request_id)
    counted = services.count(request)
    return {
        "request_id": request.id,
        "reference": request.reference,
        "state": request.state.value,
        "round": request.round,
        "tally": counted.as_dict() | {"reached": counted.reached},
        "votes": services.votes(request),
        "recusals": services.recusals(request),
        "signoffs": [signoff_json(s) for s in services.signoffs(request)],
        "datasets": request.datasets,
        "decision": services.decision_of(request),
    }


@blp.route("/access-requests/<request_id>/review")
class ReviewResource(MethodView):
    @login_required
    @blp.response(200, ReviewSchema)
    def get(self, request_id: str) -> dict[str, Any]:
        """The current round's votes, recusals, tally against the quorum, sign-offs, each
        dataset's state and the decision (anyone who may see the request)."""
        return review_json(actor(), request_id)


@blp.route("/access-requests/<request_id>/signoffs")
class SignoffsResource(MethodView):
    @login_required
    @blp.arguments(SignoffInputSchema)
    @blp.response(201, SignoffSchema)
    def post(self, data: dict[str, Any], request_id: str) -> Any:
        """A custodian of the dataset's organisation signs it off (``approve: true``) or
        declines it with a ``reason`` (422 without); only a dataset waiting for its sign-off
        (409 otherwise). A declined dataset is dropped unless the committee overrides."""
        signoff = services.signoff(
            actor(), request_id, data["dataset"], data["approve"], data.get("reason") or ""
        )
        return signoff_json(signoff)


@blp.route("/access-requests/<request_id>/overrides")
class OverridesResource(MethodView):
    @login_required
    @blp.arguments(OverrideInputSchema)
    @blp.response(200, RequestDatasetStateSchema)
    def post(self, data: dict[str, Any], request_id: str) -> Any:
        """The committee's chair keeps a declined dataset in the request, with a
        justification (409 for a dataset that was not declined)."""
        return services.override(actor(), request_id, data["dataset"], data["justification"])


@blp.route("/access-requests/<request_id>/votes")
class VotesResource(MethodView):
    @login_required
    @blp.arguments(VoteInputSchema)
    @blp.response(201, VoteSchema)
    def post(self, data: dict[str, Any], request_id: str) -> Any:
        """A committee member's vote in the current round (201; 200 when it replaces their
        earlier vote). Members with a conflict of interest are refused (403) and their
        recusal recorded; after the decision: 409. The first vote starts the review."""
        vote = services.cast_vote(actor(), request_id, data["choice"], data.get("comment") or "")
        return vote, 201 if vote.updated_at == vote.created_at else 200


@blp.route("/access-requests/<request_id>/recusals")
class RecusalsResource(MethodView):
    @login_required
    @blp.arguments(RecusalInputSchema)
    @blp.response(201, RecusalSchema)
    def post(self, data: dict[str, Any], request_id: str) -> Any:
        """A committee member steps aside from the current round (their vote, if any, is
        withdrawn)."""
        return services.declare_recusal(actor(), request_id, data["reason"])


@blp.route("/access-requests/<request_id>/decision")
class DecisionResource(MethodView):
    @login_required
    @blp.response(200, DecisionSchema)
    def get(self, request_id: str) -> Any:
        """The decision of the current round (404 while there is none)."""
        from core.errors import NotFound

        decision = services.decision_of(services.get_request(actor(), request_id))
        if decision is None:
            raise NotFound("The committee has not decided this round yet.")
        return decision

    @login_required
    @blp.arguments(DecisionInputSchema)
    @blp.response(201, DecisionSchema)
    @blp.doc(**IF_MATCH)
    def post(self, data: dict[str, Any], request_id: str) -> Any:
        """The chair's decision (once the quorum is reached: 409 naming the votes missing):
        ``approve``, ``approve_with_conditions`` (``conditions`` required), ``reject`` or
        ``return`` with ``reasons``. Approving a dataset whose check was ``incompatible``, or
        that its custodian declined, needs ``overrides[identifier]``; each ``needs_review``
        dataset approved needs ``review_notes[identifier]`` (422 naming the field).
        Decisions are final: a second one for the round is 409."""
        who = actor()
        decision = services.decide(who, request_id, data, http_request.headers.get("If-Match"))
        request = services.get_request(who, request_id)
        return decision, 201, {"ETag": services.etag(request)}


class DatasetCommitteeSchema(Schema):
    dataset = fields.String(dump_only=True)
    committee_id = fields.String(allow_none=True, load_default=None)
    committee_name = fields.String(dump_only=True, allow_none=True)
    assigned = fields.Boolean(
        dump_only=True, metadata={"description": "False: the default committee, by default."}
    )


@blp.route("/datasets/<identifier>/committee")
class DatasetCommittee(MethodView):
    @blp.response(200, DatasetCommitteeSchema)
    def get(self, identifier: str) -> Any:
        """The committee that reviews access requests for the dataset."""
        from governance.review import committees

        return committees.assignment_of(actor(), identifier)

    @login_required
    @blp.arguments(DatasetCommitteeSchema)
    @blp.response(200, DatasetCommitteeSchema)
    def put(self, data: dict[str, Any], identifier: str) -> Any:
        """Assign the dataset to a committee (``committee_id: null``: the default committee);
        administrators only."""
        from governance.review import committees

        return committees.assign(actor(), identifier, data.get("committee_id"))
