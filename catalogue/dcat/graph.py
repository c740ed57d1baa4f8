"""DCAT-AP 3 (with the HealthDCAT-AP health extension) and FAIR Data Point graphs, built with
rdflib.

Every IRI is built from the ``BASE_URL`` setting (:class:`Iris`), never from the request's
host, so that a harvested IRI stays the same whichever address served it:

- the catalogue ``{BASE_URL}/catalogue``, the FAIR Data Point ``{BASE_URL}/fdp``;
- a dataset ``{BASE_URL}/datasets/{identifier}``, one of its published versions
  ``…/versions/{n}``, its parts as fragments (``#contact``, ``#temporal``, ``#provenance``,
  ``#dictionary-csvw``, ``#dictionary-csv``);
- a custodian organisation ``{BASE_URL}/organisations/{id}`` (``owl:sameAs`` its ROR id);
- a variable of a dataset ``{BASE_URL}/datasets/{identifier}/variables/{name}`` and one of its
  permissible values ``…/variables/{name}/values/{code}`` (name and code percent-encoded): the
  subjects of the SSSOM exports and the ``@id`` of the CSVW columns;
- the FAIR Data Point's container of catalogues ``{BASE_URL}/fdp/catalogs``.

Every one of them answers (:mod:`catalogue.dcat.views`): HTML to browsers, RDF to clients that
ask for it.

The graphs describe every resource they point to with the class DCAT-AP expects (a country is a
``dct:Location``, a theme a ``skos:Concept`` …), so that they validate against the DCAT-AP 3.0.0
shapes without inference.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pyoxigraph as ox
from flask import current_app
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from catalogue import extensions
from catalogue.dcat.services import CatalogueFacts, PublicRecord, Publisher
from catalogue.dcat.store import GroupedStore
from catalogue.dcat.vocab import (
    ACCESS_RESTRICTED,
    ADMS,
    CSVW_RECOMMENDATION,
    DATA_MODEL_STANDARDS,
    DATA_THEME_SCHEME,
    DATACITE,
    DCAT,
    DCAT_AP_3,
    DCATAP,
    DCT,
    DCT_FORMAT,
    ELI,
    FDP,
    FDP_SPECIFICATION,
    FILE_TYPE_CSV,
    FILE_TYPE_JSON_LD,
    FOAF,
    GDPR,
    HEALTH_CATEGORIES,
    HEALTH_CATEGORY_SCHEME,
    HEALTHDCAT_AP,
    HEALTHDCATAP,
    HYDRA,
    LANGUAGE_ENGLISH,
    LDP,
    MEDIA_TYPE_CSV,
    MEDIA_TYPE_CSVW,
    METADATA_LICENCE,
    NCIT_CODING_SYSTEM,
    OWL,
    R3D,
    RDF,
    RDFS,
    SKOS,
    STATUS_WITHDRAWN,
    THEME_HEALTH,
    VCARD,
    XSD,
    country_iri,
    country_label,
    typical_ages,
)
from catalogue.models import (
    CLASSIFICATION_LABELS,
    PROVENANCE_LABELS,
    SOURCE_TYPE_LABELS,
    AgeGroup,
    Classification,
    DataModel,
    ProvenanceStep,
    SourceType,
)

#: the store the graphs are built in: None for :class:`GroupedStore` (small graphs, added to
#: once and written once, need none of the default store's indexes); the name of an rdflib store
#: plugin otherwise (the benchmark compares them)
STORE: str | None = None
CATALOGUE_TITLE = "HARMONY Catalogue"
CATALOGUE_DESCRIPTION = (
    "Metadata of the datasets on haematological malignancies (AML, ALL, CLL, MDS, multiple "
    "myeloma, lymphomas, paediatric blood cancers) that the partners of the HARMONY Alliance "
    "hold in clinical trials, registries and cohorts: their diseases, populations, coverage, "
    "custodians and data dictionaries mapped to ontology terms. The data themselves are "
    "pseudonymised patient-level data, shared only for research approved by the HARMONY Data "
    "Access Committee."
)
ALLIANCE_NAME = "HARMONY Alliance"
ALLIANCE_HOMEPAGE = URIRef("https://www.harmony-alliance.eu/")
AGE_GROUP_WORDS = {
    AgeGroup.PAEDIATRIC: "children",
    AgeGroup.ADULT: "adults",
    AgeGroup.ELDERLY: "elderly patients",
}


@dataclass(frozen=True)
class Iris:
    """The IRIs of everything the catalogue publishes, from one base URL."""

    base: str

    @classmethod
    def current(cls) -> Iris:
        return cls(str(current_app.config["BASE_URL"]).rstrip("/"))

    @property
    def home(self) -> URIRef:
        return URIRef(self.base + "/")

    @property
    def catalogue(self) -> URIRef:
        return URIRef(self.base + "/catalogue")

    @property
    def publisher(self) -> URIRef:
        return URIRef(self.base + "/catalogue#publisher")

    @property
    def fdp(self) -> URIRef:
        return URIRef(self.base + "/fdp")

    @property
    def fdp_catalogs(self) -> URIRef:
        """The FDP's LDP container of its catalogues (there is one)."""
        return URIRef(self.base + "/fdp/catalogs")

    @property
    def openapi(self) -> URIRef:
        return URIRef(self.base + "/api/v1/openapi.json")

    def dataset(self, identifier: str) -> URIRef:
        return URIRef(f"{self.base}/datasets/{identifier}")

    def version(self, identifier: str, number: int) -> URIRef:
        return URIRef(f"{self.base}/datasets/{identifier}/versions/{number}")

    def organisation(self, organisation_id: str) -> URIRef:
        return URIRef(f"{self.base}/organisations/{organisation_id}")

    def variables_prefix(self, identifier: str) -> str:
        """What every variable IRI of a dataset starts with (the SSSOM export's
        ``harmonyvar`` prefix)."""
        return f"{self.base}/datasets/{quote(identifier, safe='')}/variables/"

    def variable(self, identifier: str, name: str) -> URIRef:
        """A variable of the dataset, whatever its version: the variable as the latest
        published version has it."""
        return URIRef(self.variables_prefix(identifier) + quote(name, safe=""))

    def variable_value(self, identifier: str, name: str, code: str) -> URIRef:
        """One permissible value (its code) of a variable."""
        return URIRef(f"{self.variable(identifier, name)}/values/{quote(code, safe='')}")

    def csvw(self, identifier: str, number: int | None = None) -> URIRef:
        suffix = f"?version={number}" if number is not None else ""
        return URIRef(f"{self.base}/datasets/{identifier}/dictionary.csvw.json{suffix}")

    def data_template(self, identifier: str, number: int) -> URIRef:
        return URIRef(f"{self.base}/datasets/{identifier}/data-template.csv?version={number}")

    def dictionary_csv(self, identifier: str, number: int) -> URIRef:
        return URIRef(f"{self.base}/api/v1/datasets/{identifier}/dictionary.csv?version={number}")

    def record_subject(self, record: PublicRecord) -> URIRef:
        """The version IRI for a record of one version, else the dataset IRI."""
        if record.versioned:
            return self.version(record.identifier, record.version.number)
        return self.dataset(record.identifier)


class RecordGraph(Graph):
    """A graph for the builders below: ``add`` hands the triple straight to the store, without
    rdflib's per-triple type assertions (the builders add rdflib terms only; the checks were a
    third of the time of building the export's graphs)."""

    def add(self, triple: tuple[Node, Node, Node]) -> RecordGraph:
        self.store.add(triple, self, quoted=False)
        return self


def new_graph() -> Graph:
    if STORE is None:
        return RecordGraph(store=GroupedStore())
    return Graph(store=STORE)


def _text(value: str) -> Literal:
    return Literal(value, lang="en")


def _datetime(value: dt.datetime) -> Literal:
    return Literal(value.astimezone(dt.UTC).replace(microsecond=0), datatype=XSD.dateTime)


def _count(value: int) -> Literal:
    return Literal(str(value), datatype=XSD.nonNegativeInteger)


def _year(value: int) -> Literal:
    return Literal(f"{value:04d}", datatype=XSD.gYear)


SAFE_IRI_CHARACTERS = ":/?#[]@!$&'()*+,;=%~-._"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def safe_iri(text: str | None) -> URIRef | None:
    """An http(s) IRI from what a custodian typed, with characters that IRIs forbid
    percent-encoded (a ``%`` that starts no escape too); None when it is not an http(s)
    address or still not an IRI."""
    if not text:
        return None
    value = text.strip()
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    candidate = quote(_STRAY_PERCENT.sub("%25", value), safe=SAFE_IRI_CHARACTERS)
    try:
        ox.NamedNode(candidate)
    except ValueError:
        return None
    return URIRef(candidate)


def mailto(email: str | None) -> URIRef | None:
    if not email or "@" not in email:
        return None
    return URIRef("mailto:" + quote(email.strip(), safe="@+.-_"))


# --- datasets ---------------------------------------------------------------------------------


def add_dataset(graph: Graph, record: PublicRecord, iris: Iris) -> URIRef:
    """The DCAT-AP description of a dataset (its latest published version, or the older version
    the record holds), with the HealthDCAT-AP properties we hold data for. A retired dataset's
    description is its last one, marked withdrawn and deprecated."""
    add = graph.add
    version = record.version
    subject = iris.record_subject(record)
    dataset_iri = iris.dataset(record.identifier)
    add((subject, RDF.type, DCAT.Dataset))
    add((subject, DCT.identifier, Literal(str(subject))))
    add((subject, DCT.title, _text(version.title)))
    add((subject, DCT.description, _text(version.description or version.title)))
    add((subject, DCT.issued, _datetime(_issued(record))))
    add((subject, DCT.modified, _datetime(record.modified)))
    add((subject, DCAT.version, Literal(str(version.number))))
    if version.version:
        add((subject, ADMS.versionNotes, _text(version.version)))
    if not record.versioned:
        add((subject, DCAT.hasCurrentVersion, iris.version(record.identifier, version.number)))
    else:
        add((subject, DCAT.isVersionOf, dataset_iri))
        if record.previous_number is not None:
            previous = iris.version(record.identifier, record.previous_number)
            add((subject, DCAT.previousVersion, previous))
    _add_publisher(graph, subject, record, iris)
    _add_contact(graph, subject, version, record)
    for keyword in version.keywords or []:
        add((subject, DCAT.keyword, _text(str(keyword))))
    add((subject, DCAT.theme, THEME_HEALTH))
    _describe_theme(graph)
    _add_diseases(graph, subject, record)
    for code in version.countries or []:
        place = country_iri(str(code))
        if place is not None:
            add((subject, DCT.spatial, place))
            add((place, RDF.type, DCT.Location))
            add((place, SKOS.prefLabel, _text(country_label(str(code)))))
    _add_temporal(graph, subject, version)
    add((subject, DCT.accessRights, ACCESS_RESTRICTED))
    add((ACCESS_RESTRICTED, RDF.type, DCT.RightsStatement))
    add((ACCESS_RESTRICTED, RDFS.label, _text("Restricted")))
    add((subject, DCATAP.applicableLegislation, GDPR))
    add((GDPR, RDF.type, ELI.LegalResource))
    landing = safe_iri(version.landing_page)
    if landing is not None:
        add((subject, DCAT.landingPage, landing))
        add((landing, RDF.type, FOAF.Document))
    if version.data_model is not None:
        standard = DATA_MODEL_STANDARDS.get(DataModel(version.data_model))
        if standard is not None:
            add((subject, DCT.conformsTo, standard.iri))
            add((standard.iri, RDF.type, DCT.Standard))
            add((standard.iri, DCT.title, _text(standard.label)))
    _add_provenance(graph, subject, version)
    _add_trial_identifiers(graph, subject, version)
    _add_health(graph, subject, record)
    if record.has_variables:
        _add_dictionary(graph, subject, record, iris)
    if record.is_current and not record.retired:
        # what other areas add (the data-use policy): catalogue.extensions
        extensions.contribute_dcat(graph, subject, record, iris)
    if record.retired:
        _mark_withdrawn(graph, subject, record)
    return subject


def _issued(record: PublicRecord) -> dt.datetime:
    if not record.versioned:
        return record.first_published_at
    return record.version.published_at or record.first_published_at


def _add_publisher(graph: Graph, subject: URIRef, record: PublicRecord, iris: Iris) -> None:
    graph.add((subject, DCT.publisher, add_agent(graph, record.publisher, iris)))


def add_agent(graph: Graph, publisher: Publisher, iris: Iris) -> URIRef:
    """A custodian organisation as DCAT-AP's publisher: a ``foaf:Agent`` with its name, its
    country and its ROR id (the same triples in a dataset's record and at the organisation's
    own IRI)."""
    agent = iris.organisation(publisher.id)
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, RDF.type, FOAF.Organization))
    graph.add((agent, FOAF.name, Literal(publisher.name)))
    place = country_iri(publisher.country)
    if place is not None:
        graph.add((agent, DCT.spatial, place))
        graph.add((place, RDF.type, DCT.Location))
        graph.add((place, SKOS.prefLabel, _text(country_label(publisher.country))))
    if publisher.ror_id:
        graph.add((agent, OWL.sameAs, URIRef(f"https://ror.org/{publisher.ror_id}")))
        graph.add((agent, DCT.identifier, Literal(f"https://ror.org/{publisher.ror_id}")))
    return agent


def _add_contact(graph: Graph, subject: URIRef, version: object, record: PublicRecord) -> None:
    email = mailto(getattr(version, "contact_email", None))
    name = getattr(version, "contact_name", None) or record.publisher.name
    contact = URIRef(f"{subject}#contact")
    graph.add((subject, DCAT.contactPoint, contact))
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, VCARD.fn, Literal(name)))
    graph.add((contact, VCARD["organization-name"], Literal(record.publisher.name)))
    if email is not None:
        graph.add((contact, VCARD.hasEmail, email))


def _describe_theme(graph: Graph) -> None:
    graph.add((THEME_HEALTH, RDF.type, SKOS.Concept))
    graph.add((THEME_HEALTH, SKOS.prefLabel, _text("Health")))
    graph.add((THEME_HEALTH, SKOS.inScheme, DATA_THEME_SCHEME))


def _add_diseases(graph: Graph, subject: URIRef, record: PublicRecord) -> None:
    """Disease terms as ``dct:subject`` and as HealthDCAT-AP code values (NCIt IRIs), with
    NCIt (Wikidata's "NCI Thesaurus ID") as the coding system."""
    for term in record.diseases:
        concept = URIRef(term.iri)
        graph.add((subject, DCT.subject, concept))
        graph.add((subject, HEALTHDCATAP.hasCodeValues, concept))
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, SKOS.prefLabel, _text(term.label)))
        graph.add((concept, SKOS.notation, Literal(term.curie.split(":", 1)[-1])))
        graph.add((concept, DCT.identifier, Literal(term.iri, datatype=XSD.anyURI)))
        graph.add((concept, SKOS.inScheme, NCIT_CODING_SYSTEM))
    if record.diseases:
        graph.add((subject, HEALTHDCATAP.hasCodingSystem, NCIT_CODING_SYSTEM))


def _add_temporal(graph: Graph, subject: URIRef, version: object) -> None:
    first = getattr(version, "first_year", None)
    last = getattr(version, "last_year", None)
    if first is None and last is None:
        return
    period = URIRef(f"{subject}#temporal")
    graph.add((subject, DCT.temporal, period))
    graph.add((period, RDF.type, DCT.PeriodOfTime))
    if first is not None:
        graph.add((period, DCAT.startDate, _year(first)))
    if last is not None:
        graph.add((period, DCAT.endDate, _year(last)))


def _add_provenance(graph: Graph, subject: URIRef, version: object) -> None:
    """The provenance steps, the classification of diagnoses and the data freeze, as one
    provenance statement."""
    parts = []
    for step in getattr(version, "provenance", None) or []:
        try:
            label = PROVENANCE_LABELS[ProvenanceStep(step.get("step"))]
        except (ValueError, AttributeError):
            continue
        date = step.get("date")
        parts.append(f"{label} ({date})" if date else label)
    classification = getattr(version, "classification", None)
    if classification is not None:
        parts.append(
            "Diagnoses classified by " + CLASSIFICATION_LABELS[Classification(classification)]
        )
    freeze = getattr(version, "data_freeze", None)
    if freeze is not None:
        parts.append(f"Data freeze {freeze.isoformat()}")
    if not parts:
        return
    statement = URIRef(f"{subject}#provenance")
    graph.add((subject, DCT.provenance, statement))
    graph.add((statement, RDF.type, DCT.ProvenanceStatement))
    graph.add((statement, RDFS.label, _text(". ".join(parts) + ".")))


def _add_trial_identifiers(graph: Graph, subject: URIRef, version: object) -> None:
    for position, trial_id in enumerate(getattr(version, "trial_ids", None) or [], start=1):
        identifier = URIRef(f"{subject}#trial-{position}")
        graph.add((subject, ADMS.identifier, identifier))
        graph.add((identifier, RDF.type, ADMS.Identifier))
        graph.add((identifier, SKOS.notation, Literal(str(trial_id))))


def _add_health(graph: Graph, subject: URIRef, record: PublicRecord) -> None:
    """HealthDCAT-AP: population size, records, typical ages, population coverage, health
    category."""
    version = record.version
    if version.patients is not None:
        graph.add((subject, HEALTHDCATAP.numberOfUniqueIndividuals, _count(version.patients)))
    if version.records is not None:
        graph.add((subject, HEALTHDCATAP.numberOfRecords, _count(version.records)))
    youngest, oldest = typical_ages(list(version.age_groups or []))
    if youngest is not None:
        graph.add((subject, HEALTHDCATAP.minTypicalAge, _count(youngest)))
    if oldest is not None:
        graph.add((subject, HEALTHDCATAP.maxTypicalAge, _count(oldest)))
    coverage = population_coverage(record)
    if coverage:
        graph.add((subject, HEALTHDCATAP.populationCoverage, _text(coverage)))
    if version.source_type is not None:
        category = HEALTH_CATEGORIES[SourceType(version.source_type)]
        graph.add((subject, HEALTHDCATAP.healthCategory, category.iri))
        graph.add((category.iri, RDF.type, SKOS.Concept))
        graph.add((category.iri, SKOS.prefLabel, _text(category.label)))
        if category.definition:
            graph.add((category.iri, SKOS.definition, _text(category.definition)))
        graph.add((category.iri, SKOS.inScheme, HEALTH_CATEGORY_SCHEME))


def population_coverage(record: PublicRecord) -> str:
    """A sentence on who the dataset covers, from what we hold: e.g. "1,046 adults with Acute
    Myeloid Leukemia in Netherlands, Belgium and Switzerland, 2016-2023 (clinical trial)"."""
    version = record.version
    who = " and ".join(
        AGE_GROUP_WORDS[AgeGroup(g)]
        for g in version.age_groups or []
        if g in AgeGroup._value2member_map_
    )
    text = who or "patients"
    if version.patients is not None:
        text = f"{version.patients:,} {text}"
    diseases = _join([t.label for t in record.diseases])
    if diseases:
        text += f" with {diseases}"
    text = text[0].upper() + text[1:]
    countries = _join([country_label(str(c)) for c in version.countries or []])
    if countries:
        text += f" in {countries}"
    if version.first_year is not None or version.last_year is not None:
        first = version.first_year or "…"
        last = version.last_year or "…"
        text += f", {first}-{last}"
    if version.source_type is not None:
        text += f" ({SOURCE_TYPE_LABELS[SourceType(version.source_type)].lower()})"
    return text + "."


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _add_dictionary(graph: Graph, subject: URIRef, record: PublicRecord, iris: Iris) -> None:
    """The variables: the dataset conforms to its CSVW table schema (each variable a column
    whose ``propertyUrl`` is the term it is mapped to), offered as two distributions: that CSVW
    description, and the data dictionary as CSV."""
    version = record.version
    number = version.number
    csvw = iris.csvw(record.identifier, number if record.versioned else None)
    schema_title = f"Variables of {record.identifier}, version {number} (CSVW table schema)"
    graph.add((subject, DCT.conformsTo, csvw))
    graph.add((csvw, RDF.type, DCT.Standard))
    graph.add((csvw, DCT.title, _text(schema_title)))
    graph.add((csvw, DCT.conformsTo, CSVW_RECOMMENDATION))
    issued = _datetime(version.published_at or record.first_published_at)

    schema = URIRef(f"{subject}#dictionary-csvw")
    graph.add((subject, DCAT.distribution, schema))
    graph.add((schema, RDF.type, DCAT.Distribution))
    graph.add((schema, DCT.title, _text("Data dictionary (CSVW)")))
    graph.add(
        (
            schema,
            DCT.description,
            _text(
                "The variables as the columns of a CSVW table schema: name, label, description, "
                "datatype, unit, missing-value codes and permissible values, each column's "
                "propertyUrl the ontology term it is mapped to. Validates a CSV of the data."
            ),
        )
    )
    graph.add((schema, DCAT.accessURL, csvw))
    graph.add((schema, DCAT.downloadURL, csvw))
    graph.add((schema, DCAT.mediaType, MEDIA_TYPE_CSVW))
    graph.add((MEDIA_TYPE_CSVW, RDF.type, DCT.MediaType))
    graph.add((schema, DCT_FORMAT, FILE_TYPE_JSON_LD))
    graph.add((FILE_TYPE_JSON_LD, RDF.type, DCT.MediaTypeOrExtent))
    graph.add((schema, DCT.conformsTo, CSVW_RECOMMENDATION))
    graph.add((CSVW_RECOMMENDATION, RDF.type, DCT.Standard))
    graph.add((CSVW_RECOMMENDATION, DCT.title, _text("Metadata Vocabulary for Tabular Data (W3C)")))
    graph.add((schema, DCT.license, METADATA_LICENCE))
    graph.add((schema, DCT.issued, issued))

    table = URIRef(f"{subject}#dictionary-csv")
    csv_url = iris.dictionary_csv(record.identifier, number)
    graph.add((subject, DCAT.distribution, table))
    graph.add((table, RDF.type, DCAT.Distribution))
    graph.add((table, DCT.title, _text("Data dictionary (CSV)")))
    graph.add(
        (
            table,
            DCT.description,
            _text(
                "One row per variable in the HARMONY dictionary template; permissible values as "
                "code=label pairs and mapped terms as CURIEs."
            ),
        )
    )
    graph.add((table, DCAT.accessURL, csv_url))
    graph.add((table, DCAT.downloadURL, csv_url))
    graph.add((table, DCAT.mediaType, MEDIA_TYPE_CSV))
    graph.add((MEDIA_TYPE_CSV, RDF.type, DCT.MediaType))
    graph.add((table, DCT_FORMAT, FILE_TYPE_CSV))
    graph.add((FILE_TYPE_CSV, RDF.type, DCT.MediaTypeOrExtent))
    graph.add((table, DCT.license, METADATA_LICENCE))
    graph.add((table, DCT.issued, issued))
    graph.add((METADATA_LICENCE, RDF.type, DCT.LicenseDocument))
    for url in (csvw, csv_url):
        graph.add((url, RDF.type, RDFS.Resource))


def _mark_withdrawn(graph: Graph, subject: URIRef, record: PublicRecord) -> None:
    graph.add((subject, OWL.deprecated, Literal(True)))
    graph.add((subject, ADMS.status, STATUS_WITHDRAWN))
    graph.add((STATUS_WITHDRAWN, RDF.type, SKOS.Concept))
    graph.add((STATUS_WITHDRAWN, SKOS.prefLabel, _text("Withdrawn")))
    when = record.retired_at.date().isoformat() if record.retired_at else "…"
    note = f"Retired on {when}." + (f" {record.retirement_note}" if record.retirement_note else "")
    graph.add((subject, RDFS.comment, _text(note)))


def add_tombstone(graph: Graph, record: PublicRecord, iris: Iris) -> URIRef:
    """What a harvester needs to remove a retired dataset: its IRI, title, when it was
    withdrawn, and the marks (``owl:deprecated true``, ADMS status withdrawn)."""
    subject = iris.dataset(record.identifier)
    graph.add((subject, RDF.type, DCAT.Dataset))
    graph.add((subject, DCT.identifier, Literal(str(subject))))
    graph.add((subject, DCT.title, _text(record.version.title)))
    note = record.retirement_note or "This dataset was retired from the catalogue."
    graph.add((subject, DCT.description, _text(note)))
    graph.add((subject, DCT.modified, _datetime(record.modified)))
    _mark_withdrawn(graph, subject, record)
    return subject


def dataset_graph(record: PublicRecord, iris: Iris) -> Graph:
    graph = new_graph()
    add_dataset(graph, record, iris)
    return graph


def record_graph(record: PublicRecord, iris: Iris) -> Graph:
    """A dataset as the catalogue-level documents carry it: its description, or its tombstone
    when it is retired."""
    graph = new_graph()
    if record.retired:
        add_tombstone(graph, record, iris)
    else:
        add_dataset(graph, record, iris)
    return graph


# --- the catalogue and the FAIR Data Point ----------------------------------------------------


def catalogue_graph(facts: CatalogueFacts, datasets: Iterable[PublicRecord], iris: Iris) -> Graph:
    """The ``dcat:Catalog`` linking the given (published) datasets; their descriptions are
    added by the caller."""
    graph = new_graph()
    add_catalogue(graph, facts, iris)
    for record in datasets:
        if not record.retired:
            graph.add((iris.catalogue, DCAT.dataset, iris.dataset(record.identifier)))
    return graph


def add_catalogue(graph: Graph, facts: CatalogueFacts, iris: Iris) -> URIRef:
    catalogue = iris.catalogue
    add = graph.add
    add((catalogue, RDF.type, DCAT.Catalog))
    add((catalogue, DCT.title, _text(CATALOGUE_TITLE)))
    add((catalogue, DCT.description, _text(CATALOGUE_DESCRIPTION)))
    add_publisher(graph, iris)
    add((catalogue, DCT.publisher, iris.publisher))
    add((catalogue, FOAF.homepage, iris.home))
    add((iris.home, RDF.type, FOAF.Document))
    add((catalogue, DCT.language, LANGUAGE_ENGLISH))
    add((LANGUAGE_ENGLISH, RDF.type, DCT.LinguisticSystem))
    add((catalogue, DCT.license, METADATA_LICENCE))
    add((METADATA_LICENCE, RDF.type, DCT.LicenseDocument))
    if facts.issued is not None:
        add((catalogue, DCT.issued, _datetime(facts.issued)))
    if facts.modified is not None:
        add((catalogue, DCT.modified, _datetime(facts.modified)))
    add((catalogue, DCAT.themeTaxonomy, DATA_THEME_SCHEME))
    add((DATA_THEME_SCHEME, RDF.type, SKOS.ConceptScheme))
    add((DATA_THEME_SCHEME, DCT.title, _text("Data theme")))
    add((catalogue, DCAT.themeTaxonomy, HEALTH_CATEGORY_SCHEME))
    add((HEALTH_CATEGORY_SCHEME, RDF.type, SKOS.ConceptScheme))
    add((HEALTH_CATEGORY_SCHEME, DCT.title, _text("Health categories (EHDS Article 51)")))
    add((catalogue, DCT.conformsTo, DCAT_AP_3))
    add((catalogue, DCT.conformsTo, HEALTHDCAT_AP))
    for standard, title in ((DCAT_AP_3, "DCAT-AP 3.0.0"), (HEALTHDCAT_AP, "HealthDCAT-AP")):
        add((standard, RDF.type, DCT.Standard))
        add((standard, DCT.title, Literal(title)))
    add((catalogue, DCT.isPartOf, iris.fdp))
    add((catalogue, DCATAP.applicableLegislation, GDPR))
    add((GDPR, RDF.type, ELI.LegalResource))
    add((catalogue, HYDRA.totalItems, Literal(facts.published, datatype=XSD.integer)))
    return catalogue


def add_publisher(graph: Graph, iris: Iris) -> None:
    publisher = iris.publisher
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, RDF.type, FOAF.Organization))
    graph.add((publisher, FOAF.name, Literal(ALLIANCE_NAME)))
    graph.add((publisher, FOAF.homepage, ALLIANCE_HOMEPAGE))
    graph.add((ALLIANCE_HOMEPAGE, RDF.type, FOAF.Document))


@dataclass(frozen=True)
class PageLinks:
    """Hydra paging of a catalogue document: this view's IRI and its neighbours."""

    view: str
    first: str
    last: str
    previous: str | None
    next: str | None
    total: int


def add_paging(graph: Graph, iris: Iris, links: PageLinks) -> None:
    """``hydra:PartialCollectionView`` links, so that a harvester walks every page; the total
    counts the published datasets and tombstones the filter selects."""
    catalogue = iris.catalogue
    view = URIRef(links.view)
    graph.remove((catalogue, HYDRA.totalItems, None))
    graph.add((catalogue, HYDRA.totalItems, Literal(links.total, datatype=XSD.integer)))
    graph.add((catalogue, HYDRA.view, view))
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((view, HYDRA.first, URIRef(links.first)))
    graph.add((view, HYDRA.last, URIRef(links.last)))
    if links.previous:
        graph.add((view, HYDRA.previous, URIRef(links.previous)))
    if links.next:
        graph.add((view, HYDRA.next, URIRef(links.next)))


def software_version() -> str:
    try:
        return importlib.metadata.version("harmony-catalogue")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "0"


def fdp_graph(facts: CatalogueFacts, iris: Iris) -> Graph:
    """The FAIR Data Point's own metadata record (FDP specification 1.2): the FDP as a
    metadata service linking its one catalogue, with the record's identifier and dates."""
    graph = new_graph()
    fdp = iris.fdp
    add = graph.add
    for kind in (FDP.FAIRDataPoint, FDP.MetadataService, DCAT.DataService, DCAT.Resource):
        add((fdp, RDF.type, kind))
    add((fdp, RDF.type, R3D.Repository))
    add((fdp, DCT.title, _text(f"{CATALOGUE_TITLE} FAIR Data Point")))
    add(
        (
            fdp,
            DCT.description,
            _text(
                "The FAIR Data Point of the HARMONY Catalogue: its DCAT-AP catalogue of datasets "
                "on haematological malignancies, harvestable page by page."
            ),
        )
    )
    add_publisher(graph, iris)
    add((fdp, DCT.publisher, iris.publisher))
    add((fdp, DCT.language, LANGUAGE_ENGLISH))
    add((LANGUAGE_ENGLISH, RDF.type, DCT.LinguisticSystem))
    add((fdp, DCT.license, METADATA_LICENCE))
    add((METADATA_LICENCE, RDF.type, DCT.LicenseDocument))
    add((fdp, DCT.conformsTo, FDP_SPECIFICATION))
    add((FDP_SPECIFICATION, RDF.type, DCT.Standard))
    add((FDP_SPECIFICATION, DCT.title, Literal("FAIR Data Point specification 1.2")))
    add((fdp, FDP.conformsToFdpSpec, FDP_SPECIFICATION))
    add((fdp, DCAT.endpointURL, fdp))
    add((fdp, DCAT.endpointDescription, iris.openapi))
    add((fdp, FDP.hasSoftwareVersion, Literal(software_version())))
    add((fdp, FDP.uiLanguage, LANGUAGE_ENGLISH))
    identifier = URIRef(f"{fdp}#identifier")
    add((fdp, FDP.metadataIdentifier, identifier))
    add((identifier, RDF.type, DATACITE.Identifier))
    add((identifier, DATACITE.usesIdentifierScheme, DATACITE.url))
    add((identifier, RDFS.label, Literal(str(fdp))))
    if facts.issued is not None:
        add((fdp, FDP.metadataIssued, _datetime(facts.issued)))
        add((fdp, DCT.issued, _datetime(facts.issued)))
    if facts.modified is not None:
        add((fdp, FDP.metadataModified, _datetime(facts.modified)))
        add((fdp, DCT.modified, _datetime(facts.modified)))
    catalogue = iris.catalogue
    add((fdp, FDP.metadataCatalog, catalogue))
    add((catalogue, RDF.type, DCAT.Catalog))
    add((catalogue, DCT.title, _text(CATALOGUE_TITLE)))
    add((catalogue, DCT.description, _text(CATALOGUE_DESCRIPTION)))
    add((catalogue, DCT.publisher, iris.publisher))
    add((catalogue, DCT.isPartOf, fdp))
    add_catalogs_container(graph, iris)
    return graph


def add_catalogs_container(graph: Graph, iris: Iris) -> URIRef:
    """The LDP direct container ``/fdp/catalogs`` that FDP clients list catalogues from: its
    one member is the catalogue, and membership means ``<fdp> fdp:metadataCatalog <member>``
    (which the FDP's own record states)."""
    container = iris.fdp_catalogs
    add = graph.add
    add((container, RDF.type, LDP.DirectContainer))
    add((container, DCT.title, Literal("Catalogues")))
    add((container, LDP.membershipResource, iris.fdp))
    add((container, LDP.hasMemberRelation, FDP.metadataCatalog))
    add((container, LDP.contains, iris.catalogue))
    return container


def fdp_catalogs_graph(iris: Iris) -> Graph:
    """The document of ``/fdp/catalogs``: the container, its membership triple, and enough of
    each member (its class and title) for a client to list it without a second request."""
    graph = new_graph()
    container = add_catalogs_container(graph, iris)
    graph.add((iris.fdp, FDP.metadataCatalog, iris.catalogue))
    graph.add((iris.catalogue, RDF.type, DCAT.Catalog))
    graph.add((iris.catalogue, DCT.title, _text(CATALOGUE_TITLE)))
    graph.add((iris.catalogue, DCT.isPartOf, iris.fdp))
    graph.add((container, DCT.isPartOf, iris.fdp))
    return graph
