"""The publishers' pages: ``/organisations`` (the organisations that publish datasets) and
``/organisations/{id}`` (one of them), public.

``/organisations/{id}`` is also the organisation's IRI in the DCAT-AP export: clients that ask
for RDF (``Accept``) get :func:`catalogue.dcat.views.organisation_rdf`'s answer instead of the
page.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from catalogue.dcat import views as dcat_views
from catalogue.dcat.negotiation import negotiated
from catalogue.publishers import services
from core.api import actor
from core.errors import InvalidInput

bp = Blueprint("publishers", __name__, template_folder="templates")


def _page_number() -> int:
    """The ``page`` parameter; a malformed one is the first page (as on the other lists)."""
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


@bp.get("/organisations")
def publisher_index() -> tuple[str, int] | str:
    who = actor()
    sort = request.args.get("sort") or None
    try:
        index = services.list_publishers(who, sort=sort, page=_page_number())
    except InvalidInput:  # an unknown sort from an edited address: the default order, said so
        index = services.list_publishers(who, page=_page_number())
        return render_template(
            "publishers/publishers.html", index=index, sorts=services.SORTS, bad_sort=sort
        ), 422
    return render_template("publishers/publishers.html", index=index, sorts=services.SORTS)


@bp.get("/organisations/<organisation_id>")
@negotiated(dcat_views.organisation_rdf)  # RDF for clients that ask for it (Accept)
def publisher(organisation_id: str) -> str:
    publisher = services.get_publisher(actor(), organisation_id, page=_page_number())
    return render_template("publishers/publisher.html", publisher=publisher)
