"""Demo agreements: the data-sharing agreements the demo datasets are shared under (their
data-use conditions are the data-use sub-area's demo step, which runs first), chosen so that
every state shows on a fresh ``make run``:

- active agreements for the AML, myeloma, MDS and paediatric ALL datasets;
- the FLT3 trial's agreement expires in 45 days (its 60-day reminder goes out at once) and asks
  for the custodian's sign-off of each request;
- the CLL cohort's agreement has expired (conditions, but not requestable);
- the DLBCL trial's agreement is still a draft (not requestable either);
- the Rotterdam draft dataset has none.

Everything is written through the services, as the system, so the audit trail tells the story
like any other; the signed documents are small generated PDFs.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from sqlalchemy import func, select

from catalogue.models import Dataset
from core import demo as core_demo
from core.db import get_session
from core.etags import UNCHECKED
from core.policies import SYSTEM
from core.text import plural

GRU, HMB, DS = "DUO:0000042", "DUO:0000006", "DUO:0000007"

#: (reference, datasets, days from today to the expiry, what becomes of it, obligations)
AGREEMENTS: list[tuple[str, list[str], int, str, dict[str, Any]]] = [
    ("DSA-2025-003", ["aml-ic-2016"], 730, "active", {"publication_review_days": 30}),
    (
        "DSA-2024-011",
        ["flt3-mido-2017"],
        45,
        "active",
        {"requires_custodian_signoff": True, "publication_review_days": 60},
    ),
    ("DSA-2025-007", ["mds-registry-it"], 1095, "active", {"return_of_results": True}),
    (
        "DSA-2025-012",
        ["mm-te-2015"],
        480,
        "active",
        {"requires_custodian_signoff": True, "moratorium_until": dt.date(2027, 6, 30)},
    ),
    ("DSA-2026-001", ["all-paed-2010"], 1460, "active", {}),
    ("DSA-2022-004", ["cll-rwe-cohort"], -20, "expired", {}),
    ("DSA-2026-019", ["dlbcl-80plus-2014"], 1095, "draft", {}),
]


def _pdf(title: str) -> bytes:
    """A one-page PDF naming the agreement (the demo's stand-in for a scanned signature)."""
    text = title.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 14 Tf 72 720 Td (Signed data-sharing agreement {text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def load_demo_agreements(result: core_demo.DemoResult) -> None:
    """The demo's agreements (once: a catalogue that has agreements already is left alone)."""
    from governance.agreements import jobs as agreement_jobs
    from governance.agreements import services as agreements
    from governance.agreements.models import Agreement
    from governance.data_use.models import DataUseConditions

    session = get_session()
    conditions = session.scalar(select(func.count()).select_from(DataUseConditions))
    if session.scalar(select(Agreement.id).limit(1)) is not None:
        result.notes.append("demo agreements: the catalogue has agreements already; none added")
        return
    found = {
        d.identifier: d
        for d in session.scalars(select(Dataset).where(Dataset.identifier.in_(_covered())))
    }
    session.rollback()
    today = agreements.today()
    made: dict[str, int] = {}
    for reference, names, days, fate, extra in AGREEMENTS:
        covered = [found[n] for n in names if n in found]
        if not covered:
            continue
        expires = today + dt.timedelta(days=days)
        effective = min(today, expires) - dt.timedelta(days=700)
        signed = (effective - dt.timedelta(days=14)).isoformat()
        agreement = agreements.create_agreement(
            SYSTEM,
            {
                "reference": reference,
                "organisation_id": covered[0].organisation_id,
                "title": f"Data-sharing agreement for {', '.join(d.identifier for d in covered)}",
                "datasets": [d.identifier for d in covered],
                "effective_on": effective,
                "expires_on": expires,
                "permitted_uses": [GRU, HMB, DS],
                "acknowledgement": "Acknowledge the HARMONY Alliance and the data custodian "
                "in every publication and presentation that uses these data.",
                "signatories": [
                    {
                        "name": "Dr. Anna Visser",
                        "role": "Data custodian",
                        "side": "custodian",
                        "signed_on": signed,
                    },
                    {
                        "name": "Dr. Carlos Ortega",
                        "role": "Alliance governance officer",
                        "side": "alliance",
                        "signed_on": signed,
                    },
                ],
                **extra,
            },
        )
        if fate == "draft":
            made[fate] = made.get(fate, 0) + 1
            continue
        agreements.attach_document(
            SYSTEM, agreement.id, io.BytesIO(_pdf(reference)), f"{reference}.pdf", UNCHECKED
        )
        # activated on the day it took effect, as it was; one that has run out expires below
        agreements.activate(SYSTEM, agreement.id, UNCHECKED, on=effective)
        made[fate] = made.get(fate, 0) + 1
    report = agreement_jobs.run_daily(today)
    result.notes.append(
        "demo governance: data-use conditions for "
        + plural(conditions or 0, "dataset")
        + "; agreements: "
        + ", ".join(f"{n} {fate}" for fate, n in sorted(made.items()))
        + f"; expiry reminders sent: {len(report.reminded)}"
    )


def _covered() -> set[str]:
    return {n for _, names, *_ in AGREEMENTS for n in names}


def register_demo_step() -> None:
    core_demo.register_step(load_demo_agreements)
