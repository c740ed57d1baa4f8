"""A data access committee's year of access requests, on a synthetic catalogue (after
``bench/generate_catalogue.py`` and ``bench/generate_governance.py``).

    .venv/bin/python bench/generate_requests.py --database-url sqlite:////tmp/cat.sqlite3

It migrates the database to the head, then writes, straight into the tables (the services
would take minutes for what a committee does in a year):

- the committee (the default one, or a new default "HARMONY Data Access Committee") with a
  chair and seven members, three of them from partner organisations (so that recusals
  happen), about 300 researchers across the organisations, and a custodian for each
  organisation whose agreement asks for a sign-off;
- ``--requests`` (1,000) access requests over the last 365 days on the datasets an active
  agreement covers (one to six each, popular datasets more often), their states spread as a
  committee's year leaves them — drafts 12 %, submitted 8 %, under review 10 %, returned 5 %,
  approved 40 %, rejected 8 %, withdrawn 7 %, closed 10 % — and for each what its state
  implies: team members, the stored consent checks (compatible 72 %, needs review 18 %,
  incompatible 10 %) with their reasons and obligations, the custodians' sign-offs (and
  declines), the recusals, votes, decisions (with overrides and review notes where the check
  asks for them; about one decided request in ten was returned once first and decided in its
  second round), the entitlements of approved requests (mostly active, some awaiting the
  terms, some ended or revoked), the acceptances, required reports;
- the audit events a real year would have left (created, submitted, recusals, sign-offs,
  review started, votes, decisions, grants, acceptances, activations, withdrawals, closes),
  hash-chained after the current head so that ``harmony audit verify`` passes. Their times
  are the requests' (the past year), appended after whatever the catalogue's generation left.

The same seed writes the same rows (identifiers and times relative to today apart). It
refuses a database that already holds access requests. Prints a summary as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select, update  # noqa: E402

from catalogue.models import Dataset, DatasetStatus  # noqa: E402
from core.audit import HEAD_ID, AuditEvent, AuditHead, event_hash, plain  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.models import (  # noqa: E402
    DataAccessCommittee,
    Organisation,
    Role,
    RoleGrant,
    User,
    casefold_key,
)
from governance.agreements.models import Agreement, AgreementDataset, AgreementStatus  # noqa: E402
from governance.requests.models import (  # noqa: E402
    Acceptance,
    AccessRequest,
    DatasetState,
    Decision,
    DecisionOutcome,
    Entitlement,
    EntitlementState,
    Recusal,
    ReportKind,
    RequestDataset,
    RequestMember,
    RequestReport,
    RequestState,
    Signoff,
    Vote,
    VoteChoice,
)

DOMAIN = "bench.harmony.example"
COMMITTEE = "HARMONY Data Access Committee"
STATES: list[tuple[str, float]] = [
    ("draft", 0.12),
    ("submitted", 0.08),
    ("under_review", 0.10),
    ("returned", 0.05),
    ("approved", 0.40),
    ("rejected", 0.08),
    ("withdrawn", 0.07),
    ("closed", 0.10),
]
CHECKS = [("compatible", 0.72), ("needs_review", 0.18), ("incompatible", 0.10)]
TOPICS = [
    "Outcomes by FLT3-ITD allelic ratio and NPM1 co-mutation",
    "MRD negativity and progression-free survival",
    "Cytogenetic risk and overall survival",
    "Early death after intensive induction",
    "Real-world treatment sequences",
    "Transfusion dependence and progression",
    "ELN 2022 risk re-classification",
    "TP53 mutations and response to hypomethylating agents",
    "Late effects after allogeneic transplantation",
    "Infections during venetoclax-based therapy",
    "Relapse patterns after CAR-T cell therapy",
    "Age, frailty and treatment intensity",
]
DISEASES = [
    ("AML", "NCIT:C3171"),
    ("CLL", "NCIT:C3163"),
    ("multiple myeloma", "NCIT:C3242"),
    ("MDS", "NCIT:C3247"),
    ("DLBCL", "NCIT:C8851"),
    ("paediatric ALL", "NCIT:C8644"),
]
COUNTRIES = ["DE", "NL", "IT", "ES", "FR", "BE", "SE", "AT", "CH", "GB"]
FIRST_NAMES = ["Anna", "Ben", "Chiara", "David", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jan"]
LAST_NAMES = ["Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Horvath", "Jansen"]
VOTE_COMMENTS = [
    "",
    "",
    "",
    "Well justified.",
    "Data minimisation is adequate.",
    "The ethics approval covers the stated use.",
    "Narrow the variables.",
]
OBLIGATIONS = [
    {"term": "DUO:0000019", "text": "Publish the results."},
    {"term": "agreement:acknowledgement", "text": "Acknowledge the HARMONY Alliance."},
    {"term": "DUO:0000022", "text": "Use and keep the data only in EUROPE."},
]
BATCH = 2_000


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _id() -> str:
    return uuid.uuid4().hex


@dataclass
class Person:
    id: str
    name: str
    email: str
    organisation_id: str | None

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass
class Rows:
    """Everything to insert, by model, and the audit events (unchained, with their times)."""

    tables: dict[Any, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, model: Any, **row: Any) -> dict[str, Any]:
        self.tables[model].append(row)
        return row

    def event(
        self,
        at: dt.datetime,
        actor: Person | None,
        action: str,
        object_type: str,
        object_id: str,
        summary: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.events.append(
            {
                "at": at,
                "actor_id": actor.id if actor else None,
                "actor_label": actor.label if actor else "system (command line)",
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "before": plain(before),
                "after": plain(after),
                "summary": summary[:500],
                "context": plain(context),
                "reason": None,
                "request_id": None,
            }
        )


def _people(
    connection: Any, rng: random.Random, rows: Rows, now: dt.datetime
) -> tuple[str, Person, list[Person], list[Person]]:
    """The committee (id), its chair, its members, and the researchers (users and grants)."""
    organisations = list(connection.scalars(select(Organisation.id).order_by(Organisation.id)))
    committee_id = connection.scalar(
        select(DataAccessCommittee.id).where(DataAccessCommittee.is_default.is_(True)).limit(1)
    )
    if committee_id is None:
        committee_id = connection.scalar(
            select(DataAccessCommittee.id).where(
                DataAccessCommittee.name_key == casefold_key(COMMITTEE)
            )
        )
        if committee_id is None:
            committee_id = _id()
            connection.execute(
                insert(DataAccessCommittee).values(
                    id=committee_id,
                    name=COMMITTEE,
                    name_key=casefold_key(COMMITTEE),
                    description="Reviews requests for data pooled in the HARMONY platform.",
                    quorum=None,
                    is_default=True,
                    created_at=now - dt.timedelta(days=800),
                )
            )
        else:
            connection.execute(
                update(DataAccessCommittee)
                .where(DataAccessCommittee.id == committee_id)
                .values(is_default=True)
            )

    def person(
        local: str, name: str, organisation_id: str | None, role: Role, **scope: Any
    ) -> Person:
        email = f"{local}@{DOMAIN}"
        who = Person(_id(), name, email, organisation_id)
        rows.add(
            User,
            id=who.id,
            email=email,
            email_key=casefold_key(email),
            name=name,
            organisation_id=organisation_id,
            password_hash=None,
            is_active=True,
            created_at=now - dt.timedelta(days=400),
        )
        rows.add(
            RoleGrant,
            id=_id(),
            user_id=who.id,
            role=role,
            organisation_id=scope.get("org"),
            committee_id=scope.get("committee"),
            granted_at=now - dt.timedelta(days=400),
            granted_by_id=None,
        )
        return who

    chair = person("chair", "Bench Chair", None, Role.DAC_CHAIR, committee=committee_id)
    members = [
        person(
            f"member{n}",
            f"Bench Member {n}",
            # the three organisations most researchers come from: conflicts happen
            organisations[n - 1] if n <= 3 and len(organisations) >= n else None,
            Role.DAC_MEMBER,
            committee=committee_id,
        )
        for n in range(1, 8)
    ]
    weights = [1 / (rank + 1) ** 0.7 for rank in range(len(organisations))]
    researchers = []
    for n in range(1, 301):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        organisation = rng.choices(organisations, weights=weights)[0]
        researchers.append(person(f"researcher{n}", name, organisation, Role.RESEARCHER))
    return committee_id, chair, members, researchers


def generate(url: str, requests: int = 1000, seed: int = 1) -> dict[str, Any]:
    started = time.perf_counter()
    upgrade(url)
    engine = create_engine(url)
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rows = Rows()
    with engine.begin() as connection:
        if connection.scalar(select(func.count()).select_from(AccessRequest)):
            raise SystemExit("this database holds access requests already")
        requestable = connection.execute(
            select(
                Dataset.id,
                Dataset.identifier,
                Dataset.organisation_id,
                Agreement.id,
                Agreement.requires_custodian_signoff,
                Agreement.expires_on,
            )
            .join(AgreementDataset, AgreementDataset.dataset_id == Dataset.id)
            .join(Agreement, Agreement.id == AgreementDataset.agreement_id)
            .where(
                Dataset.status == DatasetStatus.PUBLISHED,
                Agreement.status == AgreementStatus.ACTIVE,
            )
            .order_by(Dataset.id)
        ).all()
        if not requestable:
            raise SystemExit("no requestable dataset: run bench/generate_governance.py first")
        by_dataset = {r[0]: r for r in requestable}
        pool = sorted(by_dataset)
        rng.shuffle(pool)
        popularity = [1 / (rank + 1) ** 0.8 for rank in range(len(pool))]
        committee_id, chair, members, researchers = _people(connection, rng, rows, now)
        custodians: dict[str, Person] = {}
        for _d, _i, organisation_id, _a, signoff, _e in requestable:
            if signoff and organisation_id not in custodians:
                email = f"custodian-{len(custodians) + 1}@{DOMAIN}"
                who = Person(
                    _id(), f"Bench Custodian {len(custodians) + 1}", email, organisation_id
                )
                rows.add(
                    User,
                    id=who.id,
                    email=email,
                    email_key=casefold_key(email),
                    name=who.name,
                    organisation_id=organisation_id,
                    password_hash=None,
                    is_active=True,
                    created_at=now - dt.timedelta(days=400),
                )
                rows.add(
                    RoleGrant,
                    id=_id(),
                    user_id=who.id,
                    role=Role.CUSTODIAN,
                    organisation_id=organisation_id,
                    committee_id=None,
                    granted_at=now - dt.timedelta(days=400),
                    granted_by_id=None,
                )
                custodians[organisation_id] = who
        committee_people = [chair, *members]
        states: Counter[str] = Counter()
        numbers: Counter[int] = Counter()
        for n in range(requests):
            fate = _pick(rng, STATES)
            states[fate] += 1
            applicant = rng.choice(researchers)
            count = rng.choices([1, 2, 3, 4, 5, 6], weights=[55, 30, 10, 3, 1, 1])[0]
            chosen: list[str] = []
            while len(chosen) < min(count, len(pool)):
                pick = rng.choices(pool, weights=popularity)[0]
                if pick not in chosen:
                    chosen.append(pick)
            _request(
                rows,
                rng,
                now,
                n,
                fate,
                applicant,
                chosen,
                by_dataset,
                researchers,
                committee_id,
                chair,
                committee_people,
                custodians,
                numbers,
            )
        for model, table_rows in rows.tables.items():
            for start in range(0, len(table_rows), BATCH):
                connection.execute(insert(model), table_rows[start : start + BATCH])
        events = _chain(connection, rows.events)
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return {
        "requests": requests,
        "states": dict(sorted(states.items())),
        "rows": {model.__tablename__: len(r) for model, r in rows.tables.items()},
        "audit_events": events,
        "requestable_datasets": len(pool),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _chain(connection: Any, events: list[dict[str, Any]]) -> int:
    """Append ``events`` (oldest first) to the hash chain after its head, and move the head."""
    head = connection.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)
    ).one_or_none()
    seq, prev = (0, "0" * 64) if head is None else (int(head.seq), str(head.hash))
    if head is None:
        connection.execute(insert(AuditHead).values(id=HEAD_ID, seq=0, hash=prev))
    events.sort(key=lambda e: e["at"])
    batch: list[dict[str, Any]] = []
    for event in events:
        seq += 1
        event["seq"], event["prev_hash"] = seq, prev
        event["hash"] = prev = event_hash(event)
        batch.append(event)
        if len(batch) >= BATCH:
            connection.execute(insert(AuditEvent), batch)
            batch = []
    if batch:
        connection.execute(insert(AuditEvent), batch)
    connection.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=seq, hash=prev))
    return len(events)


def _later(
    rng: random.Random, start: dt.datetime, low: float, high: float, now: dt.datetime
) -> dt.datetime:
    """A moment ``low`` to ``high`` days after ``start``, never after ``now``."""
    return min(now, start + dt.timedelta(days=rng.uniform(low, high)))


def _request(
    rows: Rows,
    rng: random.Random,
    now: dt.datetime,
    n: int,
    fate: str,
    applicant: Person,
    chosen: list[str],
    by_dataset: dict[str, Any],
    researchers: list[Person],
    committee_id: str,
    chair: Person,
    committee_people: list[Person],
    custodians: dict[str, Person],
    numbers: Counter[int],
) -> None:
    # when it started: open requests are recent, decided ones spread over the year
    age = {
        "draft": (0, 120),
        "submitted": (2, 60),
        "under_review": (10, 90),
        "returned": (15, 120),
    }.get(fate, (40, 365))
    created = now - dt.timedelta(days=rng.uniform(*age))
    numbers[created.year] += 1
    reference = f"AR-{created.year}-{numbers[created.year]:04d}"
    request_id = _id()
    topic = rng.choice(TOPICS)
    disease, curie = rng.choice(DISEASES)
    months = rng.choice([12, 18, 24, 36])
    country = rng.choice(COUNTRIES)
    team = [applicant, *rng.sample(researchers, rng.choices([0, 1, 2, 3], [40, 35, 18, 7])[0])]
    team = list({p.id: p for p in team}.values())
    request = rows.add(
        AccessRequest,
        id=request_id,
        reference=reference,
        state=RequestState.DRAFT,
        applicant_id=applicant.id,
        organisation_id=applicant.organisation_id,
        committee_id=None,
        amends_id=None,
        amendment=None,
        title=f"{topic} in {disease} ({n + 1})",
        lay_summary=f"We study {topic.lower()} in people with {disease}.",
        scientific_abstract="Retrospective pooled analysis; Cox models adjusted for age and risk.",
        public_benefit="Better treatment choices for patients.",
        purpose={
            "terms": ["DUO:0000007"],
            "diseases": [curie],
            "commercial": False,
            "ethics_approval": True,
            "country": country,
            "duration_months": months,
        },
        ethics_reference=f"EC-{created.year}-{rng.randint(100, 999)}",
        ethics_document_sha256=None,
        ethics_document_filename=None,
        ethics_document_size=None,
        processing_country=country,
        processing_environment="The platform's secure workspace.",
        data_justification="Each variable is an exposure, a confounder or an outcome.",
        publication_plan="Peer-reviewed publication; aggregate results only.",
        team_training="GCP and GDPR training.",
        requested_months=months,
        funding="Public grant",
        conflicts_of_interest="None.",
        round=0,
        return_comments=None,
        submitted_at=None,
        state_changed_at=created,
        decided_at=None,
        closed_at=None,
        revision=1,
        created_at=created,
        updated_at=created,
    )
    for position, person in enumerate(team):
        rows.add(
            RequestMember,
            id=_id(),
            request_id=request_id,
            user_id=person.id,
            email=person.email,
            email_key=casefold_key(person.email),
            name=person.name,
            affiliation="",
            role="Applicant" if position == 0 else "Co-investigator",
            is_applicant=position == 0,
            added_at=created,
            invited_at=None,
            removed_at=None,
        )
    items = []
    for position, dataset_id in enumerate(chosen):
        _d, identifier, organisation_id, agreement_id, signoff, expires_on = by_dataset[dataset_id]
        items.append(
            rows.add(
                RequestDataset,
                id=_id(),
                request_id=request_id,
                dataset_id=dataset_id,
                position=position,
                state=DatasetState.REQUESTED,
                variables=None,
                check_outcome=None,
                check_reasons=None,
                check_obligations=None,
                check_conditions_revision=None,
                check_ontology_versions=None,
                checked_at=None,
                agreement_id=None,
                signoff_required=False,
                override_justification=None,
                override_by_id=None,
                override_at=None,
                state_changed_at=created,
                _identifier=identifier,
                _organisation=organisation_id,
                _agreement=agreement_id,
                _signoff=bool(signoff),
                _expires=expires_on,
            )
        )
    rows.event(
        created,
        applicant,
        "access_request.created",
        "access_request",
        request_id,
        f"Started the draft request {reference}.",
        after={"reference": reference, "datasets": chosen},
        context={"reference": reference},
    )
    try:
        if fate == "draft" or (fate == "withdrawn" and rng.random() < 0.3):
            if fate == "withdrawn":
                _withdraw(rows, rng, request, applicant, _later(rng, created, 1, 30, now))
            return
        decided_rounds = 0
        if fate in ("approved", "rejected", "closed") and rng.random() < 0.1:
            decided_rounds = 1  # returned once, decided in its second round
        at = _later(rng, created, 1, 25, now)
        for round_ in range(1, decided_rounds + 2):
            final = round_ == decided_rounds + 1
            outcome_fate = fate if final else "returned"
            at = _submit(
                rows,
                rng,
                request,
                items,
                applicant,
                at,
                now,
                committee_id,
                chair,
                committee_people,
                custodians,
                outcome_fate,
            )
            if outcome_fate in ("submitted", "withdrawn"):
                if outcome_fate == "withdrawn":
                    _withdraw(rows, rng, request, applicant, _later(rng, at, 1, 20, now))
                return
            at = _review(
                rows, rng, request, items, at, now, chair, committee_people, outcome_fate, team
            )
            if not final:
                at = _later(rng, at, 3, 30, now)
    finally:
        for row in [request, *items]:  # the working keys are not columns
            for key in [k for k in row if k.startswith("_")]:
                del row[key]


def _withdraw(
    rows: Rows, rng: random.Random, request: dict[str, Any], applicant: Person, at: dt.datetime
) -> None:
    before = request["state"].value
    request.update(state=RequestState.WITHDRAWN, state_changed_at=at, updated_at=at)
    rows.event(
        at,
        applicant,
        "access_request.withdrawn",
        "access_request",
        request["id"],
        "Withdrawn by the applicant. The question is covered by another project.",
        before={"state": before},
        after={"state": "withdrawn", "withdrawal_reason": "Covered by another project."},
        context={"reference": request["reference"], "round": request["round"]},
    )


def _submit(
    rows: Rows,
    rng: random.Random,
    request: dict[str, Any],
    items: list[dict[str, Any]],
    applicant: Person,
    at: dt.datetime,
    now: dt.datetime,
    committee_id: str,
    chair: Person,
    committee_people: list[Person],
    custodians: dict[str, Person],
    fate: str,
) -> dt.datetime:
    """Submission (checks, sign-off states, recusals) and the custodians' sign-offs; returns
    the time the committee can start."""
    before = request["state"].value
    request["round"] += 1
    round_ = request["round"]
    reference = request["reference"]
    request.update(
        state=RequestState.SUBMITTED,
        committee_id=committee_id,
        state_changed_at=at,
        updated_at=at,
        submitted_at=request["submitted_at"] or at,
    )
    outcomes = {}
    for item in items:
        outcome = _pick(rng, CHECKS)
        if fate == "rejected" and rng.random() < 0.4:
            outcome = "incompatible"
        reasons = (
            []
            if outcome == "compatible"
            else [
                {
                    "rule": "DUO:0000021" if outcome == "needs_review" else "DUO:0000046",
                    "outcome": outcome,
                    "message": "The ethics approval must be checked by a person."
                    if outcome == "needs_review"
                    else "The conditions forbid commercial use; the purpose states one.",
                }
            ]
        )
        item.update(
            check_outcome=outcome,
            check_reasons=reasons,
            check_obligations=rng.sample(OBLIGATIONS, rng.randint(0, 2)),
            check_conditions_revision=1,
            check_ontology_versions={"DUO": "2021-02-23", "NCIT": "2025.1"},
            checked_at=at,
            agreement_id=item["_agreement"],
            signoff_required=item["_signoff"],
            state=DatasetState.PENDING_SIGNOFF if item["_signoff"] else DatasetState.REQUESTED,
            state_changed_at=at,
        )
        outcomes[item["_identifier"]] = {"state": item["state"].value, "check": outcome}
    # recusals: members from the applicant's organisation or a requested dataset's custodian
    organisations = {i["_organisation"] for i in items}
    recused = []
    for member in committee_people:
        if member.organisation_id is None:
            continue
        if member.organisation_id == request["organisation_id"]:
            ground = "applicant_organisation"
        elif member.organisation_id in organisations:
            ground = "custodian_organisation"
        else:
            continue
        recused.append(member.id)
        rows.add(
            Recusal,
            id=_id(),
            request_id=request["id"],
            round=round_,
            member_id=member.id,
            ground=ground,
            detail="Member of an organisation involved in the request.",
            created_at=at,
        )
        rows.event(
            at,
            None,
            "access_request.recusal",
            "access_request",
            request["id"],
            f"{member.name} recused ({ground.replace('_', ' ')}).",
            after={"member": member.id, "ground": ground, "round": round_},
            context={"reference": reference, "round": round_},
        )
    request["_recused"] = recused
    rows.event(
        at,
        applicant,
        "access_request.submitted",
        "access_request",
        request["id"],
        f"Submitted {reference}." if round_ == 1 else f"Submitted again (review round {round_}).",
        before={"state": before},
        after={
            "round": round_,
            "committee_id": committee_id,
            "datasets": outcomes,
            "state": "submitted",
        },
        context={"committee": COMMITTEE, "reference": reference, "round": round_},
    )
    latest = at
    for item in items:
        if not item["_signoff"]:
            continue
        if fate == "submitted" and rng.random() < 0.6:
            continue  # still waiting for its custodian
        if fate == "withdrawn" and rng.random() < 0.5:
            continue
        custodian = custodians[item["_organisation"]]
        when = _later(rng, at, 0.5, 12, now)
        latest = max(latest, when)
        declined = fate not in ("approved", "closed") and rng.random() < 0.12
        state = DatasetState.DECLINED if declined else DatasetState.SIGNED_OFF
        item.update(state=state, state_changed_at=when)
        rows.add(
            Signoff,
            id=_id(),
            request_id=request["id"],
            request_dataset_id=item["id"],
            round=round_,
            user_id=custodian.id,
            approved=not declined,
            reason="Outside what our patients consented to." if declined else "",
            created_at=when,
        )
        rows.event(
            when,
            custodian,
            "request_dataset.declined" if declined else "request_dataset.signed_off",
            "request_dataset",
            item["id"],
            f"{reference}: {custodian.name} {'declined' if declined else 'signed off'} "
            f"“{item['_identifier']}”.",
            before={"state": "pending_signoff"},
            after={"state": state.value},
            context={
                "request": request["id"],
                "reference": reference,
                "round": round_,
                "dataset": item["_identifier"],
            },
        )
    return latest


def _review(
    rows: Rows,
    rng: random.Random,
    request: dict[str, Any],
    items: list[dict[str, Any]],
    at: dt.datetime,
    now: dt.datetime,
    chair: Person,
    committee_people: list[Person],
    fate: str,
    team: list[Person],
) -> dt.datetime:
    """Review started, votes, and (unless still under review) the decision and its access."""
    round_ = request["round"]
    reference = request["reference"]
    context = {"reference": reference, "round": round_}
    eligible = [p for p in committee_people if p.id not in request["_recused"]]
    quorum = len(eligible) // 2 + 1
    started = _later(rng, at, 1, 14, now)
    first_voter = [p for p in eligible if p is not chair] or eligible
    starter = rng.choice(first_voter)
    request.update(state=RequestState.UNDER_REVIEW, state_changed_at=started, updated_at=started)
    rows.event(
        started,
        starter,
        "access_request.review_started",
        "access_request",
        request["id"],
        "The committee started the review.",
        before={"state": "submitted"},
        after={"state": "under_review"},
        context=context,
    )
    if fate == "under_review":
        voters = rng.sample(eligible, rng.randint(0, max(0, quorum - 1)))
    else:
        voters = rng.sample(eligible, rng.randint(quorum, len(eligible)))
    lean = {"approved": "approve", "closed": "approve", "rejected": "reject"}.get(fate)
    tally: Counter[str] = Counter()
    when = started
    for voter in voters:
        when = _later(rng, when, 0.1, 6, now)
        if lean and rng.random() < 0.8:
            choice = lean
        else:
            choice = rng.choice(["approve", "reject", "abstain"])
        tally[choice] += 1
        comment = rng.choice(VOTE_COMMENTS)
        rows.add(
            Vote,
            id=_id(),
            request_id=request["id"],
            round=round_,
            member_id=voter.id,
            choice=VoteChoice(choice),
            comment=comment,
            created_at=when,
            updated_at=when,
        )
        rows.event(
            when,
            voter,
            "access_request.vote",
            "access_request",
            request["id"],
            f"{voter.name} voted {choice}." + (f" {comment}" if comment else ""),
            after={"choice": choice, "comment": comment},
            context=context,
        )
    if fate == "under_review":
        return when
    decided = _later(rng, when, 0.5, 10, now)
    outcome = {
        "returned": DecisionOutcome.RETURN,
        "rejected": DecisionOutcome.REJECT,
    }.get(fate) or (
        DecisionOutcome.APPROVE_WITH_CONDITIONS if rng.random() < 0.3 else DecisionOutcome.APPROVE
    )
    dataset_outcomes, overrides, notes = {}, {}, {}
    approved_items = []
    for item in items:
        if outcome in (DecisionOutcome.APPROVE, DecisionOutcome.APPROVE_WITH_CONDITIONS):
            keep = item["state"] is not DatasetState.DECLINED or rng.random() < 0.3
            if item is items[0]:
                keep = True  # an approval approves at least one dataset
            if keep and item["state"] is DatasetState.DECLINED:
                overrides[item["dataset_id"]] = "The committee keeps it: the use is in scope."
                item.update(
                    override_justification=overrides[item["dataset_id"]],
                    override_by_id=chair.id,
                    override_at=decided,
                )
            if keep and item["check_outcome"] == "incompatible":
                overrides[item["dataset_id"]] = "The custodian confirmed the use in writing."
            if keep and item["check_outcome"] == "needs_review":
                notes[item["dataset_id"]] = "Checked the ethics approval document."
            dataset_outcomes[item["dataset_id"]] = "approved" if keep else "rejected"
            item.update(
                state=DatasetState.APPROVED if keep else DatasetState.REJECTED,
                state_changed_at=decided,
            )
            if keep:
                approved_items.append(item)
        elif outcome is DecisionOutcome.REJECT:
            dataset_outcomes[item["dataset_id"]] = "rejected"
            item.update(state=DatasetState.REJECTED, state_changed_at=decided)
    reasons = {
        DecisionOutcome.RETURN: "Please justify each variable and attach the ethics approval.",
        DecisionOutcome.REJECT: "The stated use is outside the datasets' consent.",
    }.get(outcome, "A clear question within the consent; the plan is adequate.")
    conditions = (
        ["Send manuscripts to the custodian 60 days before submission."]
        if outcome is DecisionOutcome.APPROVE_WITH_CONDITIONS
        else []
    )
    reports = (
        [{"kind": "progress", "due_on": (decided + dt.timedelta(days=183)).date().isoformat()}]
        if approved_items and rng.random() < 0.5
        else []
    )
    decision_id = _id()
    counted = {
        "approve": tally["approve"],
        "reject": tally["reject"],
        "abstain": tally["abstain"],
        "votes": sum(tally.values()),
        "eligible": len(eligible),
        "recused": len(request["_recused"]),
        "quorum": quorum,
    }
    rows.add(
        Decision,
        id=decision_id,
        request_id=request["id"],
        round=round_,
        outcome=outcome,
        reasons=reasons,
        conditions=conditions,
        dataset_outcomes=dataset_outcomes,
        overrides=overrides,
        review_notes=notes,
        required_reports=reports,
        decided_by_id=chair.id,
        decided_at=decided,
        tally=counted,
    )
    state = {
        DecisionOutcome.RETURN: RequestState.RETURNED,
        DecisionOutcome.REJECT: RequestState.REJECTED,
    }.get(outcome, RequestState.APPROVED)
    request.update(
        state=state,
        state_changed_at=decided,
        updated_at=decided,
        decided_at=decided,
        revision=request["revision"] + 1,
    )
    if outcome is DecisionOutcome.RETURN:
        request["return_comments"] = reasons
    action = {"approved": "approved", "returned": "returned", "rejected": "rejected"}[state.value]
    rows.event(
        decided,
        chair,
        f"access_request.{action}",
        "access_request",
        request["id"],
        f"{reference}: {action} by the committee. {reasons}",
        before={"state": "under_review"},
        after={
            "outcome": outcome.value,
            "reasons": reasons,
            "conditions": conditions,
            "state": state.value,
        },
        context={**context, "decision": decision_id, "tally": counted},
    )
    for report in reports:
        rows.add(
            RequestReport,
            id=_id(),
            request_id=request["id"],
            kind=ReportKind.PROGRESS,
            due_on=dt.date.fromisoformat(report["due_on"]),
            submitted_at=None,
            submitted_by_id=None,
            title="",
            text="",
            doi=None,
            url=None,
            created_at=decided,
        )
    if state is RequestState.APPROVED:
        _access(rows, rng, request, approved_items, decision_id, decided, now, chair, team, fate)
    return decided


def _access(
    rows: Rows,
    rng: random.Random,
    request: dict[str, Any],
    items: list[dict[str, Any]],
    decision_id: str,
    decided: dt.datetime,
    now: dt.datetime,
    chair: Person,
    team: list[Person],
    fate: str,
) -> None:
    """Entitlements of an approval: granted, accepted (or not yet), ended or revoked, and the
    close of a request whose access is all over."""
    reference = request["reference"]
    starts = decided.date()
    ends_request = starts + dt.timedelta(days=round(request["requested_months"] * 30.5))
    terms = hashlib.sha256(f"terms {request['id']}".encode()).hexdigest()
    last = decided
    for person in team:
        accepts = fate == "closed" or rng.random() < 0.85
        accepted = _later(rng, decided, 0.2, 10, now) if accepts else None
        if accepted is not None:
            rows.add(
                Acceptance,
                id=_id(),
                request_id=request["id"],
                user_id=person.id,
                terms_sha256=terms,
                terms_text="The agreements' obligations.",
                accepted_at=accepted,
            )
            rows.event(
                accepted,
                person,
                "access_request.terms_accepted",
                "access_request",
                request["id"],
                f"{person.name} accepted the terms (version {terms[:12]})",
                after={"terms_sha256": terms},
                context={"user_id": person.id, "terms_sha256": terms},
            )
        for item in items:
            ends = min(ends_request, item["_expires"])
            entitlement_id = _id()
            state = EntitlementState.ACTIVE if accepted else EntitlementState.AWAITING_ACCEPTANCE
            ended_at = revoked_at = None
            if accepted and (fate == "closed" or ends < now.date()):
                if fate == "closed" and rng.random() < 0.4:
                    state, revoked_at = (
                        EntitlementState.REVOKED,
                        _later(rng, accepted, 20, 200, now),
                    )
                else:
                    state = EntitlementState.ENDED
                    ended_at = min(
                        now, dt.datetime.combine(min(ends, now.date()), dt.time(1), dt.UTC)
                    )
                last = max(last, revoked_at or ended_at or last)
            elif accepted and fate != "closed" and rng.random() < 0.03:
                state, revoked_at = EntitlementState.REVOKED, _later(rng, accepted, 5, 100, now)
            rows.add(
                Entitlement,
                id=entitlement_id,
                request_id=request["id"],
                decision_id=decision_id,
                user_id=person.id,
                dataset_id=item["dataset_id"],
                variables=None,
                state=state,
                starts_on=starts,
                ends_on=ends,
                activated_at=accepted,
                ended_at=ended_at,
                revoked_at=revoked_at,
                revoked_by_id=chair.id if revoked_at else None,
                revocation_reason="The project ended early." if revoked_at else None,
                reminded_at=None,
                created_at=decided,
                revision=1,
            )
            facts = {
                "entitlement_id": entitlement_id,
                "user_id": person.id,
                "dataset_id": item["dataset_id"],
            }
            rows.event(
                decided,
                chair,
                "entitlement.granted",
                "access_request",
                request["id"],
                f"Access to {item['_identifier']} granted to {person.name} until {ends}, "
                "once the terms are accepted",
                after={
                    "state": "awaiting_acceptance",
                    "starts_on": starts,
                    "ends_on": ends,
                    "variables": None,
                },
                context=facts,
            )
            if accepted:
                rows.event(
                    accepted,
                    person,
                    "entitlement.activated",
                    "access_request",
                    request["id"],
                    f"Access to {item['_identifier']} started for {person.name} (until {ends})",
                    before={"state": "awaiting_acceptance"},
                    after={"state": "active", "activated_at": accepted},
                    context=facts,
                )
            if revoked_at or ended_at:
                what = "revoked" if revoked_at else "ended"
                rows.event(
                    revoked_at or ended_at,
                    chair if revoked_at else None,
                    f"entitlement.{what}",
                    "access_request",
                    request["id"],
                    f"Access to {item['_identifier']} {what} for {person.name}",
                    before={"state": "active"},
                    after={"state": what},
                    context=facts,
                )
            if item["state"] is DatasetState.APPROVED and accepted:
                item["state"] = DatasetState.GRANTED
    if fate == "closed":
        closed = _later(rng, last, 0, 1 / 24, now)
        request.update(
            state=RequestState.CLOSED, closed_at=closed, state_changed_at=closed, updated_at=closed
        )
        rows.event(
            closed,
            None,
            "access_request.closed",
            "access_request",
            request["id"],
            "Closed: every access it gave has ended.",
            before={"state": "approved"},
            after={"state": "closed"},
            context={"reference": reference, "round": request["round"]},
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.database_url, args.requests, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
