"""The OpenAPI document's error answers, uploads and links, for every blueprint by construction.

flask-smorest documents a JSON ``default`` error and a 422 in its own error shape; this service
answers every error as an RFC 9457 problem (:func:`core.errors.problem`). :class:`ProblemDocs`
is an apispec plugin that sees each operation as its blueprint is registered and

- declares, per operation, the error statuses it can really give, each as
  ``application/problem+json`` with the ``Problem`` schema: 400/413/415/422 with a body, 422 with
  query or path parameters, 404 with path parameters, 401/403 where a login or a permission is
  needed (:func:`core.api.login_required`, :func:`core.api.permission_required`, every write),
  409 and 503 for writes (writers meeting, see :func:`core.db._database_error`), 412/428 where
  ``If-Match`` is required, and the few statuses only some
  operations give (429 where passwords are checked, 503 where a query has a time limit, see
  :data:`EXTRA_STATUSES`);
- documents an upload (``location="files"`` and ``"form"`` arguments) as one
  ``multipart/form-data`` body with its file and form fields;
- links each ``201`` creation to the operations on the created resource (``POST /datasets`` →
  ``GET``/``PATCH``/``DELETE /datasets/{identifier}`` …), with the ETag as ``If-Match``, so that
  a stateful fuzzer follows the main chains;
- writes what people read as the docs page shows it: the view docstrings (where operations'
  summaries and descriptions come from) and the schemas' field descriptions are
  reStructuredText for the code's readers, so in a description (Markdown) ``literal``
  becomes `literal` and a Sphinx role (``:class:`X```) its name (:func:`rst_to_markdown`),
  and a summary (plain text) loses the marks (:func:`rst_to_plain`); the docs page would
  otherwise show the backticks as typed;
- names each group of operations (a tag) for people: one blueprint per area gives tags like
  ``catalogue_api``; :data:`TAGS` says, in one place, what each is called on the docs page
  ("Datasets") and what it is for, and in which order the groups come. A blueprint missing from
  :data:`TAGS` still gets a readable name made from its own (``data_use_api`` → "Data use"),
  but add it there: the docs page then says what the group is for.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

#: each blueprint's group of operations as the docs page shows it: (name, what it is for), in
#: the order the groups come on the page (the catalogue, governance, your own account,
#: administration, the service)
TAGS: dict[str, tuple[str, str]] = {
    # the catalogue
    "catalogue_api": (
        "Datasets",
        "Register, describe, publish, version and retire datasets; their history",
    ),
    "dictionary_api": (
        "Dictionary",
        "A dataset's data dictionary: importing it, and its variables with their values",
    ),
    "mappings_api": (
        "Mappings",
        "Mappings of variables and values to ontology terms: review, the mapping assistant, "
        "SSSOM import and export",
    ),
    "search_api": (
        "Search",
        "Full-text and faceted search of the datasets you may see, and rebuilding the index",
    ),
    "harmonisation": (
        "Harmonisation",
        "The harmonisation matrix: which dataset has which variable for each term",
    ),
    "standards_api": (
        "Standard sets",
        "Standard variable sets, how much of them each dataset covers, feasibility and the "
        "variable-level question",
    ),
    "ontologies_api": (
        "Ontologies",
        "Ontologies and their terms: lookup, autocomplete, the hierarchy; loading a new release",
    ),
    "stats_api": ("Statistics", "What the alliance holds, per disease, country, source type …"),
    "dcat_api": ("DCAT export", "The whole catalogue as DCAT-AP, exported as a job"),
    "selection_api": (
        "Selection",
        "Your selection: the datasets and variables you collect to request access",
    ),
    # governance
    "data_use_api": (
        "Data use",
        "What the patients' consent allows for each dataset (GA4GH DUO conditions)",
    ),
    "matching_api": (
        "Compatibility check",
        "Whether a research purpose fits a dataset's data-use conditions (GA4GH DUO)",
    ),
    "purposes_api": ("Research purposes", "Your saved research purposes, to search by fit"),
    "agreements_api": (
        "Agreements",
        "Data-sharing agreements between custodians and the alliance",
    ),
    "requests_api": (
        "Access requests",
        "A researcher's application for datasets, from draft to decision",
    ),
    "review_api": (
        "Review",
        "The data access committee's review: custodians' sign-offs, votes, the decision",
    ),
    "entitlements_api": (
        "Entitlements",
        "Access granted by approved requests: acceptance, revocation, GA4GH Passport visas",
    ),
    "oversight_api": (
        "Oversight",
        "After approval: reports, publications, amendments; the committee dashboard",
    ),
    "register_api": ("Register of data uses", "The public register of approved data uses"),
    "governance_api": ("Governance", "Agreements, access requests and decisions"),
    # the user's own
    "me": ("Your account", "Your profile, password, API tokens and sessions"),
    "notifications_api": ("Notifications", "Your notifications (your own only)"),
    # administration
    "organisations": ("Organisations", "The alliance's partner organisations"),
    "users": ("Users and roles", "Accounts and their role grants (administrators)"),
    "committees": ("Committees", "Data access committees and their members"),
    "audit_api": ("Audit trail", "The append-only, hash-chained audit trail (administrators)"),
    "jobs_api": (
        "Jobs",
        "Background jobs (imports, exports, re-indexing): their progress and results",
    ),
    "meta": ("Service", "The service's name, version and environment"),
}


def tag_name(blueprint: str) -> str:
    """The docs page's name of a blueprint's group (see :data:`TAGS`)."""
    if blueprint in TAGS:
        return TAGS[blueprint][0]
    words = re.sub(r"_api$", "", blueprint).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


# reStructuredText in docstrings → Markdown (CommonMark) on the docs page
RST_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)
RST_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj|const|ref|doc|term):"
    r"`(?P<tilde>~?)(?P<text>[^`<]*?)\s*(?:<(?P<target>[^>`]+)>)?`"
)
RST_LINK = re.compile(r"`(?P<text>[^`<]+?)\s*<(?P<url>[^>`]+)>`__?")


def _role(match: re.Match[str]) -> str:
    text = match["text"].strip()
    if match["target"]:  # :func:`the checker <core.x.check>`: the words, as written
        return text
    if match["tilde"]:  # :class:`~core.errors.Conflict` reads "Conflict"
        text = text.rsplit(".", 1)[-1]
    return f"`{text}`"


def rst_to_markdown(text: str) -> str:
    """What the docs page shows of a docstring: ``x`` as `x`, :role:`a.b.C` as `a.b.C`
    (`C` with a ``~``; the title alone when one is given), `text <url>`_ as a link."""
    text = RST_ROLE.sub(_role, text)
    text = RST_LINK.sub(lambda m: f"[{m['text'].strip()}]({m['url']})", text)
    return RST_LITERAL.sub(lambda m: f"`{m[1]}`", text)


MARKDOWN_CODE = re.compile(r"`([^`]+)`")
MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def rst_to_plain(text: str) -> str:
    """An operation's summary as the docs page shows it: OpenAPI says a summary is plain text
    (Swagger UI prints it as it is), so code loses its marks (``mine`` reads mine) and a
    link reads "text (address)"."""
    text = MARKDOWN_CODE.sub(lambda m: m[1], rst_to_markdown(text))
    return MARKDOWN_LINK.sub(lambda m: f"{m[1]} ({m[2]})", text)


def _markdown_texts(value: Any) -> Any:
    """``value`` with every ``description`` string inside it in Markdown and every
    ``summary`` in plain text (in place, and returned)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "description" and isinstance(inner, str):
                value[key] = rst_to_markdown(inner)
            elif key == "summary" and isinstance(inner, str):
                value[key] = rst_to_plain(inner)
            else:
                _markdown_texts(inner)
    elif isinstance(value, list):
        for inner in value:
            _markdown_texts(inner)
    return value


#: statuses that depend on what an operation does inside, by endpoint (``blueprint.View``)
EXTRA_STATUSES: dict[str, dict[str, set[int]]] = {
    # a password is checked: wrong guesses are throttled
    "me.PasswordResource": {"post": {429}},
    # public, but ``mine=true`` asks who you are
    "catalogue_api.DatasetsResource": {"get": {401}},
    # the query runs under core.db.query_timeout: 503 when it takes too long
    "search_api.SearchResource": {"get": {503}},
    "standards_api.VariableQuestionResource": {"get": {503}},
    "standards_api.FeasibilityResource": {"get": {503}},
    "stats_api.StatsResource": {"get": {503}},
    "stats_api.StatsCsvResource": {"get": {503}},
    # the user and the dataset are named in the query: 404 when either does not exist
    "entitlements_api.EntitlementsResource": {"get": {404}},
}

TITLES = {
    400: "The request cannot be read (e.g. malformed JSON)",
    401: "Not logged in: send a session cookie or a bearer token",
    403: "Logged in, but not allowed to do this",
    404: "No such resource (or not visible to you)",
    409: "Conflicts with the resource's state (e.g. a duplicate, a published dataset)",
    412: "If-Match is stale: someone changed the resource since you read it",
    413: "The body or the file is too large",
    415: "The body's or the file's media type is not accepted",
    422: "Invalid input: `errors` names each field with its messages",
    428: "If-Match is required: send the ETag of your last read",
    429: "Too many attempts: wait for Retry-After seconds",
    503: "Busy (other writers) or a query that took too long: try again later",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem detail",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Messages by field name",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "request_id": {"type": "string"},
    },
}


def if_match_doc(what: str = "resource") -> dict[str, Any]:
    """The ``If-Match`` header of a change that must quote the ETag of ``what`` (the
    dataset, the set …), for ``@blp.doc(**if_match_doc("dataset"))``: :class:`ProblemDocs`
    then documents the 412 and 428 the change can give."""
    return {
        "parameters": [
            {
                "in": "header",
                "name": "If-Match",
                "required": True,
                "schema": {"type": "string"},
                "description": f"The {what}'s current ETag (from a GET); 412 when it is stale",
            }
        ]
    }


#: ``@blp.doc(**IF_MATCH_DOC)`` for a change of a dataset or of what belongs to it (its
#: dictionary, its mappings): the ETag quoted is the dataset's
IF_MATCH_DOC = if_match_doc("dataset")

WRITE_METHODS = {"post", "put", "patch", "delete"}
BODY_LOCATIONS = {"formData"}


def response_name(status: int) -> str:
    return f"Problem{status}"


class ProblemDocs(BasePlugin):
    """See the module's docstring. ``app`` gives each operation's view (for its guards)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.spec: APISpec | None = None
        self.paths: dict[str, dict[str, Any]] = {}
        self.tagged: set[str] = set()  # the blueprints that documented operations

    def init_spec(self, spec: APISpec) -> None:
        self.spec = spec
        spec.components.schema("Problem", PROBLEM_SCHEMA)
        for status, description in TITLES.items():
            response: dict[str, Any] = {
                "description": description,
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
            if status in {429, 503}:
                response["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}
                }
            spec.components.response(response_name(status), response)

    # -- each operation ------------------------------------------------------------------------

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if path is None or not operations:
            return
        rule = kwargs.get("rule")
        path_params = set(rule.arguments) if rule is not None else set()
        endpoint = rule.endpoint if rule is not None else ""
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            self._multipart(operation, endpoint, method)
            statuses = self._statuses(method, operation, endpoint, path_params)
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            responses.pop("default", None)
            for status in sorted(statuses):
                responses[str(status)] = {"$ref": f"#/components/responses/{response_name(status)}"}
            operation["responses"] = responses
            blueprints = operation.get("tags") or []
            self.tagged.update(blueprints)
            operation["tags"] = [tag_name(t) for t in blueprints]
            _markdown_texts(operation)
        self.paths[path] = operations
        self._link_around(path)

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> None:
        """The field descriptions of a schema (as the marshmallow plugin made it) in Markdown."""
        _markdown_texts(definition)

    # -- the groups of operations (tags) ----------------------------------------------------

    def name_tag(self, blueprint: str) -> None:
        """Give the tag flask-smorest just declared for ``blueprint`` its name and description
        from :data:`TAGS` (a blueprint without operations, such as an area's empty umbrella,
        gets no group), and keep the groups in the order of :data:`TAGS`."""
        if self.spec is None:
            return
        # apispec keeps declared tags in this list and offers no call to change one
        tags: list[dict[str, Any]] = self.spec._tags
        declared = next((t for t in tags if t.get("name") == blueprint), None)
        if declared is None:
            return
        tags.remove(declared)
        if blueprint not in self.tagged:
            return
        description = TAGS[blueprint][1] if blueprint in TAGS else declared.get("description")
        tag: dict[str, Any] = {"name": tag_name(blueprint)}
        if description:
            tag["description"] = rst_to_markdown(description)
        tags.append(tag)
        order = {tag_name(b): i for i, b in enumerate(TAGS)}
        tags.sort(key=lambda t: order.get(t["name"], len(order)))

    def _statuses(
        self, method: str, operation: dict[str, Any], endpoint: str, path_params: set[str]
    ) -> set[int]:
        statuses: set[int] = set()
        parameters = operation.get("parameters", [])
        if "requestBody" in operation:
            statuses |= {400, 413, 415, 422}
        if any(p.get("in") == "query" for p in parameters if isinstance(p, dict)):
            statuses.add(422)
        if path_params:
            statuses |= {404, 422}
        if method in WRITE_METHODS or self._guarded(endpoint, method):
            statuses |= {401, 403}
        if method in WRITE_METHODS:
            statuses |= {409, 503}  # writers meeting: a conflict, a busy SQLite (core.db)
        if any(
            isinstance(p, dict) and p.get("in") == "header" and p.get("name") == "If-Match"
            for p in parameters
        ):
            statuses |= {412, 428}
        statuses |= EXTRA_STATUSES.get(endpoint, {}).get(method, set())
        return statuses

    def _view(self, endpoint: str, method: str) -> Any:
        view = self.app.view_functions.get(endpoint)
        view_class = getattr(view, "view_class", None)
        return getattr(view_class, method, None) if view_class is not None else view

    def _guarded(self, endpoint: str, method: str) -> bool:
        """Whether the view is behind ``login_required`` or ``permission_required``."""
        return bool(getattr(self._view(endpoint, method), "harmony_guard", None))

    def _multipart(self, operation: dict[str, Any], endpoint: str, method: str) -> None:
        """``files`` and ``form`` arguments as one multipart/form-data body (flask-smorest
        documents only one of them, as a urlencoded form or as formData parameters)."""
        apidoc = getattr(self._view(endpoint, method), "_apidoc", {})
        arguments = apidoc.get("arguments", {}).get("parameters", [])
        parts = [a for a in arguments if a.get("in") in {"files", "form"}]
        if not any(a.get("in") == "files" for a in parts) or self.spec is None:
            return
        converter = next(p.converter for p in self.spec.plugins if isinstance(p, MarshmallowPlugin))
        if converter is None:
            return
        schema: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in parts:
            converted = converter.schema2jsonschema(part["schema"])
            schema["properties"].update(converted.get("properties", {}))
            schema["required"].extend(converted.get("required", []))
        if not schema["required"]:
            del schema["required"]
        operation["parameters"] = [
            p for p in operation.get("parameters", []) if p.get("in") not in BODY_LOCATIONS
        ]
        if not operation["parameters"]:
            del operation["parameters"]
        operation["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": schema}},
        }

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref", "")
        if self.spec is None or not ref.startswith("#/components/schemas/"):
            return schema
        found = self.spec.components.schemas.get(ref.rsplit("/", 1)[1], {})
        return found if isinstance(found, dict) else {}

    # -- links from a creation to the created resource ---------------------------------------

    def _link_around(self, path: str) -> None:
        parent = path.rsplit("/", 1)[0]
        if path.endswith("}") and parent in self.paths:
            self._link(parent, path)
        for child in self.paths:
            if child.rsplit("/", 1)[0] == path and child.endswith("}"):
                self._link(path, child)

    def _link(self, parent: str, child: str) -> None:
        created = self.paths[parent].get("post", {}).get("responses", {}).get("201")
        if not isinstance(created, dict):
            return
        schema = created.get("content", {}).get("application/json", {}).get("schema", {})
        fields = self._resolve(schema).get("properties", {})
        new_param = child.rsplit("{", 1)[1].rstrip("}")
        field = new_param if new_param in fields else "id" if "id" in fields else None
        if field is None:
            return
        links = created.setdefault("links", {})
        pointer = child.replace("~", "~0").replace("/", "~1")
        for method, operation in self.paths[child].items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            parameters: dict[str, str] = {}
            for name in _path_params(child):
                parameters[f"path.{name}"] = (
                    f"$response.body#/{field}" if name == new_param else f"$request.path.{name}"
                )
            if any(
                isinstance(p, dict) and p.get("in") == "header" and p.get("name") == "If-Match"
                for p in operation.get("parameters", [])
            ):
                parameters["header.If-Match"] = "$response.header.ETag"
            name = f"{method.capitalize()}{''.join(_words(child.rsplit('/', 2)[-2]))}"
            links[name] = {"operationRef": f"#/paths/{pointer}/{method}", "parameters": parameters}


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def _words(segment: str) -> list[str]:
    return [w.capitalize() for w in segment.replace("-", "_").replace(".", "_").split("_") if w]
