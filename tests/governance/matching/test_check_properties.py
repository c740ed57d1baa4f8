"""Properties of the compatibility check over generated purposes and conditions (hypothesis):
it never answers ``compatible`` (or anything but ``incompatible``) when a rule of the issue says
``incompatible``; narrowing a purpose's diseases never turns a fit into a misfit; the outcome is
the combination of the reasons; a further restriction never makes the answer better. Pure: no
database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.matching.check import (
    AGE_CATEGORY,
    ANCESTRY,
    CC,
    COL,
    COMPATIBLE,
    DS,
    GENDER_CATEGORY,
    GENETIC,
    GRU,
    GS,
    GSO,
    HMB,
    INCOMPATIBLE,
    IRB,
    IS,
    METHOD_DEVELOPMENT,
    MODIFIERS,
    MOR,
    NCU,
    NEEDS_REVIEW,
    NMDS,
    NPOA,
    NPU,
    NPUNCU,
    NRES,
    POA,
    POPULATION,
    PS,
    PURPOSE_TERMS,
    RESEARCH_CONTROL,
    RS,
    TS,
    US,
    Conditions,
    Modifier,
    Purpose,
    check,
    check_many,
    combine,
)
from tests.governance.matching.haem import ANCESTORS, DISEASES, HIERARCHY

RANK = {COMPATIBLE: 0, NEEDS_REVIEW: 1, INCOMPATIBLE: 2}
#: the regions a generated GS names, with the countries (of those generated) they cover
REGION_COUNTRIES = {
    "EU": {"NL", "GR"},
    "EEA": {"NL", "GR", "NO"},
    "EUROPE": {"NL", "GR", "NO", "CH", "GB"},
    "NL": {"NL"},
    "CH": {"CH"},
}
COUNTRIES = ["NL", "GR", "NO", "CH", "GB", "US"]
DESCENDANTS = {d: {x for x, up in ANCESTORS.items() if d in up} for d in DISEASES}
PERMISSIONS = [NRES, "DUO:0000042", HMB, DS, POA]
ALLOWED = {  # the issue's table, restated
    NRES: {GRU, HMB, DS, POA},
    GRU: {GRU, HMB, DS, POA},
    HMB: {HMB, DS},
    DS: {DS},
    POA: {POA},
}
DAY = st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31))
NAMES = ["Ada Lovelace", "Alan Turing", "Mallory"]


def maybe(strategy):
    return st.one_of(st.none(), strategy)


def mostly(value: bool) -> st.SearchStrategy[bool | None]:
    """Usually the answer that satisfies the modifiers, so that one failing rule at a time is
    common (a rule that misses would otherwise hide behind others)."""
    return st.sampled_from([value, value, value, not value, None])


#: one research use (DS weighted up: it has the most rules), sometimes a research type besides
TERMS = st.builds(
    lambda use, extra: frozenset({use, *extra}),
    st.sampled_from([GRU, HMB, DS, DS, POA, METHOD_DEVELOPMENT]),
    st.frozensets(st.sampled_from(sorted(PURPOSE_TERMS)), max_size=1),
)
purposes = st.builds(
    Purpose,
    terms=TERMS,
    diseases=st.frozensets(st.sampled_from(DISEASES), min_size=1, max_size=3),
    commercial=mostly(False),
    ethics_approval=mostly(True),
    country=st.sampled_from([*COUNTRIES, None]),
    publication_not_before=maybe(DAY),
    duration_months=maybe(st.integers(1, 60)),
    sensitive=st.sampled_from([False, False, False, True]),
    users=st.frozensets(st.sampled_from(NAMES), max_size=2),
    project=maybe(st.sampled_from(["HARMONY", "OTHER"])),
    institution=maybe(st.sampled_from(["Erasmus MC", "Elsewhere"])),
    topic=maybe(st.sampled_from(["MRD", "CAR-T"])),
    collaboration=mostly(True),
    clinical_care=mostly(False),
)
PARAMS = {
    GS: st.fixed_dictionaries(
        {"regions": st.lists(st.sampled_from(sorted(REGION_COUNTRIES)), min_size=1, max_size=2)}
    ),
    MOR: st.fixed_dictionaries({"date": DAY}),
    TS: st.fixed_dictionaries({"months": st.integers(1, 48)}),
    US: st.fixed_dictionaries({"users": st.lists(st.sampled_from(NAMES), min_size=1, max_size=2)}),
    "DUO:0000027": st.just({"projects": ["HARMONY"]}),
    "DUO:0000028": st.just({"institutions": ["Erasmus MC"]}),
    "DUO:0000012": st.just({"topic": "MRD"}),
}
modifiers = st.one_of(
    *(
        st.builds(Modifier, st.just(term), PARAMS.get(term, st.just({})))
        for term in sorted(MODIFIERS)
    )
)
PERMISSION_DISEASES = st.sampled_from([*PERMISSIONS, DS]).flatmap(
    lambda permission: st.tuples(
        st.just(permission),
        st.lists(st.sampled_from(DISEASES), min_size=1, max_size=2, unique=True).map(tuple)
        if permission == DS
        else st.just(()),
    )
)
conditions_ = st.builds(
    lambda pd, mods: Conditions(pd[0], pd[1], tuple(mods)),
    PERMISSION_DISEASES,
    st.lists(modifiers, max_size=3, unique_by=lambda m: m.term),
)


def issue_says_incompatible(p: Purpose, c: Conditions) -> list[str]:
    """The rules that make ``p`` on ``c`` incompatible — the issue's, and the README's choice
    that ancestry research is a POA use — written out again independently of the check."""
    found = []
    uses = p.terms & {GRU, HMB, DS, POA} | ({POA} if ANCESTRY in p.terms else set())
    if uses - ALLOWED[c.permission]:
        found.append("use not allowed by the permission")
    if c.permission == DS and DS in p.terms:  # noqa: SIM102 - the issue's two conditions
        if not p.diseases or any(
            not any(y in ANCESTORS[x] for y in c.diseases) for x in p.diseases
        ):
            found.append("a purpose disease outside the dataset's")
    terms = {m.term: m.params for m in c.modifiers}
    if NMDS in terms and METHOD_DEVELOPMENT in p.terms and not (DS in p.terms and p.diseases):
        found.append("method development under NMDS without DS")
    if terms.keys() & {NPUNCU, NPU, NCU} and p.commercial is not False:
        found.append("commercial (or unanswered) under NPUNCU/NPU/NCU")
    if MOR in terms and (
        p.publication_not_before is None or p.publication_not_before < terms[MOR]["date"]
    ):
        found.append("publication before the moratorium")
    if GS in terms and p.country is not None:
        covered = set().union(*(REGION_COUNTRIES[r] for r in terms[GS]["regions"]))
        if p.country not in covered:
            found.append("country outside the regions")
    if TS in terms and p.duration_months is not None and p.duration_months > terms[TS]["months"]:
        found.append("longer than the time limit")
    if NPOA in terms and p.terms & {POA, ANCESTRY}:
        found.append("POA or ancestry research under NPOA")
    return found


def issue_says_review(p: Purpose, c: Conditions) -> list[str]:
    """The rules that send ``p`` on ``c`` to the committee (the issue's, and the README's
    answers to "satisfied explicitly")."""
    terms = {m.term: m.params for m in c.modifiers}
    found = []
    if p.sensitive or p.terms & {RESEARCH_CONTROL, POPULATION, GENDER_CATEGORY, AGE_CATEGORY}:
        found.append("sensitive research")
    if IRB in terms and p.ethics_approval is not True:
        found.append("IRB without approval")
    if GS in terms and p.country is None:
        found.append("GS without a country")
    if COL in terms and p.collaboration is not True:
        found.append("COL without a commitment")
    if US in terms and (
        not p.users or {u.casefold() for u in p.users} - {u.casefold() for u in terms[US]["users"]}
    ):
        found.append("US: someone not named")
    if PS in terms and p.project not in terms[PS]["projects"]:
        found.append("PS: another project")
    if IS in terms and p.institution not in terms[IS]["institutions"]:
        found.append("IS: another institution")
    if RS in terms and p.topic != terms[RS]["topic"]:
        found.append("RS: another topic")
    if GSO in terms and GENETIC not in p.terms:
        found.append("GSO without genetic research")
    if CC in terms and p.clinical_care is None:
        found.append("CC unanswered")
    if CC not in terms and p.clinical_care is True:
        found.append("clinical care without CC")
    return found


def expected(p: Purpose, c: Conditions) -> str:
    if issue_says_incompatible(p, c):
        return INCOMPATIBLE
    return NEEDS_REVIEW if issue_says_review(p, c) else COMPATIBLE


@settings(max_examples=150, deadline=None)
@given(purposes, conditions_)
def test_never_compatible_when_a_rule_says_incompatible(p, c):
    """Any permission, any modifiers: the outcome is the one the rules written out again
    give, so in particular never ``compatible`` when one of them says ``incompatible``."""
    result = check(p, c, HIERARCHY)
    assert result.outcome == expected(p, c), (
        issue_says_incompatible(p, c),
        issue_says_review(p, c),
        result,
    )


@settings(max_examples=60, deadline=None)
@given(purposes, st.sampled_from(PERMISSIONS), st.data())
def test_each_permission_alone(p, permission, data):
    """No modifiers: only the permission (and the diseases of DS) can refuse."""
    diseases = (
        data.draw(st.lists(st.sampled_from(DISEASES), min_size=1, max_size=2))
        if permission == DS
        else []
    )
    c = Conditions(permission, tuple(diseases))
    assert check(p, c, HIERARCHY).outcome == expected(p, c)


@settings(max_examples=100, deadline=None)
@given(
    st.frozensets(st.sampled_from(DISEASES), min_size=1, max_size=3),
    st.frozensets(st.sampled_from(DISEASES), min_size=1, max_size=2),
)
def test_disease_specific_data_fit_exactly_the_diseases_at_or_below_theirs(wanted, held):
    """DS(held) data and a DS(wanted) purpose: compatible exactly when every wanted disease is
    a held one or lies below one; a broader or unrelated one makes it incompatible."""
    p = Purpose(frozenset({DS}), wanted)
    result = check(p, Conditions(DS, tuple(sorted(held))), HIERARCHY)
    covered = all(any(h in ANCESTORS[w] for h in held) for w in wanted)
    assert result.outcome == (COMPATIBLE if covered else INCOMPATIBLE), result


@pytest.mark.parametrize("term", sorted(MODIFIERS))
@settings(max_examples=20, deadline=None)
@given(p=purposes, data=st.data())
def test_each_modifier_alone(term, p, data):
    """One modifier on NRES data (the permission allows everything): only its rule, the
    sensitive-research rule and clinical care can speak, so a rule that misses shows."""
    c = Conditions(NRES, (), (Modifier(term, data.draw(PARAMS.get(term, st.just({})))),))
    result = check(p, c, HIERARCHY)
    assert result.outcome == expected(p, c), result


@settings(max_examples=80, deadline=None)
@given(purposes, conditions_)
def test_outcome_combines_the_reasons(p, c):
    result = check(p, c, HIERARCHY)
    assert result.outcome == combine(result.reasons)
    assert (result.outcome == COMPATIBLE) == (not result.reasons)
    for reason in result.reasons:
        assert reason.outcome in (NEEDS_REVIEW, INCOMPATIBLE)
        assert reason.rule and len(reason.message) > 30


@st.composite
def narrowed(draw, diseases: frozenset[str]) -> frozenset[str]:
    """Each disease replaced by itself or a narrower one, then some dropped (at least one kept)."""
    narrower = [draw(st.sampled_from(sorted(DESCENDANTS[d]))) for d in sorted(diseases)]
    return frozenset(draw(st.lists(st.sampled_from(narrower), min_size=1, max_size=len(narrower))))


@settings(max_examples=120, deadline=None)
@given(purposes, conditions_, st.data())
def test_narrowing_the_diseases_never_turns_a_fit_into_a_misfit(p, c, data):
    before = check(p, c, HIERARCHY).outcome
    narrower = replace(p, diseases=data.draw(narrowed(p.diseases)))
    after = check(narrower, c, HIERARCHY).outcome
    # compatible stays compatible or needs review, and needs review never turns incompatible
    assert RANK[after] <= RANK[before], (p.diseases, narrower.diseases, c)


@settings(max_examples=120, deadline=None)
@given(purposes, conditions_, modifiers)
def test_a_further_restriction_never_makes_the_answer_better(p, c, extra):
    """(CC is left out: it widens what the data may be used for.)"""
    if extra.term == CC or c.modifier(extra.term) is not None:
        return
    before = check(p, c, HIERARCHY).outcome
    after = check(p, replace(c, modifiers=(*c.modifiers, extra)), HIERARCHY).outcome
    assert RANK[after] >= RANK[before]


@settings(max_examples=25, deadline=None)
@given(purposes, st.lists(conditions_, max_size=8))
def test_check_many_is_check_for_each(p, many):
    assert check_many(p, many, HIERARCHY) == [check(p, c, HIERARCHY) for c in many]


@settings(max_examples=50, deadline=None)
@given(conditions_, st.randoms(use_true_random=False))
def test_signature_ignores_order(c, rnd):
    mods = list(c.modifiers)
    rnd.shuffle(mods)
    diseases = list(c.diseases)
    rnd.shuffle(diseases)
    shuffled = Conditions(c.permission, tuple(diseases), tuple(mods), revision=9)
    assert shuffled.signature == c.signature
    assert shuffled.content_key == c.content_key


@settings(max_examples=100, deadline=None)
@given(conditions_, conditions_)
def test_the_memo_key_says_what_the_signature_says(a, b):
    assert (a.content_key == b.content_key) == (a.signature == b.signature)
