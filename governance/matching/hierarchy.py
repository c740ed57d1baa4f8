"""The check's view of the term store: ancestors and labels of the disease terms involved, and
the versions of the ontologies that hold them.

Versions are keyed by the **CURIE prefix** of the terms, not by the prefix the ontology was
loaded under: disease terms are NCIt codes (``NCIT:C3171``) loaded from the bundled
haematological-malignancies file under the ontology prefix ``HAEM``, so the result reports
``{"DUO": "2021-02-23", "NCIT": "<version of HAEM>"}`` — a reader knows which codes were read
and can find the file from the CURIE. DUO itself is always reported (the codes of every check
are DUO's). Ancestors and labels come from ``ontologies.hierarchy_cache`` (worker-local, reset
when an ontology is loaded); the versions are one small query per database session.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from core.db import get_session
from governance.matching.check import Hierarchy
from ontologies import hierarchy_cache
from ontologies.models import Ontology

_VERSIONS_KEY = "matching_ontology_versions"


def _ontology_versions() -> dict[str, str]:
    """Ontology prefix → version (its load time when the file gives none), once per session."""
    session = get_session()
    cached = session.info.get(_VERSIONS_KEY)
    if cached is None:
        cached = {
            prefix: version or (loaded_at.date().isoformat() if loaded_at else "unknown")
            for prefix, version, loaded_at in session.execute(
                select(Ontology.prefix, Ontology.version, Ontology.loaded_at)
            )
        }
        session.info[_VERSIONS_KEY] = cached
    return cached


def current_hierarchy(curies: Iterable[str] = ()) -> Hierarchy:
    """A :class:`Hierarchy` for the disease terms ``curies`` (a purpose's and the datasets'
    together): their ancestors and labels, and the version of the ontology behind each CURIE
    prefix among them and DUO. Terms the store does not know have no ancestors and no label
    (the check then compares them by identity)."""
    wanted = set(curies)
    ancestors = hierarchy_cache.ancestors(wanted) if wanted else {}
    known = hierarchy_cache.terms(wanted) if wanted else {}
    by_prefix = _ontology_versions()
    versions: dict[str, str] = {}
    if "DUO" in by_prefix:
        versions["DUO"] = by_prefix["DUO"]
    for curie, (_label, ontology) in known.items():
        if ontology in by_prefix:
            versions.setdefault(curie.split(":", 1)[0], by_prefix[ontology])
    return Hierarchy(
        ancestors=ancestors,
        labels={c: label for c, (label, _o) in known.items()},
        versions=versions,
    )
