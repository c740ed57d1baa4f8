"""After approval: reports and publications on a request, amendments, and the committee
dashboard."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sub-area's blueprints and the template global of the request page's
    section (``oversight/_request_section.html``)."""
    from core import nav
    from core.api import api
    from core.models import Role
    from governance.oversight import api as oversight_api
    from governance.oversight import views

    api.register_blueprint(oversight_api.blp)
    app.register_blueprint(views.bp)
    app.add_template_global(views.section_context, "oversight_section")
    nav.register(
        nav.NavEntry(
            "Committee dashboard",
            "oversight.committee_dashboard",
            nav.has_role(Role.DAC_MEMBER, Role.DAC_CHAIR, Role.ADMIN),
            "main",
            45,
        )
    )
