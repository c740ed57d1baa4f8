"""Broad and narrow are not interchangeable: a variable mapped ``skos:broadMatch`` to a term is
narrower than it and covers it; one mapped ``skos:narrowMatch`` is broader and does not. The
SSSOM export says which is which, and an import reads each back as what it says."""

from __future__ import annotations

import csv
import io

from catalogue.datasets import services as datasets
from catalogue.mappings import services as mappings
from core.models import Role
from core.policies import SYSTEM

HB = "HV:0000045"  # haemoglobin
VARIABLES = [
    {"name": "hb_low", "label": "Haemoglobin below 10 g/dL", "value_type": "boolean"},
    {"name": "blood", "label": "Any blood value", "value_type": "text"},
    {"name": "hb_close", "label": "Haemoglobin (approx.)", "value_type": "decimal"},
]
PREDICATES = {
    "hb_low": "skos:broadMatch",
    "blood": "skos:narrowMatch",
    "hb_close": "skos:exactMatch",
}


def sssom_rows(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    table = csv.DictReader(io.StringIO("\n".join(lines)), delimiter="\t")
    return {row["subject_id"].split(":", 1)[1]: row["predicate_id"] for row in table}


def test_broad_and_narrow_matches_keep_their_meaning(app, client, make, vocabularies):
    organisation = make.organisation()
    custodian = make.user(Role.CUSTODIAN, organisation=organisation)
    identifier = make.dataset(organisation, variables=VARIABLES)
    with app.app_context():
        for name, predicate in PREDICATES.items():
            mappings.create_mapping(
                custodian,
                identifier,
                {"variable": name, "object_id": HB, "predicate_id": predicate},
                "*",
            )
    auth = {"Authorization": f"Bearer {make.token(custodian)}"}
    url = f"/api/v1/datasets/{identifier}/mappings.sssom.tsv"

    exported = client.get(url, headers=auth)
    assert exported.status_code == 200
    assert sssom_rows(exported.get_data(as_text=True)) == PREDICATES

    with app.app_context():
        datasets.publish(SYSTEM, identifier, "*")
    asked = client.get("/api/v1/search/variables", query_string={"terms": HB}).json
    item = next(i for i in asked["items"] if i["dataset"]["identifier"] == identifier)
    # broadMatch (narrower variable) and exactMatch cover the term; narrowMatch does not
    assert item["variables"] == {HB: ["hb_close", "hb_low"]}
