"""The words search indexes and queries: one normaliser at both ends."""

from __future__ import annotations

import pytest
from sqlalchemy import text as sql

from catalogue.search import text
from core.db import get_session


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("leukaemia", "leukemia"),
        ("haemoglobin", "hemoglobin"),
        ("anaemia", "anemia"),
        ("paediatric", "pediatric"),
        ("haematological", "hematological"),
        ("aetiology", "etiology"),
        ("oedema", "edema"),
        ("oesophageal", "esophageal"),
        ("foetal", "fetal"),
        ("diarrhoea", "diarrhea"),
        ("tumour", "tumor"),
        ("tumours", "tumors"),
        ("behaviour", "behavior"),
        ("favourable", "favorable"),
        ("randomised", "randomized"),
        ("randomisation", "randomization"),
        ("characterise", "characterize"),
        ("hospitalised", "hospitalized"),
        ("organisation", "organization"),
        ("analyse", "analyze"),
        ("centre", "center"),
        ("titre", "titer"),
        ("fibres", "fibers"),
        ("catalogue", "catalog"),
        ("programme", "program"),
    ],
)
def test_british_and_american_spellings_have_one_key(british, american):
    assert text.keys(british) == text.keys(american)
    assert text.keys(british.capitalize()) == text.keys(american)


@pytest.mark.parametrize(
    "word",
    ["four", "hour", "journal", "course", "source", "disease", "raise", "crisis", "shoe", "genre"],
)
def test_words_that_only_look_british_are_left_alone(word):
    assert text.fold_spelling(word) == word


def test_stemming_and_stopwords():
    assert text.keys("patients") == text.keys("patient") == ["patient"]
    assert text.keys("Treatments treated treating") == ["treatment", "treat", "treat"]
    assert text.keys("the and of with") == []
    assert text.keys("FLT3 del17p β2-microglobulin") == ["flt3", "del17p", "beta2", "microglobulin"]


def test_names_split_into_words():
    assert text.keys("hgb_dx") == ["hgb", "dx"]
    assert text.keys("dateOfDiagnosis") == ["date", "diagnosi"]
    assert text.keys("Sézary") == text.keys("sezary")


def test_highlight_escapes_first_then_marks():
    html = text.highlight('<script>alert("x")</script> Leukaemia & tumours', {"leukemia", "tumor"})
    assert str(html) == (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; <mark>Leukaemia</mark> &amp; "
        "<mark>tumours</mark>"
    )
    # a word that is also markup is marked as escaped text
    assert str(text.highlight("<b>", {"b"})) == "&lt;<mark>b</mark>&gt;"
    assert str(text.highlight("hgb_dx", {"hgb"})) == "<mark>hgb</mark>_dx"


def test_snippet_shows_the_matches_of_a_long_text():
    long = "filler " * 100 + "the haemoglobin level at diagnosis " + "more " * 100
    snippet = str(text.snippet(long, set(text.keys("hemoglobin"))))
    assert "<mark>haemoglobin</mark>" in snippet
    assert snippet.startswith("…") and snippet.endswith("…") and len(snippet) < 300
    assert str(text.snippet("short text", {"other"})) == "short text"


def test_trigram_similarity_is_pg_trgm_s(app):
    pairs = [("leukemai", "leukemia"), ("lenalidomde", "lenalidomide"), ("cat", "dog")]
    with app.app_context():
        session = get_session()
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("pg_trgm is PostgreSQL's")
        for a, b in pairs:
            expected = session.scalar(sql("SELECT similarity(:a, :b)"), {"a": a, "b": b})
            assert text.trigram_similarity(a, b) == pytest.approx(expected, abs=1e-6)


def test_postgresql_indexes_exactly_our_keys(app):
    """The ``simple`` configuration neither splits nor changes a key."""
    keys = text.keys("FLT3-ITD 1e5 0045 v1 hb_dx β2-microglobulin del(17p) 2nd cycle x")
    with app.app_context():
        session = get_session()
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("tsvector is PostgreSQL's")
        lexemes = session.scalar(
            sql("SELECT array_agg(lexeme) FROM unnest(to_tsvector('simple', :t))"),
            {"t": " ".join(keys)},
        )
        assert sorted(lexemes) == sorted(set(keys))


def test_holds_tells_whether_a_keyword_matched():
    wanted = set(text.keys("leukemia"))
    assert text.holds("Acute myeloid leukaemia", wanted)
    assert text.holds("leukaemias", wanted)  # the same stem
    assert not text.holds("Myeloma", wanted)
    assert not text.holds("", wanted) and not text.holds(None, wanted)
    long = "filler " * 40 + "leukaemia"  # past the remembered short texts
    assert text.holds(long, wanted)


def test_a_long_text_marks_whole_words_only():
    """In a description (past the remembered short texts) a matching word is marked where it
    stands alone — also before punctuation, in brackets, or next to accented letters — and not
    where it is part of a longer word."""
    wanted = set(text.keys("patient"))
    long = (
        "Outpatients and inpatient wards: every patient, (patients) and patient's data; "
        "éPatient and patientcare are other words. " + "filler " * 30 + "Last patient"
    )
    html = str(text.highlight(long, wanted))
    assert html.startswith(
        "Outpatients and inpatient wards: every <mark>patient</mark>, (<mark>patients</mark>) "
        "and <mark>patient</mark>&#39;s data; éPatient and patientcare are other words."
    )
    assert html.endswith("Last <mark>patient</mark>")
    assert html.count("<mark>") == 4
    assert text.holds(long, wanted) and not text.holds(long, {"other"})
    snippet = str(text.snippet(long, wanted))
    assert snippet.count("<mark>patient") == 3 and snippet.endswith("…")
