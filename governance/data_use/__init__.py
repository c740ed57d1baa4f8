"""A dataset's data-use conditions in GA4GH DUO: one permission, modifiers with parameters,
numbered revisions."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's blueprints, rules, workflows and hooks."""
