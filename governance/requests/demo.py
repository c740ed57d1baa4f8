"""Demo access requests (``harmony demo load``): a committee queue with a request in every
state, so that a fresh ``make run`` shows the data access committee something to do and each
page of the review a real case.

The requests are written as the people involved would write them — the demo researchers
apply, the custodians sign off, the members vote, the chair decides, the team accepts the
terms — through the services and the ``access_request`` workflow, so the audit trail and the
notifications tell the story like any other. It runs after the agreements' step (a dataset
is requestable only under an active agreement) and adds the people it needs: a second
researcher, two more committee members (one from the demo researcher's university, who must
step aside on her requests) and the custodians who sign off for the Ulm FLT3 trial and the
Salamanca myeloma trial.

A second load adds nothing: a request whose title its applicant used already is skipped.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from catalogue.models import Dataset
from core import demo as core_demo
from core import services as core_services
from core import workflow as core_workflow
from core.db import get_session
from core.errors import NotFound, ServiceError
from core.etags import UNCHECKED
from core.models import DataAccessCommittee, Organisation, Role, User
from core.policies import SYSTEM
from governance.requests.models import AccessRequest

AML, MYELOMA, MDS, B_ALL = "NCIT:C3171", "NCIT:C3242", "NCIT:C3247", "NCIT:C8644"
GRU, HMB, DS = "DUO:0000042", "DUO:0000006", "DUO:0000007"
COMMITTEE = "HARMONY Data Access Committee"

#: demo people this step adds: (local part, name, organisation names to try in turn, roles)
#: roles: "researcher", "member", or "custodian:<dataset identifier>" (of its organisation)
PEOPLE: list[tuple[str, str, list[str], list[str]]] = [
    (
        "researcher-2",
        "Riccardo Ricci",
        ["Alma Mater Studiorum - Universita Di Bologna", "European Hematology Association"],
        ["researcher"],
    ),
    ("dac-member-2", "Ulrike Member", ["Universitaet Ulm"], ["member"]),
    ("dac-member-3", "Mirela Member", [], ["member"]),
    ("custodian-ulm", "Uwe Custodian", [], ["custodian:flt3-mido-2017"]),
    ("custodian-salamanca", "Sara Custodian", [], ["custodian:mm-te-2015"]),
]


@dataclass
class DemoRequest:
    """One demo request and how far it goes."""

    applicant: str  # the local part of a demo account
    fate: str  # draft, submitted, under_review, returned, approved, approved_with_conditions,
    # rejected, withdrawn, closed
    content: dict[str, Any]
    team: list[str] = field(default_factory=list)  # other demo accounts on the team
    votes: list[tuple[str, str, str]] = field(default_factory=list)  # (who, choice, comment)
    signoffs: list[tuple[str, str]] = field(default_factory=list)  # (dataset, reason)
    decision: dict[str, Any] = field(default_factory=dict)
    accept: list[str] = field(default_factory=list)  # who accepts the terms
    reason: str = ""  # a withdrawal's or a revocation's


def _application(
    title: str,
    datasets: list[dict[str, Any]],
    purpose: dict[str, Any],
    **text: Any,
) -> dict[str, Any]:
    """A complete application: the Five Safes' answers a committee reads."""
    return {
        "title": title,
        "purpose": purpose,
        "datasets": datasets,
        "processing_country": purpose.get("country") or "DE",
        "requested_months": purpose.get("duration_months") or 24,
        "processing_environment": "The HARMONY Big Data Platform's secure workspace; no "
        "download of individual records, outputs checked before release.",
        "team_training": "Every team member completed GCP and GDPR training in the last two "
        "years; the statistician holds a Safe Researcher certificate.",
        "publication_plan": "Peer-reviewed open-access publication and a presentation at the "
        "EHA congress; aggregate results only, no cell under five patients.",
        "conflicts_of_interest": "None declared.",
        **text,
    }


DEMO_REQUESTS: list[DemoRequest] = [
    DemoRequest(
        applicant="researcher",
        fate="draft",
        content={
            "title": "End-of-induction MRD and relapse risk in paediatric B-cell precursor ALL",
            "lay_summary": "Children with leukaemia are tested after their first month of "
            "treatment for leukaemia cells too few to see under the microscope. We want to "
            "know how well this test predicts which children relapse.",
            "purpose": {"terms": [DS], "diseases": [B_ALL]},
            "datasets": [{"dataset": "all-paed-2010"}],
        },
    ),
    DemoRequest(
        applicant="researcher-2",
        fate="submitted",
        content=_application(
            "High-risk cytogenetics (del(17p), t(4;14), 1q gain) and outcomes after VRD and "
            "autologous transplantation",
            [{"dataset": "mm-te-2015"}],
            {
                "terms": [DS],
                "diseases": [MYELOMA],
                "commercial": False,
                "ethics_approval": True,
                "country": "IT",
                "duration_months": 24,
                "publication_not_before": "2027-06-30",
            },
            lay_summary="Some myeloma cells carry changes in their chromosomes that make the "
            "disease harder to treat. We study how patients with these changes fared with a "
            "modern treatment and a stem-cell transplant.",
            scientific_abstract="Retrospective analysis of progression-free and overall survival "
            "by FISH-defined high-risk cytogenetics (del(17p), t(4;14), t(14;16), 1q gain/"
            "amplification) in the MM-TE 2015 trial; Cox models adjusted for R-ISS, age and "
            "MRD status after consolidation.",
            public_benefit="Better selection of patients for intensified maintenance.",
            ethics_reference="CE-AVEC 412/2026/Oss/AOUBo",
            data_justification="FISH results, R-ISS, MRD by next-generation flow and survival "
            "times are the exposures, confounders and outcomes of the analysis.",
            funding="AIRC Investigator Grant 2026",
        ),
    ),
    DemoRequest(
        applicant="researcher",
        fate="under_review",
        content=_application(
            "FLT3-ITD allelic ratio, NPM1 co-mutation and outcomes after midostaurin-based "
            "induction",
            [
                {"dataset": "flt3-mido-2017"},
                {"dataset": "aml-ic-2016"},
            ],
            {
                "terms": [DS],
                "diseases": [AML],
                "commercial": False,
                "ethics_approval": True,
                "country": "DE",
                "duration_months": 24,
            },
            lay_summary="A change in the FLT3 gene makes acute myeloid leukaemia more "
            "aggressive. We look at whether how much of this change a patient carries still "
            "matters when a targeted drug is added to chemotherapy.",
            scientific_abstract="Pooled analysis of two trials: event-free and overall survival "
            "by FLT3-ITD allelic ratio (< 0.5 vs ≥ 0.5) and NPM1 status, re-classified by ELN "
            "2022, with and without midostaurin; competing-risk analysis of relapse.",
            public_benefit="Evidence for the ELN 2022 decision to drop the allelic ratio from "
            "risk assignment.",
            ethics_reference="Ethikkommission Ulm 118/26",
            data_justification="FLT3-ITD ratio, NPM1, karyotype, treatment arm, response and "
            "survival are the exposures and outcomes; both trials are needed for power.",
            funding="Deutsche José Carreras Leukämie-Stiftung DJCLS 04R/2026",
        ),
        team=["researcher-2"],
        signoffs=[("flt3-mido-2017", "Within the trial's secondary objectives.")],
        votes=[
            ("dac-member", "approve", "A clear question; both trials consented to AML research."),
            ("dac-member-3", "abstain", "I would like to hear the custodian at the meeting."),
        ],
    ),
    DemoRequest(
        applicant="researcher-2",
        fate="returned",
        content=_application(
            "Transfusion dependence and progression to AML in lower-risk MDS",
            [{"dataset": "mds-registry-it"}],
            {
                "terms": [HMB],
                "diseases": [MDS],
                "commercial": False,
                "ethics_approval": True,
                "country": "IT",
                "duration_months": 36,
            },
            lay_summary="Many people with a slow form of a bone-marrow disease need regular "
            "blood transfusions. We study whether needing transfusions early predicts that "
            "the disease turns into leukaemia.",
            scientific_abstract="Registry cohort of IPSS-R very low to intermediate risk MDS; "
            "time-dependent Cox models of transfusion burden on progression to AML and "
            "survival.",
            public_benefit="Earlier identification of patients who need disease-modifying "
            "treatment.",
            ethics_reference="CE-AVEC 377/2026/Oss/AOUBo",
            data_justification="All registry variables, to be narrowed after a feasibility look.",
            funding="Fondazione Cassa di Risparmio in Bologna",
        ),
        votes=[
            ("dac-member", "reject", "“All variables” is not a data minimisation plan."),
            ("dac-member-2", "approve", ""),
            ("dac-member-3", "reject", "Name the variables and why each is needed."),
        ],
        decision={
            "outcome": "return",
            "reasons": "Please list the variables you need (transfusion episodes, IPSS-R "
            "components, progression date, survival) and why each one is needed; the "
            "committee does not approve whole-registry access for a single question.",
        },
    ),
    DemoRequest(
        applicant="researcher",
        fate="approved",
        content=_application(
            "ELN 2022 risk re-classification of intensively treated AML",
            [{"dataset": "aml-ic-2016"}],
            {
                "terms": [DS],
                "diseases": [AML],
                "commercial": False,
                "ethics_approval": True,
                "country": "DE",
                "duration_months": 18,
            },
            lay_summary="Doctors sort patients with acute myeloid leukaemia into risk groups "
            "to choose their treatment. The groups changed in 2022; we check how well the new "
            "groups predict survival.",
            scientific_abstract="Re-classification of AML-IC 2016 patients by ELN 2017 and "
            "ELN 2022; concordance, net reclassification and survival by risk group.",
            public_benefit="Validation of the risk groups European guidelines recommend.",
            ethics_reference="Ethikkommission Ulm 52/26",
            data_justification="Karyotype and the molecular markers of the ELN classification, "
            "with response and survival.",
            funding="Universitaet Ulm intramural funding",
        ),
        team=["researcher-2"],
        votes=[
            ("dac-member", "approve", ""),
            ("dac-member-3", "approve", "Well-justified; publication plan as required."),
        ],
        decision={
            "outcome": "approve",
            "reasons": "A clear clinical question within the trial's consent; the plan meets "
            "the agreement's publication and ethics requirements.",
            "reports": [{"kind": "progress", "months": 6}],
        },
        accept=["researcher", "researcher-2"],
    ),
    DemoRequest(
        applicant="researcher-2",
        fate="approved_with_conditions",
        content=_application(
            "MRD negativity by next-generation flow and progression-free survival in "
            "transplant-eligible myeloma",
            [{"dataset": "mm-te-2015"}],
            {
                "terms": [DS],
                "diseases": [MYELOMA],
                "commercial": False,
                "ethics_approval": True,
                "country": "IT",
                "duration_months": 24,
                "publication_not_before": "2027-06-30",
            },
            lay_summary="A very sensitive test can find one myeloma cell among a million "
            "normal ones. We study whether patients in whom the test finds none stay well for "
            "longer.",
            scientific_abstract="Landmark analysis of PFS by MRD status (10⁻⁵ and 10⁻⁶) after "
            "consolidation and at one year of maintenance in MM-TE 2015.",
            public_benefit="Evidence for MRD-guided maintenance decisions.",
            ethics_reference="CE-AVEC 290/2026/Oss/AOUBo",
            data_justification="MRD results at each time point, R-ISS and survival.",
            funding="European Myeloma Network fellowship",
        ),
        signoffs=[("mm-te-2015", "Agreed by the trial steering committee on its last call.")],
        votes=[
            ("dac-member", "approve", ""),
            ("dac-member-2", "approve", "Subject to the trial group reviewing the manuscript."),
            ("dac-member-3", "approve", ""),
        ],
        decision={
            "outcome": "approve_with_conditions",
            "reasons": "Approved within the trial's consent for myeloma research in Europe.",
            "conditions": [
                "Send the manuscript to the MM-TE 2015 steering committee 60 days before "
                "submission.",
                "Publish no result before the trial's moratorium ends (30 June 2027).",
            ],
        },
    ),
    DemoRequest(
        applicant="researcher-2",
        fate="rejected",
        content=_application(
            "Real-world cost of erythropoiesis-stimulating agents in MDS for a pricing dossier",
            [{"dataset": "mds-registry-it"}],
            {
                "terms": [HMB],
                "diseases": [MDS],
                "commercial": True,
                "ethics_approval": True,
                "country": "IT",
                "duration_months": 12,
            },
            lay_summary="We estimate what treating anaemia in MDS costs, for a company's "
            "submission to health-technology assessment bodies.",
            scientific_abstract="Resource use and cost of ESA treatment from registry data.",
            public_benefit="Informs reimbursement decisions.",
            ethics_reference="CE-AVEC 501/2026/Oss/AOUBo",
            data_justification="Treatment lines, transfusion and hospital-stay variables.",
            funding="Commissioned by a pharmaceutical company",
            conflicts_of_interest="The study is paid for by a manufacturer of an ESA.",
        ),
        votes=[
            ("dac-member", "reject", "The registry is for not-for-profit use only."),
            ("dac-member-2", "reject", ""),
            ("dac-member-3", "reject", "Commercial use; the consent does not allow it."),
        ],
        decision={
            "outcome": "reject",
            "reasons": "The registry's consent allows not-for-profit use only; a pricing "
            "dossier for a manufacturer is a commercial use.",
        },
    ),
    DemoRequest(
        applicant="researcher",
        fate="withdrawn",
        content=_application(
            "CNS involvement at diagnosis and relapse in paediatric ALL",
            [{"dataset": "all-paed-2010"}],
            {
                "terms": [DS],
                "diseases": [B_ALL],
                "commercial": False,
                "ethics_approval": True,
                "country": "DE",
                "duration_months": 24,
            },
            lay_summary="Leukaemia can reach the brain and spinal cord. We study whether "
            "children in whom it does at diagnosis relapse more often.",
            scientific_abstract="Cumulative incidence of CNS and combined relapse by CNS status "
            "at diagnosis.",
            public_benefit="Better-targeted CNS-directed therapy.",
            ethics_reference="Ethikkommission Ulm 77/26",
            data_justification="CNS status, risk group, treatment and relapse site.",
        ),
        reason="The question is now part of the I-BFM consortium's pooled project.",
    ),
    DemoRequest(
        applicant="researcher",
        fate="closed",
        content=_application(
            "Early death after intensive induction in older adults with AML",
            [{"dataset": "aml-ic-2016"}],
            {
                "terms": [DS],
                "diseases": [AML],
                "commercial": False,
                "ethics_approval": True,
                "country": "DE",
                "duration_months": 12,
            },
            lay_summary="Intensive chemotherapy for leukaemia is hard on older patients. We "
            "looked at who died in the first weeks and why.",
            scientific_abstract="30- and 60-day mortality after intensive induction by age, "
            "performance status and comorbidity.",
            public_benefit="Better selection of older patients for intensive treatment.",
            ethics_reference="Ethikkommission Ulm 12/25",
            data_justification="Age, ECOG, HCT-CI, induction regimen and date of death.",
        ),
        votes=[
            ("dac-member", "approve", ""),
            ("dac-member-3", "approve", ""),
        ],
        decision={
            "outcome": "approve",
            "reasons": "A focused safety question within the trial's consent.",
        },
        accept=["researcher"],
        reason="The project is finished and its final report received; access ended at the "
        "applicant's request.",
    ),
]

#: how far each fate goes
_REACH = {
    "draft": (),
    "submitted": ("submit",),
    "under_review": ("submit", "signoff", "vote"),
    "returned": ("submit", "signoff", "vote", "decide"),
    "approved": ("submit", "signoff", "vote", "decide", "accept"),
    "approved_with_conditions": ("submit", "signoff", "vote", "decide"),
    "rejected": ("submit", "signoff", "vote", "decide"),
    "withdrawn": ("submit", "withdraw"),
    "closed": ("submit", "signoff", "vote", "decide", "accept", "end"),
}


def _password(result: core_demo.DemoResult) -> str:
    """The demo's one password when it has one (``HARMONY_DEMO_PASSWORD``, or the one the
    core accounts just got when they share it), else a random one per account."""
    configured = os.environ.get("HARMONY_DEMO_PASSWORD")
    if configured:
        return configured
    secrets_given = {secret for _, _, secret in result.accounts}
    if len(result.accounts) > 1 and len(secrets_given) == 1:
        return secrets_given.pop()
    return secrets.token_urlsafe(12)


def _organisation(names: list[str]) -> str | None:
    session = get_session()
    for name in names:
        found = session.scalar(
            select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
        )
        if found is not None:
            return found
    return None


def _demo_user(local: str) -> User | None:
    return core_services.find_user_by_email(f"{local}@{core_demo.DEMO_DOMAIN}")


def _committee() -> DataAccessCommittee | None:
    """The demo committee, made the default one when no committee is (requests go there)."""
    session = get_session()
    committee = session.scalar(
        select(DataAccessCommittee).where(DataAccessCommittee.name == COMMITTEE)
    )
    if committee is None:
        return None
    if session.scalar(select(DataAccessCommittee.id).where(DataAccessCommittee.is_default)) is None:
        committee = core_services.update_committee(SYSTEM, committee.id, {"is_default": True})
    return committee


def _add_people(result: core_demo.DemoResult, committee: DataAccessCommittee) -> None:
    session = get_session()
    datasets = dict(session.execute(select(Dataset.identifier, Dataset.organisation_id)).all())
    for local, name, organisations, roles in PEOPLE:
        if _demo_user(local) is not None:
            continue
        grants: list[dict[str, Any]] = []
        organisation_id = _organisation(organisations)
        for role in roles:
            if role == "researcher":
                grants.append({"role": Role.RESEARCHER.value})
            elif role == "member":
                grants.append({"role": Role.DAC_MEMBER.value, "committee_id": committee.id})
            elif role.startswith("custodian:"):
                owner = datasets.get(role.split(":", 1)[1])
                if owner is None:
                    continue
                organisation_id = owner
                grants.append({"role": Role.CUSTODIAN.value, "organisation_id": owner})
        if not grants:
            continue
        secret = _password(result)
        core_services.create_user(
            SYSTEM,
            {
                "email": f"{local}@{core_demo.DEMO_DOMAIN}",
                "name": name,
                "password": secret,
                "organisation_id": organisation_id,
                "roles": grants,
            },
        )
        result.accounts.append((local, f"{local}@{core_demo.DEMO_DOMAIN}", secret))


def _exists(applicant: User, title: str) -> bool:
    return (
        get_session().scalar(
            select(AccessRequest.id)
            .where(AccessRequest.applicant_id == applicant.id, AccessRequest.title == title)
            .limit(1)
        )
        is not None
    )


def _due(months: int) -> str:
    return (dt.date.today() + dt.timedelta(days=round(months * 30.5))).isoformat()


def _decision_data(request: AccessRequest, spec: DemoRequest) -> dict[str, Any]:
    """The chair's decision, with a note for each dataset the check asked to review and a
    justification for one it found incompatible (what the chair would have to write)."""
    data = dict(spec.decision)
    data["reports"] = [
        {"kind": r["kind"], "due_on": _due(r["months"])} for r in data.get("reports", [])
    ]
    if data["outcome"] in ("approve", "approve_with_conditions"):
        notes, overrides = {}, {}
        for item in request.datasets:
            identifier = item.dataset.identifier
            if item.check_outcome == "needs_review":
                notes[identifier] = (
                    "Checked with the custodian: the stated use is within the consent."
                )
            elif item.check_outcome == "incompatible":
                overrides[identifier] = "The custodian confirmed in writing that this use is "
                "within the consent."
        data["review_notes"], data["overrides"] = notes, overrides
    return data


def _run(spec: DemoRequest, people: dict[str, User]) -> str:
    """Create one demo request and take it as far as its fate; returns its reference."""
    from governance.entitlements import jobs as entitlement_jobs
    from governance.entitlements import services as entitlements
    from governance.requests import services as requests
    from governance.review import services as review

    session = get_session()
    applicant = people[spec.applicant]
    content = dict(spec.content)
    content["members"] = [
        {"email": people[m].email, "name": people[m].name, "role": "Co-investigator"}
        for m in spec.team
    ]
    request = requests.create_request(applicant, content)
    request_id = request.id
    reach = _REACH[spec.fate]

    def user(local: str) -> User:
        found = session.get(User, people[local].id)
        if found is None:
            raise NotFound(f"The demo account {local} is gone.")
        return found

    if "submit" in reach:
        core_workflow.apply("access_request", user(spec.applicant), request_id, "submit",
                            if_match=UNCHECKED)  # fmt: skip
    if "withdraw" in reach:
        core_workflow.apply(
            "access_request",
            user(spec.applicant),
            request_id,
            "withdraw",
            if_match=UNCHECKED,
            params={"reason": spec.reason},
        )
    if "signoff" in reach:
        for identifier, reason in spec.signoffs:
            owner = session.scalar(
                select(Dataset.organisation_id).where(Dataset.identifier == identifier)
            )
            custodian = next(
                (
                    local
                    for local, _name, _orgs, roles in PEOPLE
                    if f"custodian:{identifier}" in roles
                    and local in people
                    and people[local].organisation_id == owner
                ),
                None,
            )
            if custodian is not None:
                review.signoff(user(custodian), request_id, identifier, True, reason)
    if "vote" in reach:
        for local, choice, comment in spec.votes:
            review.cast_vote(user(local), request_id, choice, comment)
    if "decide" in reach:
        request = requests.get_request(user("dac-chair"), request_id)
        review.decide(user("dac-chair"), request_id, _decision_data(request, spec), UNCHECKED)
    if "accept" in reach:
        for local in spec.accept:
            terms = entitlements.terms_for(user(local), request_id)
            entitlements.accept_terms(user(local), request_id, terms.terms.sha256)
    if "end" in reach:
        entitlements.revoke(user("dac-chair"), request_id, reason=spec.reason)
        entitlement_jobs.close_finished()
    return str(
        session.scalar(select(AccessRequest.reference).where(AccessRequest.id == request_id))
    )


def load_demo_requests(result: core_demo.DemoResult) -> None:
    """The demo step: the people it needs, then each :data:`DEMO_REQUESTS` not there yet."""
    committee = _committee()
    if committee is None or _demo_user("researcher") is None or _demo_user("dac-chair") is None:
        result.notes.append("demo requests: the demo accounts and committee are missing; none")
        return
    _add_people(result, committee)
    people = {
        local: user
        for local in ["researcher", "dac-member", "dac-chair", *(p[0] for p in PEOPLE)]
        if (user := _demo_user(local)) is not None
    }
    made: dict[str, int] = {}
    skipped: list[str] = []
    for spec in DEMO_REQUESTS:
        applicant = people.get(spec.applicant)
        if applicant is None or _exists(applicant, spec.content["title"]):
            continue
        try:
            _run(spec, people)
        except ServiceError as exc:
            # e.g. a catalogue of one's own, without the demo agreements: nothing requestable
            get_session().rollback()
            skipped.append(f"{spec.fate} ({exc.detail})")
            continue
        made[spec.fate] = made.get(spec.fate, 0) + 1
    if made or skipped:
        result.notes.append(
            "demo requests: "
            + (", ".join(f"{n} {fate.replace('_', ' ')}" for fate, n in made.items()) or "none")
            + (f"; not made: {'; '.join(skipped)}" if skipped else "")
        )


def register_demo_step(register: Callable[[core_demo.DemoStep], None] | None = None) -> None:
    """After the agreements' step (governance/__init__.py calls it after
    ``governance.demo.register_demo_step()``)."""
    (register or core_demo.register_step)(load_demo_requests)
