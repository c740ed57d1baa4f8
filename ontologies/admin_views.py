"""Administration page for ontologies: upload a file (same service as the CLI and API)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from core.api import actor
from core.errors import InvalidInput, ServiceError, UnsupportedMediaType
from core.models import Role
from core.nav import NavEntry, has_role, register
from ontologies import bundled, services

bp = Blueprint("ontologies_admin", __name__, template_folder="templates")
register(NavEntry("Ontologies", "ontologies_admin.upload", has_role(Role.ADMIN), "admin", 40))

FORMAT_CHOICES = [
    ("", "From the file name"),
    ("owl", "OWL (RDF/XML)"),
    ("turtle", "Turtle"),
    ("jsonld", "JSON-LD"),
    ("nt", "N-Triples"),
    ("oncotree", "OncoTree JSON"),
]


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(
        "ontologies/admin_upload.html",
        ontologies=services.list_ontologies(actor()),
        bundled=bundled.bundled_vocabularies(),
        formats=FORMAT_CHOICES,
        **context,
    ), status


@bp.route("/admin/ontologies", methods=["GET", "POST"])
def upload() -> Any:
    services.open_loading(actor())
    if request.method == "GET":
        return _page()
    upload = request.files.get("file")
    form = {k: request.form.get(k, "").strip() for k in ("prefix", "format", "name")}
    if upload is None or not upload.filename:
        return _page(422, errors={"file": ["Choose a file to upload."]}, form=form)
    try:
        report = services.load_ontology(
            actor(),
            upload.stream,
            filename=upload.filename,
            fmt=form["format"] or None,
            prefix=form["prefix"] or None,
            name=form["name"] or None,
        )
    except UnsupportedMediaType as exc:
        return _page(415, errors={"format": [exc.detail]}, form=form)
    except InvalidInput as exc:
        return _page(422, errors=exc.errors or {"file": [exc.detail]}, form=form)
    return _page(200, report=report, form={})


@bp.post("/admin/ontologies/bundled")
def load_bundled() -> Any:
    services.open_loading(actor())
    try:
        reports = bundled.load_bundled(actor())
    except ServiceError as exc:
        flash(exc.detail, "error")
    else:
        summary = ", ".join(f"{r.prefix} {r.status}" for r in reports)
        flash(f"Bundled vocabularies: {summary}.", "success")
    return redirect(url_for("ontologies_admin.upload"))
