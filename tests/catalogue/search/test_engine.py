"""The embedded search engine (tantivy): its clause language, order and counts on documents made
here; then, through the search service on the search corpus, who sees what, how it follows
commits and rollbacks, a lost index, a missed change, and check mode. Runs on both databases.

The whole suite runs with ``SEARCH_ENGINE_CHECK``: every search is answered by the engine and
by the SQL statement, and fails when they disagree (:mod:`catalogue.search.engine.check`); the
tests here that say "the engine alone" turn that off and make the statement unavailable, so
that what they see can only come from the engine.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from catalogue.models import Dataset
from catalogue.search import services
from catalogue.search.engine import base, check, sync
from catalogue.search.engine.base import (
    AllOf,
    AnyOf,
    EngineDocument,
    EngineQuery,
    Everything,
    Match,
    MatchCount,
    Not,
    Range,
    RangeCount,
    Score,
    Terms,
    TermsCount,
    Unsupported,
)
from catalogue.search.engine.documents import microseconds
from catalogue.search.engine.embedded import EmbeddedEngine, title_prefix
from catalogue.search.models import SearchDocument
from core.config import ConfigError, load_config
from core.db import get_session
from core.policies import SYSTEM
from tests.catalogue.search.conftest import CLL
from tests.catalogue.search.test_search_api import PUBLIC, hits, search

# --- documents made here ---------------------------------------------------------------------

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def document(number: int, **fields: Any) -> EngineDocument:
    """A document with every field of the contract, empty unless given."""
    values: dict[str, Any] = {
        "title": "",
        "keywords": "",
        "description": "",
        "variables": "",
        "visibility": ["published"],
        "dataset_id": [f"d{number}"],
        "version_id": [f"v{number}"],
        "organisation_id": ["org"],
        "source_type": [],
        "data_model": [],
        "country": [],
        "age_group": [],
        "disease": [],
        "term": [],
        "countries_set": [" "],
        "age_groups_set": [" "],
        "diseases_set": [" "],
        "variable_groups_set": [" "],
        "title_key": [f"title {number:04d}"],
        "patients": None,
        "updated_at": microseconds(START),
        "revision": number,
    }
    values.update(fields)
    return EngineDocument(id=number, fields=values)


@pytest.fixture
def engine(tmp_path: Path) -> EmbeddedEngine:
    return EmbeddedEngine(tmp_path / "engine")


def ask(engine: EmbeddedEngine, clause: Any, **query: Any) -> list[int]:
    query.setdefault("sort", "title")
    query.setdefault("limit", 1000)
    return engine.search(EngineQuery(filter=clause, **query)).ids


WORDS = ["aml", "date", "patient", "dose", "sex"]
COUNTRIES = ["DE", "FR", "NL"]


def random_documents(seed: int, count: int) -> list[EngineDocument]:
    rng = random.Random(seed)
    made = []
    for number in range(1, count + 1):
        countries = sorted(rng.sample(COUNTRIES, rng.randint(0, 2)))
        made.append(
            document(
                number,
                title=" ".join(rng.sample(WORDS, rng.randint(0, 2))),
                keywords=" ".join(rng.sample(WORDS, rng.randint(0, 1))),
                description=" ".join(rng.sample(WORDS, rng.randint(0, 2))),
                variables=" ".join(rng.sample(WORDS, rng.randint(0, 3))),
                visibility=[rng.choice(["published", "published_with_draft", "draft"])],
                organisation_id=[rng.choice(["a", "b", "c"])],
                source_type=rng.choice([[], ["registry"], ["clinical_trial"]]),
                country=countries,
                countries_set=[" " + " ".join(countries) + " " if countries else " "],
                disease=rng.sample(["C1", "C2", "C3"], rng.randint(0, 2)),
                patients=rng.choice([None, 5, 50, 500, 5000]),
                title_key=[rng.choice(["alpha", "beta", "beta", "gamma"]) + f" {number}"],
                updated_at=microseconds(START + dt.timedelta(days=rng.randint(0, 3))),
            )
        )
    return made


def random_clause(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.choice(["match", "terms", "range", "all", "any", "not", "everything"])
    if depth > 2 and kind in ("all", "any", "not"):
        kind = "terms"
    if kind == "match":
        keys = tuple(rng.sample(WORDS, rng.randint(1, 2)))
        return Match(rng.choice(["title", "keywords", "description", "variables"]), keys)
    if kind == "terms":
        field, values = rng.choice(
            [
                ("country", COUNTRIES),
                ("visibility", ["published", "draft", "published_with_draft"]),
                ("disease", ["C1", "C2", "C3"]),
                ("source_type", ["registry", "clinical_trial"]),
            ]
        )
        return Terms(field, tuple(rng.sample(values, rng.randint(1, 2))))
    if kind == "range":
        low, high = rng.choice([(None, 100), (10, None), (50, 500), (6, 6)])
        return Range("patients", low, high)
    if kind == "not":
        return Not(random_clause(rng, depth + 1))
    if kind == "everything":
        return Everything()
    parts = tuple(random_clause(rng, depth + 1) for _ in range(rng.randint(1, 3)))
    return AllOf(parts) if kind == "all" else AnyOf(parts)


def test_every_clause_means_what_the_reference_says(engine):
    made = random_documents(1, 60)
    engine.rebuild(made)
    rng = random.Random(2)
    for _ in range(150):
        clause = random_clause(rng)
        expected = sorted(d.id for d in made if check.holds(clause, d))
        assert sorted(ask(engine, clause)) == expected, clause
    # a word in every text field (the service's "any field") is answered by one lookup
    anywhere = AnyOf(tuple(Match(f, ("dose",)) for f in services.TEXT_FIELDS))
    assert sorted(ask(engine, anywhere)) == sorted(d.id for d in made if check.holds(anywhere, d))


def test_visibility_as_a_clause(engine):
    engine.rebuild(
        [
            document(1, visibility=["published"], organisation_id=["a"]),
            document(2, visibility=["published_with_draft"], organisation_id=["a"]),
            document(3, visibility=["draft"], organisation_id=["a"]),
            document(4, visibility=["published_with_draft"], organisation_id=["b"]),
            document(5, visibility=["draft"], organisation_id=["b"]),
        ]
    )
    assert sorted(ask(engine, base.visible(frozenset()))) == [1, 2, 4]  # anonymous, researcher
    assert sorted(ask(engine, base.visible({"a"}))) == [1, 3, 4]  # a's custodian: a's draft
    assert sorted(ask(engine, base.visible(None))) == [1, 3, 5]  # admin: every draft


def reference_order(made: list[EngineDocument], sort: str) -> list[int]:
    def key(d: EngineDocument) -> tuple[Any, ...]:
        f = d.fields
        title = f["title_key"][0]
        if sort == "title":
            return (title, d.id)
        if sort == "patients":
            return (-(f["patients"] if f["patients"] is not None else -1), title, d.id)
        return (-f["updated_at"], title, d.id)

    return [d.id for d in sorted(made, key=key)]


TITLES = ["myeloid neoplasm a", "myeloid neoplasm b", "aml", "a-ml 2", "a.ml", "aml é", "a~z"]


@pytest.mark.parametrize("sort", ["updated", "title", "patients"])
def test_every_sort_orders_by_its_whole_key_on_every_page(engine, sort):
    made = []
    for number in range(1, 31):
        made.append(
            document(
                number,
                # ties on the date, the number of patients, and titles alike in their first
                # 11 characters (the title's sort number) or wholly, or apart only after a
                # character other than a space, digit or letter
                title_key=[TITLES[number % len(TITLES)]],
                patients=[None, 100, 100, 7][number % 4],
                updated_at=microseconds(START + dt.timedelta(hours=number % 5)),
            )
        )
    random.Random(3).shuffle(made)
    engine.rebuild(made)
    everything = reference_order(made, sort)
    for per_page in (1, 4, 7):
        for offset in range(0, 32, per_page):
            page = ask(engine, Everything(), sort=sort, offset=offset, limit=per_page)
            assert page == everything[offset : offset + per_page], (per_page, offset)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=16), st.text(max_size=16))
def test_the_title_sort_number_orders_as_the_titles_do(a, b):
    # code points, as UTF-8 bytes and the databases' "C" collation order the title keys
    if a > b:
        a, b = b, a
    assert title_prefix(a) <= title_prefix(b)
    assert 0 <= title_prefix(b) < 2**64


def relevance(engine: EmbeddedEngine, keys: tuple[str, ...], **query: Any) -> EngineResult:
    word = AnyOf(tuple(Match(f, keys) for f in services.TEXT_FIELDS))
    scores = (
        Score(word, 1),
        Score(Match("title", keys), 7),
        Score(Match("keywords", keys), 3),
        Score(Match("description", keys), 1),
    )
    return engine.search(
        EngineQuery(filter=word, scores=scores, rank_keys=keys, sort="relevance", **query)
    )


EngineResult = base.EngineResult


def test_relevance_is_points_then_updated_title_and_id_when_no_rank_tells_them_apart(engine):
    # the word only in the variables: one point each, no text rank (it ranks title,
    # keywords and description): the most recently updated first, then title, then id
    made = [
        document(
            n,
            variables="dose",
            title_key=["same title"] if n % 2 else [f"title {n:02d}"],
            updated_at=microseconds(START + dt.timedelta(days=n % 4)),
        )
        for n in range(1, 26)
    ]
    made.append(document(26, title="dose", variables="dose"))  # 9 points: first
    made.append(document(27, keywords="dose"))  # 4 points: second
    engine.rebuild(made)
    tied = sorted(
        (d for d in made if d.id < 26),
        key=lambda d: (-d.fields["updated_at"], d.fields["title_key"][0], d.id),
    )
    everything = [26, 27, *(d.id for d in tied)]
    for offset in range(0, 27, 5):
        result = relevance(engine, ("dose",), offset=offset, limit=5)
        assert result.ids == everything[offset : offset + 5]
        assert result.total == 27


@pytest.mark.parametrize("with_words", [True, False])
def test_large_groups_of_equal_points_are_ordered_on_every_page(engine, with_words):
    """A part of the query that names a term (its words optional, tagged 6, covered 1): many
    documents of each number of points, none with a text rank (the words only in the
    variables), ordered by date, title and id within their points."""
    rng = random.Random(4)
    made = []
    for number in range(1, 161):
        made.append(
            document(
                number,
                variables=rng.choice(["dose", "sex", "dose sex"]),
                disease=rng.choice([[], ["C1"]]),
                term=rng.choice([[], ["C1"]]),
                title_key=[rng.choice(["alpha", "beta"])],
                updated_at=microseconds(START + dt.timedelta(days=rng.randint(0, 6))),
            )
        )
    engine.rebuild(made)
    keys = ("dose",)
    word = AnyOf(tuple(Match(f, keys) for f in services.TEXT_FIELDS))
    tagged, covered = Terms("disease", ("C1",)), Terms("term", ("C1",))
    scores = [Score(tagged, 6), Score(covered, 1)]
    alternatives: tuple[Any, ...] = (tagged, covered)
    if with_words:
        alternatives = (AllOf((word,)), tagged, covered)
        scores += [Score(word, 1), *(Score(Match(f, keys), 7) for f in ("title",))]
    question = EngineQuery(
        filter=AnyOf(alternatives),
        scores=tuple(scores),
        rank_keys=keys if with_words else (),
        sort="relevance",
        limit=7,
    )
    expected = [
        d.id
        for d in sorted(
            (d for d in made if check.holds(question.filter, d)),
            key=lambda d: (
                -check.points(question, d),
                -d.fields["updated_at"],
                d.fields["title_key"][0],
                d.id,
            ),
        )
    ]
    for offset in range(0, len(expected) + 7, 7):
        answer = engine.search(replace(question, offset=offset))
        assert answer.ids == expected[offset : offset + 7], offset
        assert answer.total == len(expected)


def test_the_text_rank_orders_only_equal_points(engine):
    engine.rebuild(
        [
            document(1, title="dose of a long title with many words"),  # 8 points, rank lower
            document(2, title="dose"),  # 8 points: a short title ranks higher
            document(3, title="dose", description="dose"),  # 9 points: first
            document(4, variables="dose dose dose"),  # 1 point: last
        ]
    )
    assert relevance(engine, ("dose",)).ids == [3, 2, 1, 4]


def test_deep_pages_and_the_total(engine):
    made = [document(n, variables="patient") for n in range(1, 1201)]
    engine.rebuild(made)
    order = reference_order(made, "updated")
    page = relevance(engine, ("patient",), offset=49 * 20, limit=20)
    assert page.total == 1200
    assert page.ids == order[980:1000]
    assert relevance(engine, ("patient",), offset=1200, limit=20).ids == []


def test_counts_of_a_selected_facet_leave_its_own_selection_out(engine):
    engine.rebuild(
        [
            document(1, country=["DE"], source_type=["registry"], patients=50),
            document(2, country=["DE", "NL"], source_type=["clinical_trial"], patients=500),
            document(3, country=["FR"], source_type=["registry"], patients=5000),
            document(4, country=["FR"], source_type=["registry"]),
        ]
    )
    answer = engine.search(
        EngineQuery(
            filter=Everything(),
            facets=(("country", Terms("country", ("DE",))),),
            counts=(
                ("country", (TermsCount("country"),)),
                ("source_type", (TermsCount("source_type"),)),
                (
                    "patients",
                    (RangeCount("patients", (("0-99", 0, 99), ("100-", 100, None))),),
                ),
                ("big", (MatchCount("big", Range("patients", 1000, None)),)),
            ),
        )
    )
    assert answer.total == 2
    # the country counts ignore the country selection; the others apply it
    assert sorted(answer.counts["country"]) == [("DE", 2), ("FR", 2), ("NL", 1)]
    assert sorted(answer.counts["source_type"]) == [("clinical_trial", 1), ("registry", 1)]
    assert sorted(answer.counts["patients"]) == [("0-99", 1), ("100-", 1)]
    assert answer.counts["big"] == []
    only = TermsCount("country", include=("NL", "FR"))
    counted = engine.search(EngineQuery(filter=Everything(), counts=(("c", (only,)),)))
    assert sorted(counted.counts["c"]) == [("FR", 2), ("NL", 1)]
    # counted in a thread of its own (while the caller fills the page in) or not: the same
    for beside in (True, False):
        again = engine.search(
            EngineQuery(filter=Everything(), counts=(("c", (only,)),), counts_beside=beside)
        )
        assert sorted(again.counts["c"]) == [("FR", 2), ("NL", 1)], beside


def test_a_count_that_fails_in_its_thread_fails_the_read_not_the_search(engine, monkeypatch):
    engine.rebuild([document(1, country=["DE"])])

    def failing(*args: Any) -> Any:
        raise Unsupported("more values than an engine count holds")

    monkeypatch.setattr(EmbeddedEngine, "_counts", failing)
    answer = engine.search(EngineQuery(filter=Everything(), counts_beside=True))
    assert answer.ids == [1]  # the page is there at once
    with pytest.raises(Unsupported):
        dict(answer.counts)  # the service then answers with SQL (services._engine_counts)


def test_writes_replace_remove_and_are_seen_at_once(engine):
    engine.rebuild([document(1, title="aml"), document(2, title="aml")])
    engine.write([document(2, title="dose"), document(3, title="aml")], deleted=[1])
    assert ask(engine, Match("title", ("aml",))) == [3]
    assert ask(engine, Match("title", ("dose",))) == [2]
    assert engine.count() == 2
    assert engine.stamps() == {2: 2, 3: 3}
    assert engine.fingerprint() == (2, 5)


def test_a_second_writer_waits_for_the_first(engine, tmp_path):
    engine.rebuild([document(1)])
    other = EmbeddedEngine(engine.root)  # another process's view of the same folder
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        opened = other._require()
        with other._writer(opened) as writer:
            writer.add_document(other._document(opened, document(2)))
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    threading.Timer(0.2, release.set).start()
    engine.write([document(3)])  # waits for the lock, then writes
    holder.join(5)
    engine.forget()
    assert sorted(engine.stamps()) == [1, 2, 3]


def test_another_process_sees_a_write_at_its_next_search(engine):
    engine.rebuild([document(1, title="aml")])
    other = EmbeddedEngine(engine.root)  # another process's view of the same folder
    assert ask(other, Match("title", ("aml",))) == [1]
    engine.write([document(2, title="aml")])
    assert ask(other, Match("title", ("aml",))) == [1, 2]


def test_no_index_is_minus_one_and_searching_it_fails_cleanly(engine):
    assert engine.count() == -1
    engine.rebuild([document(1)])
    assert engine.count() == 1
    shutil.rmtree(engine.root)
    assert engine.count() == -1
    with pytest.raises(RuntimeError):
        engine.search(EngineQuery(filter=Everything()))


def test_searches_go_on_while_the_index_is_rebuilt(engine):
    engine.rebuild([document(n, title="aml") for n in range(1, 201)])
    failures: list[BaseException] = []
    answers: set[int] = set()
    stop = threading.Event()

    def searching() -> None:
        while not stop.is_set():
            try:
                answers.add(len(ask(engine, Match("title", ("aml",)))))
            except BaseException as exc:  # reported below
                failures.append(exc)

    searcher = threading.Thread(target=searching)
    searcher.start()
    for round_ in range(3):
        engine.rebuild([document(n, title="aml") for n in range(1, 202 + round_)])
    stop.set()
    searcher.join(10)
    assert not failures
    assert answers <= {200, 201, 202, 203}  # the old index or a new one, never a mixture
    assert len(ask(engine, Match("title", ("aml",)))) == 203
    assert len(list(engine.root.glob("index-*"))) == 1  # the old ones removed


# --- through the service ---------------------------------------------------------------------


@pytest.fixture
def engine_alone(app, monkeypatch) -> Iterator[sync.EngineState]:
    """Searches answered by the engine alone: no check mode, and no SQL statement to fall
    back to (a search that tried it fails)."""
    with app.app_context():
        current = sync.state(app)
    monkeypatch.setitem(app.config, "SEARCH_ENGINE_CHECK", False)
    monkeypatch.setattr(current, "check", False)
    monkeypatch.setattr(current, "interval", 3600.0)

    def unavailable(*_args: Any) -> Any:
        raise AssertionError("the SQL statement answered a search the engine should have")

    monkeypatch.setattr(services, "_from_statement", unavailable)
    yield current


def ready(app) -> None:
    """The engine built for the corpus (as the first search of a process does)."""
    with app.app_context():
        current = sync.state(app)
        with current.working:
            if current.engine is not None and current.engine.count() == -1:
                sync.rebuild()
            current.flush()
            current.check_in_step(grace=False)


ROLES = ["anonymous", "researcher", "custodian", "other_custodian", "admin"]


@pytest.mark.parametrize("who", ROLES)
def test_who_sees_what_from_the_engine_alone(client, make, corpus, engine_alone, app, who):
    ready(app)
    user = None if who == "anonymous" else getattr(corpus, who)
    found = set(hits(search(client, make, user, q="ibrutinib", per_page=100)))
    public = {i for i in PUBLIC if i.startswith("rank-")}
    expected = {
        "anonymous": public,
        "researcher": public,
        "custodian": public | {"leiden-draft"},
        "other_custodian": public | {"lyon-draft"},
        "admin": public | {"leiden-draft", "lyon-draft"},
    }[who]
    assert found == expected
    everything = search(client, make, user, per_page=100)
    assert everything["total"] == len(PUBLIC) + len(expected - public)


def test_a_change_is_searchable_right_after_its_commit(client, make, corpus, engine_alone, app):
    ready(app)
    assert search(client, q="zebrafish")["total"] == 0
    make.dataset(corpus.leiden, publish=True, title="Zebrafish models of leukaemia")
    body = search(client, q="zebrafish")
    assert [item["title"] for item in body["items"]] == ["Zebrafish models of leukaemia"]


def test_a_rolled_back_change_writes_nothing(client, make, corpus, engine_alone, app):
    from catalogue.datasets import services as datasets
    from catalogue.search import indexer

    ready(app)
    with app.app_context():
        datasets.update_dataset(
            SYSTEM, "leiden-draft", {"title": "Quokka study"}, datasets.UNCHECKED
        )
        # committed (a savepoint here): its dataset is written to the engine next
        dataset = datasets.get_dataset(SYSTEM, "leiden-draft")
        dataset_id = dataset.id
        assert engine_alone.pending == {dataset_id}
        # a change that rolls back is never written
        session = get_session()
        dataset.versions[-1].title = "Wombat study"
        indexer.dataset_changed(dataset, dataset.versions[-1], "updated")
        assert session.info[sync.PENDING] == {dataset_id}
        session.rollback()
        assert sync.PENDING not in session.info
    assert engine_alone.pending == {dataset_id}  # the committed change only
    assert hits(search(client, make, corpus.admin, q="quokka")) == ["leiden-draft"]
    assert hits(search(client, make, corpus.admin, q="wombat")) == []


def test_a_deleted_draft_leaves_the_engine(client, make, corpus, engine_alone, app):
    from catalogue.datasets import services as datasets

    ready(app)
    admin = corpus.admin
    assert "leiden-draft" in hits(search(client, make, admin, q="ibrutinib"))
    with app.app_context():
        datasets.delete_draft(SYSTEM, "leiden-draft", datasets.UNCHECKED)
    assert "leiden-draft" not in hits(search(client, make, admin, q="ibrutinib"))


def test_a_lost_index_is_answered_by_sql_and_comes_back(client, make, corpus, app):
    ready(app)
    with app.app_context():
        current = sync.state(app)
    root = Path(current.engine.root)  # type: ignore[union-attr]
    shutil.rmtree(root)
    # answered right (by the SQL statement), and the index is built again meanwhile
    assert set(hits(search(client, q="ibrutinib"))) == {i for i in PUBLIC if "rank" in i}
    assert (root / "current.json").exists()
    assert current.engine.count() == len(PUBLIC) + 2  # type: ignore[union-attr]


def test_a_change_the_engine_missed_is_written_again(client, corpus, engine_alone, app):
    ready(app)
    with app.app_context():
        document_id = get_session().scalar(
            select(SearchDocument.id)
            .join(Dataset, Dataset.id == SearchDocument.dataset_id)
            .where(Dataset.identifier == "rank-title")
        )
        # as if a process had died between a commit and its write to the engine
        engine_alone.engine.write([], [document_id])  # type: ignore[union-attr]
        assert "rank-title" not in hits(search(client, q="ibrutinib"))
        assert engine_alone.check_in_step(grace=False) == 1
    assert "rank-title" in hits(search(client, q="ibrutinib"))


def test_a_difference_is_repaired_only_once_it_lasts(corpus, engine_alone, app):
    """The periodic check of a process with a thread leaves a difference it sees for the first
    time (another process may be writing it that moment) and repairs it if it is still there
    at the next check."""
    ready(app)
    with app.app_context():
        document_id = get_session().scalar(select(SearchDocument.id).limit(1))
        engine_alone.engine.write([], [document_id])  # type: ignore[union-attr]
        assert engine_alone.check_in_step(grace=True) == 0
        assert engine_alone.check_in_step(grace=True) == 1
        assert document_id in engine_alone.engine.stamps()  # type: ignore[union-attr]


def test_other_areas_have_documents_written_again(corpus, engine_alone, app):
    from catalogue.search import engine as search_engine

    ready(app)
    with app.app_context():
        session = get_session()
        before = dict(session.execute(select(SearchDocument.id, SearchDocument.revision)).all())
        dataset_id = session.scalar(select(SearchDocument.dataset_id).limit(1))
        search_engine.refresh_datasets([dataset_id])
        session.commit()
        after = dict(session.execute(select(SearchDocument.id, SearchDocument.revision)).all())
        changed = {i for i in before if before[i] != after[i]}
        assert changed and engine_alone.pending == {dataset_id}
        engine_alone.flush()
        assert {i: after[i] for i in changed}.items() <= engine_alone.engine.stamps().items()  # type: ignore[union-attr]


def test_check_mode_fails_a_search_the_engine_answers_wrongly(client, corpus, app, monkeypatch):
    ready(app)
    with app.app_context():
        engine = sync.state(app).engine
    answer = engine.search  # type: ignore[union-attr]

    def one_short(query: EngineQuery) -> Any:
        found = answer(query)
        return base.EngineResult(found.ids[1:], found.total, found.counts)

    monkeypatch.setattr(engine, "search", one_short)
    with app.app_context(), pytest.raises(AssertionError, match="page"):
        services.search(SYSTEM, services.parse_query({"q": ["ibrutinib"], "sort": ["title"]}))


def test_a_facet_without_an_engine_form_is_answered_by_sql(client, corpus, app, monkeypatch):
    from catalogue.search.facets import facets

    ready(app)
    country = next(f for f in facets() if f.name == "country")

    def unsupported(selection: Any) -> Any:
        raise base.Unsupported("no engine form")

    monkeypatch.setattr(country, "engine_clause", unsupported)
    assert set(hits(search(client, q="ibrutinib", country="IT"))) == {
        i for i in PUBLIC if "rank" in i
    }


@pytest.mark.parametrize("beside", ["on", "off"])
def test_counts_that_fail_are_answered_by_sql(client, corpus, app, monkeypatch, beside):
    ready(app)
    monkeypatch.setitem(app.config, "SEARCH_ENGINE_CHECK", False)
    monkeypatch.setitem(app.config, "SEARCH_ENGINE_COUNTS_BESIDE", beside)
    expected = search(client, q="ibrutinib", country="IT")

    def failing(*args: Any) -> Any:
        raise base.Unsupported("more values than an engine count holds")

    monkeypatch.setattr(EmbeddedEngine, "_counts", failing)
    answered = search(client, q="ibrutinib", country="IT")  # by SQL, the same
    assert (answered["total"], answered["facets"]) == (expected["total"], expected["facets"])
    assert hits(answered) == hits(expected)


def test_the_engine_follows_the_configuration(tmp_path, monkeypatch):
    def app_with(**config: Any) -> Any:
        return SimpleNamespace(config=config, testing=False, instance_path=str(tmp_path))

    assert sync.make_engine(app_with(SEARCH_ENGINE="sql")) is None
    embedded = sync.make_engine(app_with(SEARCH_ENGINE="embedded"))
    assert isinstance(embedded, EmbeddedEngine)
    assert embedded.root == tmp_path / "search-engine"
    elsewhere = sync.make_engine(app_with(SEARCH_ENGINE_PATH=str(tmp_path / "x")))
    assert elsewhere.root == tmp_path / "x"  # type: ignore[union-attr]

    def missing(name: str) -> Any:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(sync.importlib, "import_module", missing)
    with pytest.raises(ConfigError, match="opensearch"):
        sync.make_engine(app_with(SEARCH_ENGINE="opensearch"))
    with pytest.raises(ConfigError, match="SEARCH_ENGINE"):
        load_config(tmp_path, {"SEARCH_ENGINE": "lucene"})
    assert load_config(tmp_path, {"SEARCH_ENGINE": "SQL"})["SEARCH_ENGINE"] == "sql"


def test_reindex_rebuilds_the_engine_from_the_index(app, corpus):
    result = app.test_cli_runner().invoke(args=["catalogue", "reindex", "--engine-only"])
    assert result.exit_code == 0, result.output
    assert f"{len(PUBLIC) + 2} documents" in result.output
    with app.app_context():
        held = sync.state(app).engine.stamps()  # type: ignore[union-attr]
        stored = dict(
            get_session().execute(select(SearchDocument.id, SearchDocument.revision)).all()
        )
    assert held == stored


def test_a_cll_search_from_the_engine_counts_like_sql(client, corpus, app):
    """Check mode on (as in the whole suite): the disease tree, countries and custodians of a
    search the engine answers are the statement's, value by value."""
    ready(app)
    body = search(client, q="leukaemia", disease=CLL, country=["DE", "NL"], per_page=5)
    assert {v["value"] for v in body["facets"]["disease"]} >= {CLL}


@pytest.mark.parametrize(
    ("setting", "cores", "beside"),
    [("auto", 2, True), ("auto", 8, True), ("auto", 1, False), ("on", 1, True), ("off", 8, False)],
)
def test_counting_beside_the_page_follows_the_setting_and_the_cores(
    app, monkeypatch, setting, cores, beside
):
    from catalogue.search import services

    monkeypatch.setitem(app.config, "SEARCH_ENGINE_COUNTS_BESIDE", setting)
    monkeypatch.setattr(services.os, "cpu_count", lambda: cores)
    with app.app_context():
        assert services._counts_beside() is beside
