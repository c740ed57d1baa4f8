"""The DUO table the form, the badges and the API read: every code of the contract, with the
label and shorthand of the bundled DUO release, an explanation of our own, and a parser that
gives the check's Conditions in canonical form."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.db import get_session
from governance.data_use import vocabulary
from governance.matching.check import Conditions
from ontologies.models import Term

CONTRACT = {
    "NRES": "0000004", "GRU": "0000042", "HMB": "0000006", "DS": "0000007", "POA": "0000011",
    "RS": "0000012", "NMDS": "0000015", "GSO": "0000016", "NPUNCU": "0000018", "NPU": "0000045",
    "NCU": "0000046", "PUB": "0000019", "COL": "0000020", "IRB": "0000021", "GS": "0000022",
    "MOR": "0000024", "TS": "0000025", "US": "0000026", "PS": "0000027", "IS": "0000028",
    "RTN": "0000029", "CC": "0000043", "NPOA": "0000044",
}  # fmt: skip
PARAMS = {"RS": "topic", "GS": "regions", "MOR": "date", "TS": "months", "US": "users",
          "PS": "projects", "IS": "institutions"}  # fmt: skip


def test_every_code_of_the_contract_is_explained():
    assert {t.code: t.curie for t in vocabulary.TERMS.values()} == {
        code: f"DUO:{number}" for code, number in CONTRACT.items()
    }
    assert [t.code for t in vocabulary.PERMISSIONS.values()] == ["NRES", "GRU", "HMB", "DS", "POA"]
    for term in vocabulary.TERMS.values():
        assert 20 < len(term.explanation) < 300 and term.explanation.endswith(".")
        assert [p.name for p in term.params] == ([PARAMS[term.code]] if term.code in PARAMS else [])


def test_labels_and_codes_agree_with_the_bundled_duo(app, vocabularies):
    with app.app_context():
        rows = get_session().execute(
            select(Term.curie, Term.label, Term.is_obsolete).where(Term.ontology_prefix == "DUO")
        )
        loaded = {curie: (label, obsolete) for curie, label, obsolete in rows}
    for term in vocabulary.TERMS.values():
        assert loaded[term.curie] == (term.label, False), term.code
    for curie in vocabulary.OBSOLETE:
        assert loaded[curie][1] is True


def test_the_parser_gives_canonical_conditions(app, vocabularies):
    with app.app_context():
        conditions = vocabulary.parse_conditions(
            {
                "permission": "ds",
                "diseases": [
                    "ncit:C3171",
                    "http://purl.obolibrary.org/obo/NCIT_C3247",
                    "NCIT:C3171",
                ],
                "modifiers": [
                    {"term": "MOR", "date": "2026-06-01"},
                    {"term": "DUO:0000022", "regions": ["nl", "EEA", "NL"]},
                ],
            }
        )
    assert isinstance(conditions, Conditions)
    assert conditions.permission == "DUO:0000007"
    assert conditions.diseases == ("NCIT:C3171", "NCIT:C3247")
    assert [m.term for m in conditions.modifiers] == ["DUO:0000022", "DUO:0000024"]
    assert conditions.modifiers[0].params == {"regions": ("EEA", "NL")}
    assert conditions.modifiers[1].params == {"date": dt.date(2026, 6, 1)}
    assert vocabulary.conditions_json(conditions)["modifiers"][1] == {
        "term": "DUO:0000024",
        "date": "2026-06-01",
    }
