"""Data-sharing agreements between a custodian and the alliance: versions, the signed
document, expiry by date."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's blueprints, rules, workflows and hooks."""
