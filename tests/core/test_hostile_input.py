"""Odd and hostile input answers a 4xx naming what is wrong, never a 500 (core/inputs.py).

Most tests walk the URL map, so that a new endpoint is covered the day it is added.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from core.models import Role
from core.security import UPLOAD_ENDPOINTS
from tests.conftest import login, post_form
from tests.core.test_authorization import API_TABLE
from tests.core.test_authorization import world as world  # the role table's world

HUGE = "99999999999999999999999"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _rules(app: Flask, prefix: str = "/") -> list[Rule]:
    skip = ("/static/", "/api/docs/assets/", "/catalogue/static/")
    return [
        rule
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
        if rule.rule.startswith(prefix) and not rule.rule.startswith(skip)
    ]


def _url(rule: Rule, value: str = "nothing", integer: str = "1") -> str:
    """The rule with every argument set to ``value`` (integers to ``integer``, a choice of
    values to the first)."""

    def fill(match: re.Match[str]) -> str:
        converter = rule._converters[match.group(1).split(":")[-1]]
        if isinstance(converter, IntegerConverter):
            return integer
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)[0]
        return value

    return re.sub(r"<([^>]+)>", fill, rule.rule)


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


@pytest.fixture
def admin(make) -> dict[str, str]:
    return {"Authorization": f"Bearer {make.token(make.user(Role.ADMIN))}", "If-Match": "*"}


# --- text that cannot be stored -------------------------------------------------------------


def _poison(body: Any, bad: str, path: str = "") -> tuple[Any, str] | None:
    """``body`` with its first text value replaced by ``bad``, and that value's field path."""
    if isinstance(body, str):
        return bad, path
    if not isinstance(body, dict | list):
        return None
    items = body.items() if isinstance(body, dict) else enumerate(body)
    for key, value in items:
        found = _poison(value, bad, f"{path}.{key}" if path else str(key))
        if found is not None:
            copy = dict(body) if isinstance(body, dict) else list(body)
            copy[key] = found[0]
            return copy, found[1]
    return None


ADMIN_WRITES = [
    (m, p, b)
    for m, p, b, expected in API_TABLE
    if m in UNSAFE and _poison(b, "x") is not None and expected["admin"] < 400
]


@pytest.mark.parametrize("bad", ["\ud800", "a\x00b", "bell\x07"], ids=["surrogate", "nul", "bel"])
@pytest.mark.parametrize(
    ("method", "path", "body"), ADMIN_WRITES, ids=[p for _, p, _ in ADMIN_WRITES]
)
def test_unstorable_text_in_a_json_body_is_422_naming_the_field(
    client, world, method, path, body, bad
):
    poisoned, field = _poison(body, bad)  # type: ignore[misc]
    headers = {"Authorization": f"Bearer {world.tokens['admin']}", "If-Match": "*"}
    data = json.dumps(poisoned, ensure_ascii=True)  # "\ud800" travels as its JSON escape
    response = client.open(
        path.format(**vars(world)),
        method=method,
        data=data,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_a_surrogate_in_keywords_never_breaks_the_public_page(client, make, vocabularies, admin):
    identifier = make.dataset(make.organisation())
    response = client.patch(
        f"/api/v1/datasets/{identifier}",
        data='{"keywords": ["AML", "\\ud800"]}',
        content_type="application/json",
        headers=admin,
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "keywords.1": [response.get_json()["errors"]["keywords.1"][0]]
    }
    assert "surrogate" in response.get_json()["detail"]
    assert client.get(f"/api/v1/datasets/{identifier}", headers=admin).status_code == 200


def test_text_is_normalised_to_nfc(client, admin):
    decomposed = "Cafe\u0301 Re\u0301seau"  # "e" + combining acute accent
    response = client.post(
        "/api/v1/organisations",
        json={"name": decomposed, "country": "FR", "kind": "registry"},
        headers=admin,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["name"] == "Café Réseau"
    listed = client.get("/api/v1/organisations", query_string={"q": "Cafe\u0301"})
    assert "Café Réseau" in [o["name"] for o in listed.get_json()["items"]]


def test_tab_and_newlines_stay_in_multi_line_text(client, admin):
    response = client.post(
        "/api/v1/committees",
        json={"name": "Lymphoma DAC", "description": "Line one\r\n\tLine two"},
        headers=admin,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["description"] == "Line one\r\n\tLine two"


def test_a_nul_in_any_query_argument_is_422_naming_it(app):
    client = app.test_client()
    failures = []
    for rule in _rules(app):
        if "GET" not in (rule.methods or ()):
            continue
        response = client.get(_url(rule), query_string={"q": "aml\x00"})
        if response.status_code != 422 or "q" not in response.get_data(as_text=True):
            failures.append((rule.rule, response.status_code))
        response.close()
    assert not failures


def test_a_nul_in_any_path_segment_is_422_naming_it(app):
    client = app.test_client()
    failures = []
    for rule in _rules(app):
        names = [
            a
            for a in rule.arguments
            if not isinstance(rule._converters[a], IntegerConverter | AnyConverter)
        ]
        if not names:
            continue
        # HTML forms check their CSRF token first (403): their GET pages are the ones to try
        methods = _methods(rule) if rule.rule.startswith("/api/") else ["GET"]
        for method in set(methods) & set(_methods(rule)):
            response = client.open(_url(rule, "x%00y"), method=method)
            text = response.get_data(as_text=True)
            if response.status_code != 422 or not any(n in text for n in names):
                failures.append((method, rule.rule, response.status_code))
            response.close()
    assert not failures


def test_a_nul_in_a_form_field_is_422(client, make):
    response = post_form(client, "/login", {"email": "someone\x00@example.org", "password": "x"})
    assert response.status_code == 422
    assert "email" in response.get_data(as_text=True)


def test_a_control_character_in_an_uploaded_file_name_is_422(client, make, vocabularies, admin):
    identifier = make.dataset(make.organisation())
    response = client.post(
        f"/api/v1/datasets/{identifier}/dictionary",
        data={"file": (io.BytesIO(b"name,label\nx,y\n"), "dict\x00ionary.csv")},
        content_type="multipart/form-data",
        headers=admin,
    )
    assert response.status_code == 422
    assert "file" in response.get_json()["errors"]


# --- numbers and structure ------------------------------------------------------------------


def test_huge_page_numbers_are_refused_on_every_page_and_list(app, make):
    """``?page=<23 digits>`` was a 500 on the public lists (integer overflow in SQL)."""
    client = app.test_client()
    token = make.token(make.user(Role.ADMIN))
    failures = []
    for rule in _rules(app):
        if "GET" not in (rule.methods or ()):
            continue
        for name in ("page", "per_page"):
            for headers in ({}, {"Authorization": f"Bearer {token}"}):
                response = client.get(_url(rule), query_string={name: HUGE}, headers=headers)
                if response.status_code != 422 or name not in response.get_data(as_text=True):
                    failures.append((rule.rule, name, response.status_code))
                response.close()
    assert not failures


def test_integer_path_segments_beyond_the_database_range_are_not_found(app, make):
    client = app.test_client()
    token = make.token(make.user(Role.ADMIN))
    rules = [
        r
        for r in _rules(app)
        if any(isinstance(c, IntegerConverter) for c in r._converters.values())
    ]
    assert rules, "no <int:...> route left: drop this test"
    for rule in rules:
        response = client.open(
            _url(rule, integer=HUGE),
            method=_methods(rule)[0],
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 404, (rule.rule, response.status_code)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"patients": 2**31}, "patients"),
        ({"patients": 1e300}, "patients"),
        ({"patients": -(2**31) - 1}, "patients"),
    ],
)
def test_integers_beyond_the_database_range_are_422(client, make, vocabularies, admin, body, field):
    identifier = make.dataset(make.organisation())
    response = client.patch(f"/api/v1/datasets/{identifier}", json=body, headers=admin)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["errors"]


HOSTILE_BODIES = {
    "5000 digits": ('{"name": ' + "9" * 5000 + "}", 422, "name"),
    "long float": ('{"name": 1.' + "5" * 5000 + "}", 422, "name"),
    "NaN": ('{"name": NaN}', 422, "name"),
    "Infinity": ('{"name": -Infinity}', 422, "name"),
    "1e999": ('{"name": 1e999}', 422, "name"),
    "nested": ('{"name": ' + "[" * 100_000 + "]" * 100_000 + "}", 400, "_body"),
    "nested a little": ('{"name": ' + "[" * 40 + "]" * 40 + "}", 400, "name"),
    "surrogate key": ('{"\\ud800": 1}', 422, "_body"),
    "not utf-8": (b'{"name": "\xff"}', 400, "_body"),
    "not json": ("{", 400, "_body"),
}


@pytest.mark.parametrize("kind", HOSTILE_BODIES)
def test_hostile_json_bodies_are_a_4xx_on_every_endpoint(app, make, kind):
    """Every endpoint that takes a body, as an administrator with made-up ids: the body is
    refused, naming the field, before anything else reads it."""
    data, _status, field = HOSTILE_BODIES[kind]
    failures = []
    for method, rule, response in _json_bodies_sent(app, make, data):
        body = response.get_json(silent=True) or {}
        if response.status_code >= 500:
            failures.append((method, rule.rule, response.status_code))
        elif response.status_code in (400, 422) and not any(
            name.startswith(field) for name in body.get("errors") or {}
        ):
            failures.append((method, rule.rule, response.status_code, body.get("errors")))
    assert not failures


def _json_bodies_sent(app, make, data):
    """``data`` sent as JSON to every endpoint that takes a JSON body, as an administrator
    with made-up ids: ``(method, rule, response)`` for each."""
    client = app.test_client()
    token = make.token(make.user(Role.ADMIN))
    headers = {"Authorization": f"Bearer {token}", "If-Match": "*"}
    for rule in _rules(app, "/api/"):
        if rule.endpoint in UPLOAD_ENDPOINTS:
            continue  # they read a form, not JSON
        for method in _methods(rule):
            if method in ("POST", "PUT", "PATCH"):
                response = client.open(
                    _url(rule),
                    method=method,
                    data=data,
                    content_type="application/json",
                    headers=headers,
                )
                yield method, rule, response


def test_every_json_endpoint_names_the_poisoned_field(app, make):
    failures = []
    data = '{"anything": {"deep": ["\\u0000"]}}'
    for method, rule, response in _json_bodies_sent(app, make, data):
        if response.status_code == 422:
            if "anything.deep.0" not in response.get_json()["errors"]:
                failures.append((method, rule.rule, response.get_json()["errors"]))
        elif response.status_code >= 500:
            failures.append((method, rule.rule, response.status_code))
    assert not failures


def test_text_longer_than_its_column_is_422_on_both_databases(client, vocabularies, admin):
    """PostgreSQL refused it with a 500 and SQLite stored it: now both answer 422."""
    body = {"name": "Haemoglobin", "version": "1", "terms": [{"curie": "HV:0000045"}]}
    response = client.post(
        "/api/v1/standard-sets", json=body | {"identifier": "x" * 5000}, headers=admin
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "identifier" in response.get_json()["errors"]
    assert client.get("/api/v1/standard-sets/" + "x" * 5000).status_code == 404


def test_an_empty_id_means_none_not_a_500(client, admin):
    response = client.post(
        "/api/v1/users",
        json={"email": "no-org@example.org", "name": "No Org", "organisation_id": ""},
        headers=admin,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["organisation"] is None
    user = response.get_json()["id"]
    response = client.patch(f"/api/v1/users/{user}", json={"organisation_id": ""}, headers=admin)
    assert response.status_code == 200, response.get_data(as_text=True)
    response = client.get("/api/v1/users", query_string={"organisation_id": ""}, headers=admin)
    assert response.status_code == 200


# --- bodies ---------------------------------------------------------------------------------


def _chunked(
    client: FlaskClient, path: str, body: bytes, content_type: str, headers: dict[str, str]
):
    """A request whose body has no Content-Length, as a server hands on a chunked upload."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={**headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_of_the_wrong_type_is_415(client, admin):
    response = _chunked(client, "/api/v1/organisations", b"name=x", "text/plain", admin)
    assert response.status_code == 415


def test_a_chunked_json_body_over_the_limit_is_413(client, admin, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_JSON_BYTES", 1000)
    body = json.dumps({"name": "x" * 2000, "country": "IT", "kind": "registry"}).encode()
    response = _chunked(client, "/api/v1/organisations", body, "application/json", admin)
    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    small = json.dumps({"name": "Chunked Org", "country": "IT", "kind": "registry"}).encode()
    response = _chunked(client, "/api/v1/organisations", small, "application/json", admin)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_chunked_upload_over_the_limit_is_413(
    client, make, vocabularies, admin, app, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 10_000)
    identifier = make.dataset(make.organisation())
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="d.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\nname,label\r\n" + "x,y\r\n" * 5000 + f"--{boundary}--\r\n"
    ).encode()
    response = _chunked(
        client,
        f"/api/v1/datasets/{identifier}/dictionary",
        body,
        f"multipart/form-data; boundary={boundary}",
        admin,
    )
    assert response.status_code == 413


def test_a_method_a_route_lacks_is_405_before_the_content_type_check(app, make):
    client = app.test_client()
    token = make.token(make.user(Role.ADMIN))
    failures = []
    for rule in _rules(app, "/api/"):
        missing = {"PUT", "PATCH", "DELETE", "POST"} - set(rule.methods or ())
        for method in sorted(missing):
            response = client.open(
                _url(rule),
                method=method,
                data="plain text",
                content_type="text/plain",
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code != 405:
                failures.append((method, rule.rule, response.status_code))
    assert not failures


def test_patch_with_an_empty_body_is_422_on_every_patch_route(app, make):
    client = app.test_client()
    token = make.token(make.user(Role.ADMIN))
    headers = {"Authorization": f"Bearer {token}", "If-Match": "*"}
    rules = [r for r in _rules(app, "/api/") if "PATCH" in (r.methods or ())]
    assert rules
    for rule in rules:
        for content_type in ("application/json", None):
            response = client.patch(_url(rule), headers=headers, content_type=content_type)
            assert response.status_code == 422, (rule.rule, response.status_code)
            assert response.mimetype == "application/problem+json"


# --- a little fuzzing -----------------------------------------------------------------------

ODD_VALUES = ["", "-1", "0", HUGE, "é", "\u202e", "x" * 2000, "%ff", "[]", "null"]


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_odd_values_in_paths_and_queries_are_never_a_500(app, make, vocabularies, role):
    client = app.test_client()
    headers = {}
    if role == "admin":
        admin = make.user(Role.ADMIN)
        assert login(client, admin.email).status_code == 302
    names = ("q", "page", "per_page", "sort", "terms", "threshold", "show", "role", "format")
    failures = []
    sent = 0
    for rule in _rules(app):
        if "GET" not in (rule.methods or ()):
            continue
        for value in ODD_VALUES:
            url = _url(rule, value.replace("%", "%25") or "x")
            for query in (dict.fromkeys(names, value), {"sort": value}, {"page": value}):
                response = client.get(url, query_string=query, headers=headers)
                sent += 1
                status = response.status_code
                to_login = status == 401 or "/login" in response.headers.get("Location", "")
                response.close()
                if status >= 500:
                    failures.append((rule.rule, value[:10], status))
                if status not in (400, 422):
                    # every parameter was read (or none): sort or page alone reach nothing
                    # more; they are sent to reach one behind another's refusal
                    break
            if role == "anonymous" and to_login and value == ODD_VALUES[0]:
                # a page for members only: an anonymous caller is sent to log in before the
                # page reads anything (the administrator's run sends it every value)
                break
    assert sent > 1000, "the URL map lost its pages?"
    assert not failures


ODD_JSON = ["", "x" * 5000, "é\u0301", -1, 2**31 - 1, 1.5, True, None, [], {}, ["x", ""]]
WRITES = [(m, p, b) for m, p, b, _ in API_TABLE if m in ("POST", "PUT", "PATCH")]


def _body_fields(spec: dict[str, Any], method: str, path: str) -> list[str]:
    """The fields the OpenAPI document declares for the JSON body of ``method path``."""
    concrete = re.sub(r"\{[^}]+\}", "x", path.split("?")[0])
    for template, operations in spec["paths"].items():
        if not re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), concrete):
            continue
        body = operations.get(method.lower(), {}).get("requestBody", {})
        schema = body.get("content", {}).get("application/json", {}).get("schema", {})
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return list(schema.get("properties", {}))
    return []


def test_odd_values_in_each_documented_field_are_never_a_500(client, world):
    """Every field the OpenAPI document declares for a body, in turn, set to a value of the
    wrong type, size or sign, on top of a valid body (as an administrator)."""
    spec = client.get("/api/v1/openapi.json").get_json()
    headers = {"Authorization": f"Bearer {world.tokens['admin']}", "If-Match": "*"}
    failures = []
    tried = 0
    for method, path, body in WRITES:
        for field in _body_fields(spec, method, path):
            for value in ODD_JSON:
                response = client.open(
                    path.format(**vars(world)),
                    method=method,
                    json={**(body or {}), field: value},
                    headers=headers,
                )
                tried += 1
                if response.status_code >= 500:
                    failures.append((method, path, field, repr(value)[:12]))
    assert tried > 500, "the OpenAPI document lost its request bodies?"
    assert not failures


def _query_parameters(spec: dict[str, Any], path: str) -> list[str]:
    concrete = re.sub(r"\{[^}]+\}", "x", path.split("?")[0])
    for template, operations in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), concrete):
            parameters = operations.get("get", {}).get("parameters", [])
            return [p["name"] for p in parameters if p.get("in") == "query"]
    return []


def _one_row_per_operation(method: str) -> list[str]:
    """The role table's paths for ``method``, one per operation: the rows that differ only in
    the object named (a draft, a published dataset …) or in the query read their parameters
    alike."""
    seen: dict[str, str] = {}
    for m, path, _, _ in API_TABLE:
        if m == method:
            seen.setdefault(re.sub(r"\{[^}]+\}", "{}", path.split("?")[0]), path)
    return list(seen.values())


ODD_QUERY = ["", "-1", "0", HUGE, "1.5", "é", "x" * 3000, "[]", "null", "a:b", "*", "%", "_"]


def test_odd_values_in_each_documented_query_parameter_are_never_a_500(client, world):
    """Every query parameter the OpenAPI document declares, on its API list and on the page
    of the same name, in turn set to an odd value (anonymous and as an administrator)."""
    spec = client.get("/api/v1/openapi.json").get_json()
    admin = {"Authorization": f"Bearer {world.tokens['admin']}"}
    failures = []
    tried = 0
    for path in _one_row_per_operation("GET"):
        url = path.format(**vars(world)).split("?")[0]
        for name in _query_parameters(spec, path):
            for value in ODD_QUERY:
                for target, headers in ((url, {}), (url, admin), (url.removeprefix("/api/v1"), {})):
                    response = client.get(target, query_string={name: value}, headers=headers)
                    tried += 1
                    if response.status_code >= 500:
                        failures.append((target, name, value[:12], response.status_code))
                    response.close()
    assert tried > 500, "the OpenAPI document lost its query parameters?"
    assert not failures


def test_paginate_refuses_a_page_beyond_the_integer_range(app):
    """Also for callers that are not a request (the CLI, jobs)."""
    from sqlalchemy import select

    from core.errors import InvalidInput
    from core.models import Organisation
    from core.pagination import paginate

    with app.app_context(), pytest.raises(InvalidInput) as refused:
        paginate(
            select(Organisation),
            page=10**20,
            sortable={"name": Organisation.name},
            default_sort="name",
        )
    assert "page" in (refused.value.errors or {})
