"""The data access committee's review of access requests: custodians' sign-offs, members'
votes and recusals, the quorum, the chair's decision, the committee's queue and review page."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's API and pages (its rules live in
    :mod:`governance.requests.policies`, its workflows in :mod:`governance.requests.workflow`)."""
    from core.api import api
    from governance.review import api as review_api
    from governance.review.views import bp as pages

    api.register_blueprint(review_api.blp)
    app.register_blueprint(pages)
    from catalogue import extensions
    from governance.review import committees

    extensions.register_panel(
        extensions.Panel(
            "dataset", "review/_dataset_committee.html", committees.dataset_panel, order=70
        )
    )
    for key, default in (
        ("REVIEW_DECISION_DEADLINE_DAYS", 90),
        ("REVIEW_DECISION_EXTENSION_DAYS", 90),
    ):
        app.config.setdefault(key, default)
