"""The schemathesis run's figures, summed over the session (also under xdist, where they travel
in the reports of tests/contract/test_openapi_fuzz_*.py's and
test_openapi_chains.py's tests): printed at the end, and a whole
run that sent fewer than MIN_REQUESTS requests fails the session.

These hooks are imported by tests/conftest.py: under xdist only that conftest is loaded by the
controller, which receives every worker's reports."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

MIN_REQUESTS = 3000

_requests: Counter[str] = Counter()
_phases: Counter[str] = Counter()
_chains: Counter[str] = Counter()
_tests: list[int] = []  # one entry per fuzz test reported: the size of a whole run


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":
        return
    properties: dict[str, Any] = dict(report.user_properties)
    if "schemathesis_tests" not in properties:
        return
    _requests.update(properties["schemathesis_requests"])
    _phases.update(properties["schemathesis_phases"])
    _chains.update(properties["schemathesis_chains"])
    _tests.append(properties["schemathesis_tests"])


def _whole_run() -> bool:
    return bool(_tests) and len(_tests) >= _tests[0]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _tests:
        return
    total = sum(_requests.values())
    succeeded = sorted(k for k in _chains if k.endswith((" 200", " 201", " 202", " 204")))
    terminalreporter.write_sep("-", "schemathesis")
    terminalreporter.write_line(
        f"{total} requests in {len(_tests)} of {_tests[0]} tests: {_requests['stateless']} "
        f"per operation and role, {_requests['stateful']} along stateful chains"
    )
    terminalreporter.write_line(f"by phase/mode: {dict(sorted(_phases.items()))}")
    terminalreporter.write_line(f"chain steps that succeeded: {', '.join(succeeded)}")
    if _whole_run() and total < MIN_REQUESTS:
        terminalreporter.write_line(
            f"FAILED: a whole run must send at least {MIN_REQUESTS} requests", red=True
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _whole_run() and sum(_requests.values()) < MIN_REQUESTS:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
