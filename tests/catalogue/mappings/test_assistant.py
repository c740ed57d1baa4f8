"""The mapping assistant: how it reads variable names, what it proposes and why, and how well
it does on the labelled set of haematology variable names (bench/data/labelled_variables.csv).
"""

from __future__ import annotations

import pytest

from bench.bench_assistant import labelled_rows, subject_of
from catalogue.mappings.assistant import Assistant, Subject, fold, words


@pytest.fixture
def assistant(app, vocabularies):
    with app.app_context():
        yield Assistant.from_store()


def _variable(name: str, label: str | None = None, **kwargs: str) -> Subject:
    return Subject(variable_id=None, value_code=None, name=name, label=label, **kwargs)


def test_names_are_read_into_words(assistant):
    assert words("bmBlastsPct") == ["bm", "blasts", "pct"]
    assert words("IgG (g/L)") == ["igg", "g", "l"]  # not "ig g"
    assert words("β2-microglobulin") == ["beta2", "microglobulin"]
    assert assistant.split("hbdx") == ["hb", "dx"]
    assert assistant.split("flt3itd") == ["flt3", "itd"]
    assert assistant.split("neut") == ["neut"]  # the start of a word is kept whole
    assert fold("haemoglobin") == fold("hemoglobin") == "hemoglobin"
    assert fold("leucocytes") == "leukocyte" and fold("tumour") == "tumor"


@pytest.mark.parametrize(
    ("name", "label", "expected", "words_in_reason"),
    [
        ("hb_dx", None, "HV:0000045", ["abbreviation “Hb”", "time point “dx” ignored"]),
        ("flt3itd", None, "HV:0000125", ["FLT3-ITD"]),
        ("ecog", None, "HV:0000178", ["ECOG"]),
        ("wbc_bl", "WBC at baseline", "HV:0000046", ["WBC"]),
        ("dt_diag", None, "HV:0000027", ["“dt” = date"]),
        ("bm_blasts_pct", None, "HV:0000071", ["“BM blasts”"]),
        ("dlfu", None, "HV:0000227", ["“dlfu” = the initials of “Date of last follow-up”"]),
        ("yob", None, "HV:0000019", ["initials"]),
        ("age_dx", "Age at diagnosis (years)", "HV:0000020", ["Age at diagnosis"]),
    ],
)
def test_the_first_suggestion_and_its_reason(assistant, name, label, expected, words_in_reason):
    proposals = assistant.propose(_variable(name, label))
    assert proposals[0].curie == expected, [(p.curie, p.score, p.reason) for p in proposals]
    assert all(0 < p.score <= 1 for p in proposals)
    assert [p.score for p in proposals] == sorted((p.score for p in proposals), reverse=True)
    for word in words_in_reason:
        assert word in proposals[0].reason


def test_value_type_and_unit_break_ties(assistant):
    # "relapse" names both the event and its date: the type decides
    assert assistant.propose(_variable("relapse", value_type="boolean"))[0].curie == "HV:0000232"
    dated = assistant.propose(_variable("dt_relapse", value_type="date"))
    assert dated[0].curie == "HV:0000233" and "value type date agrees" in dated[0].reason


def test_values_are_read_with_their_variable_as_context(assistant):
    normal = Subject(1, "1", "karyotype", "Karyotype result", value_label="Normal")
    assert assistant.propose(normal)[0].curie == "HV:0000093"
    aml = Subject(1, "3", "dx", "Diagnosis", value_label="Acute myeloid leukaemia")
    assert assistant.propose(aml)[0].curie == "NCIT:C3171"
    for generic in ("Yes", "No", "Unknown", "Male", "Other"):
        assert (
            assistant.propose(Subject(1, "9", "karyotype", "Karyotype", value_label=generic)) == []
        )


def test_nonsense_gets_no_suggestion(assistant):
    assert assistant.propose(_variable("record_id", "Record ID")) == []
    assert assistant.propose(_variable("zzqx")) == []


def test_recall_at_5_on_the_labelled_set_reaches_0_8(assistant):
    rows = labelled_rows()
    assert len(rows) >= 150
    assert len({r["name"] for r in rows}) == len(rows)
    found = sum(
        1
        for row in rows
        if row["expected"] in [p.curie for p in assistant.propose(subject_of(row))[:5]]
    )
    assert found / len(rows) >= 0.8
