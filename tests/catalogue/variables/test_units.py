"""UCUM codes in words, as the variable pages and the matrix show them next to the code."""

from __future__ import annotations

import pytest

from catalogue.variables.units import describe_unit


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("g/dL", "gram per decilitre"),
        ("g/L", "gram per litre"),
        ("10*9/L", "billion per litre"),
        ("10*3/uL", "thousand per microlitre"),
        ("kg/m2", "kilogram per square metre"),
        ("mg/m2/d", "milligram per square metre per day"),
        ("umol/L", "micromole per litre"),
        ("U/L", "unit per litre"),
        ("[iU]/L", "international unit per litre"),
        ("%", "percent"),
        ("a", "year"),
        ("mo", "month"),
        ("/uL", "per microlitre"),
        ("{cells}/uL", "cells per microlitre"),
        ("mm[Hg]", "millimetre of mercury column"),
    ],
)
def test_common_laboratory_units_read_as_words(code, words):
    assert describe_unit(code) == words


@pytest.mark.parametrize("code", [None, "", "  ", "g per dL", "not a unit", "1"])
def test_no_words_for_no_unit_a_code_ucum_refuses_or_a_bare_number(code):
    """The page then shows the code alone (a dictionary imported before units were checked
    may hold anything)."""
    assert describe_unit(code) is None
