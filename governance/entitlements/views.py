"""Pages of access: "My access" (``/me/access``: one's entitlements, what still needs one's
acceptance), the terms of a request (``/requests/<id>/terms``: the text, and "I accept"), and
the revocation form of the request page's access section (the partial
``entitlements/_request_panel.html``, which the request page includes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from core.api import actor
from core.forms import form_action
from core.nav import NavEntry, logged_in, register
from core.permissions import Permission
from core.policies import Actor, can, require_login
from core.text import plural
from governance.entitlements import services
from governance.requests.models import AccessRequest, Entitlement, EntitlementState

bp = Blueprint("entitlements", __name__, template_folder="templates")
register(NavEntry("My access", "entitlements.my_access", logged_in, "user", 30))

STATE_LABELS = {
    EntitlementState.AWAITING_ACCEPTANCE: ("Awaiting your acceptance", "badge-draft"),
    EntitlementState.ACTIVE: ("Active", "badge-published"),
    EntitlementState.REVOKED: ("Revoked", "badge-mapping-rejected"),
    EntitlementState.ENDED: ("Ended", "badge-retired"),
}


@bp.app_template_filter("entitlement_badge")
def entitlement_badge(state: EntitlementState) -> tuple[str, str]:
    """(label, CSS class) of an entitlement's state badge."""
    return STATE_LABELS.get(state, (str(state), "badge-muted"))


@bp.app_template_global("entitlement_panel")
def entitlement_panel(access_request: AccessRequest) -> dict[str, Any]:
    """What ``entitlements/_request_panel.html`` shows the current user (who sees the
    request): call it in the request page's template as ``entitlement_panel(request)``."""
    return services.visible_panel(actor(), access_request)


def _titles(entitlements: Iterable[Entitlement]) -> dict[str, str]:
    """Each dataset's title (of its latest published version), by dataset id."""
    from catalogue.datasets.services import latest_published

    out: dict[str, str] = {}
    for entitlement in entitlements:
        if entitlement.dataset_id not in out:
            version = latest_published(entitlement.dataset)
            out[entitlement.dataset_id] = (
                version.title if version else None
            ) or entitlement.dataset.identifier
    return out


@bp.get("/me/access")
def my_access() -> str:
    who = actor()
    require_login(who)
    page = services.own_entitlements(who, per_page=200)
    awaiting: dict[str, list[Entitlement]] = {}
    for entitlement in page.items:
        if entitlement.state is EntitlementState.AWAITING_ACCEPTANCE:
            awaiting.setdefault(entitlement.request_id, []).append(entitlement)
    return render_template(
        "entitlements/my_access.html",
        entitlements=page.items,
        titles=_titles(page.items),
        can_request=can(who, Permission.ACCESS_REQUEST_CREATE),
        total=page.total,
        awaiting=awaiting,
        today=services.today(),
    )


@bp.get("/requests/<request_id>/terms")
def terms_page(request_id: str) -> str:
    view = services.terms_for(actor(), request_id)
    return render_template("entitlements/terms.html", view=view)


@bp.post("/requests/<request_id>/terms")
def accept(request_id: str) -> WerkzeugResponse:
    page = url_for("entitlements.terms_page", request_id=request_id)

    def call(who: Actor) -> list[Entitlement]:
        return services.accept_terms(who, request_id, request.form.get("terms_sha256", ""))

    return form_action(
        call,
        success=lambda started: (
            f"You accepted the terms: your access to {plural(len(started), 'dataset')} started."
        ),
        done=url_for("entitlements.my_access"),
        back=page,
        invalid="The acceptance was not recorded:",
    )


@bp.post("/requests/<request_id>/revocations")
def revoke(request_id: str) -> WerkzeugResponse:
    back = request.form.get("next") or ""
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("entitlements.my_access")

    def call(who: Actor) -> list[Entitlement]:
        return services.revoke(
            who,
            request_id,
            reason=request.form.get("reason", ""),
            entitlement_id=request.form.get("entitlement") or None,
            user_id=request.form.get("user") or None,
            dataset=request.form.get("dataset") or None,
        )

    return form_action(
        call,
        success=lambda revoked: f"Access revoked ({plural(len(revoked), 'entitlement')}).",
        done=back,
        back=back,
        invalid="Nothing was revoked:",
    )
