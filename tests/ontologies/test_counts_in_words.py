"""Counts of terms in the ontology area's messages agree in number (issue 15: "1 terms")."""

from __future__ import annotations

from ontologies.cli import describe
from ontologies.services import LoadReport


def test_a_load_report_counts_its_terms_in_words():
    one = LoadReport("TINY", "Tiny", "1", "unchanged", total=1)
    assert describe(one) == "TINY: unchanged (1 term, version 1)"
    many = LoadReport("HAEM", "Diseases", None, "loaded", added=1234, total=1234, seconds=1.0)
    assert describe(many).endswith("; 1,234 terms in 1.0 s")
