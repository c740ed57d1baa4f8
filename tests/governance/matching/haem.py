"""A slice of the bundled haematological-malignancy hierarchy (ontologies/data/haem-diseases.ttl)
in memory, for the pure tests of the check; ``test_check_api`` verifies that the term store
gives the same ancestors for these terms."""

from __future__ import annotations

from datetime import date
from typing import Any

from governance.matching.check import Conditions, Hierarchy, Modifier, Purpose

HAEM_ROOT = "NCIT:C27134"  # Hematopoietic and Lymphoid Cell Neoplasm
MYELOID = "NCIT:C9290"  # Myeloid Neoplasm
ACUTE_LEUKAEMIA = "NCIT:C9300"  # Acute Leukemia
AML = "NCIT:C3171"  # Acute Myeloid Leukemia (below MYELOID and ACUTE_LEUKAEMIA)
AML_RGA = "NCIT:C7175"  # AML with Recurrent Genetic Abnormalities (below AML)
APL = "NCIT:C3182"  # Acute Promyelocytic Leukemia with PML-RARA (below AML_RGA)
MDS = "NCIT:C3247"  # Myelodysplastic Syndrome (below MYELOID, not AML)
PLASMA_CELL = "NCIT:C4665"  # Plasma Cell Neoplasm
MYELOMA = "NCIT:C3242"  # Plasma Cell Myeloma (below PLASMA_CELL; unrelated to AML)

PARENTS: dict[str, tuple[str, ...]] = {
    MYELOID: (HAEM_ROOT,),
    ACUTE_LEUKAEMIA: (HAEM_ROOT,),
    AML: (MYELOID, ACUTE_LEUKAEMIA),
    AML_RGA: (AML,),
    APL: (AML_RGA,),
    MDS: (MYELOID,),
    PLASMA_CELL: (HAEM_ROOT,),
    MYELOMA: (PLASMA_CELL,),
    HAEM_ROOT: (),
}
LABELS = {
    HAEM_ROOT: "Hematopoietic and Lymphoid Cell Neoplasm",
    MYELOID: "Myeloid Neoplasm",
    ACUTE_LEUKAEMIA: "Acute Leukemia",
    AML: "Acute Myeloid Leukemia",
    AML_RGA: "Acute Myeloid Leukemia with Recurrent Genetic Abnormalities",
    APL: "Acute Promyelocytic Leukemia with PML-RARA",
    MDS: "Myelodysplastic Syndrome",
    PLASMA_CELL: "Plasma Cell Neoplasm",
    MYELOMA: "Plasma Cell Myeloma",
}


def _ancestors(term: str) -> frozenset[str]:
    out = {term}  # the closure table holds the term itself at depth 0
    for parent in PARENTS[term]:
        out |= _ancestors(parent)
    return frozenset(out)


ANCESTORS = {term: _ancestors(term) for term in PARENTS}
HIERARCHY = Hierarchy(
    ancestors=ANCESTORS, labels=LABELS, versions={"DUO": "2021-02-23", "NCIT": "2025.1"}
)
DISEASES = tuple(PARENTS)


def purpose(*terms: str, **fields: Any) -> Purpose:
    """A purpose that satisfies every modifier unless told otherwise: non-commercial, approved,
    in NL, publishing late, short, collaborating, answering clinical care."""
    defaults: dict[str, Any] = {
        "commercial": False,
        "ethics_approval": True,
        "country": "NL",
        "publication_not_before": date(2030, 1, 1),
        "duration_months": 12,
        "collaboration": True,
        "clinical_care": False,
    }
    diseases = fields.pop("diseases", ())
    return Purpose(terms=frozenset(terms), diseases=frozenset(diseases), **(defaults | fields))


def conditions(permission: str, *diseases: str, modifiers: tuple[Modifier, ...] = ()) -> Conditions:
    return Conditions(permission=permission, diseases=tuple(diseases), modifiers=modifiers)


def mod(term: str, **params: Any) -> Modifier:
    return Modifier(term=term, params=params)
