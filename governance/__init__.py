"""Access governance: data-use conditions (GA4GH DUO), the compatibility check, data-sharing
agreements, researchers' saved purposes, access requests, the committee's review, entitlements,
GA4GH visas, amendments and reports, and the public register.

Each sub-area is a package with the usual rooms (models, schemas, services, policies, api,
views, templates) and its own ``init_app``, called here in dependency order.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from core.api import api
    from governance import (
        agreements,
        data_use,
        demo,
        entitlements,
        matching,
        oversight,
        purposes,
        register,
        requests,
        review,
        visas,
    )
    from governance.api import blp
    from governance.views import bp

    api.register_blueprint(blp)
    app.register_blueprint(bp)
    for area in (
        data_use,
        matching,
        agreements,
        purposes,
        requests,
        review,
        visas,
        entitlements,
        oversight,
        register,
    ):
        area.init_app(app)
    demo.register_demo_step()  # after the catalogue's: the conditions are the datasets'
    from governance.requests import demo as requests_demo

    requests_demo.register_demo_step()  # after the agreements': requests need requestable datasets
