"""The export of the demo catalogue against the official DCAT-AP 3.0.0 SHACL shapes: zero
violations (and the check is real: a broken record fails it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from sqlalchemy import select

from catalogue.models import Dataset, DatasetStatus
from core import demo as core_demo
from core.db import get_session
from tests.catalogue.dcat.conftest import DCAT, DCT, retire
from tests.conftest import shared_world

SHARED = Path(
    os.environ.get("HARMONY_SHARED_DIR") or Path(__file__).resolve().parents[4] / "shared"
)
SHAPES = SHARED / "dcat-ap" / "dcat-ap-3.0.0-SHACL.ttl"


@pytest.fixture(scope="module")
def shapes() -> Graph:
    if not SHAPES.exists():
        pytest.skip(
            f"the DCAT-AP 3.0.0 shapes are not at {SHAPES}: put ../shared beside the checkout "
            "or point HARMONY_SHARED_DIR at it"
        )
    return Graph().parse(SHAPES)


@pytest.fixture(scope="module")
def demo(app, reference_engine, shapes) -> Iterator[list[str]]:
    """The demo catalogue (``harmony demo load``), loaded once for the module (each test runs
    in a savepoint of it); its published identifiers."""
    with shared_world(app, reference_engine):
        with app.app_context():
            assert core_demo.load_demo(password="demo shapes test password 42", with_steps=True)
            published = list(
                get_session().scalars(
                    select(Dataset.identifier).where(Dataset.status == DatasetStatus.PUBLISHED)
                )
            )
        yield published


def export(app) -> Graph:
    result = app.test_cli_runner().invoke(args=["catalogue", "export", "--format", "ttl"])
    assert result.exit_code == 0, result.output
    return Graph().parse(data=result.stdout_bytes, format="turtle")


def violations(data: Graph, shapes: Graph) -> tuple[bool, str]:
    conforms, _report, text = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    return conforms, text


def test_the_demo_catalogue_conforms_to_dcat_ap_3(app, demo, shapes):
    data = export(app)
    datasets = set(data.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == len(demo) >= 7  # the whole demo catalogue was validated
    conforms, text = violations(data, shapes)
    assert conforms, text


def test_tombstones_conform_too(app, demo, shapes):
    retire(app, demo[0], "Merged into another study.")
    data = export(app)
    assert (URIRef(f"http://127.0.0.1:8000/datasets/{demo[0]}"), DCT.modified, None) in data
    conforms, text = violations(data, shapes)
    assert conforms, text


def test_a_broken_record_is_caught(app, demo, shapes):
    data = export(app)
    dataset = URIRef(f"http://127.0.0.1:8000/datasets/{demo[0]}")
    data.remove((dataset, DCT.title, None))
    conforms, text = violations(data, shapes)
    assert not conforms
    assert "MinCountConstraintComponent" in text and demo[0] in text
