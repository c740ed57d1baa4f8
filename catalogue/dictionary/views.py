"""HTML page of the data dictionary: upload a dictionary into a draft and read the import's
report (large files go to the job worker, whose page follows the import)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    redirect,
    render_template,
    request,
    url_for,
)

from catalogue.datasets import services as datasets
from catalogue.datasets.views import (
    STALE_FORM,
    VariableCounts,
    closed_page,
    open_draft_or_none,
    revision_field,
    variable_counts,
)
from catalogue.dictionary import importer
from core.api import actor
from core.errors import (
    FileRejected,
    InvalidInput,
    PreconditionFailed,
    UnsupportedMediaType,
)
from core.jobs_api import runs_as_job
from core.policies import require_login

bp = Blueprint("dictionary", __name__, template_folder="templates")


# --- dictionary upload ----------------------------------------------------------------------

DICTIONARY_FORMATS = [
    ("", "Recognise it from the file"),
    ("redcap", "REDCap data dictionary (CSV)"),
    ("template", "HARMONY template (CSV or XLSX)"),
    ("omop", "OMOP concept list (CSV or XLSX)"),
]


@bp.route("/datasets/<identifier>/dictionary", methods=["GET", "POST"])
def dictionary(identifier: str) -> Any:
    """Upload a data dictionary into the open draft, and show the import's report."""
    who = actor()
    require_login(who)
    dataset = datasets.editable_dataset(who, identifier, datasets.UNCHECKED)
    draft = open_draft_or_none(dataset)
    if draft is None:
        return closed_page(dataset, "dictionary")

    def page(status: int = 200, **context: Any) -> tuple[str, int]:
        current = datasets.get_dataset(who, identifier)
        counts = variable_counts([draft.id]).get(draft.id, VariableCounts())
        context.setdefault("errors", {})
        context.setdefault("form", {})
        return render_template(
            "dictionary/dictionary.html",
            dataset=current,
            version=draft,
            counts=counts,
            formats=DICTIONARY_FORMATS,
            format_labels=dict(DICTIONARY_FORMATS),
            etag=datasets.etag(current),
            **context,
        ), status

    if request.method == "GET":
        return page()
    fmt = (request.form.get("format") or "").strip()
    form = {"format": fmt}
    if fmt not in {value for value, _ in DICTIONARY_FORMATS}:
        return page(422, errors={"format": ["Choose one of the formats listed."]}, form=form)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return page(422, errors={"file": ["Choose the dictionary file to upload."]}, form=form)
    data = upload.read()
    try:
        if runs_as_job(len(data)):
            # a large file is imported by the job worker; its page follows the import
            job = importer.submit_import(
                who, identifier, data, upload.filename, fmt or None, revision_field()
            )
            return redirect(url_for("jobs.job_page", job_id=job.id), 303)
        report = importer.import_dictionary(
            who, identifier, data, upload.filename, fmt or None, revision_field()
        )
    except FileRejected as exc:
        return page(422, report=exc.report, form=form)
    except UnsupportedMediaType as exc:
        return page(415, errors={"format" if fmt else "file": [exc.detail]}, form=form)
    except InvalidInput as exc:
        return page(422, errors=exc.errors or {"file": [exc.detail]}, form=form)
    except PreconditionFailed:
        return page(412, notice=STALE_FORM + " Nothing was imported.", form=form)
    return page(200, report=report)
