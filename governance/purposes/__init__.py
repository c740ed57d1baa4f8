"""Researchers' saved research purposes, and search by fit to a purpose."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's blueprints, rules, workflows and hooks."""
