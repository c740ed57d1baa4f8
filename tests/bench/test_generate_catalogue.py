"""The synthetic catalogue generator of the discovery benchmarks (bench/generate_catalogue.py),
at a test size, on the database of the run (SQLite, or PostgreSQL with TEST_DATABASE_URL): it
writes what it says it writes, through the real tables, so that the application reads it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bench import generate_catalogue
from bench.generate_catalogue import COVERAGE_TERMS, DESIGNATED_DISEASE, check, generate
from core import create_app, migrate
from core.policies import SYSTEM
from tests.dbutil import fresh_database

SIZE = {"datasets": 50, "variables": 2000, "mappings": 500}
ENV = {"HARMONY_ENV": "testing"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    with fresh_database(tmp_path_factory.mktemp("gencat"), "gencat") as url:
        migrate.upgrade(url)
        # without the search index: its rebuild is the search's own business (and bench)
        summary = generate(url, seed=7, progress=False, hooks=False, **SIZE)
        yield url, summary


def rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def digest(url: str) -> str:
    """Everything the generator wrote, as one hash (JSON columns read as text)."""
    tables = {
        "organisations": "SELECT id, name, country, kind FROM organisations ORDER BY id",
        "datasets": "SELECT id, identifier, organisation_id, status, created_at, modified_at, "
        "published_at, retired_at FROM datasets ORDER BY id",
        "versions": "SELECT id, dataset_id, number, status, title, description, "
        "CAST(countries AS TEXT), patients, records, first_year, last_year, "
        "CAST(keywords AS TEXT), published_at FROM dataset_versions ORDER BY id",
        "diseases": "SELECT version_id, term_curie, position FROM dataset_diseases "
        "ORDER BY version_id, term_curie",
        "variables": "SELECT id, version_id, position, name, label, description, form, "
        "time_point, value_type, unit, CAST(permissible_values AS TEXT) FROM variables "
        "ORDER BY id",
        "mappings": "SELECT id, variable_id, value_code, predicate, object_curie, status, "
        "justification, author_label, mapping_date FROM mappings ORDER BY id",
    }
    h = hashlib.sha256()
    for sql in tables.values():
        for row in rows(url, sql):
            h.update(repr(row).encode())
    return h.hexdigest()


def test_the_database_holds_what_the_summary_says(generated):
    url, summary = generated
    counts = summary["counts"]
    assert (counts["datasets"], counts["variables"], counts["mappings"]) == (50, 2000, 500)
    assert check(url, summary) == []  # counts, statuses, references, the coverage rule
    by_status = dict(rows(url, "SELECT status, COUNT(*) FROM datasets GROUP BY status"))
    assert by_status["draft"] >= 1 and by_status["retired"] >= 1
    assert by_status["published"] >= 45
    versions = dict(rows(url, "SELECT status, COUNT(*) FROM dataset_versions GROUP BY status"))
    assert versions.get("superseded", 0) >= 1  # some datasets have older versions


def test_variables_sit_on_the_current_versions_only(generated):
    url, _summary = generated
    per_version = rows(
        url,
        "SELECT d.status, v.status, v.number, "
        "(SELECT MAX(number) FROM dataset_versions w WHERE w.dataset_id = d.id), "
        "(SELECT COUNT(*) FROM variables x WHERE x.version_id = v.id) "
        "FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id",
    )
    for dataset_status, version_status, number, last, count in per_version:
        if number == last:
            assert count >= 10, (dataset_status, version_status, count)
            expected = "draft" if dataset_status == "draft" else "published"
            assert version_status == expected
        else:
            assert (version_status, count) == ("superseded", 0)


def test_mappings_point_to_existing_terms_and_variables(generated):
    url, summary = generated
    dangling = rows(
        url,
        "SELECT COUNT(*) FROM mappings m LEFT JOIN terms t ON t.curie = m.object_curie "
        "LEFT JOIN variables v ON v.id = m.variable_id WHERE t.curie IS NULL OR v.id IS NULL",
    )
    assert dangling == [(0,)]
    statuses = dict(rows(url, "SELECT status, COUNT(*) FROM mappings GROUP BY status"))
    assert statuses["accepted"] > 0.9 * 500
    assert statuses == summary["counts"]["mappings_by_status"]
    # a value's mapping names one of its variable's codes
    for code, values in rows(
        url,
        "SELECT m.value_code, CAST(v.permissible_values AS TEXT) FROM mappings m "
        "JOIN variables v ON v.id = m.variable_id WHERE m.value_code IS NOT NULL",
    ):
        assert code in {value["code"] for value in json.loads(values)}
    # mostly HARMONY variables, mostly exact
    ontologies = dict(
        rows(
            url,
            "SELECT t.ontology_prefix, COUNT(*) FROM mappings m "
            "JOIN terms t ON t.curie = m.object_curie GROUP BY t.ontology_prefix",
        )
    )
    assert ontologies["HV"] > 0.9 * 500
    assert summary["counts"]["mappings_by_predicate"]["skos:exactMatch"] > 0.8 * 500


def test_the_text_has_common_words_and_both_spellings(generated):
    url, summary = generated
    words = summary["words"]
    published = words["published_datasets"]
    for word in ("patient", "date", "treatment", "response"):
        assert word in words["common"]
        assert words["datasets"][word] >= published / 2
    texts = [
        f"{title} {description}".lower()
        for title, description in rows(
            url,
            "SELECT v.title, v.description FROM dataset_versions v "
            "JOIN datasets d ON d.id = v.dataset_id "
            "WHERE d.status = 'published' AND v.status = 'published'",
        )
    ]
    assert len(texts) == published
    assert sum("patient" in t for t in texts) >= published / 2
    assert any("leukaemia" in t for t in texts) and any("leukemia" in t for t in texts)
    labels = {label for (label,) in rows(url, "SELECT DISTINCT label FROM variables")}
    assert any("Haemoglobin" in label for label in labels)
    assert any("Hemoglobin" in label for label in labels)
    assert sum(1 for label in labels if "Date" in label or "date" in label) > 5


def test_the_designated_things_exist(generated):
    url, summary = generated
    assert summary["coverage_terms"] == list(COVERAGE_TERMS) and len(COVERAGE_TERMS) == 8
    disease = summary["disease"]
    assert disease["curie"] == DESIGNATED_DISEASE
    below = rows(
        url,
        "SELECT COUNT(DISTINCT d.id) FROM datasets d "
        "JOIN dataset_versions v ON v.dataset_id = d.id AND v.status = 'published' "
        "JOIN dataset_diseases x ON x.version_id = v.id "
        "JOIN term_closure c ON c.descendant_curie = x.term_curie "
        "WHERE d.status = 'published' AND c.ancestor_curie = :curie",
        curie=DESIGNATED_DISEASE,
    )
    assert below == [(disease["datasets"],)] and disease["datasets"] >= 10
    organisation = summary["organisation"]
    owned = rows(
        url,
        "SELECT COUNT(*) FROM datasets WHERE status = 'published' AND organisation_id = :id",
        id=organisation["id"],
    )
    assert owned == [(organisation["datasets"],)] and organisation["datasets"] >= 2
    assert summary["coverage"]["HV:0000045"] > 0  # someone has haemoglobin
    assert summary["seconds"]["total"] > 0
    assert summary["hooks"] == {"catalogue.search.rebuild_index": None}  # left out


CALLS: list[Any] = []


def fake_rebuild(progress: Any = None) -> int:
    CALLS.append(progress)
    if progress is not None:
        progress(1, 1)
    return 1


def test_hooks_run_when_they_exist_and_are_skipped_when_not(generated, monkeypatch, capsys):
    url, _summary = generated
    monkeypatch.setattr(
        generate_catalogue,
        "HOOKS",
        (
            ("tests.bench.nowhere.rebuild_index", f"{__name__}.fake_rebuild"),
            ("tests.bench.nowhere.other_index",),
        ),
    )
    gen = generate_catalogue.Generator(datasets=1, variables=1, mappings=0, seed=1, progress=True)
    app = create_app({"DATABASE_URL": url}, env=ENV)
    CALLS.clear()
    with app.app_context():
        ran = gen.hooks()
    assert ran["tests.bench.nowhere.other_index"] is None
    assert ran["tests.bench.nowhere.rebuild_index"] is not None
    assert len(CALLS) == 1 and CALLS[0] is not None  # progress is reported
    assert "1/1" in capsys.readouterr().err


def test_the_application_reads_the_generated_catalogue(generated):
    url, summary = generated
    app = create_app({"DATABASE_URL": url}, env=ENV)
    client = app.test_client()
    identifier = summary["datasets"]["largest"]
    dataset = client.get(f"/api/v1/datasets/{identifier}")
    assert dataset.status_code == 200, dataset.json
    (count,) = rows(
        url,
        "SELECT COUNT(*) FROM variables x JOIN dataset_versions v ON v.id = x.version_id "
        "JOIN datasets d ON d.id = v.dataset_id WHERE d.identifier = :identifier "
        "AND v.status = 'published'",
        identifier=identifier,
    )[0]
    page = client.get(f"/api/v1/datasets/{identifier}/variables?per_page=5")
    assert page.status_code == 200, page.json
    assert page.json["total"] == count
    assert len(page.json["items"]) == 5
    (mapped,) = rows(
        url,
        "SELECT COUNT(DISTINCT x.id) FROM variables x "
        "JOIN mappings m ON m.variable_id = x.id AND m.value_code IS NULL "
        "AND m.status = 'accepted' JOIN dataset_versions v ON v.id = x.version_id "
        "JOIN datasets d ON d.id = v.dataset_id WHERE d.identifier = :identifier "
        "AND v.status = 'published'",
        identifier=identifier,
    )[0]
    page = client.get(f"/api/v1/datasets/{identifier}/variables?per_page=100&mapped=true")
    assert page.status_code == 200, page.json
    assert page.json["total"] == mapped > 0
    for item in page.json["items"]:
        assert "accepted" in {m["status"] for m in item["mappings"]}
    # a draft answers 404 to the public and opens for its organisation's custodian
    draft = summary["datasets"]["draft"]
    assert client.get(f"/api/v1/datasets/{draft}").status_code == 404
    with app.app_context():
        from sqlalchemy import select

        from catalogue.datasets import services as datasets
        from core.db import get_session
        from core.models import User

        record = datasets.get_dataset(None, identifier)
        assert datasets.visible_version(None, record).status.value == "published"
        draft_record = datasets.get_dataset(SYSTEM, draft)
        owner = get_session().scalar(
            select(User).where(User.organisation_id == draft_record.organisation_id)
        )
        assert owner is not None and owner.custodian_of()
        assert datasets.visible_version(owner, datasets.get_dataset(owner, draft)).number == 1
    retired = summary["datasets"]["retired"]
    assert client.get(f"/api/v1/datasets/{retired}").status_code == 200


def test_the_same_seed_writes_the_same_catalogue(generated, tmp_path: Path):
    url, _summary = generated
    with fresh_database(tmp_path, "gencat_again") as again:
        migrate.upgrade(again)
        generate(again, seed=7, progress=False, hooks=False, **SIZE)
        assert digest(again) == digest(url)
    with fresh_database(tmp_path, "gencat_other") as other:
        migrate.upgrade(other)
        generate(other, seed=8, progress=False, hooks=False, **SIZE)
        assert digest(other) != digest(url)


def test_it_refuses_a_database_with_datasets(generated):
    url, _summary = generated
    with pytest.raises(ValueError, match="holds datasets"):
        generate(url, seed=7, progress=False, **SIZE)


def test_the_datasets_histories_are_an_unbroken_audit_chain(generated):
    """The generated histories go into the audit trail as the application would have written
    them: one chain that verifies, every dataset with its creation first, the head at the last."""
    from sqlalchemy.orm import Session

    from core import audit

    url, summary = generated
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            result = audit.verify(session)
    finally:
        engine.dispose()
    assert result.first_bad is None, result.problem
    assert (
        result.count
        == summary["counts"]["audit_events"]
        + rows(url, "SELECT COUNT(*) FROM audit_events WHERE object_type <> 'dataset'")[0][0]
    )
    assert rows(url, "SELECT seq, hash FROM audit_head") == [(result.count, result.head_hash)]
    first = rows(
        url,
        "SELECT e.action FROM audit_events e WHERE e.object_type = 'dataset' AND e.seq = "
        "(SELECT MIN(f.seq) FROM audit_events f WHERE f.object_id = e.object_id)",
    )
    assert {action for (action,) in first} == {"dataset.created"}
    assert len(first) == summary["counts"]["datasets"]
