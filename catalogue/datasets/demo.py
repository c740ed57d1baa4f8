"""Demonstration datasets for ``harmony demo load``: trials, a registry and cohorts of partner
organisations, each with a data dictionary mostly mapped to the HARMONY core variables.

The data live in ``catalogue/datasets/data/demo/``: ``concepts.csv`` describes the variables the
dictionaries share (label, form, value type, UCUM unit, permissible values and the terms they
map to); each dataset has ``NAME.json`` (its metadata, in the API's field names, with its
earlier versions), ``NAME.md`` (its Markdown description) and ``NAME.csv`` (its dictionary: the
custodian's variable names, each naming a concept and a time point, the version it appeared in,
and ``mapped=no`` for variables left for the mapping assistant).

The step writes through the dataset service (create, new version, update, publish) as the
``SYSTEM`` actor and adds variables and their mappings as rows. It runs only on a catalogue
without datasets, so loading twice never duplicates anything.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from catalogue.datasets import services as datasets
from catalogue.datasets.schemas import DatasetInputSchema
from catalogue.models import (
    Dataset,
    DatasetVersion,
    Mapping,
    MappingJustification,
    MappingPredicate,
    MappingStatus,
    UsedIdentifier,
    ValueType,
    Variable,
)
from core import audit, services
from core import demo as core_demo
from core.db import get_session
from core.files import read_csv_file
from core.models import Organisation, Role
from core.policies import SYSTEM
from core.text import plural
from ontologies.models import Term

DATA_DIR = Path(__file__).resolve().parent / "data" / "demo"
DEMO_CUSTODIAN_EMAIL = f"custodian@{core_demo.DEMO_DOMAIN}"

PREDICATES = {
    "": MappingPredicate.EXACT,
    "exact": MappingPredicate.EXACT,
    "close": MappingPredicate.CLOSE,
    "broad": MappingPredicate.BROAD,
    "narrow": MappingPredicate.NARROW,
    "related": MappingPredicate.RELATED,
}
CONFIDENCE = {
    MappingPredicate.EXACT: 1.0,
    MappingPredicate.CLOSE: 0.9,
    MappingPredicate.BROAD: 0.8,
    MappingPredicate.NARROW: 0.8,
    MappingPredicate.RELATED: 0.7,
}
# the time point of a variable whose dictionary row names none, by form
DEFAULT_TIME_POINTS = {
    "demographics": "baseline",
    "diagnosis": "diagnosis",
    "laboratory": "diagnosis",
    "cytogenetics": "diagnosis",
    "molecular": "diagnosis",
    "treatment": "on treatment",
    "transplant": "transplant",
    "response": "end of treatment",
    "follow_up": "follow-up",
}
# REDCap field types, for the dictionaries that come from a REDCap project
REDCAP_TYPES = {ValueType.CATEGORICAL: "dropdown", ValueType.BOOLEAN: "yesno"}


@dataclass(frozen=True)
class TermRef:
    curie: str
    predicate: MappingPredicate
    value_code: str | None = None


@dataclass(frozen=True)
class Concept:
    """A variable as the demo dictionaries share it."""

    key: str
    label: str
    form: str
    value_type: ValueType
    unit: str | None
    minimum: str | None
    maximum: str | None
    values: tuple[tuple[str, str], ...]
    terms: tuple[TermRef, ...]  # the variable's mapping first, then its values'
    description: str | None


@dataclass
class VariableSpec:
    name: str
    label: str
    description: str | None
    form: str
    time_point: str
    value_type: ValueType
    unit: str | None
    minimum: str | None
    maximum: str | None
    permissible_values: list[dict[str, str]]
    missing_codes: list[str]
    source_type: str | None
    since: int  # the version it first appears in
    mappings: list[TermRef]


@dataclass
class DatasetSpec:
    identifier: str
    order: int
    organisations: list[str]
    demo_custodian: bool
    draft: bool
    # the API payload of each version, oldest first (the last one is the current metadata)
    payloads: list[dict[str, Any]]
    # (author, date) of the mappings made for each version
    mapping_sources: list[tuple[str, dt.date]]
    variables: list[VariableSpec] = field(default_factory=list)

    def terms(self) -> set[str]:
        curies = {c for p in self.payloads for c in p["diseases"]}
        for variable in self.variables:
            curies.update(m.curie for m in variable.mappings)
        return curies


# --- reading the data files -----------------------------------------------------------------


def _pairs(text: str) -> list[tuple[str, str]]:
    """``1=Male|2=Female`` → ``[("1", "Male"), ("2", "Female")]``."""
    pairs = []
    for item in filter(None, (part.strip() for part in text.split("|"))):
        code, _, label = item.partition("=")
        pairs.append((code.strip(), label.strip()))
    return pairs


def _term(text: str, default: str = "") -> tuple[str, MappingPredicate]:
    """``HV:0000207`` or ``HV:0000207~close``."""
    curie, _, predicate = text.partition("~")
    return curie.strip(), PREDICATES[predicate.strip() or default]


def read_concepts(path: Path | None = None) -> dict[str, Concept]:
    concepts: dict[str, Concept] = {}
    for row in read_csv_file(path or DATA_DIR / "concepts.csv"):
        terms: list[TermRef] = []
        if row["term"]:
            curie, predicate = _term(row["term"], row["predicate"])
            terms.append(TermRef(curie, predicate))
        for code, target in _pairs(row["value_terms"]):
            curie, predicate = _term(target)
            terms.append(TermRef(curie, predicate, value_code=code))
        concepts[row["key"]] = Concept(
            key=row["key"],
            label=row["label"],
            form=row["form"],
            value_type=ValueType(row["value_type"]),
            unit=row["unit"] or None,
            minimum=row["min"] or None,
            maximum=row["max"] or None,
            values=tuple(_pairs(row["values"])),
            terms=tuple(terms),
            description=row["description"] or None,
        )
    return concepts


def read_specs(directory: Path | None = None) -> list[DatasetSpec]:
    """Every demo dataset described in ``directory``, in their ``order``."""
    directory = directory or DATA_DIR
    concepts = read_concepts(directory / "concepts.csv")
    specs = []
    for path in sorted(directory.glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))
        current = dict(info["metadata"])
        current["description"] = path.with_suffix(".md").read_text(encoding="utf-8").strip()
        earlier = [dict(e) for e in info.get("versions", [])]
        mapping = info["mapping"]
        sources = []
        for version in earlier:
            source = version.pop("mapping", mapping)
            sources.append((source["author"], dt.date.fromisoformat(source["date"])))
        sources.append((mapping["author"], dt.date.fromisoformat(mapping["date"])))
        spec = DatasetSpec(
            identifier=current["identifier"],
            order=info["order"],
            organisations=info["organisations"],
            demo_custodian=bool(info.get("demo_custodian")),
            draft=info.get("status") == "draft",
            payloads=[current | e for e in earlier] + [current],
            mapping_sources=sources,
        )
        spec.variables = _read_dictionary(
            path.with_suffix(".csv"),
            concepts,
            missing_codes=info.get("missing_codes", []),
            redcap=info.get("source_format") == "redcap",
        )
        specs.append(spec)
    return sorted(specs, key=lambda s: s.order)


def _read_dictionary(
    path: Path, concepts: dict[str, Concept], *, missing_codes: list[str], redcap: bool
) -> list[VariableSpec]:
    rows = read_csv_file(path)
    uses = Counter(row["concept"] for row in rows)
    variables = []
    for row in rows:
        concept = concepts[row["concept"]]
        form = row["form"] or concept.form
        time_point = row["time_point"] or DEFAULT_TIME_POINTS[concept.form]
        label = row["label"] or (
            f"{concept.label} ({time_point})" if uses[concept.key] > 1 else concept.label
        )
        source_type = None
        if redcap:
            source_type = REDCAP_TYPES.get(concept.value_type, "text")
            if source_type == "dropdown" and len(concept.values) <= 3:
                source_type = "radio"
        variables.append(
            VariableSpec(
                name=row["name"],
                label=label,
                description=concept.description,
                form=form,
                time_point=time_point,
                value_type=concept.value_type,
                unit=row["unit"] or concept.unit,
                minimum=concept.minimum if not row["unit"] else None,
                maximum=concept.maximum if not row["unit"] else None,
                permissible_values=[{"code": c, "label": lab} for c, lab in concept.values],
                missing_codes=list(missing_codes)
                if concept.value_type is not ValueType.TEXT
                else [],
                source_type=source_type,
                since=int(row["since"] or 1),
                mappings=[] if row["mapped"] == "no" else list(concept.terms),
            )
        )
    return variables


# --- loading --------------------------------------------------------------------------------


def load_demo_datasets(result: core_demo.DemoResult) -> None:
    """The demo step: add the demo datasets to an empty catalogue (notes say what happened)."""
    result.notes.extend(create_demo_datasets())


def create_demo_datasets(specs: list[DatasetSpec] | None = None) -> list[str]:
    """Create the demo datasets unless the catalogue has datasets already; returns notes."""
    session = get_session()
    if session.scalar(select(func.count()).select_from(Dataset)):
        return ["demo datasets: the catalogue has datasets already; none added"]
    specs = read_specs() if specs is None else specs
    wanted = set().union(*(s.terms() for s in specs)) if specs else set()
    known = set(session.scalars(select(Term.curie).where(Term.curie.in_(wanted))))
    organisations = {
        name.lower(): id_
        for id_, name in session.execute(select(Organisation.id, Organisation.name))
    }
    notes: list[str] = []
    plans: list[tuple[DatasetSpec, str]] = []  # (spec, the organisation that owns it)
    published = drafts = variables = 0
    custodian_orgs: set[str] = set()
    for spec in specs:
        missing = sorted({c for p in spec.payloads for c in p["diseases"]} - known)
        if missing:
            notes.append(
                f"demo dataset {spec.identifier}: skipped, disease terms not loaded "
                f"({', '.join(missing)}); run `harmony ontologies load-bundled` first"
            )
            continue
        organisation_id = _organisation_for(spec, organisations)
        if organisation_id is None:
            notes.append(f"demo dataset {spec.identifier}: skipped, no organisation to own it")
            continue
        if session.get(UsedIdentifier, spec.identifier) is not None:
            notes.append(f"demo dataset {spec.identifier}: skipped, its identifier was used")
            continue
        plans.append((spec, organisation_id))
        variables += len(spec.variables)
        if spec.draft:
            drafts += 1
        else:
            published += 1
        if spec.demo_custodian:
            custodian_orgs.add(organisation_id)
    _tell_stories(plans, known)
    notes.insert(
        0,
        f"demo datasets: {published} published, {plural(drafts, 'draft')}, "
        f"{plural(variables, 'variable')}",
    )
    for organisation_id in sorted(custodian_orgs):
        note = _grant_demo_custodian(organisation_id)
        if note:
            notes.append(note)
    return notes


def _organisation_for(spec: DatasetSpec, organisations: dict[str, str]) -> str | None:
    """The first of the spec's partner organisations that exists, else one of the built-in
    demo organisations, else None."""
    fallbacks = [name for name, *_ in core_demo.BUILT_IN_ORGANISATIONS]
    for name in [*spec.organisations, *fallbacks]:
        if name.lower() in organisations:
            return organisations[name.lower()]
    return None


def _validated(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the API would take it (trial ids, countries, URLs … checked)."""
    data: dict[str, Any] = DatasetInputSchema().load(payload)
    return data


# --- the demo's story: when each version was registered, mapped and published --------------

#: a demo version's draft is opened (the dataset registered, for its first) this long before
#: its dictionary is mapped, and published this long after
OPENED_BEFORE_MAPPING = dt.timedelta(days=7)
PUBLISHED_AFTER_MAPPING = dt.timedelta(days=14)


@dataclass(frozen=True)
class VersionStory:
    """When the steps of one demo version happened: its draft opened, its dictionary loaded
    (on the mapping date of its data file), its publication (None: it stays a draft).

    The one source of a demo dataset's dates: the versions' and the dataset's created,
    modified and published times are set from it, and so are the dates of its history (the
    audit events are recorded now, in the chain's order, with these times as their
    ``occurred_at``: see :func:`core.audit.occurred_at`). So the page's "Published" and
    "Last changed", its history, its versions table and DCAT's ``dct:issued`` and
    ``dct:modified`` tell the same story, years before the day the demo was loaded."""

    number: int
    opened: dt.datetime
    mapped: dt.datetime
    published: dt.datetime | None

    @property
    def last(self) -> dt.datetime:
        return self.published or self.mapped


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


def story_of(spec: DatasetSpec) -> list[VersionStory]:
    """The dates of each version of ``spec``, in order (a version opens after the one before
    was published)."""
    stories: list[VersionStory] = []
    last = len(spec.payloads)
    for number, (_author, mapped_on) in enumerate(spec.mapping_sources, start=1):
        opened = _at(mapped_on - OPENED_BEFORE_MAPPING, 9)
        mapped = _at(mapped_on, 14)
        if stories:
            opened = max(opened, stories[-1].last + dt.timedelta(hours=1))
            mapped = max(mapped, opened + dt.timedelta(hours=1))
        publishes = number < last or not spec.draft
        published = max(_at(mapped_on + PUBLISHED_AFTER_MAPPING, 10), mapped) if publishes else None
        stories.append(VersionStory(number, opened, mapped, published))
    return stories


def _tell_stories(plans: list[tuple[DatasetSpec, str]], known: set[str]) -> None:
    """Create the datasets step by step in the order of their stories' dates (all datasets
    together), each step through the dataset services as ``SYSTEM``, its audit events dated
    by the story, its rows' times set from it."""
    steps: list[tuple[dt.datetime, int, int, DatasetSpec, str, VersionStory]] = []
    for spec, organisation_id in plans:
        for story in story_of(spec):
            steps.append((story.opened, spec.order, 0, spec, organisation_id, story))
            steps.append((story.mapped, spec.order, 1, spec, organisation_id, story))
            if story.published is not None:
                steps.append((story.published, spec.order, 2, spec, organisation_id, story))
    steps.sort(key=lambda step: step[:3])
    for when, _order, kind, spec, organisation_id, story in steps:
        with audit.occurred_at(when):
            if kind == 0:
                _open(spec, story, organisation_id)
            elif kind == 1:
                _load_dictionary(spec, story, known)
            else:
                _publish(spec, when)


def _open(spec: DatasetSpec, story: VersionStory, organisation_id: str) -> None:
    """Register the dataset (its first version) or open its next version with its metadata."""
    identifier = spec.identifier
    data = _validated(spec.payloads[story.number - 1])
    if story.number == 1:
        dataset = datasets.create_dataset(SYSTEM, data | {"organisation_id": organisation_id})
        dataset.created_at = story.opened
    else:
        datasets.new_version(SYSTEM, identifier, datasets.UNCHECKED)
        data.pop("identifier", None)
        datasets.update_dataset(SYSTEM, identifier, data, datasets.UNCHECKED)
        dataset = datasets.get_dataset(SYSTEM, identifier)
    version = dataset.versions[-1]
    version.created_at = story.opened
    _dated(dataset, version, story.opened)


def _load_dictionary(spec: DatasetSpec, story: VersionStory, known: set[str]) -> None:
    """Add the variables that appear in this version (their mappings made by the version's
    mapping author on its mapping date), recorded as one dictionary change."""
    dataset = datasets.get_dataset(SYSTEM, spec.identifier)
    version = next(v for v in dataset.versions if v.number == story.number)
    added = [v for v in spec.variables if v.since == story.number]
    author, date = spec.mapping_sources[story.number - 1]
    mapped = _add_variables(version, spec.variables, added, author, date, known, story.mapped)
    datasets.record_change(
        SYSTEM,
        dataset,
        version,
        "dictionary_imported",
        f"Loaded the demonstration dictionary: {plural(len(added), 'variable')} added "
        f"({mapped} mapped).",
        context={"added": len(added), "mapped": mapped},
    )
    _dated(dataset, version, story.mapped)


def _publish(spec: DatasetSpec, when: dt.datetime) -> None:
    version = datasets.publish(SYSTEM, spec.identifier, datasets.UNCHECKED)
    version.published_at = when
    dataset = version.dataset
    dataset.published_at = min(v.published_at for v in dataset.versions if v.published_at)
    _dated(dataset, version, when)


def _dated(dataset: Dataset, version: DatasetVersion, when: dt.datetime) -> None:
    """The step happened at ``when``: the version and the dataset were last changed then (the
    services stamped the moment of loading). The search index, which keeps a version's date
    for its order, is brought up to date in the same transaction."""
    from catalogue.search.indexer import sync_dataset

    version.modified_at = when
    dataset.modified_at = when
    sync_dataset(dataset)
    get_session().commit()


def _add_variables(
    version: DatasetVersion,
    everything: list[VariableSpec],
    added: list[VariableSpec],
    author: str,
    date: dt.date,
    known: set[str],
    when: dt.datetime,
) -> int:
    """Add ``added`` to the version at their place in the whole dictionary (their mappings
    made on ``date``, recorded at ``when``); returns how many of them are mapped."""
    session = get_session()
    position = {spec.name: i for i, spec in enumerate(everything)}
    mapped = 0
    for spec in added:
        variable = Variable(
            version_id=version.id,
            position=position[spec.name],
            name=spec.name,
            label=spec.label,
            description=spec.description,
            form=spec.form,
            time_point=spec.time_point,
            value_type=spec.value_type,
            unit=spec.unit,
            minimum=spec.minimum,
            maximum=spec.maximum,
            source_type=spec.source_type,
            permissible_values=[dict(v) for v in spec.permissible_values],
            missing_codes=list(spec.missing_codes),
        )
        variable.mappings = [
            Mapping(
                value_code=ref.value_code,
                predicate=ref.predicate,
                object_curie=ref.curie,
                justification=MappingJustification.MANUAL,
                confidence=CONFIDENCE[ref.predicate],
                status=MappingStatus.ACCEPTED,
                author_label=author,
                mapping_date=date,
                created_at=when,
            )
            for ref in spec.mappings
            if ref.curie in known
        ]
        if any(m.value_code is None for m in variable.mappings):
            mapped += 1
        session.add(variable)
    session.flush()
    return mapped


def _grant_demo_custodian(organisation_id: str) -> str | None:
    """Make the demo custodian a custodian of ``organisation_id`` (when the account exists)."""
    user = services.find_user_by_email(DEMO_CUSTODIAN_EMAIL)
    if user is None or organisation_id in user.custodian_of():
        return None
    services.grant_role(
        SYSTEM, user.id, {"role": Role.CUSTODIAN.value, "organisation_id": organisation_id}
    )
    name = get_session().get(Organisation, organisation_id)
    return f"demo datasets: {DEMO_CUSTODIAN_EMAIL} is now custodian of {name.name if name else ''}"


def register_demo_step() -> None:
    """Called by the catalogue's ``init_app``, after the ontologies area registered its
    vocabularies step: the datasets need the terms loaded first."""
    core_demo.register_step(load_demo_datasets)
