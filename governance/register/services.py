"""The public register of approved data uses: what the public and patients' organisations may
know about who uses the alliance's data for what.

An entry is an approved request (or one closed after its access ended) and says only: its
reference, project title, lay summary, the applicant's institution, the datasets approved
(titles and links), the decision date and the publications the team filed — never a person's
name or e-mail, the scientific abstract, the funding, the reports' text or anything of the
review. Approved amendments appear under their original, with the datasets they added;
drafts, open, returned, rejected and withdrawn requests never appear.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from catalogue.datasets.services import latest_published
from catalogue.models import Dataset
from core.db import get_session
from core.models import Organisation
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import can
from governance.requests.models import (
    AccessRequest,
    DatasetState,
    ReportKind,
    RequestReport,
    RequestState,
)

PUBLIC_STATES = (RequestState.APPROVED, RequestState.CLOSED)
APPROVED_DATASET = (DatasetState.APPROVED, DatasetState.GRANTED)
MAX_QUERY = 200


@dataclass(frozen=True)
class RegisterDataset:
    identifier: str
    title: str
    public: bool  # its page can be opened by anyone


@dataclass(frozen=True)
class RegisterPublication:
    title: str
    doi: str | None
    url: str | None
    added_on: dt.date | None


@dataclass(frozen=True)
class RegisterAmendment:
    reference: str
    decided_on: dt.date | None
    datasets: list[RegisterDataset]
    extend_months: int


@dataclass
class RegisterEntry:
    reference: str
    title: str
    lay_summary: str
    institution: str | None
    decided_on: dt.date | None
    datasets: list[RegisterDataset] = field(default_factory=list)
    publications: list[RegisterPublication] = field(default_factory=list)
    amendments: list[RegisterAmendment] = field(default_factory=list)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _dataset(dataset: Dataset) -> RegisterDataset:
    version = latest_published(dataset)
    public = can(None, Permission.DATASET_READ, dataset)
    title = version.title if version is not None and public else ""
    return RegisterDataset(dataset.identifier, title or dataset.identifier, public)


def _approved(request: AccessRequest) -> list[RegisterDataset]:
    return [_dataset(d.dataset) for d in request.datasets if d.state in APPROVED_DATASET]


def _added(amendment: AccessRequest) -> list[RegisterDataset]:
    """The datasets an approved amendment added (and the decision approved)."""
    added = set((amendment.amendment or {}).get("add_datasets") or [])
    return [
        _dataset(d.dataset)
        for d in amendment.datasets
        if d.dataset_id in added and d.state in APPROVED_DATASET
    ]


def list_register(
    q: str | None = None, *, page: int = 1, per_page: int = 25
) -> Page[RegisterEntry]:
    """One page of the register, newest decision first; ``q`` searches the titles and lay
    summaries (case-insensitive words in that order)."""
    session = get_session()
    query = select(AccessRequest).where(
        AccessRequest.state.in_(PUBLIC_STATES), AccessRequest.amends_id.is_(None)
    )
    q = (q or "").strip()[:MAX_QUERY]
    if q:
        pattern = f"%{_escape_like(q.lower())}%"
        query = query.where(
            or_(
                func.lower(AccessRequest.title).like(pattern, escape="\\"),
                func.lower(AccessRequest.lay_summary).like(pattern, escape="\\"),
            )
        )
    found = paginate(
        query,
        page=page,
        per_page=per_page,
        order=[AccessRequest.decided_at.desc(), AccessRequest.reference],
    )
    requests: list[AccessRequest] = list(found.items)
    ids = [r.id for r in requests]
    amendments: dict[str, list[AccessRequest]] = defaultdict(list)
    if ids:
        for amendment in session.scalars(
            select(AccessRequest)
            .where(AccessRequest.amends_id.in_(ids), AccessRequest.state.in_(PUBLIC_STATES))
            .order_by(AccessRequest.decided_at, AccessRequest.reference)
        ):
            amendments[amendment.amends_id or ""].append(amendment)
    every = ids + [a.id for group in amendments.values() for a in group]
    root = {a.id: a.amends_id for group in amendments.values() for a in group}
    publications: dict[str, list[RegisterPublication]] = defaultdict(list)
    if every:
        for report in session.scalars(
            select(RequestReport)
            .where(
                RequestReport.request_id.in_(every),
                RequestReport.kind == ReportKind.PUBLICATION,
                RequestReport.submitted_at.is_not(None),
            )
            .order_by(RequestReport.submitted_at, RequestReport.id)
        ):
            publications[root.get(report.request_id) or report.request_id].append(
                RegisterPublication(
                    report.title,
                    report.doi,
                    report.url,
                    report.submitted_at.date() if report.submitted_at else None,
                )
            )
    organisations = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(
                Organisation.id.in_(
                    sorted({r.organisation_id for r in requests if r.organisation_id})
                )
            )
        ).all()
    )
    entries = []
    for request in requests:
        entries.append(
            RegisterEntry(
                reference=request.reference,
                title=request.title,
                lay_summary=request.lay_summary,
                institution=organisations.get(request.organisation_id or ""),
                decided_on=request.decided_at.date() if request.decided_at else None,
                datasets=_approved(request),
                publications=publications.get(request.id, []),
                amendments=[
                    RegisterAmendment(
                        reference=a.reference,
                        decided_on=a.decided_at.date() if a.decided_at else None,
                        datasets=_added(a),
                        extend_months=int((a.amendment or {}).get("extend_months") or 0),
                    )
                    for a in amendments.get(request.id, [])
                ],
            )
        )
    return Page(items=entries, total=found.total, page=found.page, per_page=found.per_page)
