"""Accessibility checks in the browser tests: axe-core (the script bundled by the PyPI package
``axe-playwright-python``; nothing is fetched at run time) run on the page as it stands.

``assert_accessible(page)`` fails with a readable list when axe finds a violation of impact
*serious* or *critical* (WCAG 2.1 A/AA rules and axe's best practices); *minor* and *moderate*
ones are returned, so that a test may look at them without failing on them.
"""

from __future__ import annotations

import json
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page

FAILING_IMPACTS = frozenset({"serious", "critical"})
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page: Page, *, include: str | None = None) -> list[dict[str, Any]]:
    """Every axe violation on ``page`` (or inside the ``include`` selector)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    options = {"runOnly": {"type": "tag", "values": RULE_TAGS}, "resultTypes": ["violations"]}
    context = json.dumps(include) if include else "document"
    result = page.evaluate(f"axe.run({context}, {json.dumps(options)})")
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


def assert_accessible(page: Page, *, include: str | None = None) -> list[dict[str, Any]]:
    """Fail when axe finds a serious or critical violation on ``page``; return the others."""
    violations = axe_violations(page, include=include)
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe-core on {page.url}:\n{describe(failing)}"
    return violations
