"""Access requests: a researcher's application for datasets, its lifecycle (the
``access_request`` and ``request_dataset`` workflows), and the consent checks stored with it.
The committee's review, the entitlements and the public register are their own sub-areas."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from governance.requests import policies, workflow

    policies.register()
    workflow.register()
