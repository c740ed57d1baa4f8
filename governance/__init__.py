"""Access governance: agreements, data-use conditions, access requests, DAC review, audit."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from core.api import api
    from governance.api import blp
    from governance.views import bp

    api.register_blueprint(blp)
    app.register_blueprint(bp)
