"""The compatibility check: may a research purpose use data under given data-use conditions?

``check.py`` is the pure check (no database, no Flask), ``hierarchy.py`` what it reads of the
term store, ``services.py`` the use case behind ``POST /api/v1/data-use/check``.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's API blueprint and its permission rule."""
    from core.api import api
    from governance.matching import policies
    from governance.matching.api import blp

    policies.register()
    api.register_blueprint(blp)
