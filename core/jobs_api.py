"""The jobs resource (``GET /api/v1/jobs/{id}``), its page with a live progress bar
(``/jobs/{id}``) and the answer an endpoint gives when it hands its work to a job: ``202
Accepted`` with the job and a ``Location`` header."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint as PageBlueprint
from flask import Response, current_app, json, render_template, request, send_file, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from core import events, jobs
from core.api import API_PREFIX, actor, login_required
from core.errors import NotFound
from core.policies import require_login

blp = Blueprint("jobs_api", __name__, url_prefix=API_PREFIX, description="Background jobs")
pages = PageBlueprint("jobs", __name__, template_folder="templates")


class JobProgressSchema(Schema):
    done = fields.Integer()
    total = fields.Integer()
    phase = fields.String(allow_none=True)


class JobSchema(Schema):
    id = fields.String()
    kind = fields.String(
        metadata={"description": "dictionary_import, sssom_import, ontology_load, …"}
    )
    title = fields.String()
    state = fields.String(metadata={"description": "queued, running, succeeded or failed"})
    progress = fields.Nested(JobProgressSchema)
    result = fields.Dict(
        allow_none=True, metadata={"description": "What the job produced (succeeded)"}
    )
    error = fields.Dict(
        allow_none=True,
        metadata={"description": "RFC 9457 problem details of the failure (failed)"},
    )
    attempts = fields.Integer()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    links = fields.Method("_links")

    def _links(self, job: dict[str, Any]) -> dict[str, str]:
        return {
            "self": url_for("jobs_api.JobResource", job_id=job["id"]),
            "page": url_for("jobs.job_page", job_id=job["id"]),
        }


class JobListSchema(Schema):
    items = fields.List(fields.Nested(JobSchema))


ACCEPTED_DOC = {
    "description": "The work runs as a job: follow the Location (GET /api/v1/jobs/{id}) until its "
    "state is succeeded (result) or failed (error)"
}


def runs_as_job(size: int) -> bool:
    """Whether an upload of ``size`` bytes is handed to a job: larger than
    ``JOBS_INLINE_MAX_KB``, or the client asked for it (``Prefer: respond-async``, RFC 7240)."""
    prefer = request.headers.get("Prefer", "").lower()
    asked = any(p.strip().startswith("respond-async") for p in prefer.split(","))
    return asked or size > int(current_app.config["JOBS_INLINE_MAX_KB"]) * 1024


def accepted(job: jobs.Job) -> Response:
    """``202 Accepted`` with the job resource and its ``Location``."""
    job = jobs.get_job(jobs.SYSTEM, job.id)
    body = JobSchema().dump(jobs.job_json(job))
    location = url_for("jobs_api.JobResource", job_id=job.id)
    return Response(
        json.dumps(body), status=202, mimetype="application/json", headers={"Location": location}
    )


@blp.route("/jobs")
class JobsResource(MethodView):
    @login_required
    @blp.response(200, JobListSchema)
    def get(self) -> dict[str, Any]:
        """Your 50 latest jobs, newest first (administrators: everyone's)."""
        return {"items": [jobs.job_json(job) for job in jobs.list_jobs(actor())]}


@blp.route("/jobs/<job_id>")
class JobResource(MethodView):
    @login_required
    @blp.response(200, JobSchema)
    def get(self, job_id: str) -> dict[str, Any]:
        """A job: its state, progress (done of total, phase), and its result or its problem
        report. Poll until ``state`` is ``succeeded`` or ``failed``. Only its owner and
        administrators see it (404 for anyone else)."""
        return jobs.job_json(jobs.get_job(actor(), job_id))


@blp.route("/jobs/<job_id>/file")
class JobFileResource(MethodView):
    @login_required
    @blp.doc(responses={"200": {"description": "The file the job wrote (e.g. an export)"}})
    def get(self, job_id: str) -> Response:
        """The file a finished job wrote (an export); 404 once it has been tidied away."""
        job = jobs.get_job(actor(), job_id)
        path = Path(job.file_path) if job.file_path else None
        if job.state is not jobs.JobState.SUCCEEDED or path is None or not path.is_file():
            raise NotFound("This job has no file (any more).")
        name = str((job.result or {}).get("filename") or path.name)
        return send_file(path, as_attachment=True, download_name=name)


@pages.route("/jobs/<job_id>")
def job_page(job_id: str) -> Any:
    who = actor()
    require_login(who)  # a browser is sent to the login form and back
    job = jobs.get_job(who, job_id)
    return render_template("core/job.html", job=job, job_json=jobs.job_json(job))


def init_app(app: Any) -> None:
    from core.api import api
    from core.jobs_cli import jobs_group

    jobs.init_app(app)
    events.init_app(app)  # the outbox's delivery task and sweep, on the same queue
    api.register_blueprint(blp)
    app.register_blueprint(pages)
    app.cli.add_command(jobs_group)
