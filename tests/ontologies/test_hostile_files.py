"""Ontology files built to hurt the reader: entity expansion in RDF/XML ("billion laughs"),
entities repeated in one text, external entities, and JSON nested thousands of levels deep.
Each is refused (or read) in well under a second, with the place named and nothing written."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from core.db import get_session
from core.errors import InvalidInput
from ontologies.models import Ontology
from tests.ontologies.conftest import load_bytes

RDF_HEAD = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#" '
    'xmlns:owl="http://www.w3.org/2002/07/owl#">\n'
)


def _owl(doctype: str, label: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n{doctype}]>\n{RDF_HEAD}'
        '<owl:Class rdf:about="http://example.org/evil/A">'
        f"<rdfs:label>{label}</rdfs:label></owl:Class>\n</rdf:RDF>\n"
    ).encode()


def _ontologies(app, prefix: str) -> int:
    with app.app_context():
        return get_session().scalar(
            select(func.count()).select_from(Ontology).where(Ontology.prefix == prefix)
        )


def test_a_billion_laughs_is_refused_quickly_naming_the_line(app):
    entities = '<!ENTITY a0 "lol">\n' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">\n' for i in range(1, 10)
    )
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as error:
        load_bytes(app, _owl(entities, "&a9;"), "laughs.owl", prefix="EVIL")
    assert time.perf_counter() - started < 10  # it hung for minutes before
    message = error.value.errors["file"][0]
    assert "line 15" in message and "amplification" in message
    assert _ontologies(app, "EVIL") == 0


def test_an_entity_repeated_many_times_is_read_in_linear_time(app):
    label = "&e;" * 800_000  # 3.2 MB of references to a 3-letter entity: 2.4 MB of text
    started = time.perf_counter()
    ontology = load_bytes(app, _owl('<!ENTITY e "lol">\n', label), "many.owl", prefix="MANY")
    assert time.perf_counter() - started < 15  # quadratic before: minutes
    assert ontology.prefix == "MANY"


def test_external_entities_are_not_fetched(app, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doctype = f'<!ENTITY x SYSTEM "file://{secret}">\n'
    load_bytes(app, _owl(doctype, "Label &x;"), "xxe.owl", prefix="XXE")
    with app.app_context():
        from ontologies.models import Term

        labels = get_session().scalars(select(Term.label).where(Term.ontology_prefix == "XXE"))
        assert all("TOP-SECRET" not in (label or "") for label in labels)


def test_oncotree_json_nested_thousands_deep_is_refused(app):
    depth = 5000
    data = b'{"code":"A","name":"a","children":{"x":' * depth + b"{}" + b"}}" * depth
    with pytest.raises(InvalidInput) as error:
        load_bytes(app, data, "tree.json", prefix="DEEP")
    assert "nested too deeply" in error.value.errors["file"][0]
    assert _ontologies(app, "DEEP") == 0


def test_oncotree_nodes_nested_beyond_the_limit_name_their_path(app):
    node: dict = {"code": "LEAF", "name": "leaf"}
    for level in range(150):
        node = {"code": f"N{level}", "name": f"n{level}", "children": {"c": node}}
    with pytest.raises(InvalidInput) as error:
        load_bytes(app, json.dumps({"ROOT": node}).encode(), "tree.json", prefix="DEEPER")
    message = error.value.errors["file"][0]
    assert "levels deep" in message and "$.ROOT.children.c" in message


def test_json_ld_nested_thousands_deep_is_refused(app):
    data = b'{"@id": "http://e/a", "http://e/p": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    with pytest.raises(InvalidInput) as error:
        load_bytes(app, data, "deep.jsonld", prefix="DEEPLD")
    assert error.value.errors["file"]
