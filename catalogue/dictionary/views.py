"""HTML page of the data dictionary: upload a dictionary into a draft and read the import's
report (large files go to the job worker, whose page follows the import); a file that would
remove variables or drop mappings waits for the custodian's confirmation."""

from __future__ import annotations

from typing import Any, cast

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
from catalogue.dictionary import importer, pending
from core.api import actor
from core.errors import (
    FileRejected,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    UnsupportedMediaType,
)
from core.jobs import Job
from core.jobs_api import runs_as_job
from core.models import User
from core.policies import require_login
from core.text import plural

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
    """Upload a data dictionary into the open draft, and show the import's report. A file that
    would remove variables or drop mappings is kept (:mod:`catalogue.dictionary.pending`) and
    shown with what would go; a second POST with its ``token`` confirms or cancels it."""
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
            keep_minutes=pending.keep_minutes(),
            **context,
        ), status

    if request.method == "GET":
        # an upload refused for its removals (here or by its job) waits for its owner
        return page(waiting=pending.held(who, identifier))
    if "token" in request.form:
        return _answer_confirmation(who, identifier, page)
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
                who,
                identifier,
                data,
                upload.filename,
                fmt or None,
                revision_field(),
                hold_for_page=True,
            )
            return redirect(url_for("jobs.job_page", job_id=job.id), 303)
        report = importer.import_dictionary(
            who, identifier, data, upload.filename, fmt or None, revision_field()
        )
    except importer.RemovalsUnconfirmed as exc:
        waiting = pending.hold(cast(User, who), identifier, exc, data, fmt or None)
        return page(409, waiting=waiting, form=form)
    except FileRejected as exc:
        return page(422, report=exc.report, form=form)
    except UnsupportedMediaType as exc:
        return page(415, errors={"format" if fmt else "file": [exc.detail]}, form=form)
    except InvalidInput as exc:
        return page(422, errors=exc.errors or {"file": [exc.detail]}, form=form)
    except PreconditionFailed:
        return page(412, notice=STALE_FORM + " Nothing was imported.", form=form)
    return page(200, report=report)


def _answer_confirmation(who: Any, identifier: str, page: Any) -> Any:
    """The custodian's answer to "this file would remove …": ``action=confirm`` imports the
    held file (a stale one is refused: the dataset changed since), ``action=cancel`` drops
    it. Either way the held file is gone afterwards."""
    entry = pending.held(who, identifier, request.form.get("token") or "")
    if entry is None:
        return page(
            410,
            notice="This upload is no longer waiting for your confirmation (it was answered "
            f"already, or is older than {plural(pending.keep_minutes(), 'minute')}): nothing "
            "was imported. Upload the file again.",
        )
    if request.form.get("action") != "confirm":
        pending.release(entry)
        return page(
            200,
            notice=f"Nothing was imported from {entry.filename}: the draft's dictionary is as "
            "it was.",
            notice_kind="info",
        )
    try:
        result = pending.confirm(who, identifier, entry, as_job=runs_as_job(entry.size))
    except PreconditionFailed as exc:
        return page(412, notice=exc.detail)
    except NotFound as exc:
        return page(410, notice=exc.detail)
    except FileRejected as exc:
        return page(422, report=exc.report)
    if isinstance(result, Job):
        return redirect(url_for("jobs.job_page", job_id=result.id), 303)
    return page(200, report=result)
