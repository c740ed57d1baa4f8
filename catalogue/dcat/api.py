"""JSON API of the metadata export: the whole-catalogue DCAT-AP export, always run as a job (a
file to download from the job)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from catalogue.dcat.serialize import FORMATS
from core import jobs
from core.api import API_PREFIX, actor, login_required
from core.jobs_api import ACCEPTED_DOC, JobSchema, accepted
from core.schemas import StrictSchema

blp = Blueprint(
    "dcat_api",
    __name__,
    url_prefix=API_PREFIX,
    description="The whole-catalogue export, run as a job",
)


class ExportInputSchema(StrictSchema):
    format = fields.String(
        load_default="ttl",
        validate=validate.OneOf(sorted(FORMATS)),
        metadata={"description": "ttl (Turtle), nt (N-Triples), jsonld (JSON-LD), rdf (RDF/XML)"},
    )


@blp.route("/exports/catalogue")
class CatalogueExportResource(MethodView):
    @login_required
    @blp.arguments(ExportInputSchema, location="query")
    @blp.response(202, JobSchema, **ACCEPTED_DOC)
    def post(self, query: dict[str, Any]) -> Any:
        """Export the whole catalogue as DCAT-AP (every published dataset, a tombstone for each
        retired one) as a job; its result links the file (``GET /api/v1/jobs/{id}/file``),
        kept for ``JOBS_KEEP_DAYS`` days. The same as ``harmony catalogue export``."""
        fmt = query["format"]
        title = f"Export of the catalogue as {FORMATS[fmt].label}"
        return accepted(jobs.submit_job(actor(), "catalogue_export", title, {"format": fmt}))


@jobs.handler("catalogue_export")
def _export_job(job: jobs.JobContext) -> dict[str, Any]:
    """Write the export to a file of the job's, dataset by dataset (constant memory); a
    failure removes the file."""
    from catalogue.dcat import graph, services
    from catalogue.dcat.cli import export_graphs
    from catalogue.dcat.serialize import serialize_many

    fmt = job.params["format"]
    iris = graph.Iris.current()
    total = services.count_public()
    counts = {"datasets": 0, "tombstones": 0}
    job.progress("exporting", 0, total)

    def tick(record: services.PublicRecord) -> None:
        counts["tombstones" if record.retired else "datasets"] += 1
        done = counts["datasets"] + counts["tombstones"]
        if done % 100 == 0 or done == total:
            job.progress(done=done)

    job.file = job.output_path(f".{fmt}")
    with job.file.open("wb") as handle:
        serialize_many(export_graphs(iris, tick), FORMATS[fmt], handle)
    filename = f"harmony-catalogue.{fmt}"
    return {
        **counts,
        "format": fmt,
        "filename": filename,
        "summary": f"{counts['datasets']} datasets and {counts['tombstones']} tombstones "
        f"exported as {FORMATS[fmt].label}.",
        "download_url": f"{API_PREFIX}/jobs/{job.job_id}/file",
    }
