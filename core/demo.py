"""Demonstration data: the alliance's partner organisations, a committee and one account per role.

Other areas add their own demo steps through :func:`register_step` (datasets, terms …), so that
``harmony demo load`` fills every page.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from core import audit, services
from core.db import get_session
from core.files import read_csv_file
from core.models import Organisation, OrganisationKind, Role, User
from core.policies import SYSTEM
from core.text import plural

SHARED_DIR = Path(
    os.environ.get("HARMONY_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
)
DEMO_DOMAIN = "demo.harmony.example"

# A small set for when ../shared is absent (a packaged install, say).
BUILT_IN_ORGANISATIONS = [
    (
        "Erasmus Universitair Medisch Centrum Rotterdam",
        "Rotterdam",
        "NL",
        OrganisationKind.HOSPITAL,
    ),
    (
        "Fundacion Instituto De Estudios De Ciencias De La Salud De Castilla Y Leon",
        "Salamanca",
        "ES",
        OrganisationKind.OTHER,
    ),
    ("Universitaet Ulm", "Ulm", "DE", OrganisationKind.UNIVERSITY),
    (
        "Johann Wolfgang Goethe-Universitaet Frankfurt Am Main",
        "Frankfurt am Main",
        "DE",
        OrganisationKind.UNIVERSITY,
    ),
    ("European Hematology Association", "The Hague", "NL", OrganisationKind.OTHER),
    (
        "Fondazione Italiana Sindromi Mielodisplastiche Ets",
        "Bologna",
        "IT",
        OrganisationKind.TRIAL_GROUP,
    ),
    ("Novartis Pharma AG", "Basel", "CH", OrganisationKind.INDUSTRY),
]

_KIND_PATTERNS = [
    # more specific first: a university hospital is a hospital
    (
        r"hospital|hopitaux|ospedale|nhs trust|medisch centrum|klinik|charite|vumc",
        OrganisationKind.HOSPITAL,
    ),
    (r"medicamentos|arzneimittel|medicines agency", OrganisationKind.REGULATOR),
    (r"health and care excellence", OrganisationKind.HTA_BODY),
    (
        r"study association|research on|francophone|myelodysplas|mielodisplas|lymphoma|leukemia"
        r"|treatment of cancer|lysarc|gpoh",
        OrganisationKind.TRIAL_GROUP,
    ),
    (r"leukanet|patient", OrganisationKind.PATIENT_ORGANISATION),
    (r"hematology association|society|alliance|foundation|stiftung", OrganisationKind.OTHER),
    (r"univers|universi|univerzita|studiorum|college", OrganisationKind.UNIVERSITY),
]


def kind_for(name: str, category: str) -> OrganisationKind:
    """Our organisation kind from a partner's name, else the partner list's coarse category."""
    lowered = name.lower()
    for pattern, kind in _KIND_PATTERNS:
        if re.search(pattern, lowered):
            return kind
    if category in {"industry", "sme"}:
        return OrganisationKind.INDUSTRY
    return OrganisationKind.OTHER


def partner_organisations() -> list[tuple[str, str | None, str, OrganisationKind]]:
    path = SHARED_DIR / "harmony_partners.csv"
    if not path.exists():
        return list(BUILT_IN_ORGANISATIONS)
    return [
        (
            row["name"].strip(),
            row.get("city", "").strip() or None,
            row.get("country_code", "").strip().upper(),
            kind_for(row["name"], row.get("category", "").strip()),
        )
        for row in read_csv_file(path)
        if row.get("name", "").strip()
    ]


@dataclass
class DemoResult:
    organisations: int
    accounts: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (role label, email, password)
    notes: list[str] = field(default_factory=list)


DemoStep = Callable[[DemoResult], None]
_STEPS: list[DemoStep] = []


def register_step(step: DemoStep) -> None:
    """Add an area's demo loader; it runs after accounts exist, in registration order."""
    if step not in _STEPS:
        _STEPS.append(step)


def database_is_empty() -> bool:
    session = get_session()
    return not (
        session.scalar(select(func.count()).select_from(User))
        or session.scalar(select(func.count()).select_from(Organisation))
    )


def load_demo(
    only_if_empty: bool = False, password: str | None = None, with_steps: bool = True
) -> DemoResult | None:
    """Create the demo organisations, committee and accounts (skips what exists).

    :param with_steps: also run the other areas' demo steps (vocabularies, datasets …).
    :param password: one password for every demo account; by default each gets a random one,
        taken from ``HARMONY_DEMO_PASSWORD`` when that is set.
    """
    if only_if_empty and not database_is_empty():
        return None
    password = password or os.environ.get("HARMONY_DEMO_PASSWORD") or None
    session = get_session()
    existing = {n.lower() for n in session.scalars(select(Organisation.name))}
    created = 0
    for name, city, country, kind in partner_organisations():
        if name.lower() in existing:
            continue
        organisation = Organisation(name=name, city=city, country=country, kind=kind)
        session.add(organisation)
        session.flush()
        audit.record(
            SYSTEM,
            "organisation.created",
            "organisation",
            organisation.id,
            after=audit.snapshot(organisation, services.ORGANISATION_FIELDS),
            summary=f"Organisation “{name}” ({country}) registered (demo partner list).",
        )
        existing.add(name.lower())
        created += 1
    session.commit()

    committee_name = "HARMONY Data Access Committee"
    committee = next(
        (c for c in services.list_committees(SYSTEM) if c.name == committee_name), None
    )
    if committee is None:
        committee = services.create_committee(
            SYSTEM,
            {
                "name": committee_name,
                "description": "Reviews requests for data pooled in the HARMONY platform.",
            },
        )
    custodian_org = _organisation_named("Erasmus Universitair Medisch Centrum Rotterdam")
    researcher_org = _organisation_named("Universitaet Ulm") or custodian_org

    result = DemoResult(organisations=created)
    people = [
        ("admin", "Ada Admin", None, [{"role": Role.ADMIN.value}]),
        ("researcher", "Rosa Researcher", researcher_org, [{"role": Role.RESEARCHER.value}]),
        (
            "custodian",
            "Carl Custodian",
            custodian_org,
            [{"role": Role.CUSTODIAN.value, "organisation_id": custodian_org}],
        ),
        (
            "dac-member",
            "Dana Member",
            None,
            [{"role": Role.DAC_MEMBER.value, "committee_id": committee.id}],
        ),
        (
            "dac-chair",
            "Chris Chair",
            None,
            [{"role": Role.DAC_CHAIR.value, "committee_id": committee.id}],
        ),
        # a data platform's service account: its API token asks GET /api/v1/entitlements
        ("platform", "Demo Data Platform", None, [{"role": Role.PLATFORM.value}]),
    ]
    for local, name, organisation_id, roles in people:
        email = f"{local}@{DEMO_DOMAIN}"
        if services.find_user_by_email(email) is not None:
            continue
        secret = password or secrets.token_urlsafe(12)
        services.create_user(
            SYSTEM,
            {
                "email": email,
                "name": name,
                "password": secret,
                "organisation_id": organisation_id,
                "roles": roles,
            },
        )
        result.accounts.append((local, email, secret))
    for step in _STEPS if with_steps else ():
        step(result)
    return result


def demo_account_emails() -> list[str]:
    return list(
        get_session().scalars(
            select(User.email).where(User.email.like(f"%@{DEMO_DOMAIN}")).order_by(User.email)
        )
    )


def _organisation_named(name: str) -> str | None:
    return get_session().scalar(
        select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
    )


def describe(result: DemoResult) -> str:
    lines = [f"demo data: {plural(result.organisations, 'organisation')}"]
    lines.extend(result.notes)
    if result.accounts:
        lines.append("")
        lines.append("Demo accounts (the passwords are shown this once; reset one with")
        lines.append("  harmony users set-password --email EMAIL):")
        width = max(len(email) for _, email, _ in result.accounts)
        for role, email, secret in result.accounts:
            lines.append(f"  {role:<11} {email:<{width}}  {secret}")
    return "\n".join(lines)
