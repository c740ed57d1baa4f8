"""The mapping assistant's traps: a generic word, an organisation or a number shared with the
name of another concept must not make that concept the first suggestion (issue 15: "Disease
group" → Ethnicity 0.73 because "group" matches "Ethnic group"; "WHO 2016 diagnosis" → ECOG
performance status via its synonym "WHO PS"). The trap rows of the benchmark are in
bench/data/assistant_traps.csv.
"""

from __future__ import annotations

import pytest

from bench.bench_assistant import TRAP_THRESHOLD, benchmark_rows, sprung, subject_of, trap_rows
from catalogue.mappings.assistant import Assistant, Proposal, Subject

ETHNICITY = "HV:0000023"
DISEASE_ONTOGENY = "HV:0000032"
WHO_DIAGNOSIS = "HV:0000028"
ECOG_PS = "HV:0000178"


@pytest.fixture
def assistant(app, vocabularies):
    with app.app_context():
        yield Assistant.from_store()


def _propose(
    assistant: Assistant, name: str, label: str | None = None, value_type: str | None = None
) -> list[Proposal]:
    subject = Subject(None, None, name, label, value_type)
    return assistant.propose(subject)


def _score_of(proposals: list[Proposal], curie: str) -> float:
    return next((p.score for p in proposals if p.curie == curie), 0.0)


def test_disease_group_is_not_ethnicity(assistant):
    # the variable of the Rotterdam demo dataset that showed the mistake
    proposals = _propose(assistant, "diag_group", "Disease group", "categorical")
    shown = [(p.curie, p.score, p.reason) for p in proposals]
    assert proposals[0].curie != ETHNICITY, shown
    assert _score_of(proposals, ETHNICITY) < TRAP_THRESHOLD, shown
    assert DISEASE_ONTOGENY in [p.curie for p in proposals], shown
    # further down, the reason says why it fell
    longer = assistant.propose(Subject(None, None, "diag_group", "Disease group"), limit=30)
    ethnicity = next(p for p in longer if p.curie == ETHNICITY)
    assert "only “group” in common" in ethnicity.reason


def test_who_2016_diagnosis_is_not_the_who_performance_status(assistant):
    proposals = _propose(assistant, "who2016_dx", "WHO 2016 diagnosis", "categorical")
    shown = [(p.curie, p.score, p.reason) for p in proposals]
    assert proposals[0].curie == WHO_DIAGNOSIS, shown
    assert _score_of(proposals, ECOG_PS) < TRAP_THRESHOLD, shown
    # the label alone, as a dictionary without short names has it
    alone = _propose(assistant, "WHO 2016 diagnosis")
    assert alone[0].curie == WHO_DIAGNOSIS
    assert _score_of(alone, ECOG_PS) < TRAP_THRESHOLD, [(p.curie, p.score) for p in alone]


def test_who_still_names_the_performance_status_with_its_distinctive_word(assistant):
    assert _propose(assistant, "who_ps")[0].curie == ECOG_PS
    assert _propose(assistant, "who_perf", "WHO performance status")[0].curie == ECOG_PS


@pytest.mark.parametrize(
    ("name", "label", "value_type", "expected", "trap"),
    [
        ("year_dx", "Year of diagnosis", "integer", "HV:0000027", "HV:0000019"),
        ("charlson_score", "Charlson score", "integer", "HV:0000181", "HV:0000172"),
        ("rel_type", "Type of relapse", "categorical", "HV:0000232", "HV:0000198"),
        ("resp_date", "Date of response", "date", "HV:0000204", "HV:0000018"),
    ],
)
def test_a_shared_generic_word_does_not_make_a_candidate(
    assistant, name, label, value_type, expected, trap
):
    proposals = _propose(assistant, name, label, value_type)
    shown = [(p.curie, p.score) for p in proposals]
    assert proposals[0].curie == expected, shown
    assert _score_of(proposals, trap) < TRAP_THRESHOLD, shown


@pytest.mark.parametrize(
    ("name", "label", "expected", "trap"),
    [
        ("t8_16", "t(8;16)", "HV:0000110", "HV:0000101"),  # not t(16;16)
        ("del7q", "del(7q)", "HV:0000097", "HV:0000098"),  # not del(17p)
        ("tri_12", "Trisomy 12", "HV:0000121", "HV:0000099"),  # not trisomy 8
        ("eln_2017_cat", "ELN 2017 category", "HV:0000162", "HV:0000161"),  # not ELN 2022
    ],
)
def test_numbers_that_differ_keep_a_name_down(assistant, name, label, expected, trap):
    proposals = _propose(assistant, name, label)
    shown = [(p.curie, p.score, p.reason) for p in proposals]
    assert proposals[0].curie == expected, shown
    assert _score_of(proposals, trap) < TRAP_THRESHOLD, shown


def test_a_number_clash_is_named_in_the_reason(assistant):
    proposals = _propose(assistant, "tri_12", "Trisomy 12")
    trisomy_8 = next(p for p in proposals if p.curie == "HV:0000099")
    assert "numbers differ (12 vs 8)" in trisomy_8.reason


def test_a_generic_word_is_still_a_lead_when_nothing_distinctive_matches(assistant):
    # "aa" meets no name: the stages are all there is, and they are still proposed
    proposals = _propose(assistant, "stage_aa")
    assert "HV:0000177" in [p.curie for p in proposals]  # Ann Arbor stage


def test_the_benchmark_keeps_recall_and_its_traps_stay_shut(assistant):
    rows = benchmark_rows()
    traps = trap_rows()
    assert len(traps) >= 12
    assert {r["kind"] for r in traps} == {"generic word", "acronym", "number"}
    assert len({r["name"] for r in rows}) == len(rows)
    found = caught = 0
    for row in rows:
        proposals = assistant.propose(subject_of(row))[:5]
        found += row["expected"] in [p.curie for p in proposals]
        caught += sprung(row, [(p.curie, p.score) for p in proposals])
    assert found / len(rows) >= 0.8
    assert caught / len(traps) <= 0.1
