"""The compatibility check: may a research purpose use data under given data-use conditions?

A pure function of (purpose, conditions, hierarchy): no database, no Flask. The hierarchy carries
what the check needs of the term store (the ancestors and labels of the disease terms involved,
and the versions of the ontologies they come from); :func:`current_hierarchy` in
``governance.matching.hierarchy`` builds one from the store.

Every rule yields nothing (satisfied), an obligation (the researcher must do something), or a
reason with the outcome ``needs_review`` or ``incompatible``. The outcome is ``incompatible`` if
any reason says so, else ``needs_review`` if any says so, else ``compatible``.

A purpose with several terms states several uses, and **every** stated use must be allowed: a
purpose ``DS(AML) + method development`` fits only data on which both disease-specific AML research
and method development are allowed. Research types that qualify a use (genetic, drug development)
do not by themselves need a permission; population, age-category, gender-category and
research-control research, and purposes flagged sensitive, always go to the committee; ancestry
research is research into population origins or ancestry, a POA use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Any

from core.text import plural

COMPATIBLE = "compatible"
NEEDS_REVIEW = "needs_review"
INCOMPATIBLE = "incompatible"
OUTCOMES = (COMPATIBLE, NEEDS_REVIEW, INCOMPATIBLE)
_RANK = {COMPATIBLE: 0, NEEDS_REVIEW: 1, INCOMPATIBLE: 2}

# --- DUO terms -------------------------------------------------------------------------------
# permissions
NRES = "DUO:0000004"
GRU = "DUO:0000042"
HMB = "DUO:0000006"
DS = "DUO:0000007"
POA = "DUO:0000011"
# modifiers
RS = "DUO:0000012"
NMDS = "DUO:0000015"
GSO = "DUO:0000016"
NPUNCU = "DUO:0000018"
PUB = "DUO:0000019"
COL = "DUO:0000020"
IRB = "DUO:0000021"
GS = "DUO:0000022"
MOR = "DUO:0000024"
TS = "DUO:0000025"
US = "DUO:0000026"
PS = "DUO:0000027"
IS = "DUO:0000028"
RTN = "DUO:0000029"
CC = "DUO:0000043"
NPOA = "DUO:0000044"
NPU = "DUO:0000045"
NCU = "DUO:0000046"
# research types (purpose terms besides the permissions GRU, HMB, DS, POA)
METHOD_DEVELOPMENT = "DUO:0000031"
POPULATION = "DUO:0000032"
ANCESTRY = "DUO:0000033"
AGE_CATEGORY = "DUO:0000034"
GENDER_CATEGORY = "DUO:0000035"
RESEARCH_CONTROL = "DUO:0000036"
GENETIC = "DUO:0000038"
DRUG_DEVELOPMENT = "DUO:0000039"

PERMISSIONS: dict[str, str] = {NRES: "NRES", GRU: "GRU", HMB: "HMB", DS: "DS", POA: "POA"}
MODIFIERS: dict[str, str] = {
    RS: "RS",
    NMDS: "NMDS",
    GSO: "GSO",
    NPUNCU: "NPUNCU",
    PUB: "PUB",
    COL: "COL",
    IRB: "IRB",
    GS: "GS",
    MOR: "MOR",
    TS: "TS",
    US: "US",
    PS: "PS",
    IS: "IS",
    RTN: "RTN",
    CC: "CC",
    NPOA: "NPOA",
    NPU: "NPU",
    NCU: "NCU",
}
#: the parameter each modifier needs (the others take none)
MODIFIER_PARAMS: dict[str, str] = {
    RS: "topic",
    GS: "regions",
    MOR: "date",
    TS: "months",
    US: "users",
    PS: "projects",
    IS: "institutions",
}
#: the terms a purpose may state, with the words used in messages
PURPOSE_TERMS: dict[str, str] = {
    GRU: "general research use (GRU)",
    HMB: "health, medical or biomedical research (HMB)",
    DS: "disease-specific research (DS)",
    POA: "population origins or ancestry research (POA)",
    METHOD_DEVELOPMENT: "method development",
    POPULATION: "population research",
    ANCESTRY: "ancestry research",
    AGE_CATEGORY: "age-category research",
    GENDER_CATEGORY: "gender-category research",
    RESEARCH_CONTROL: "use as research control",
    GENETIC: "genetic research",
    DRUG_DEVELOPMENT: "drug development research",
}
#: the uses that need a permission (a purpose states at least one of them)
PRIMARY_USES = (GRU, HMB, DS, POA, METHOD_DEVELOPMENT)
#: research types the committee always looks at
SENSITIVE_TYPES = (POPULATION, AGE_CATEGORY, GENDER_CATEGORY, RESEARCH_CONTROL)

#: which primary purposes each permission allows (method development is its own rule)
ALLOWED_USES: dict[str, frozenset[str]] = {
    NRES: frozenset({GRU, HMB, DS, POA}),
    GRU: frozenset({GRU, HMB, DS, POA}),
    HMB: frozenset({HMB, DS}),
    DS: frozenset({DS}),
    POA: frozenset({POA}),
}

# --- regions for GS (ISO 3166-1 alpha-2) ---------------------------------------------------------
#: the 27 member states of the European Union (Greece is GR, as in ISO 3166-1, not EL)
EU: frozenset[str] = frozenset(
    # one string read by eye against the official list, not 27 quoted items
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)
#: the European Economic Area: the EU and Iceland, Liechtenstein, Norway
EEA: frozenset[str] = EU | {"IS", "LI", "NO"}
#: "Europe": the EEA, Switzerland, the United Kingdom and every other country or territory of the
#: UN M49 region Europe (code 150) — the Crown Dependencies, the Faroe Islands, Gibraltar, the
#: Åland Islands, Svalbard and Jan Mayen, the Western Balkans, Belarus, Moldova, Ukraine, Russia,
#: the micro-states. Cyprus counts through the EU. Not Türkiye, Georgia, Armenia, Azerbaijan or
#: Kazakhstan (M49 puts them in Asia): a custodian who means them lists them by code.
EUROPE: frozenset[str] = EEA | frozenset(
    # one string read by eye against the official list, not 22 quoted items
    "AD AL AX BA BY CH FO GB GG GI IM JE MC MD ME MK RS RU SJ SM UA VA".split()  # noqa: SIM905
)
REGIONS: dict[str, frozenset[str]] = {"EU": EU, "EEA": EEA, "EUROPE": EUROPE}


# --- the shapes --------------------------------------------------------------------------------
def _canonical(value: Any) -> Any:
    """A JSON-able form in which equal meaning gives equal text: dates as ISO strings, lists
    and sets sorted (the order of a modifier's regions or users means nothing)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_canonical(v) for v in value]
        return sorted(set(map(_dumps, items))) if items else []
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _freeze(value: Any) -> Any:
    """A hashable form of a parameter value, cheap to build (lists and sets as sorted tuples
    where their items sort)."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        items = tuple(_freeze(v) for v in value)
        try:
            return tuple(sorted(set(items)))
        except TypeError:
            return items
    return value


@dataclass(frozen=True)
class Modifier:
    """A DUO data-use modifier with its parameters (``{"date": date(2026, 6, 1)}`` for MOR,
    ``{"regions": ["EEA"]}`` for GS, ``{"months": 24}`` for TS …)."""

    term: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __hash__(self) -> int:
        return hash((self.term, _freeze(self.params)))


@dataclass(frozen=True)
class Conditions:
    """A dataset's data-use conditions: exactly one permission, the diseases of a DS
    permission, the modifiers; ``revision`` says which numbered version of the dataset's
    conditions this is (it is not part of the signature)."""

    permission: str
    diseases: tuple[str, ...] = ()
    modifiers: tuple[Modifier, ...] = ()
    revision: int | None = None

    @cached_property
    def signature(self) -> str:
        """A stable SHA-256 (64 hex digits) of the canonical content: identical conditions —
        whatever the order of diseases, modifiers and parameter lists, and whatever the
        revision — have the identical signature."""
        content = {
            "permission": self.permission,
            "diseases": sorted(set(self.diseases)),
            "modifiers": sorted(
                {_dumps({"term": m.term, **_canonical(m.params)}) for m in self.modifiers}
            ),
        }
        return hashlib.sha256(_dumps(content).encode()).hexdigest()

    def modifier(self, term: str) -> Modifier | None:
        return next((m for m in self.modifiers if m.term == term), None)

    @property
    def content_key(self) -> Any:
        """A hashable key of the content, equal for equal conditions like :attr:`signature`
        but about ten times cheaper (no JSON, no hash function): what :func:`check_many`
        memoises by. Falls back to the signature for parameters it cannot order."""
        try:
            return (
                self.permission,
                tuple(sorted(set(self.diseases))),
                tuple(sorted((m.term, _freeze(m.params)) for m in self.modifiers)),
            )
        except TypeError:
            return self.signature


@dataclass(frozen=True)
class Purpose:
    """What a researcher wants to do with the data.

    ``terms`` are DUO research purposes and research types (:data:`PURPOSE_TERMS`); the other
    fields are the answers the modifiers ask about. ``None`` means "not said", which is never
    read as the favourable answer. The fields for the modifiers a machine cannot judge alone:

    - ``users`` (US): the people who will use the data; US is satisfied when every one of them
      is among the users the dataset names (compared without case).
    - ``project`` (PS), ``institution`` (IS): the project and the applicant's institution; PS/IS
      are satisfied when the dataset names them.
    - ``topic`` (RS): the research topic; RS is satisfied when it is the dataset's topic
      (compared without case and extra spaces).
    - ``collaboration`` (COL): ``True`` when the applicant commits to collaborate with the
      study's investigators.
    - ``clinical_care`` (CC): whether results will be used in the care of patients; CC is
      satisfied by either explicit answer, and a clinical-care purpose on data without CC goes
      to the committee.
    - GSO is satisfied when ``terms`` include genetic research (DUO:0000038).
    """

    terms: frozenset[str]
    diseases: frozenset[str] = frozenset()
    commercial: bool | None = None
    ethics_approval: bool | None = None
    country: str | None = None
    publication_not_before: date | None = None
    duration_months: int | None = None
    sensitive: bool = False
    users: frozenset[str] = frozenset()
    project: str | None = None
    institution: str | None = None
    topic: str | None = None
    collaboration: bool | None = None
    clinical_care: bool | None = None


@dataclass
class Reason:
    rule: str
    outcome: str
    message: str


@dataclass
class Obligation:
    term: str
    text: str


@dataclass
class Result:
    outcome: str
    obligations: list[Obligation] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    ontology_versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """What the check needs of the term store, in memory.

    ``ancestors`` maps a disease term to every term above it (itself included or not: both
    work); ``labels`` gives the words for messages; ``versions`` maps a CURIE prefix ("DUO",
    "NCIT") to the version of the ontology that holds its terms.
    """

    ancestors: Mapping[str, frozenset[str]] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)

    def within(self, term: str, broader: str) -> bool:
        """Whether ``term`` is ``broader`` or lies below it."""
        return term == broader or broader in self.ancestors.get(term, frozenset())

    def name(self, curie: str) -> str:
        label = self.labels.get(curie)
        return f"{label} ({curie})" if label and label != curie else curie


# --- the rules -----------------------------------------------------------------------------------
def _code(term: str) -> str:
    short = PERMISSIONS.get(term) or MODIFIERS.get(term)
    return f"{short} ({term})" if short else term


def _names(curies: Iterable[str], hierarchy: Hierarchy) -> str:
    return ", ".join(hierarchy.name(c) for c in sorted(curies))


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return []


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def expand_regions(regions: Iterable[str]) -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes that a GS modifier's regions cover ("EU", "EEA" and
    "EUROPE" expanded; country codes as they are)."""
    out: set[str] = set()
    for region in regions:
        key = region.strip().upper()
        out |= REGIONS.get(key, frozenset({key}))
    return frozenset(out)


class _Verdict:
    def __init__(self) -> None:
        self.reasons: list[Reason] = []
        self.obligations: list[Obligation] = []

    def incompatible(self, rule: str, message: str) -> None:
        self.reasons.append(Reason(rule, INCOMPATIBLE, message))

    def review(self, rule: str, message: str) -> None:
        self.reasons.append(Reason(rule, NEEDS_REVIEW, message))

    def oblige(self, term: str, text: str) -> None:
        self.obligations.append(Obligation(term, text))


def _permission(
    purpose: Purpose, conditions: Conditions, hierarchy: Hierarchy, v: _Verdict
) -> None:
    permission = conditions.permission
    allowed = ALLOWED_USES.get(permission)
    if allowed is None:
        v.review(
            "permission",
            f"The dataset's permission {permission} is not one the check knows "
            "(NRES, GRU, HMB, DS or POA); the committee decides.",
        )
        return
    uses = [t for t in (GRU, HMB, DS, POA) if t in purpose.terms]
    if ANCESTRY in purpose.terms and POA not in uses:
        uses.append(POA)  # ancestry research is research into population origins or ancestry
    if not uses and METHOD_DEVELOPMENT not in purpose.terms:
        v.review(
            "purpose",
            "The purpose names no research use the conditions can be compared with (general "
            "research, health/medical/biomedical, disease-specific, population origins or "
            "ancestry research, or method development); the committee decides.",
        )
    for use in uses:
        if use not in allowed:
            what = PURPOSE_TERMS[use]
            if use == POA and POA not in purpose.terms:
                what = "ancestry research, which is population origins or ancestry research (POA)"
            v.incompatible(
                "permission",
                f"The dataset allows only {_permission_words(permission, conditions, hierarchy)}"
                f"; the purpose states {what}.",
            )
    if DS in uses and DS in allowed:
        _diseases(purpose, conditions, hierarchy, v)


def _permission_words(permission: str, conditions: Conditions, hierarchy: Hierarchy) -> str:
    if permission == DS:
        return (
            f"research on {_names(conditions.diseases, hierarchy)} — disease-specific research (DS)"
        )
    return {
        GRU: "general research use (GRU)",
        HMB: "health, medical or biomedical research (HMB), which excludes general research "
        "and population origins or ancestry research",
        POA: "population origins or ancestry research (POA)",
        NRES: "any use (NRES)",
    }[permission]


def _diseases(purpose: Purpose, conditions: Conditions, hierarchy: Hierarchy, v: _Verdict) -> None:
    """A DS use on data with a DS permission: every purpose disease is one of the dataset's
    diseases or lies below one of them."""
    if conditions.permission != DS:
        return
    if not purpose.diseases:
        v.incompatible(
            "disease",
            "The purpose is disease-specific research (DS) but names no disease; the dataset "
            f"allows research on {_names(conditions.diseases, hierarchy)} only.",
        )
        return
    outside = sorted(
        x for x in purpose.diseases if not any(hierarchy.within(x, y) for y in conditions.diseases)
    )
    if outside:
        broader = [x for x in outside if any(hierarchy.within(y, x) for y in conditions.diseases)]
        detail = ""
        if broader:
            detail = f" ({_names(broader, hierarchy)} is broader than the dataset's diseases)"
        v.incompatible(
            "disease",
            f"The dataset allows research on {_names(conditions.diseases, hierarchy)} and the "
            f"diseases below them only; the purpose names {_names(outside, hierarchy)}, which "
            f"lies outside them{detail} (DUO:0000007).",
        )


def _method_development(purpose: Purpose, conditions: Conditions, v: _Verdict) -> None:
    if conditions.modifier(NMDS) is None:
        return
    if METHOD_DEVELOPMENT not in purpose.terms:
        v.oblige(
            NMDS,
            "Do not use the data for general methods research; methods may only be "
            "developed within the disease-specific research you stated.",
        )
        return
    if DS not in purpose.terms or not purpose.diseases:
        v.incompatible(
            "method_development",
            "The dataset has no general methods research (NMDS, DUO:0000015): method "
            "development is allowed only as part of disease-specific research (DS) on the "
            "dataset's diseases, and the purpose states method development without it.",
        )
    else:
        v.oblige(
            NMDS,
            "Develop methods only within the disease-specific research you stated "
            "(no general methods research).",
        )


def _sensitive(purpose: Purpose, v: _Verdict) -> None:
    involved = [PURPOSE_TERMS[t] + f" ({t})" for t in SENSITIVE_TYPES if t in purpose.terms]
    if purpose.sensitive:
        involved.append("a use the applicant flags as sensitive")
    if involved:
        v.review(
            "sensitive_research",
            "The purpose involves " + ", ".join(involved) + "; such research always goes to "
            "the data access committee.",
        )


def _commercial(purpose: Purpose, term: str, v: _Verdict) -> None:
    what = {
        NPUNCU: "not-for-profit, non-commercial use only",
        NPU: "use by not-for-profit organisations only",
        NCU: "non-commercial use only",
    }[term]
    if purpose.commercial is True:
        v.incompatible(
            "commercial",
            f"The dataset allows {what} ({_code(term)}); the purpose is commercial.",
        )
    elif purpose.commercial is None:
        v.incompatible(
            "commercial",
            f"The dataset allows {what} ({_code(term)}); the purpose does not say whether it "
            "is commercial, so it cannot be taken as non-commercial.",
        )


def _modifier(purpose: Purpose, m: Modifier, hierarchy: Hierarchy, v: _Verdict) -> None:
    term, p = m.term, m.params
    if term in (NPUNCU, NPU, NCU):
        _commercial(purpose, term, v)
    elif term == IRB:
        v.oblige(IRB, "Keep the ethics approval for this research valid while you use the data.")
        if purpose.ethics_approval is not True:
            v.review(
                "ethics",
                "The dataset requires ethics approval (IRB, DUO:0000021) and the purpose does "
                "not state that the research has it; the committee checks the approval.",
            )
    elif term == MOR:
        until = _as_date(p.get("date"))
        if until is None:
            v.review(
                "moratorium",
                "The dataset has a publication moratorium (MOR, DUO:0000024) "
                "without a readable date; the committee checks it.",
            )
        elif purpose.publication_not_before is None:
            v.incompatible(
                "moratorium",
                f"The dataset may not be published on before {until.isoformat()} (publication "
                "moratorium, MOR, DUO:0000024); the purpose does not say when it will publish.",
            )
        elif purpose.publication_not_before < until:
            v.incompatible(
                "moratorium",
                f"The dataset may not be published on before {until.isoformat()} (publication "
                f"moratorium, MOR, DUO:0000024); the purpose plans to publish from "
                f"{purpose.publication_not_before.isoformat()}.",
            )
        else:
            v.oblige(MOR, f"Do not publish results before {until.isoformat()}.")
    elif term == GS:
        regions = _as_list(p.get("regions"))
        covered = expand_regions(regions)
        listed = ", ".join(regions) or "no region"
        if purpose.country is None:
            v.review(
                "geography",
                f"The dataset may be used only in {listed} (geographical restriction, GS, "
                "DUO:0000022); the purpose does not say in which country the data will be used.",
            )
        elif purpose.country.strip().upper() not in covered:
            v.incompatible(
                "geography",
                f"The dataset may be used only in {listed} (geographical restriction, GS, "
                f"DUO:0000022); the purpose would use it in {purpose.country.upper()}.",
            )
        else:
            v.oblige(GS, f"Use and keep the data only in {listed}.")
    elif term == TS:
        months = _as_int(p.get("months"))
        if months is None or months <= 0:
            v.review(
                "time_limit",
                "The dataset limits the time of use (TS, DUO:0000025) "
                "without a readable number of months; the committee checks it.",
            )
            return
        v.oblige(
            TS,
            f"Access ends {plural(months, 'month')} after it is granted; the data must then be "
            "deleted or the access renewed.",
        )
        if purpose.duration_months is not None and purpose.duration_months > months:
            v.incompatible(
                "time_limit",
                f"The dataset may be used for at most {plural(months, 'month')} (time limit on "
                "use, TS, DUO:0000025); the purpose needs "
                f"{plural(purpose.duration_months, 'month')}.",
            )
    elif term == COL:
        v.oblige(COL, "Collaborate with the investigators of the study that produced the data.")
        if purpose.collaboration is not True:
            v.review(
                "collaboration",
                "The dataset requires collaboration with its study's "
                "investigators (COL, DUO:0000020) and the purpose does not commit to it.",
            )
    elif term == US:
        allowed = {_fold(u) for u in _as_list(p.get("users"))}
        missing = sorted(u for u in purpose.users if _fold(u) not in allowed)
        if not purpose.users or missing:
            who = (
                f" ({', '.join(missing)} not among them)"
                if missing
                else " (the purpose names none)"
            )
            v.review(
                "users",
                "The dataset may be used only by the people it names (user-specific "
                f"restriction, US, DUO:0000026){who}; the committee checks who will use it.",
            )
    elif term == PS:
        _named(purpose.project, p.get("projects"), "project", PS, v)
    elif term == IS:
        _named(purpose.institution, p.get("institutions"), "institution", IS, v)
    elif term == RS:
        topic = p.get("topic")
        if not (isinstance(topic, str) and purpose.topic and _fold(purpose.topic) == _fold(topic)):
            v.review(
                "research_specific",
                f"The dataset may be used only for research on "
                f"“{topic}” (research-specific restriction, RS, DUO:0000012); the purpose "
                "does not state that topic, so the committee judges whether it falls within.",
            )
    elif term == GSO:
        if GENETIC not in purpose.terms:
            v.review(
                "genetic_only",
                "The dataset may be used for genetic studies only (GSO, "
                "DUO:0000016) and the purpose does not state genetic research "
                "(DUO:0000038).",
            )
    elif term == CC:
        if purpose.clinical_care is None:
            v.review(
                "clinical_care",
                "The dataset allows use in clinical care (CC, "
                "DUO:0000043) and the purpose does not say whether results will be used in "
                "the care of patients; the committee asks.",
            )
    elif term == PUB:
        v.oblige(
            PUB,
            "Make the results of your research available to the scientific "
            "community (publication required).",
        )
    elif term == RTN:
        v.oblige(
            RTN,
            "Return the results and derived or enriched data to the dataset's "
            "custodian so that they can be added to the resource.",
        )
    elif term == NPOA:
        if POA in purpose.terms or ANCESTRY in purpose.terms:
            v.incompatible(
                "ancestry",
                "The dataset may not be used for research into "
                "population origins or ancestry (NPOA, DUO:0000044); the purpose "
                "states it.",
            )
        else:
            v.oblige(NPOA, "Do not use the data for research into population origins or ancestry.")
    elif term == NMDS:
        pass  # its own rule, with the purpose's uses
    else:
        v.review(
            "modifier",
            f"The dataset has a data-use modifier the check does not know "
            f"({term}); the committee decides.",
        )


def _named(stated: str | None, listed: Any, what: str, term: str, v: _Verdict) -> None:
    names = _as_list(listed)
    if stated and _fold(stated) in {_fold(n) for n in names}:
        return
    code = {PS: "project-specific restriction, PS", IS: "institution-specific restriction, IS"}
    given = f"names {stated}" if stated else f"names no {what}"
    v.review(
        what,
        f"The dataset may be used only by the {what}s it names ({', '.join(names) or 'none'}; "
        f"{code[term]}, {term}); the purpose {given}.",
    )


def _clinical_care_without_cc(purpose: Purpose, conditions: Conditions, v: _Verdict) -> None:
    if purpose.clinical_care is True and conditions.modifier(CC) is None:
        v.review(
            "clinical_care",
            "The purpose will use results in the care of patients and the "
            "dataset does not allow clinical care use (CC, DUO:0000043); the committee "
            "decides.",
        )


def combine(reasons: Iterable[Reason]) -> str:
    """``incompatible`` if any reason says so, else ``needs_review`` if any says so, else
    ``compatible``."""
    worst = COMPATIBLE
    for reason in reasons:
        if _RANK.get(reason.outcome, 1) > _RANK[worst]:
            worst = reason.outcome
    return worst


def _versions(purpose: Purpose, conditions: Conditions, hierarchy: Hierarchy) -> dict[str, str]:
    prefixes = {"DUO"} | {c.split(":", 1)[0] for c in (*purpose.diseases, *conditions.diseases)}
    return {p: hierarchy.versions[p] for p in sorted(prefixes) if p in hierarchy.versions}


def check(purpose: Purpose, conditions: Conditions, hierarchy: Hierarchy) -> Result:
    """Whether ``purpose`` may use data under ``conditions``: the outcome, the obligations the
    researcher takes on, a reason for every rule that is not satisfied, and the versions of the
    ontologies read. Pure: the same arguments give the same result."""
    v = _Verdict()
    _permission(purpose, conditions, hierarchy, v)
    _method_development(purpose, conditions, v)
    _sensitive(purpose, v)
    for m in conditions.modifiers:
        _modifier(purpose, m, hierarchy, v)
    _clinical_care_without_cc(purpose, conditions, v)
    return Result(
        outcome=combine(v.reasons),
        obligations=v.obligations,
        reasons=v.reasons,
        ontology_versions=_versions(purpose, conditions, hierarchy),
    )


def check_many(
    purpose: Purpose, conditions_list: Iterable[Conditions], hierarchy: Hierarchy
) -> list[Result]:
    """:func:`check` for each conditions, in order; identical conditions (the same content,
    as the signature says, keyed by :attr:`Conditions.content_key`, which is cheaper to build)
    are checked once. Each result is its own object (callers may add to its obligations)."""
    seen: dict[Any, Result] = {}
    out: list[Result] = []
    for conditions in conditions_list:
        key = conditions.content_key
        result = seen.get(key)
        if result is None:
            result = seen[key] = check(purpose, conditions, hierarchy)
        out.append(
            replace(
                result,
                obligations=list(result.obligations),
                reasons=list(result.reasons),
                ontology_versions=dict(result.ontology_versions),
            )
        )
    return out


def current_hierarchy(curies: Iterable[str] = ()) -> Hierarchy:
    """The term store's hierarchy for ``curies`` (see ``governance.matching.hierarchy``);
    imported lazily so that this module stays free of the database."""
    from governance.matching.hierarchy import current_hierarchy as build

    return build(curies)
