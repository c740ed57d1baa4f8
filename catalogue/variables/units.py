"""UCUM unit codes in words, for people: ``g/dL`` → "gram per decilitre", ``10*9/L`` →
"billion per litre", ``kg/m2`` → "kilogram per square metre", ``a`` → "year".

The names come from the UCUM specification itself (``ucum-essence.xml``, which ucumvert
vendors for its parser), read once; the code is parsed with ucumvert's UCUM grammar, the one
that validates units at import (:mod:`catalogue.dictionary.units`), so whatever was accepted
there can be read here. Spelling is British ("litre", "metre") as on the rest of the site.

What can go wrong: a code the grammar refuses (a dictionary imported before units were
checked, or a stray word) or a unit the specification does not name gives None, and the page
shows the code alone.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from typing import Any

#: the powers of ten a count is usually given in (cells per litre …), as words
POWERS_OF_TEN = {"3": "thousand", "6": "million", "9": "billion", "12": "trillion"}
#: what UCUM spells the American way, or says in a way a clinician would not
SPELLING = {
    "liter": "litre",
    "meter": "metre",
    "the number ten for arbitrary powers": "ten",
    "the number pi": "pi",
    "mean Julian year": "year",
    "mean Julian month": "month",
    "Unit": "unit",  # the enzyme unit, capitalised in UCUM
}
EXPONENTS = {"2": "square", "3": "cubic"}


@lru_cache(maxsize=1)
def _names() -> tuple[dict[str, str], dict[str, str]]:
    """``(prefixes, units)``: UCUM code → name, from the specification's XML."""
    import ucumvert

    path = Path(ucumvert.__file__).resolve().parent / "vendor" / "ucum-essence.xml"
    root = ET.parse(path).getroot()  # noqa: S314 (a file of the installed package, not input)
    prefixes: dict[str, str] = {}
    units: dict[str, str] = {}
    namespace = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    for element in root:
        code, name = element.get("Code"), element.findtext(f"{namespace}name")
        if not code or not name:
            continue
        name = SPELLING.get(name.strip(), name.strip())
        for american, british in (("liter", "litre"), ("meter", "metre")):
            name = name.replace(american, british)
        tag = element.tag.removeprefix(namespace)
        if tag == "prefix":
            prefixes[code] = name
        elif tag in ("unit", "base-unit"):
            units[code] = name
    return prefixes, units


@lru_cache(maxsize=2048)
def describe_unit(code: str | None) -> str | None:
    """The unit in words, or None when there is no unit or it cannot be read."""
    if not code or not code.strip():
        return None
    from catalogue.dictionary.units import _parser

    try:
        tree = _parser().parse(code.strip())
        words = _words(tree)
    except Exception:  # lark's errors, or a unit UCUM does not name: show the code alone
        return None
    words = " ".join(words.split())
    return words if words and words != code.strip() else None


def _token(node: Any) -> str:
    return str(node)


def _words(node: Any) -> str:
    """The words of one node of ucumvert's parse tree (``main_term``, ``term``,
    ``annotatable``, ``simple_unit``, an annotation or a factor)."""
    from lark import Token, Tree

    if isinstance(node, Token):
        text = str(node)
        if text.startswith("{") and text.endswith("}"):
            return text[1:-1].replace("_", " ")  # an annotation: {cells} → cells
        if text.isdigit():
            return text  # a factor
        return _unit_name(text)
    if not isinstance(node, Tree):
        raise TypeError(node)
    kind, children = str(node.data), list(node.children)
    if kind == "main_term":
        if len(children) == 2 and str(children[0]) == "/":
            return "per " + _words(children[1])
        return _words(children[0])
    if kind == "term":
        if len(children) == 3:
            left, operator, right = children
            joiner = " per " if str(operator) == "/" else " "
            return _words(left) + joiner + _words(right)
        return " ".join(_words(c) for c in children)
    if kind == "annotatable":
        unit, exponent = children[0], str(children[-1])
        if _is_ten(unit):
            return POWERS_OF_TEN.get(exponent, f"ten to the power {exponent}")
        base = _words(unit)
        if exponent in EXPONENTS:
            return f"{EXPONENTS[exponent]} {base}"
        return f"{base} to the power {exponent}"
    if kind == "simple_unit":
        if len(children) == 1:
            return _unit_name(str(children[0]))
        prefix, unit = str(children[0]), str(children[1])
        prefixes, _units = _names()
        return prefixes[prefix] + _unit_name(unit)
    if kind == "annotation" or kind.startswith("annotat"):
        return " ".join(_words(c) for c in children)
    return " ".join(_words(c) for c in children)


def _is_ten(node: Any) -> bool:
    from lark import Tree

    if isinstance(node, Tree) and str(node.data) == "simple_unit" and len(node.children) == 1:
        return str(node.children[0]) in ("10*", "10^")
    return False


def _unit_name(code: str) -> str:
    _prefixes, units = _names()
    if code in units:
        return units[code]
    if code in ("10*", "10^"):
        return "ten"
    raise KeyError(code)
