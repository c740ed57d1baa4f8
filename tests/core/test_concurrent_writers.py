"""Writers meeting each other, as in production: the app served by gunicorn (two worker
processes with threads) on a database of its own, and real clients in threads.

Of several custodians saving one dataset with the same ETag exactly one wins and the others get
412 (under PostgreSQL's READ COMMITTED the check and the write were not atomic: both won and the
first change was lost); writers of different datasets all succeed while others search (SQLite
answered "database is locked" with 500 for a third of them); nothing answers 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Barrier
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from core import create_app, migrate
from core.db import get_session
from core.models import Role
from tests.dbutil import fresh_database
from tests.factories import Maker
from tests.gunicorn import gunicorn, server_errors

WRITERS = 10
EDITS_PER_WRITER = 4
SEARCHERS = 20


@dataclass
class Served:
    url: str
    app: Any
    tokens: list[str]  # one custodian token per dataset
    datasets: list[str]
    shared_dataset: str

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        timeout = kwargs.pop("timeout", 60)
        return requests.request(method, self.url + path, headers=headers, timeout=timeout, **kwargs)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from core.policies import SYSTEM
    from ontologies.bundled import load_bundled

    with fresh_database(tmp_path_factory.mktemp("concurrency"), "concurrency") as url:
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url}, env={"HARMONY_ENV": "testing"})
        with app.app_context():
            load_bundled(SYSTEM)
        make = Maker(app)
        organisation = make.organisation()
        custodian = make.user(Role.CUSTODIAN, organisation=organisation)
        tokens = [make.token(custodian) for _ in range(WRITERS)]
        datasets = [make.dataset(organisation) for _ in range(WRITERS)]
        shared = make.dataset(organisation)
        for _ in range(3):  # something to find
            make.dataset(organisation, publish=True, title="Acute myeloid leukaemia cohort")
        app.extensions["harmony_db"].engine.dispose()

        log_path = tmp_path_factory.mktemp("concurrency-log") / "gunicorn.log"
        options = ("--workers", "2", "--threads", "8", "--worker-class", "gthread")
        try:
            with gunicorn(url, log_path, *options, "--timeout", "120") as base:
                yield Served(base, app, tokens, datasets, shared)
        finally:
            app.extensions["harmony_db"].engine.dispose()
        errors = server_errors(log_path)
        assert not errors, errors[:5]


def _at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` for ``count`` clients released together."""
    start = Barrier(count)

    def run(i: int) -> Any:
        start.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _dataset_json(served: Served, identifier: str) -> tuple[dict[str, Any], str]:
    answer = served.call("GET", f"/api/v1/datasets/{identifier}", served.tokens[0])
    assert answer.status_code == 200, answer.text
    return answer.json(), answer.headers["ETag"]


def _history_count(served: Served, identifier: str) -> int:
    from catalogue.models import Dataset
    from core.audit import AuditEvent

    with served.app.app_context():
        session = get_session()
        dataset_id = session.scalar(select(Dataset.id).where(Dataset.identifier == identifier))
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.object_type == "dataset", AuditEvent.object_id == dataset_id)
            )
        )


def test_of_writers_quoting_one_etag_exactly_one_wins(served: Served) -> None:
    identifier = served.shared_dataset
    _, etag = _dataset_json(served, identifier)
    changes_before = _history_count(served, identifier)
    titles = [f"Title written by client {i}" for i in range(8)]

    answers = _at_once(
        len(titles),
        lambda i: served.call(
            "PATCH",
            f"/api/v1/datasets/{identifier}",
            served.tokens[i % WRITERS],
            json={"title": titles[i]},
            headers={"If-Match": etag},
        ),
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [412] * (len(titles) - 1), [a.text for a in answers]
    winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
    for loser in (a for a in answers if a.status_code == 412):
        assert loser.headers["Content-Type"] == "application/problem+json"
    body, new_etag = _dataset_json(served, identifier)
    assert body["title"] == titles[winner]  # the winner's change is what stays
    assert new_etag != etag
    assert _history_count(served, identifier) == changes_before + 1


def test_conflicting_lifecycle_steps_one_wins(served: Served) -> None:
    """Publishing and deleting one draft at the same moment with its ETag: one of them."""
    from tests.factories import Maker

    make = Maker(served.app)
    with served.app.app_context():
        from catalogue.models import Dataset

        organisation = get_session().scalar(select(Dataset)).organisation  # type: ignore[union-attr]
    identifier = make.dataset(organisation)
    _, etag = _dataset_json(served, identifier)
    paths = [
        ("POST", f"/api/v1/datasets/{identifier}/publish"),
        ("DELETE", f"/api/v1/datasets/{identifier}"),
    ]
    answers = _at_once(
        4,
        lambda i: served.call(
            paths[i % 2][0], paths[i % 2][1], served.tokens[i], headers={"If-Match": etag}
        ),
    )
    statuses = sorted(a.status_code for a in answers)
    assert len([s for s in statuses if s in (200, 204)]) == 1, [a.text for a in answers]
    # the others: 404 once the dataset is deleted; once it is published, 409 for a delete
    # (the workflow checks the state before the ETag) or 412 for another publish
    assert all(s in (200, 204, 404, 409, 412) for s in statuses), [a.text for a in answers]


def test_writers_of_different_datasets_all_succeed_while_others_search(served: Served) -> None:
    before = {d: _history_count(served, d) for d in served.datasets}

    def writer(i: int) -> list[int]:
        identifier, token = served.datasets[i], served.tokens[i]
        statuses = []
        for n in range(EDITS_PER_WRITER):
            got = served.call("GET", f"/api/v1/datasets/{identifier}", token)
            statuses.append(got.status_code)
            saved = served.call(
                "PATCH",
                f"/api/v1/datasets/{identifier}",
                token,
                json={"description": f"Edit {n} by writer {i}."},
                headers={"If-Match": got.headers.get("ETag", "")},
            )
            statuses.append(saved.status_code)
        return statuses

    def searcher(_: int) -> list[int]:
        statuses = []
        for query in ("myeloid", "leukaemia", "cohort", "trial"):
            statuses.append(served.call("GET", "/api/v1/search", params={"q": query}).status_code)
        statuses.append(served.call("GET", "/api/v1/stats").status_code)
        return statuses

    results = _at_once(
        WRITERS + SEARCHERS,
        lambda i: ("write", writer(i)) if i < WRITERS else ("read", searcher(i)),
    )

    writes = [s for kind, statuses in results if kind == "write" for s in statuses]
    reads = [s for kind, statuses in results if kind == "read" for s in statuses]
    assert writes == [200] * (WRITERS * EDITS_PER_WRITER * 2), sorted(set(writes))
    assert reads == [200] * len(reads), sorted(set(reads))
    for identifier in served.datasets:  # every success is in the history, once
        assert _history_count(served, identifier) == before[identifier] + EDITS_PER_WRITER
        body, _ = _dataset_json(served, identifier)
        assert body["description"].startswith(f"Edit {EDITS_PER_WRITER - 1} by writer")


def test_if_match_dash_over_http_is_checked_like_any_etag(served: Served) -> None:
    identifier = served.datasets[0]
    answer = served.call(
        "PATCH",
        f"/api/v1/datasets/{identifier}",
        served.tokens[0],
        json={"title": "Written without reading"},
        headers={"If-Match": "-"},
    )
    assert answer.status_code == 412, answer.text
    assert _dataset_json(served, identifier)[0]["title"] != "Written without reading"
