"""The index follows every change of a dataset, in the change's own transaction, and a rebuild
gives the same answers as the changes did one by one (both databases)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy import text as sql

from catalogue.datasets import services as datasets
from catalogue.mappings import services as mapping_service
from catalogue.search import rebuild_index
from catalogue.search.models import (
    SearchDocument,
    SearchDocumentTerm,
    SearchVariable,
    SearchVariableMapping,
)
from core.db import get_session
from core.models import Role
from core.policies import SYSTEM
from tests.catalogue.dictionary.test_import_api import upload
from tests.catalogue.search.conftest import HB

TEMPLATE = (
    "name,label,value_type,description,form,time_point,unit,permissible_values,missing_codes,term\n"
    "gilt_start,Gilteritinib start date,date,,treatment,baseline,,,,\n"
    "hb_bl,Blood value at baseline,decimal,,baseline,baseline,g/dL,,,\n"
)


def find(client, headers: dict[str, str] | None = None, **params: Any) -> list[str]:
    response = client.get("/api/v1/search", query_string=params, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["identifier"] for item in response.json["items"]]


def _custodian(make):
    organisation = make.organisation()
    user = make.user(Role.CUSTODIAN, organisation=organisation)
    return organisation, {"Authorization": f"Bearer {make.token(user)}"}


def test_publish_new_version_edit_and_retire(app, client, make, vocabularies):
    organisation, headers = _custodian(make)
    identifier = make.dataset(organisation, title="Zanubrutinib pilot", description="First.")
    assert find(client, q="zanubrutinib") == []  # a draft: not public
    assert find(client, headers, q="zanubrutinib") == [identifier]  # its custodian finds it
    with app.app_context():
        datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)
    assert find(client, q="zanubrutinib") == [identifier]
    with app.app_context():
        datasets.new_version(SYSTEM, identifier, datasets.UNCHECKED)
        datasets.update_dataset(
            SYSTEM, identifier, {"title": "Acalabrutinib pilot"}, datasets.UNCHECKED
        )
    # the public still finds the published version; the custodian finds the draft instead
    assert find(client, q="zanubrutinib") == [identifier]
    assert find(client, q="acalabrutinib") == []
    assert find(client, headers, q="acalabrutinib") == [identifier]
    assert find(client, headers, q="zanubrutinib") == []
    assert len(find(client, headers)) == 1  # one hit per dataset, never two versions
    with app.app_context():
        datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)
    assert find(client, q="acalabrutinib") == [identifier]
    assert find(client, q="zanubrutinib") == []  # the superseded version is not searched
    with app.app_context():
        datasets.retire(SYSTEM, identifier, None, datasets.UNCHECKED)
    assert find(client, q="acalabrutinib") == []
    assert find(client, headers, q="acalabrutinib") == []
    with app.app_context():
        session = get_session()
        assert session.scalar(select(func.count()).select_from(SearchDocument)) == 0


def test_a_dictionary_import_and_mapping_changes_are_searchable(app, client, make, vocabularies):
    organisation, headers = _custodian(make)
    identifier = make.dataset(organisation, title="Gilteritinib cohort")
    response = upload(client, identifier, TEMPLATE.encode(), "dictionary.csv", headers)
    assert response.status_code == 200, response.json
    assert find(client, headers, q="gilteritinib start") == [identifier]
    # hb_bl says nothing of haemoglobin until it is mapped
    assert find(client, headers, q="haemoglobin") == []
    etag = client.get(f"/api/v1/datasets/{identifier}", headers=headers).headers["ETag"]
    created = client.post(
        f"/api/v1/datasets/{identifier}/mappings",
        json={"variable": "hb_bl", "object_id": HB},
        headers={**headers, "If-Match": etag},
    )
    assert created.status_code == 201, created.json
    assert find(client, headers, q="haemoglobin") == [identifier]
    assert find(client, headers, term="HV:0000010") == [identifier]
    # the hit shows the variable mapped to the term the query names (or to one below it)
    for q in ("haemoglobin", "full blood count"):
        shown = client.get("/api/v1/search", query_string={"q": q}, headers=headers)
        variables = shown.json["items"][0]["variables"]
        assert variables["mapped_to_terms"] == 1, q
        assert [v["name"] for v in variables["items"]] == ["hb_bl"], q
    counts = client.get("/api/v1/search", headers=headers).json["facets"]["term"]
    assert {v["value"]: v["count"] for v in counts}["HV:0000003"] == 1
    with app.app_context():
        entry = mapping_service.list_mappings(SYSTEM, identifier, variable="hb_bl").items[0]
        mapping_service.delete_mapping(SYSTEM, identifier, entry.mapping.id, datasets.UNCHECKED)
    assert find(client, headers, q="haemoglobin") == []
    counts = client.get("/api/v1/search", headers=headers).json["facets"]["term"]
    assert "HV:0000003" not in {v["value"] for v in counts}


def test_deleting_a_draft_leaves_nothing_behind(app, client, make, vocabularies):
    organisation, headers = _custodian(make)
    identifier = make.dataset(organisation, title="Pirtobrutinib draft")
    response = upload(client, identifier, TEMPLATE.encode(), "dictionary.csv", headers)
    assert response.status_code == 200
    with app.app_context():
        datasets.delete_draft(SYSTEM, identifier, datasets.UNCHECKED)
        session = get_session()
        for model in (SearchDocument, SearchVariable, SearchDocumentTerm, SearchVariableMapping):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        if session.get_bind().dialect.name == "sqlite":
            # the FTS5 index followed the rows (external content, kept by triggers)
            rows = session.execute(
                sql(
                    "SELECT count(*) FROM search_fts_variables WHERE search_fts_variables MATCH 'gilteritinib'"
                )
            ).scalar()
            assert rows == 0
    assert find(client, headers, q="pirtobrutinib") == []


def _answers(client, headers) -> list[Any]:
    queries = [
        {"q": "ibrutinib"},
        {"q": "myeloid neoplasm"},
        {"q": "Hb"},
        {"q": "lenalidomde"},
        {},
        {"country": "IT", "q": "lymphoma"},
    ]
    found = []
    for params in queries:
        body = client.get("/api/v1/search", query_string=params, headers=headers).json
        found.append(
            (
                [i["identifier"] for i in body["items"]],
                body["total"],
                body["facets"],
                body["query"],
                [i["variables"] for i in body["items"]],
            )
        )
    return found


def test_a_rebuild_gives_the_same_answers(app, client, make, corpus):
    headers = {"Authorization": f"Bearer {make.token(corpus.custodian)}"}
    before = _answers(client, headers)
    with app.app_context():
        written = rebuild_index(lambda done, total: None)
        assert written == 10  # eight published datasets and two drafts
    assert _answers(client, headers) == before


def test_the_index_objects_of_each_database_exist(app):
    with app.app_context():
        session = get_session()
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            names = set(
                session.scalars(
                    sql("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
                )
            )
            fields = {
                "search_fts_titles",
                "search_fts_keywords",
                "search_fts_descriptions",
                "search_fts_documents_all",
            }
            assert fields | {"search_fts_variables", "search_fts_trigrams"} <= names
            assert {f"{f}_ad" for f in fields} <= names  # deletes reach the FTS indexes
        else:
            indexes = {i["name"] for i in inspect(connection).get_indexes("search_document_texts")}
            assert {
                f"ix_search_document_texts_{field}_tsv"
                for field in ("all", "title", "keywords", "description", "variables")
            } <= indexes
            extension = session.scalar(
                sql("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
            )
            assert extension == "pg_trgm"
