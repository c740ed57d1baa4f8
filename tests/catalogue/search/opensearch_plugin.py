"""Run any tests with ``SEARCH_ENGINE=opensearch`` over the in-memory test double of the client
(:mod:`tests.catalogue.search.opensearch_double`)::

    PYTHONPATH=. .venv/bin/pytest -p tests.catalogue.search.opensearch_plugin \
        --ignore tests/catalogue/search/test_opensearch_adapter.py tests/catalogue/search

Every application the tests create asks the OpenSearch adapter, whose client is the double (one
in-memory cluster per test process); the search service's check mode (on in tests) answers
every search with the engine *and* the SQL statement and fails on any difference a user would
see. So the search tests check, through the service, that the adapter's requests — evaluated as
the OpenSearch documentation describes them — give SQL's hits, totals, counts and orders, and
that rebuilds, writes after commits, fingerprints and repairs work through its API. They do
not check a real server (see the double's docstring).

Loaded with ``-p`` it is imported before the tests' conftest, so the conftest's ``create_app``
is the one patched here.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import opensearchpy
import pytest

import core
from catalogue.search.engine.base import Unsupported
from catalogue.search.engine.opensearch import OpenSearchEngine
from tests.catalogue.search.opensearch_double import MemoryClient, MemoryCluster

CLUSTER = MemoryCluster()
_create_app = core.create_app
_search = OpenSearchEngine.search
#: how the engine's searches ended: answered, unsupported (SQL answers: a facet without an
#: engine form …), or failed (the service hides a failure behind SQL: counted and reported)
OUTCOMES: Counter[str] = Counter()
FAILURES: list[str] = []


def _client(*args: Any, **options: Any) -> MemoryClient:
    return MemoryClient(CLUSTER, **options)


def create_app(test_config: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Any:
    settings = {"SEARCH_ENGINE": "opensearch", "OPENSEARCH_URL": "http://memory:9200"}
    return _create_app({**settings, **(test_config or {})}, env=env)


def search(self: OpenSearchEngine, query: Any) -> Any:
    if not isinstance(self.client, MemoryClient):  # the adapter's own tests
        return _search(self, query)
    try:
        answer = _search(self, query)
    except Unsupported as exc:
        OUTCOMES[f"unsupported: {str(exc).split(':')[0]}"] += 1
        raise
    except Exception as exc:
        OUTCOMES["failed"] += 1
        FAILURES.append(f"{type(exc).__name__}: {exc}")
        raise
    OUTCOMES["answered"] += 1
    return answer


core.create_app = create_app  # type: ignore[assignment]
opensearchpy.OpenSearch = _client  # type: ignore[assignment,misc]
OpenSearchEngine.search = search  # type: ignore[method-assign]


def pytest_report_header() -> str:
    return "search engine: opensearch (the in-memory test double of the client)"


#: tests of the embedded engine's own files, not of a search engine: left out of this run
#: (test_opensearch_service.py has the OpenSearch counterpart of the lost index)
EMBEDDED_ONLY = ("test_engine.py::test_a_lost_index_is_answered_by_sql_and_comes_back",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    left_out = [item for item in items if item.nodeid.endswith(EMBEDDED_ONLY)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if FAILURES:  # the service answered these with SQL: the tests passed without the engine
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write = terminalreporter.write_line
    kinds = Counter(kind for kind, _ in CLUSTER.requests)
    write(
        f"opensearch double: searches {dict(OUTCOMES)}; requests {dict(kinds)}; "
        f"indices built {CLUSTER.built}"
    )
    for failure in FAILURES[:20]:
        write(f"  engine failure hidden by the SQL fallback: {failure}")
