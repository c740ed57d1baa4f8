"""Prints the schemathesis run's request count at the end of the session (also under xdist,
where the count travels in the report of ``test_zz_the_run_sent_enough_requests``)."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for outcome in ("passed", "failed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", []):
                if name == "schemathesis":
                    terminalreporter.write_line(str(value))
