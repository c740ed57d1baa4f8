"""One test per semantic rule of the compatibility check (issue 13), in haematology: pure, no
database. Each row: what the purpose states, the dataset's conditions, the expected outcome and
the rules that give reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from governance.matching.check import (
    AGE_CATEGORY,
    ANCESTRY,
    CC,
    COL,
    COMPATIBLE,
    DRUG_DEVELOPMENT,
    DS,
    EEA,
    EU,
    EUROPE,
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
    PUB,
    RESEARCH_CONTROL,
    RS,
    RTN,
    TS,
    US,
    Conditions,
    Reason,
    check,
    check_many,
    combine,
)
from tests.governance.matching.haem import (
    AML,
    APL,
    HIERARCHY,
    MDS,
    MYELOID,
    MYELOMA,
    conditions,
    mod,
    purpose,
)

MD = METHOD_DEVELOPMENT
ROWS = [
    # --- permissions -----------------------------------------------------------------------
    ("NRES allows GRU", purpose(GRU), conditions(NRES), COMPATIBLE, []),
    ("NRES allows HMB", purpose(HMB), conditions(NRES), COMPATIBLE, []),
    ("NRES allows DS", purpose(DS, diseases={MYELOMA}), conditions(NRES), COMPATIBLE, []),
    ("NRES allows POA", purpose(POA), conditions(NRES), COMPATIBLE, []),
    ("NRES allows method development", purpose(MD), conditions(NRES), COMPATIBLE, []),
    ("GRU allows GRU", purpose(GRU), conditions(GRU), COMPATIBLE, []),
    ("GRU allows HMB", purpose(HMB), conditions(GRU), COMPATIBLE, []),
    ("GRU allows DS", purpose(DS, diseases={AML}), conditions(GRU), COMPATIBLE, []),
    ("GRU allows POA", purpose(POA), conditions(GRU), COMPATIBLE, []),
    ("GRU allows method development", purpose(MD), conditions(GRU), COMPATIBLE, []),
    ("HMB allows HMB", purpose(HMB), conditions(HMB), COMPATIBLE, []),
    ("HMB allows DS", purpose(DS, diseases={MYELOMA}), conditions(HMB), COMPATIBLE, []),
    ("HMB refuses GRU", purpose(GRU), conditions(HMB), INCOMPATIBLE, ["permission"]),
    ("HMB refuses POA", purpose(POA), conditions(HMB), INCOMPATIBLE, ["permission"]),
    (
        "HMB refuses ancestry research (a POA use)",
        purpose(HMB, ANCESTRY),
        conditions(HMB),
        INCOMPATIBLE,
        ["permission"],
    ),
    ("DS(AML) allows DS(AML)", purpose(DS, diseases={AML}), conditions(DS, AML), COMPATIBLE, []),
    (
        "DS(AML) allows DS of a disease below AML (APL)",
        purpose(DS, diseases={APL}),
        conditions(DS, AML),
        COMPATIBLE,
        [],
    ),
    (
        "DS(myeloid neoplasm) allows DS(AML, MDS), both below it",
        purpose(DS, diseases={AML, MDS}),
        conditions(DS, MYELOID),
        COMPATIBLE,
        [],
    ),
    (
        "DS(AML, myeloma) allows DS(APL, myeloma): each below one of the dataset's",
        purpose(DS, diseases={APL, MYELOMA}),
        conditions(DS, AML, MYELOMA),
        COMPATIBLE,
        [],
    ),
    (
        "DS(AML) refuses DS(myeloid neoplasm), broader",
        purpose(DS, diseases={MYELOID}),
        conditions(DS, AML),
        INCOMPATIBLE,
        ["disease"],
    ),
    (
        "DS(AML) refuses DS(myeloma), unrelated",
        purpose(DS, diseases={MYELOMA}),
        conditions(DS, AML),
        INCOMPATIBLE,
        ["disease"],
    ),
    (
        "DS(AML) refuses DS(AML, myeloma): every purpose disease must be covered",
        purpose(DS, diseases={AML, MYELOMA}),
        conditions(DS, AML),
        INCOMPATIBLE,
        ["disease"],
    ),
    (
        "DS(AML) refuses DS(MDS), a sibling below myeloid neoplasm",
        purpose(DS, diseases={MDS}),
        conditions(DS, AML),
        INCOMPATIBLE,
        ["disease"],
    ),
    ("DS refuses GRU", purpose(GRU), conditions(DS, AML), INCOMPATIBLE, ["permission"]),
    ("DS refuses HMB", purpose(HMB), conditions(DS, AML), INCOMPATIBLE, ["permission"]),
    ("DS refuses POA", purpose(POA), conditions(DS, AML), INCOMPATIBLE, ["permission"]),
    ("POA allows POA", purpose(POA), conditions(POA), COMPATIBLE, []),
    ("POA refuses GRU", purpose(GRU), conditions(POA), INCOMPATIBLE, ["permission"]),
    ("POA refuses HMB", purpose(HMB), conditions(POA), INCOMPATIBLE, ["permission"]),
    (
        "POA refuses DS",
        purpose(DS, diseases={AML}),
        conditions(POA),
        INCOMPATIBLE,
        ["permission"],
    ),
    (
        "several terms: every stated use must be allowed (DS(AML) + GRU on DS(AML))",
        purpose(DS, GRU, diseases={AML}),
        conditions(DS, AML),
        INCOMPATIBLE,
        ["permission"],
    ),
    # --- method development and NMDS ---------------------------------------------------------
    ("method development on HMB", purpose(MD), conditions(HMB), COMPATIBLE, []),
    ("method development on POA", purpose(MD), conditions(POA), COMPATIBLE, []),
    ("method development on DS", purpose(MD), conditions(DS, AML), COMPATIBLE, []),
    (
        "NMDS refuses method development without a DS purpose",
        purpose(MD),
        conditions(GRU, modifiers=(mod(NMDS),)),
        INCOMPATIBLE,
        ["method_development"],
    ),
    (
        "NMDS refuses method development with HMB",
        purpose(MD, HMB),
        conditions(HMB, modifiers=(mod(NMDS),)),
        INCOMPATIBLE,
        ["method_development"],
    ),
    (
        "NMDS allows method development within a matching DS purpose",
        purpose(MD, DS, diseases={APL}),
        conditions(DS, AML, modifiers=(mod(NMDS),)),
        COMPATIBLE,
        [],
    ),
    (
        "NMDS: a DS purpose that does not match the dataset's disease does not help",
        purpose(MD, DS, diseases={MYELOMA}),
        conditions(DS, AML, modifiers=(mod(NMDS),)),
        INCOMPATIBLE,
        ["disease"],
    ),
    # --- commercial use ----------------------------------------------------------------------
    *[
        (
            f"{code} refuses a commercial purpose",
            purpose(GRU, commercial=True),
            conditions(GRU, modifiers=(mod(term),)),
            INCOMPATIBLE,
            ["commercial"],
        )
        for code, term in (("NPUNCU", NPUNCU), ("NPU", NPU), ("NCU", NCU))
    ],
    *[
        (
            f"{code} refuses a purpose that does not say whether it is commercial",
            purpose(GRU, commercial=None),
            conditions(GRU, modifiers=(mod(term),)),
            INCOMPATIBLE,
            ["commercial"],
        )
        for code, term in (("NPUNCU", NPUNCU), ("NPU", NPU), ("NCU", NCU))
    ],
    *[
        (
            f"{code} allows a non-commercial purpose",
            purpose(GRU, commercial=False),
            conditions(GRU, modifiers=(mod(term),)),
            COMPATIBLE,
            [],
        )
        for code, term in (("NPUNCU", NPUNCU), ("NPU", NPU), ("NCU", NCU))
    ],
    (
        "commercial purposes are fine where no modifier limits them",
        purpose(GRU, commercial=True),
        conditions(GRU),
        COMPATIBLE,
        [],
    ),
    # --- research the committee always reviews -------------------------------------------------
    *[
        (
            f"{words} needs review",
            purpose(GRU, term),
            conditions(GRU),
            NEEDS_REVIEW,
            ["sensitive_research"],
        )
        for words, term in (
            ("research control", RESEARCH_CONTROL),
            ("population research", POPULATION),
            ("gender-category research", GENDER_CATEGORY),
            ("age-category research", AGE_CATEGORY),
        )
    ],
    (
        "a purpose flagged sensitive needs review",
        purpose(HMB, sensitive=True),
        conditions(HMB),
        NEEDS_REVIEW,
        ["sensitive_research"],
    ),
    (
        "genetic and drug development research need nothing more",
        purpose(HMB, GENETIC, DRUG_DEVELOPMENT),
        conditions(HMB),
        COMPATIBLE,
        [],
    ),
    # --- IRB ----------------------------------------------------------------------------------
    (
        "IRB without ethics approval needs review",
        purpose(GRU, ethics_approval=False),
        conditions(GRU, modifiers=(mod(IRB),)),
        NEEDS_REVIEW,
        ["ethics"],
    ),
    (
        "IRB with ethics approval unanswered needs review",
        purpose(GRU, ethics_approval=None),
        conditions(GRU, modifiers=(mod(IRB),)),
        NEEDS_REVIEW,
        ["ethics"],
    ),
    (
        "IRB with ethics approval is compatible",
        purpose(GRU, ethics_approval=True),
        conditions(GRU, modifiers=(mod(IRB),)),
        COMPATIBLE,
        [],
    ),
    # --- MOR ----------------------------------------------------------------------------------
    *[
        (
            f"MOR 2026-06-01 with publication from {when}",
            purpose(GRU, publication_not_before=when),
            conditions(GRU, modifiers=(mod(MOR, date=date(2026, 6, 1)),)),
            outcome,
            [] if outcome == COMPATIBLE else ["moratorium"],
        )
        for when, outcome in (
            (None, INCOMPATIBLE),
            (date(2026, 5, 31), INCOMPATIBLE),
            (date(2026, 6, 1), COMPATIBLE),
            (date(2027, 1, 1), COMPATIBLE),
        )
    ],
    # --- GS -----------------------------------------------------------------------------------
    *[
        (
            f"GS {regions} with the data used in {country}",
            purpose(GRU, country=country),
            conditions(GRU, modifiers=(mod(GS, regions=regions),)),
            outcome,
            [] if outcome == COMPATIBLE else ["geography"],
        )
        for regions, country, outcome in (
            (["EEA"], "NL", COMPATIBLE),
            (["EEA"], "NO", COMPATIBLE),
            (["EU"], "NO", INCOMPATIBLE),
            (["EU"], "GR", COMPATIBLE),
            (["EEA"], "CH", INCOMPATIBLE),
            (["EUROPE"], "CH", COMPATIBLE),
            (["EUROPE"], "GB", COMPATIBLE),
            (["EU"], "GB", INCOMPATIBLE),
            (["EUROPE"], "US", INCOMPATIBLE),
            (["NL", "BE"], "BE", COMPATIBLE),
            (["NL", "BE"], "DE", INCOMPATIBLE),
            (["EU", "CH"], "CH", COMPATIBLE),
            (["EEA"], None, NEEDS_REVIEW),
        )
    ],
    # --- TS -----------------------------------------------------------------------------------
    *[
        (
            f"TS 24 months with a duration of {months}",
            purpose(GRU, duration_months=months),
            conditions(GRU, modifiers=(mod(TS, months=24),)),
            outcome,
            [] if outcome == COMPATIBLE else ["time_limit"],
        )
        for months, outcome in (
            (12, COMPATIBLE),
            (24, COMPATIBLE),
            (36, INCOMPATIBLE),
            (None, COMPATIBLE),
        )
    ],
    # --- modifiers a machine cannot judge alone ---------------------------------------------------
    (
        "COL without a commitment needs review",
        purpose(GRU, collaboration=None),
        conditions(GRU, modifiers=(mod(COL),)),
        NEEDS_REVIEW,
        ["collaboration"],
    ),
    (
        "COL with a commitment to collaborate",
        purpose(GRU, collaboration=True),
        conditions(GRU, modifiers=(mod(COL),)),
        COMPATIBLE,
        [],
    ),
    (
        "US with a user not named needs review",
        purpose(GRU, users=frozenset({"Ada Lovelace", "Mallory"})),
        conditions(GRU, modifiers=(mod(US, users=["Ada Lovelace"]),)),
        NEEDS_REVIEW,
        ["users"],
    ),
    (
        "US naming nobody needs review",
        purpose(GRU),
        conditions(GRU, modifiers=(mod(US, users=["Ada Lovelace"]),)),
        NEEDS_REVIEW,
        ["users"],
    ),
    (
        "US with every user named (case aside)",
        purpose(GRU, users=frozenset({"ada lovelace"})),
        conditions(GRU, modifiers=(mod(US, users=["Ada Lovelace", "Alan Turing"]),)),
        COMPATIBLE,
        [],
    ),
    (
        "PS with another project needs review",
        purpose(GRU, project="HARMONY-PLUS"),
        conditions(GRU, modifiers=(mod(PS, projects=["HARMONY"]),)),
        NEEDS_REVIEW,
        ["project"],
    ),
    (
        "PS with a named project",
        purpose(GRU, project="harmony"),
        conditions(GRU, modifiers=(mod(PS, projects=["HARMONY"]),)),
        COMPATIBLE,
        [],
    ),
    (
        "IS without an institution needs review",
        purpose(GRU),
        conditions(GRU, modifiers=(mod(IS, institutions=["Erasmus MC"]),)),
        NEEDS_REVIEW,
        ["institution"],
    ),
    (
        "IS with a named institution",
        purpose(GRU, institution="Erasmus MC"),
        conditions(GRU, modifiers=(mod(IS, institutions=["Erasmus MC", "Charité"]),)),
        COMPATIBLE,
        [],
    ),
    (
        "RS with another topic needs review",
        purpose(GRU, topic="outcomes of CAR-T therapy"),
        conditions(GRU, modifiers=(mod(RS, topic="measurable residual disease"),)),
        NEEDS_REVIEW,
        ["research_specific"],
    ),
    (
        "RS with the dataset's topic",
        purpose(GRU, topic="Measurable  residual disease"),
        conditions(GRU, modifiers=(mod(RS, topic="measurable residual disease"),)),
        COMPATIBLE,
        [],
    ),
    (
        "GSO without genetic research needs review",
        purpose(GRU),
        conditions(GRU, modifiers=(mod(GSO),)),
        NEEDS_REVIEW,
        ["genetic_only"],
    ),
    (
        "GSO with genetic research",
        purpose(GRU, GENETIC),
        conditions(GRU, modifiers=(mod(GSO),)),
        COMPATIBLE,
        [],
    ),
    (
        "CC with clinical care unanswered needs review",
        purpose(GRU, clinical_care=None),
        conditions(GRU, modifiers=(mod(CC),)),
        NEEDS_REVIEW,
        ["clinical_care"],
    ),
    (
        "CC with a clinical-care purpose",
        purpose(GRU, clinical_care=True),
        conditions(GRU, modifiers=(mod(CC),)),
        COMPATIBLE,
        [],
    ),
    (
        "a clinical-care purpose on data without CC needs review",
        purpose(GRU, clinical_care=True),
        conditions(GRU),
        NEEDS_REVIEW,
        ["clinical_care"],
    ),
    # --- obligations ---------------------------------------------------------------------------
    ("PUB is an obligation", purpose(GRU), conditions(GRU, modifiers=(mod(PUB),)), COMPATIBLE, []),
    ("RTN is an obligation", purpose(GRU), conditions(GRU, modifiers=(mod(RTN),)), COMPATIBLE, []),
    (
        "NPOA with a use that respects it is an obligation",
        purpose(HMB),
        conditions(GRU, modifiers=(mod(NPOA),)),
        COMPATIBLE,
        [],
    ),
    (
        "NPOA refuses a POA purpose",
        purpose(POA),
        conditions(GRU, modifiers=(mod(NPOA),)),
        INCOMPATIBLE,
        ["ancestry"],
    ),
    (
        "NPOA refuses ancestry research",
        purpose(GRU, ANCESTRY),
        conditions(GRU, modifiers=(mod(NPOA),)),
        INCOMPATIBLE,
        ["ancestry"],
    ),
    # --- combining ----------------------------------------------------------------------------------
    (
        "incompatible wins over needs review",
        purpose(GRU, commercial=True, ethics_approval=None),
        conditions(GRU, modifiers=(mod(IRB), mod(NCU))),
        INCOMPATIBLE,
        ["commercial", "ethics"],
    ),
    (
        "needs review wins over compatible",
        purpose(GRU, ethics_approval=None),
        conditions(GRU, modifiers=(mod(IRB), mod(PUB), mod(NCU))),
        NEEDS_REVIEW,
        ["ethics"],
    ),
    (
        "an unknown modifier goes to the committee",
        purpose(GRU),
        conditions(GRU, modifiers=(mod("DUO:0000099"),)),
        NEEDS_REVIEW,
        ["modifier"],
    ),
]


@pytest.mark.parametrize(
    ("case", "purpose_", "conditions_", "outcome", "rules"), ROWS, ids=[r[0] for r in ROWS]
)
def test_rule(case, purpose_, conditions_, outcome, rules):
    result = check(purpose_, conditions_, HIERARCHY)
    assert result.outcome == outcome, result.reasons
    assert sorted({r.rule for r in result.reasons}) == sorted(rules)
    if outcome != COMPATIBLE:
        assert result.reasons and all(r.message.endswith(".") for r in result.reasons)
        assert any(r.outcome == outcome for r in result.reasons)


def test_disease_reason_names_the_terms_by_label_and_code():
    result = check(purpose(DS, diseases={MYELOMA}), conditions(DS, AML), HIERARCHY)
    (reason,) = result.reasons
    assert "Acute Myeloid Leukemia (NCIT:C3171)" in reason.message
    assert "Plasma Cell Myeloma (NCIT:C3242)" in reason.message
    assert "DUO:0000007" in reason.message


def test_broader_disease_reason_says_it_is_broader():
    result = check(purpose(DS, diseases={MYELOID}), conditions(DS, AML), HIERARCHY)
    assert "Myeloid Neoplasm (NCIT:C9290) is broader" in result.reasons[0].message


@pytest.mark.parametrize(
    ("term", "words"),
    [
        (PUB, "Make the results of your research available"),
        (RTN, "Return the results and derived or enriched data"),
        (NPOA, "Do not use the data for research into population origins or ancestry"),
    ],
)
def test_obligations_come_back_in_words(term, words):
    result = check(purpose(HMB), conditions(GRU, modifiers=(mod(term),)), HIERARCHY)
    assert [o.term for o in result.obligations] == [term]
    assert result.obligations[0].text.startswith(words)


def test_time_limit_is_an_obligation_even_without_a_duration():
    """Without a duration the purpose is not refused: the entitlement is capped at the limit
    anyway, and the obligation says so."""
    result = check(
        purpose(GRU, duration_months=None),
        conditions(GRU, modifiers=(mod(TS, months=24),)),
        HIERARCHY,
    )
    assert result.outcome == COMPATIBLE
    assert [o.text for o in result.obligations] == [
        "Access ends 24 months after it is granted; the data must then be deleted or the "
        "access renewed."
    ]


def test_moratorium_reason_gives_both_dates():
    result = check(
        purpose(GRU, publication_not_before=date(2026, 1, 1)),
        conditions(GRU, modifiers=(mod(MOR, date="2026-06-01"),)),  # as JSON gives it
        HIERARCHY,
    )
    assert result.outcome == INCOMPATIBLE
    assert "2026-06-01" in result.reasons[0].message and "2026-01-01" in result.reasons[0].message


def test_result_names_the_ontology_versions_of_the_terms_used():
    assert check(purpose(GRU), conditions(GRU), HIERARCHY).ontology_versions == {
        "DUO": "2021-02-23"
    }
    assert check(purpose(DS, diseases={AML}), conditions(DS, AML), HIERARCHY).ontology_versions == {
        "DUO": "2021-02-23",
        "NCIT": "2025.1",
    }


def test_regions():
    assert len(EU) == 27 and "GR" in EU and "GB" not in EU
    assert EU | {"IS", "LI", "NO"} == EEA
    assert {"CH", "GB", "UA", "RS"} <= EUROPE and EEA <= EUROPE
    assert not {"US", "TR", "IL"} & EUROPE


def test_combine():
    assert combine([]) == COMPATIBLE
    assert combine([Reason("a", NEEDS_REVIEW, "")]) == NEEDS_REVIEW
    assert combine([Reason("a", NEEDS_REVIEW, ""), Reason("b", INCOMPATIBLE, "")]) == INCOMPATIBLE


# --- the signature and check_many -------------------------------------------------------------------


def test_signature_ignores_order_and_revision():
    a = Conditions(DS, (AML, MYELOMA), (mod(GS, regions=["NL", "BE"]), mod(PUB)), revision=1)
    b = Conditions(DS, (MYELOMA, AML), (mod(PUB), mod(GS, regions=("BE", "NL"))), revision=7)
    assert a.signature == b.signature and len(a.signature) == 64


def test_signature_changes_with_content():
    base = Conditions(GRU, (), (mod(MOR, date=date(2026, 6, 1)),))
    assert base.signature != replace(base, modifiers=(mod(MOR, date=date(2026, 6, 2)),)).signature
    assert base.signature != replace(base, permission=HMB).signature
    assert base.signature == Conditions(GRU, (), (mod(MOR, date="2026-06-01"),)).signature


def test_check_many_answers_in_order_and_once_per_signature(monkeypatch):
    from governance.matching import check as module

    calls = []
    real = module.check

    def counting(*args):
        calls.append(args[1].signature)
        return real(*args)

    monkeypatch.setattr(module, "check", counting)
    many = [
        conditions(DS, AML),
        conditions(HMB),
        conditions(DS, AML, modifiers=()),
        conditions(HMB),
    ]
    results = check_many(purpose(DS, diseases={APL}), many, HIERARCHY)
    assert [r.outcome for r in results] == [COMPATIBLE, COMPATIBLE, COMPATIBLE, COMPATIBLE]
    assert len(calls) == 2
    results[0].obligations.append(None)  # each result is its own
    assert results[2].obligations == []
