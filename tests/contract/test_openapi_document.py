"""The OpenAPI document tells clients the error answers they will really get: problem details
(RFC 9457) by status, 428/412 where If-Match is required, uploads as multipart/form-data, and
links from a creation to the created resource."""

from __future__ import annotations

from typing import Any

import pytest

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec(app) -> dict[str, Any]:
    return app.test_client().get("/api/v1/openapi.json").get_json()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in METHODS
    ]


def resolve(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    ref = response.get("$ref")
    return spec["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else response


def test_every_error_answer_is_a_problem_detail_and_none_is_a_blanket_default(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}
    assert {"errors", "request_id"} <= set(problem["properties"])
    assert problem["properties"]["errors"]["additionalProperties"]["type"] == "array"
    checked = 0
    for method, path, op in operations(spec):
        assert "default" not in op["responses"], (method, path)
        for status, response in op["responses"].items():
            if int(status) >= 400:
                content = resolve(spec, response)["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)
                schema = content["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}
                checked += 1
    assert checked > 300


def test_each_operation_declares_the_statuses_it_can_give(spec):
    paths = spec["paths"]

    def statuses(path: str, method: str) -> set[int]:
        return {int(s) for s in paths["/api/v1" + path][method]["responses"]}

    # public, no input: no error at all to expect
    assert statuses("/version", "get") == {200}
    # a login is needed
    assert {401, 403} <= statuses("/me", "get")
    assert 404 not in statuses("/me", "get")
    # path parameters: 404; public reads need no login
    assert {404, 422} <= statuses("/datasets/{identifier}", "get")
    assert not {401, 403, 409, 412, 428} & statuses("/datasets/{identifier}", "get")
    # a change with If-Match and a body
    assert {400, 401, 403, 404, 409, 412, 413, 415, 422, 428} <= statuses(
        "/datasets/{identifier}", "patch"
    )
    assert {412, 428} <= statuses("/datasets/{identifier}/publish", "post")
    assert not {412, 428} & statuses("/datasets", "post")
    # throttled password checks, and queries under a time limit
    assert 429 in statuses("/me/password", "post")
    assert 503 in statuses("/search", "get")
    assert 503 not in statuses("/datasets", "get")
    assert 503 in statuses("/datasets", "post")  # a busy SQLite
    too_many = resolve(spec, paths["/api/v1/me/password"]["post"]["responses"]["429"])
    assert "Retry-After" in too_many["headers"]


def test_every_if_match_operation_declares_428_and_412(spec):
    found = 0
    for method, path, op in operations(spec):
        names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "header"}
        if "If-Match" in names:
            found += 1
            assert {"412", "428"} <= set(op["responses"]), (method, path)
    assert found >= 10


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/api/v1/ontologies", {"file", "prefix", "format", "name"}),
        ("/api/v1/datasets/{identifier}/dictionary", {"file"}),
        ("/api/v1/datasets/{identifier}/mappings.sssom.tsv", {"file"}),
    ],
)
def test_uploads_are_multipart_with_their_fields(spec, path, fields):
    op = spec["paths"][path]["post"]
    content = op["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    schema = content["multipart/form-data"]["schema"]
    assert fields <= set(schema["properties"])
    assert schema["properties"]["file"] == schema["properties"]["file"] | {"format": "binary"}
    if path == "/api/v1/ontologies":
        assert "file" in schema["required"]
    assert not any(p.get("in") == "formData" for p in op.get("parameters", []))


def test_a_creation_links_to_the_created_resource(spec):
    links = spec["paths"]["/api/v1/datasets"]["post"]["responses"]["201"]["links"]
    pointer = "#/paths/~1api~1v1~1datasets~1{identifier}/"
    by_ref = {link["operationRef"]: link["parameters"] for link in links.values()}
    assert by_ref[pointer + "get"] == {"path.identifier": "$response.body#/identifier"}
    assert by_ref[pointer + "patch"]["header.If-Match"] == "$response.header.ETag"
    mapping = spec["paths"]["/api/v1/datasets/{identifier}/mappings"]["post"]["responses"]["201"]
    get_mapping = next(
        link["parameters"]
        for link in mapping["links"].values()
        if link["operationRef"].endswith("{mapping_id}/get")
    )
    assert get_mapping == {
        "path.identifier": "$request.path.identifier",
        "path.mapping_id": "$response.body#/id",
    }
    organisation = spec["paths"]["/api/v1/organisations"]["post"]["responses"]["201"]["links"]
    assert any(
        link["operationRef"].endswith("{organisation_id}/patch") for link in organisation.values()
    )
