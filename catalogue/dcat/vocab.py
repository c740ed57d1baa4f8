"""Vocabularies of the metadata export: namespaces, the EU authority tables we point into, and
the few concepts of our own.

Sources of the IRIs:

- DCAT-AP 3.0.0 (SEMIC): ``dcat:``, ``dct:``, ``foaf:``, ``vcard:``, ``adms:``, ``dcatap:``;
  controlled vocabularies from the EU Publications Office authority tables (countries,
  languages, data themes, access rights, dataset status, file types, licences).
- HealthDCAT-AP: the health extension, namespace ``http://healthdataportal.eu/ns/health#``
  (``healthdcatap:numberOfUniqueIndividuals``, ``numberOfRecords``, ``minTypicalAge``,
  ``maxTypicalAge``, ``populationCoverage``, ``hasCodeValues``, ``hasCodingSystem``,
  ``healthCategory``). Coding systems are Wikidata properties, as HealthDCAT-AP asks: NCIt
  codes are ``wikidata:P1748``.
- FAIR Data Point: the FDP ontology ``https://w3id.org/fdp/fdp-o#`` and the FDP specification
  1.2; ``r3d:`` (re3data) for the repository type earlier FDP versions used.
- Hydra (``http://www.w3.org/ns/hydra/core#``) for the paging links of the harvestable
  catalogue; CSVW (``http://www.w3.org/ns/csvw#``) for the data dictionaries.
- A variable's own document: CSVW's column terms, schema.org (``http://schema.org/``, as CSVW
  documents use it) for units and permissible values, SKOS for its mappings and SSSOM
  (``https://w3id.org/sssom/``, justifications from ``https://w3id.org/semapv/vocab/``) for
  how each mapping was made.

HealthDCAT-AP has not yet published its health-category vocabulary, so health categories are
concepts of our own scheme (:data:`HEALTH_CATEGORY_SCHEME`), named after the categories of
electronic health data for secondary use of the EHDS Regulation (EU) 2025/327, Article 51.
"""

from __future__ import annotations

from dataclasses import dataclass

import pycountry
from rdflib import Namespace as _Namespace
from rdflib import URIRef

from catalogue.models import AgeGroup, DataModel, SourceType


class Namespace(_Namespace):
    """An rdflib namespace that makes each of its terms once: ``DCT.title`` is then the same
    object every time (rdflib makes and checks a new one on every attribute access, which was a
    sixth of the time of building the export's graphs), and dictionaries keyed by terms find it
    by identity."""

    def __getattr__(self, name: str) -> URIRef:
        term = super().__getattr__(name)
        self.__dict__[name] = term
        return term

    @property
    def title(self) -> URIRef:  # type: ignore[override] # str.title(): rdflib has a property
        term = self.__dict__.get("_title")
        if term is None:
            term = self.__dict__["_title"] = URIRef(self + "title")
        return term


#: open namespaces: rdflib's own DCAT namespace predates DCAT 3 (dcat:version …)
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DCT_FORMAT = DCT["format"]  # not DCT.format: that is str.format
ADMS = Namespace("http://www.w3.org/ns/adms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
HEALTHDCATAP = Namespace("http://healthdataportal.eu/ns/health#")
FDP = Namespace("https://w3id.org/fdp/fdp-o#")
R3D = Namespace("http://www.re3data.org/schema/3-0#")
LDP = Namespace("http://www.w3.org/ns/ldp#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DATACITE = Namespace("http://purl.org/spar/datacite/")
CSVW = Namespace("http://www.w3.org/ns/csvw#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
WIKIDATA = Namespace("http://www.wikidata.org/entity/")
SCHEMA = Namespace("http://schema.org/")  # as CSVW documents use it (schema:unitText …)
SSSOM = Namespace("https://w3id.org/sssom/")
SEMAPV = Namespace("https://w3id.org/semapv/vocab/")

#: prefixes written in Turtle and RDF/XML (the order is the order of the @prefix lines)
PREFIXES: dict[str, str] = {
    "adms": str(ADMS),
    "csvw": str(CSVW),
    "datacite": str(DATACITE),
    "dcat": str(DCAT),
    "dcatap": str(DCATAP),
    "dct": str(DCT),
    "eli": str(ELI),
    "fdp": str(FDP),
    "foaf": str(FOAF),
    "healthdcatap": str(HEALTHDCATAP),
    "hydra": str(HYDRA),
    "ldp": str(LDP),
    "owl": str(OWL),
    "r3d": str(R3D),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "schema": str(SCHEMA),
    "semapv": str(SEMAPV),
    "skos": str(SKOS),
    "sssom": str(SSSOM),
    "vcard": str(VCARD),
    "xsd": str(XSD),
}

_AUTHORITY = "http://publications.europa.eu/resource/authority/"
DATA_THEME_SCHEME = URIRef(_AUTHORITY + "data-theme")
THEME_HEALTH = URIRef(_AUTHORITY + "data-theme/HEAL")
LANGUAGE_ENGLISH = URIRef(_AUTHORITY + "language/ENG")
ACCESS_RESTRICTED = URIRef(_AUTHORITY + "access-right/RESTRICTED")
STATUS_COMPLETED = URIRef(_AUTHORITY + "dataset-status/COMPLETED")
STATUS_WITHDRAWN = URIRef(_AUTHORITY + "dataset-status/WITHDRAWN")
FILE_TYPE_CSV = URIRef(_AUTHORITY + "file-type/CSV")
FILE_TYPE_JSON_LD = URIRef(_AUTHORITY + "file-type/JSON_LD")
#: the licence of the catalogue's own metadata (not of the datasets it describes)
METADATA_LICENCE = URIRef(_AUTHORITY + "licence/CC_BY_4_0")
MEDIA_TYPE_CSV = URIRef("http://www.iana.org/assignments/media-types/text/csv")
MEDIA_TYPE_CSVW = URIRef("http://www.iana.org/assignments/media-types/application/csvm+json")
#: Regulation (EU) 2016/679 (GDPR): pseudonymised patient data are personal data
GDPR = URIRef("http://data.europa.eu/eli/reg/2016/679/oj")
CSVW_RECOMMENDATION = URIRef("http://www.w3.org/TR/tabular-metadata/")
NCIT_CODING_SYSTEM = WIKIDATA["P1748"]  # Wikidata: "NCI Thesaurus ID"

FDP_SPECIFICATION = URIRef("https://specs.fairdatapoint.org/fdp-specs-v1.2.html")
DCAT_AP_3 = URIRef("https://semiceu.github.io/DCAT-AP/releases/3.0.0/")
HEALTHDCAT_AP = URIRef("https://healthdcat-ap.github.io/")


def country_iri(code: str) -> URIRef | None:
    """The EU country authority IRI of an ISO 3166-1 alpha-2 code (None when unknown)."""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return None
    return URIRef(f"{_AUTHORITY}country/{country.alpha_3}")


def country_label(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code.upper())
    return getattr(country, "common_name", None) or (country.name if country else code)


@dataclass(frozen=True)
class Concept:
    iri: URIRef
    label: str
    definition: str | None = None


HEALTH_CATEGORY_SCHEME = URIRef("https://w3id.org/harmony/health-category/")
HEALTH_CATEGORIES: dict[SourceType, Concept] = {
    SourceType.CLINICAL_TRIAL: Concept(
        HEALTH_CATEGORY_SCHEME + "clinical-trials",
        "Clinical trials and clinical studies",
        "Data from clinical trials, clinical studies and clinical investigations "
        "(EHDS Regulation, Article 51).",
    ),
    SourceType.REGISTRY: Concept(
        HEALTH_CATEGORY_SCHEME + "medical-registries",
        "Medical and population-based registries",
        "Data from medical registries and population-based health data registries "
        "(EHDS Regulation, Article 51).",
    ),
    SourceType.OBSERVATIONAL_COHORT: Concept(
        HEALTH_CATEGORY_SCHEME + "research-cohorts",
        "Research cohorts",
        "Data from research cohorts, questionnaires and surveys related to health "
        "(EHDS Regulation, Article 51).",
    ),
    SourceType.BIOBANK: Concept(
        HEALTH_CATEGORY_SCHEME + "biobanks",
        "Biobanks",
        "Health data from biobanks and associated databases (EHDS Regulation, Article 51).",
    ),
    SourceType.REAL_WORLD: Concept(
        HEALTH_CATEGORY_SCHEME + "electronic-health-records",
        "Electronic health records",
        "Electronic health data from electronic health records (EHDS Regulation, Article 51).",
    ),
}

#: data models as the specifications they name (custom and other models name none)
DATA_MODEL_STANDARDS: dict[DataModel, Concept] = {
    DataModel.OMOP: Concept(
        URIRef("https://ohdsi.github.io/CommonDataModel/"), "OMOP Common Data Model"
    ),
    DataModel.SDTM: Concept(
        URIRef("https://www.cdisc.org/standards/foundational/sdtm"),
        "CDISC Study Data Tabulation Model (SDTM)",
    ),
}

#: (youngest, oldest) typical age of each age group; None: open-ended
AGE_RANGES: dict[AgeGroup, tuple[int, int | None]] = {
    AgeGroup.PAEDIATRIC: (0, 17),
    AgeGroup.ADULT: (18, 64),
    AgeGroup.ELDERLY: (65, None),
}


def typical_ages(age_groups: list[str]) -> tuple[int | None, int | None]:
    """(min, max) typical age of a population made of these age groups. The maximum is None
    when the oldest group is open-ended (elderly), since no honest upper bound exists."""
    ranges = [AGE_RANGES[AgeGroup(g)] for g in age_groups if g in AgeGroup._value2member_map_]
    if not ranges:
        return None, None
    youngest = min(r[0] for r in ranges)
    highs = [r[1] for r in ranges]
    oldest = None if any(h is None for h in highs) else max(h for h in highs if h is not None)
    return youngest, oldest
