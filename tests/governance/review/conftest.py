"""The review's tests share the access-request world (:mod:`tests.governance.requests.world`),
built once per module; each test submits its own request inside its savepoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.db import get_session, writing
from governance.requests.models import AccessRequest
from tests.conftest import shared_world
from tests.governance.requests.world import RequestWorld, build_world, submit_request


@pytest.fixture(scope="module")
def world(app: Flask, reference_engine: Any) -> Iterator[RequestWorld]:
    with shared_world(app, reference_engine) as make:
        yield build_world(app, make)


@pytest.fixture
def submitted(app: Flask, world: RequestWorld) -> str:
    """A request for req-aml (sign-off required) and req-myeloma, submitted; its id."""
    with app.app_context(), writing():
        return submit_request(world)


class Api:
    """JSON calls as one of the world's people."""

    def __init__(self, client: FlaskClient, world: RequestWorld):
        self.client, self.world = client, world

    def post(self, who: str, path: str, body: dict[str, Any], **headers: str) -> Any:
        return self.client.post(
            f"/api/v1/access-requests/{path}", json=body, headers=self.world.auth(who) | headers
        )

    def get(self, who: str, path: str) -> Any:
        return self.client.get(f"/api/v1/access-requests/{path}", headers=self.world.auth(who))

    def etag(self, request_id: str) -> str:
        answer = self.client.get(
            f"/api/v1/access-requests/{request_id}", headers=self.world.auth("chair")
        )
        assert answer.status_code == 200, answer.get_json()
        return str(answer.headers["ETag"])

    def vote(self, who: str, request_id: str, choice: str = "approve", comment: str = "") -> Any:
        return self.post(who, f"{request_id}/votes", {"choice": choice, "comment": comment})

    def sign(
        self, request_id: str, dataset: str = "req-aml", approve: bool = True, **kw: Any
    ) -> Any:
        who = "aml_custodian" if dataset == "req-aml" else "myeloma_custodian"
        return self.post(
            who, f"{request_id}/signoffs", {"dataset": dataset, "approve": approve} | kw
        )

    def decide(self, request_id: str, body: dict[str, Any], who: str = "chair") -> Any:
        return self.post(who, f"{request_id}/decision", body, **{"If-Match": self.etag(request_id)})


@pytest.fixture
def api(client: FlaskClient, world: RequestWorld) -> Api:
    return Api(client, world)


def load(app: Flask, request_id: str) -> AccessRequest:
    with app.app_context():
        found = get_session().get(AccessRequest, request_id)
        assert found is not None
        _ = found.datasets
        return found
