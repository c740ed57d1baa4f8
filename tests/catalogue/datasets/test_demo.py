"""The demo datasets: what ``harmony demo load`` puts in the catalogue for every page to show,
and a searchable catalogue (the index follows the demo's changes).

The whole demo is loaded once for the module (:func:`demo`); each test runs in a savepoint of
it. The demo step in other worlds (an empty store, a catalogue of one's own, no ``../shared``)
is in ``test_demo_step.py``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from catalogue.datasets import demo as catalogue_demo
from catalogue.datasets import services as datasets
from catalogue.datasets.schemas import trial_id_kind
from catalogue.dictionary.units import unit_problem
from catalogue.models import (
    DataModel,
    Dataset,
    DatasetStatus,
    Mapping,
    MappingJustification,
    MappingStatus,
    SourceType,
    Variable,
    VersionStatus,
)
from core import demo as core_demo
from core.db import get_session
from core.errors import NotFound
from core.policies import SystemActor
from ontologies.models import Term
from ontologies.services import is_below
from tests.conftest import shared_world

DEMO_PASSWORD = "demo datasets test password 42"
AML, MDS, MYELOMA, CLL, DLBCL, B_ALL = (
    "NCIT:C3171",
    "NCIT:C3247",
    "NCIT:C3242",
    "NCIT:C3163",
    "NCIT:C8851",
    "NCIT:C8644",
)
MYELOID = "NCIT:C9290"  # Myeloid Neoplasm: AML and MDS lie below it


@pytest.fixture(scope="module")
def demo(app, reference_engine):
    """The whole demo (partner organisations, accounts and the demo steps) loaded once for the
    module on top of the bundled vocabularies; what the load answered."""
    with shared_world(app, reference_engine):
        with app.app_context():
            result = core_demo.load_demo(password=DEMO_PASSWORD, with_steps=True)
        assert result is not None
        yield result


def _published() -> list[Dataset]:
    return list(
        get_session().scalars(select(Dataset).where(Dataset.status == DatasetStatus.PUBLISHED))
    )


def _variables(version_id: str) -> list[Variable]:
    return list(get_session().scalars(select(Variable).where(Variable.version_id == version_id)))


def _mapped(variable: Variable) -> bool:
    return any(
        m.value_code is None and m.status is MappingStatus.ACCEPTED for m in variable.mappings
    )


def test_demo_load_publishes_datasets_for_each_named_disease(app, demo):
    assert any(n.startswith("demo datasets: 7 published, 1 draft") for n in demo.notes)
    with app.app_context():
        published = _published()
        assert len(published) >= 7
        diseases = {
            d.identifier: [x.term_curie for x in datasets.get_version(None, d.identifier).diseases]
            for d in published
        }

        def covering(group: str) -> set[str]:
            return {i for i, curies in diseases.items() if any(is_below(c, group) for c in curies)}

        assert len(covering(AML)) >= 2
        for group in (MDS, MYELOMA, CLL, DLBCL, B_ALL):
            assert covering(group), group
        paediatric = [
            d for d in covering(B_ALL) if "paediatric" in datasets.get_version(None, d).age_groups
        ]
        assert paediatric
        # the kinds of source and data model a visitor can filter by
        versions = [datasets.get_version(None, d.identifier) for d in published]
        assert {v.source_type for v in versions} >= {
            SourceType.CLINICAL_TRIAL,
            SourceType.REGISTRY,
            SourceType.OBSERVATIONAL_COHORT,
        }
        assert DataModel.OMOP in {v.data_model for v in versions}
        # several partner organisations own them
        assert len({d.organisation_id for d in published}) >= 5


def test_every_published_demo_dataset_has_complete_metadata_and_a_mostly_mapped_dictionary(
    app, demo
):
    with app.app_context():
        for dataset in _published():
            version = datasets.get_version(None, dataset.identifier)
            assert not datasets.publish_problems(version), dataset.identifier
            assert version.description and "demonstration" in version.description.lower()
            for key in (
                "countries",
                "patients",
                "records",
                "first_year",
                "last_year",
                "age_groups",
                "data_model",
                "keywords",
                "contact_name",
                "landing_page",
                "access_rights",
                "provenance",
                "classification",
                "data_freeze",
                "version",
            ):
                assert getattr(version, key), (dataset.identifier, key)
            assert version.first_year <= version.last_year
            for step in version.provenance:
                dt.date.fromisoformat(step["date"])
            for trial_id in version.trial_ids:
                assert trial_id_kind(trial_id), trial_id

            variables = _variables(version.id)
            assert 40 <= len(variables) <= 200, dataset.identifier
            mapped = [v for v in variables if _mapped(v)]
            assert len(mapped) >= 0.7 * len(variables), dataset.identifier
            assert len(mapped) < len(variables), "some are left for the mapping assistant"
            assert any(m.value_code for v in variables for m in v.mappings)
            forms = {v.form for v in variables}
            assert {"demographics", "diagnosis", "treatment", "follow_up"} <= forms
            assert all(v.time_point for v in variables)


def test_demo_variables_are_well_formed_and_their_mappings_point_at_live_terms(app, demo):
    with app.app_context():
        session = get_session()
        variables = list(session.scalars(select(Variable)))
        assert variables
        for variable in variables:
            if variable.unit:
                assert unit_problem(variable.unit) is None, (variable.name, variable.unit)
            codes = [v["code"] for v in variable.permissible_values]
            assert len(codes) == len(set(codes)), variable.name
            if variable.value_type.value == "categorical":
                assert codes, variable.name
            for mapping in variable.mappings:
                assert mapping.justification is MappingJustification.MANUAL
                assert mapping.status is MappingStatus.ACCEPTED
                assert mapping.author_label and mapping.mapping_date
                if mapping.value_code is not None:
                    assert mapping.value_code in codes, (variable.name, mapping.value_code)
        curies = set(session.scalars(select(Mapping.object_curie)))
        live = set(
            session.scalars(
                select(Term.curie).where(Term.curie.in_(curies), Term.is_obsolete.is_(False))
            )
        )
        assert curies == live
        # nothing in the data files was dropped for want of a term
        for spec in catalogue_demo.read_specs():
            dataset = session.scalar(select(Dataset).where(Dataset.identifier == spec.identifier))
            assert dataset is not None
            rows = session.scalar(
                select(func.count())
                .select_from(Mapping)
                .join(Variable)
                .where(Variable.version_id == dataset.versions[-1].id)
            )
            assert rows == sum(len(v.mappings) for v in spec.variables), spec.identifier


def test_one_demo_dataset_has_a_superseded_data_freeze(app, demo):
    with app.app_context():
        versioned = [d for d in _published() if len(d.versions) > 1]
        assert versioned
        dataset = versioned[0]
        old, new = dataset.versions[0], dataset.versions[-1]
        assert old.status is VersionStatus.SUPERSEDED
        assert new.status is VersionStatus.PUBLISHED
        assert old.data_freeze < new.data_freeze
        assert old.version != new.version
        # the old version stays readable with the variables it had; the new one has more
        assert datasets.get_version(None, dataset.identifier, old.number).id == old.id
        old_names = {v.name for v in _variables(old.id)}
        new_names = {v.name for v in _variables(new.id)}
        assert old_names < new_names
        # the copied variables kept their mappings
        copied = [v for v in _variables(new.id) if v.name in old_names]
        assert sum(_mapped(v) for v in copied) == sum(_mapped(v) for v in _variables(old.id))
        actions = [c["action"] for c in datasets.history(None, dataset.identifier)]
        assert actions.count("published") == 2


def test_the_demo_custodian_sees_its_datasets_and_a_draft(app, demo):
    with app.app_context():
        custodian = core_demo.services.find_user_by_email(catalogue_demo.DEMO_CUSTODIAN_EMAIL)
        assert custodian is not None
        mine = datasets.list_datasets(custodian, mine=True).items
        assert len(mine) >= 2
        drafts = [d for d in mine if d.status is DatasetStatus.DRAFT]
        assert drafts
        draft = drafts[0]
        # a draft with unmapped variables for the mapping assistant
        version = datasets.get_version(custodian, draft.identifier)
        variables = _variables(version.id)
        assert 40 <= len(variables) <= 200
        assert sum(not _mapped(v) for v in variables) >= 10
        # nobody else sees the draft
        with pytest.raises(NotFound):
            datasets.get_dataset(None, draft.identifier)
        researcher = core_demo.services.find_user_by_email(f"researcher@{core_demo.DEMO_DOMAIN}")
        with pytest.raises(NotFound):
            datasets.get_dataset(researcher, draft.identifier)


def test_loading_the_demo_twice_adds_nothing(app, demo):
    with app.app_context():
        session = get_session()

        def counts() -> tuple[int, ...]:
            return tuple(
                session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Dataset, Variable, Mapping)
            )

        before = counts()
        again = core_demo.load_demo(password=DEMO_PASSWORD, with_steps=True)
        assert again is not None
        assert "demo datasets: the catalogue has datasets already; none added" in again.notes
        assert counts() == before
        assert core_demo.load_demo(only_if_empty=True) is None
        assert counts() == before


def test_a_demo_dataset_reads_through_the_api(app, client, demo):
    body = client.get("/api/v1/datasets/aml-ic-2016").get_json()
    assert body["identifier"] == "aml-ic-2016"
    assert body["status"] == "published"
    assert body["diseases"] == ["NCIT:C3171"]
    assert body["version_number"] == 2
    assert body["data_freeze"] == "2024-03-31"
    listed = client.get("/api/v1/datasets?per_page=50").get_json()
    identifiers = {d["identifier"] for d in listed["items"]}
    assert "allo-hct-outcomes-rotterdam" not in identifiers
    assert len(identifiers) >= 7


def test_demo_publications_are_dated_by_their_story_so_the_dashboard_shows_growth(app, demo):
    from catalogue.stats.services import alliance_stats, forget_aggregates
    from core.policies import SystemActor

    with app.app_context():
        forget_aggregates()
        published = _published()
        first = sorted(d.published_at.date() for d in published)
        # two weeks after each dictionary was mapped (2022 to 2025), never the day of the load
        assert first[0] < dt.date(2023, 1, 1) and first[-1] < dt.date(2025, 12, 31)
        for dataset in published:
            dates = [v.published_at for v in dataset.versions if v.published_at]
            assert dates == sorted(dates), dataset.identifier  # versions in their order
            assert dataset.published_at == dates[0]
        growth = alliance_stats(SystemActor()).growth
        assert len({m.month for m in growth if m.datasets}) >= 5
        assert growth[-1].cumulative_datasets == len(published)


def test_the_demo_catalogue_is_searchable(client, demo):
    def search(**params):
        response = client.get("/api/v1/search", query_string=params)
        assert response.status_code == 200
        return response.json

    everything = search()
    assert everything["total"] == 7  # the published demo datasets; the draft stays hidden
    myeloid = search(q="myeloid neoplasm")
    assert {"aml-ic-2016", "flt3-mido-2017", "mds-registry-it"} <= {
        i["identifier"] for i in myeloid["items"]
    }
    assert (
        myeloid["total"]
        == {v["value"]: v["count"] for v in everything["facets"]["disease"]}[MYELOID]
    )
    hb = search(q="Hb")
    assert hb["total"] == 7  # every demo dictionary maps a haemoglobin variable
    assert all(i["variables"]["mapped_to_terms"] for i in hb["items"])
    assert search(q="leukaemia")["total"] == search(q="leukemia")["total"] > 0


# --- one story of dates (issue 15) -----------------------------------------------------------

FACT = r"<dt>{}</dt><dd>([^<]+)</dd>"
TAGS = re.compile(r"<[^>]+>")


def _cells(row: str) -> list[str]:
    return [TAGS.sub("", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def _page_dates(html: str) -> dict[str, Any]:
    """What a person reads on a dataset page: the facts "Published" and "Last changed", the
    versions table (number → published date) and the history (date, version, sentence)."""
    published = re.search(FACT.format("Published"), html)
    changed = re.search(FACT.format("Last changed"), html)
    assert published and changed, "the Facts card has no Published or Last changed"
    table = re.search(r'<table class="table versions-table">(.*?)</table>', html, re.S)
    assert table, "no versions table"
    versions = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)[1:]:
        cells = _cells(row)
        versions[int(re.match(r"\d+", cells[0]).group())] = cells[2]  # type: ignore[union-attr]
    history = re.search(r'<ol class="history">(.*?)</ol>', html, re.S)
    assert history, "no history"
    entries = [
        (when, int(number) if number else None, TAGS.sub("", what).strip())
        for when, number, what in re.findall(
            r'<time datetime="([^"]+)">[^<]*</time>(?: · version (\d+))?</span>\s*'
            r'<span class="history-what">(.*?)</span>',
            history.group(1),
            re.S,
        )
    ]
    return {
        "published": published.group(1),
        "changed": changed.group(1),
        "versions": versions,
        "history": entries,
    }


def _shown(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def test_every_demo_dataset_tells_one_story_of_dates(app, client, demo):
    """The page's Published and Last changed, the history's publication entries, the versions
    table and DCAT's dct:issued and dct:modified agree, for every demo dataset, and none of
    them is the day the demo was loaded (issue 15: "Published 2024-05-28" but "Last changed"
    today, a history entry "Published version 1" dated today, dct:modified 2024-05-28)."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import DCTERMS

    from tests.conftest import login

    loaded_on = dt.datetime.now(dt.UTC).date()
    login(client, f"admin@{core_demo.DEMO_DOMAIN}", DEMO_PASSWORD)
    with app.app_context():
        identifiers = sorted(
            get_session().scalars(
                select(Dataset.identifier).where(
                    Dataset.identifier.in_([s.identifier for s in catalogue_demo.read_specs()])
                )
            )
        )
    assert len(identifiers) == 8
    for identifier in identifiers:
        response = client.get(f"/datasets/{identifier}")
        assert response.status_code == 200, identifier
        page = _page_dates(response.get_data(as_text=True))
        story = {v["number"]: v for v in _story(app, identifier)}
        published_numbers = sorted(n for n, v in story.items() if v["published_at"])
        current = max(story)
        # the versions table: each version's own publication date
        for number, version in story.items():
            expected = (
                version["published_at"].strftime("%Y-%m-%d") if version["published_at"] else "—"
            )
            assert page["versions"][number] == expected, (identifier, number)
            assert version["published_at"] is None or version["published_at"].date() < loaded_on
        # the history: one "Published version n" entry per publication, on that date
        publications = {
            number: when
            for when, number, what in page["history"]
            if what.startswith("Published version")
        }
        assert sorted(publications) == published_numbers, identifier
        for number, when in publications.items():
            assert when[:10] == page["versions"][number], (identifier, number)
        # the history is in the order things happened, and nothing of the story is dated today
        dates = [when for when, number, _what in page["history"] if number is not None]
        assert dates == sorted(dates, reverse=True), identifier
        assert all(dt.date.fromisoformat(d[:10]) < loaded_on for d in dates), identifier
        # the facts: the version shown was published, and last changed, when its story says
        newest = max(when for when, number, _ in page["history"] if number == current)
        assert page["changed"] == _shown(dt.datetime.fromisoformat(newest)), identifier
        if story[current]["published_at"]:
            assert page["published"] == _shown(story[current]["published_at"]), identifier
            assert page["changed"] == page["published"], identifier
        else:
            assert page["published"] == "not yet", identifier
            assert identifier not in [i for i in identifiers if published_numbers]
            continue
        # DCAT-AP: issued when first published, modified when the latest version was
        turtle = client.get(f"/datasets/{identifier}.ttl")
        assert turtle.status_code == 200, identifier
        graph = Graph().parse(data=turtle.get_data(as_text=True), format="turtle")
        subject = next(
            s
            for s in graph.subjects(DCTERMS.issued, None)
            if isinstance(s, URIRef) and str(s).endswith(f"/datasets/{identifier}")
        )
        issued = graph.value(subject, DCTERMS.issued).toPython()
        modified = graph.value(subject, DCTERMS.modified).toPython()
        assert issued.strftime("%Y-%m-%d") == page["versions"][published_numbers[0]], identifier
        assert _shown(modified) == page["published"] == page["changed"], identifier


def _story(app, identifier: str) -> list[dict[str, Any]]:
    with app.app_context():
        dataset = datasets.get_dataset(SystemActor(), identifier)
        return [
            {"number": v.number, "published_at": v.published_at, "modified_at": v.modified_at}
            for v in dataset.versions
        ]


def test_the_demo_history_is_recorded_in_order_and_dated_by_its_story(app, demo):
    """The audit trail stays append-only and chronological (each event recorded now, after
    the ones before it; ``harmony audit verify`` holds); the demo's dataset events carry the
    dates of the story as ``occurred_at``, in the order they are recorded."""
    from core import audit

    with app.app_context():
        session = get_session()
        assert audit.verify(session).ok
        events = list(session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.seq)))
        times = [e.at for e in events]
        assert times == sorted(times)
        demo_ids = set(
            session.scalars(
                select(Dataset.id).where(
                    Dataset.identifier.in_([s.identifier for s in catalogue_demo.read_specs()])
                )
            )
        )
        story = [
            e.occurred_at
            for e in events
            if e.object_type == "dataset"
            and e.object_id in demo_ids
            and e.action != "dataset.data_use_changed"  # the governance demo's step
        ]
        assert len(story) >= 25  # created, dictionaries, publications, a second version
        assert story == sorted(story)
        assert all(when < events[0].at for when in story)  # years before the load
