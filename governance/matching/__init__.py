"""The compatibility check: may a research purpose use data under given data-use conditions?"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's blueprints, rules, workflows and hooks."""
