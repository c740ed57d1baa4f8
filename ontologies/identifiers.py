"""CURIEs and IRIs: one prefix map (bioregistry conventions), either form accepted everywhere,
answers always with the CURIE."""

from __future__ import annotations

import re
from functools import lru_cache

import curies

OBO = "http://purl.obolibrary.org/obo/"
HV_IRI_PREFIX = "https://w3id.org/harmony/hv/HV_"

# Canonical prefix → IRI prefix. OBO Foundry ontologies follow the PREFIX_local rule and need no
# entry (see ``_OBO_IRI``); these are the others and the OBO ones we name explicitly.
PREFIX_MAP: dict[str, str] = {
    "NCIT": OBO + "NCIT_",
    "DUO": OBO + "DUO_",
    "MONDO": OBO + "MONDO_",
    "HP": OBO + "HP_",
    "UO": OBO + "UO_",
    "OMO": OBO + "OMO_",
    "IAO": OBO + "IAO_",
    "UBERON": OBO + "UBERON_",
    "CHEBI": OBO + "CHEBI_",
    "OBI": OBO + "OBI_",
    "HV": HV_IRI_PREFIX,
    "LOINC": "https://loinc.org/",
    "ONCOTREE": "http://oncotree.mskcc.org/api/tumorTypes/search/code/",
    "UMLS": "http://linkedlifedata.com/resource/umls/id/",
    "SNOMEDCT": "http://snomed.info/id/",
    "EFO": "http://www.ebi.ac.uk/efo/EFO_",
    "MESH": "http://id.nlm.nih.gov/mesh/",
    "ORPHA": "http://www.orpha.net/ORDO/Orphanet_",
    "ICD10": "http://purl.bioontology.org/ontology/ICD10/",
    "SKOS": "http://www.w3.org/2004/02/skos/core#",
}

_OBO_IRI = re.compile(r"^https?://purl\.obolibrary\.org/obo/([A-Za-z][A-Za-z0-9]*)_([^/#]+)$")
_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*):([^\s/][^\s]*)$")
_IRI = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class UnknownIdentifier(ValueError):
    """Neither a CURIE with a known prefix nor an IRI we can compress."""


@lru_cache(maxsize=1)
def converter() -> curies.Converter:
    records = [
        curies.Record(
            prefix=prefix,
            uri_prefix=uri,
            prefix_synonyms=sorted({prefix.lower(), prefix.title()} - {prefix}),
            uri_prefix_synonyms=[uri.replace("http://", "https://", 1)]
            if uri.startswith("http://")
            else [],
        )
        for prefix, uri in PREFIX_MAP.items()
    ]
    return curies.Converter(records)


def canonical_prefix(prefix: str) -> str:
    known = {p.lower(): p for p in PREFIX_MAP}
    return known.get(prefix.lower(), prefix.upper())


def is_iri(text: str) -> bool:
    return bool(_IRI.match(text))


def compress(iri: str) -> str | None:
    """The CURIE of an IRI, or None when no prefix covers it."""
    iri = iri.strip()
    if iri.startswith("https://loinc.org/") or iri.startswith("http://loinc.org/"):
        code = iri.rstrip("/").rsplit("/", 1)[1]
        return f"LOINC:{code}"
    result = converter().compress(iri)
    if result:
        return str(result)
    match = _OBO_IRI.match(iri)
    if match:
        return f"{match.group(1).upper()}:{match.group(2)}"
    return None


def expand(curie: str) -> str | None:
    prefix, _, local = curie.partition(":")
    canonical = canonical_prefix(prefix)
    if canonical == "LOINC":
        return f"https://loinc.org/{local}/"
    iri = converter().expand(f"{canonical}:{local}")
    if iri:
        return str(iri)
    return None


def normalise_curie(text: str) -> str:
    """``ncit:C3171`` → ``NCIT:C3171``; IRIs are compressed.

    :raises UnknownIdentifier: when the text is neither.
    """
    text = text.strip()
    text = re.sub(r"^(https?):/(?!/)", r"\1://", text)  # a path may have merged the slashes
    if is_iri(text):
        curie = compress(text)
        if curie is None:
            raise UnknownIdentifier(f"No known prefix covers the IRI {text}")
        return curie
    match = _CURIE.match(text)
    if not match:
        raise UnknownIdentifier(f"{text!r} is neither a CURIE (PREFIX:id) nor an IRI")
    return f"{canonical_prefix(match.group(1))}:{match.group(2)}"
