"""GA4GH Passport visas: each active entitlement as a signed ``ControlledAccessGrants`` visa
(RS256 JWT), the rotating keys that sign them and their publication at
``/.well-known/jwks.json``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the JWKS endpoint and ``harmony visas``."""
    from governance.visas import cli
    from governance.visas.api import bp

    app.register_blueprint(bp)
    cli.register_commands(app)
