"""The search service with ``SEARCH_ENGINE=opensearch``, over the in-memory test double of the
client (tests/catalogue/search/opensearch_double.py): the service itself is untouched, the
adapter answers through the double, and SQL answers whenever the cluster cannot.

What this proves: the configuration reaches the adapter, searches are answered by it (with the
SQL statement unavailable), a lost index is answered by SQL and built again, and an unreachable
cluster never fails a search. What it does not: anything about a real server (see the double).
The whole search suite can run this way: tests/catalogue/search/opensearch_plugin.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import opensearchpy
import pytest
from flask import Flask

from catalogue.search import services
from catalogue.search.engine import sync
from catalogue.search.engine.opensearch import OpenSearchEngine
from core import create_app
from tests.catalogue.search.opensearch_double import MemoryClient, MemoryCluster
from tests.catalogue.search.test_search_api import PUBLIC, hits, search
from tests.conftest import TEST_ENV

IBRUTINIB = {i for i in PUBLIC if i.startswith("rank")}  # the corpus' four "ibrutinib" datasets


@pytest.fixture(scope="module")
def cluster() -> MemoryCluster:
    return MemoryCluster()


@pytest.fixture(scope="module")
def app(database_url: str, cluster: MemoryCluster) -> Iterator[Flask]:
    """This module's application: the search engine is OpenSearch, its client the double."""
    patch = pytest.MonkeyPatch()
    patch.setattr(opensearchpy, "OpenSearch", lambda *a, **kw: MemoryClient(cluster, **kw))
    application = create_app(
        {
            "DATABASE_URL": database_url,
            "SEARCH_CHECK_STATEMENTS": True,
            "SEARCH_ENGINE": "opensearch",
            "OPENSEARCH_URL": "https://harmony:secret@search.example.org:9200",
            "OPENSEARCH_INDEX": "catalogue-test",
        },
        env=TEST_ENV,
    )
    yield application
    patch.undo()


def engine_of(app: Flask) -> OpenSearchEngine:
    with app.app_context():
        engine = sync.state(app).engine
    assert isinstance(engine, OpenSearchEngine)
    return engine


def ready(app: Flask) -> None:
    """The engine built for the corpus and in step (as the first searches of a process)."""
    with app.app_context():
        current = sync.state(app)
        with current.working:
            if current.engine is not None and current.engine.count() == -1:
                sync.rebuild()
            current.flush()
            current.check_in_step(grace=False)


@pytest.fixture
def engine_alone(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """No check mode, and no SQL statement: what a search finds comes from the engine."""
    with app.app_context():
        current = sync.state(app)
    monkeypatch.setitem(app.config, "SEARCH_ENGINE_CHECK", False)
    monkeypatch.setattr(current, "check", False)
    monkeypatch.setattr(current, "interval", 3600.0)

    def unavailable(*_args: Any) -> Any:
        raise AssertionError("the SQL statement answered a search the engine should have")

    monkeypatch.setattr(services, "_from_statement", unavailable)


def test_the_configuration_reaches_the_adapter(app):
    engine = engine_of(app)
    assert engine.alias == "catalogue-test"
    assert isinstance(engine.client, MemoryClient)


def test_searches_are_answered_by_the_engine(client, make, corpus, app, cluster, engine_alone):
    ready(app)
    assert set(hits(search(client, q="ibrutinib"))) == IBRUTINIB
    body = search(client, make, corpus.custodian, q="ibrutinib", country="NL")
    assert body["total"] == len(hits(body))
    assert cluster.aliases["catalogue-test"]  # behind the alias, as rebuilt


def test_a_lost_index_is_answered_by_sql_and_comes_back(client, corpus, app, cluster):
    ready(app)
    (index,) = cluster.aliases["catalogue-test"]
    engine_of(app).client.indices.delete(index=index)  # the cluster lost it
    # answered right (by the SQL statement), and the index is built again meanwhile
    assert set(hits(search(client, q="ibrutinib"))) == IBRUTINIB
    (rebuilt,) = cluster.aliases["catalogue-test"]
    assert rebuilt != index
    with app.app_context():
        from catalogue.search.engine import documents

        assert engine_of(app).count() == documents.fingerprint()[0]


def test_an_unreachable_cluster_never_fails_a_search(client, corpus, app, cluster, monkeypatch):
    ready(app)

    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise opensearchpy.ConnectionError("N/A", "connection refused", None)

    monkeypatch.setattr(MemoryClient, "search", refused)
    assert set(hits(search(client, q="ibrutinib"))) == IBRUTINIB  # by the SQL statement
