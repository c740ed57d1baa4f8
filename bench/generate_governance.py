"""Consent and agreements for a synthetic catalogue (after ``bench/generate_catalogue.py``).

    .venv/bin/python bench/generate_governance.py --database-url sqlite:////tmp/cat.sqlite3

It migrates the database to the head (the governance tables), then writes, for every dataset
that is not a draft, data-use conditions drawn the way consent forms look in haematology — about
a third general research use, a quarter health/medical research, a third disease-specific on the
dataset's own disease terms (so that many datasets have conditions no other dataset has), a few
population-origins and no-restriction — with the modifiers custodians add (non-commercial,
ethics approval, publication, geographical restriction, moratorium, time limit, collaboration);
and for every organisation one data-sharing agreement covering most of its published datasets:
mostly active, some expired, a few drafts. The same seed writes the same rows. It refuses a
database that already holds conditions. Prints a summary as JSON (counts, distinct conditions).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select  # noqa: E402

from catalogue.models import Dataset, DatasetDisease, DatasetStatus, DatasetVersion  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from governance.agreements.models import (  # noqa: E402
    Agreement,
    AgreementDataset,
    AgreementStatus,
)
from governance.data_use.models import DataUseConditions, DataUseTerm  # noqa: E402
from governance.data_use.vocabulary import conditions_json  # noqa: E402
from governance.matching.check import Conditions, Modifier  # noqa: E402

NRES, GRU, HMB, DS, POA = (
    "DUO:0000004",
    "DUO:0000042",
    "DUO:0000006",
    "DUO:0000007",
    "DUO:0000011",
)
PERMISSIONS = [(GRU, 0.33), (HMB, 0.25), (DS, 0.33), (POA, 0.03), (NRES, 0.06)]
#: (modifier, probability, parameters)
MODIFIERS: list[tuple[str, float, Any]] = [
    ("DUO:0000018", 0.20, None),  # NPUNCU
    ("DUO:0000046", 0.10, None),  # NCU
    ("DUO:0000021", 0.35, None),  # IRB
    ("DUO:0000019", 0.30, None),  # PUB
    ("DUO:0000022", 0.25, "regions"),  # GS
    ("DUO:0000024", 0.08, "date"),  # MOR
    ("DUO:0000025", 0.12, "months"),  # TS
    ("DUO:0000020", 0.05, None),  # COL
    ("DUO:0000029", 0.05, None),  # RTN
    ("DUO:0000015", 0.04, None),  # NMDS
]
REGIONS = [["EEA"], ["EU"], ["EUROPE"], ["EEA", "CH", "GB"]]
AS_OF = dt.date(2026, 12, 1)
BATCH = 2_000


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def conditions_for(rng: random.Random, diseases: list[str]) -> Conditions:
    permission = _pick(rng, PERMISSIONS)
    if permission == DS and not diseases:
        permission = HMB
    modifiers = []
    for term, probability, param in MODIFIERS:
        if rng.random() >= probability:
            continue
        params: dict[str, Any] = {}
        if param == "regions":
            params["regions"] = tuple(rng.choice(REGIONS))
        elif param == "date":
            params["date"] = AS_OF + dt.timedelta(days=30 * rng.randint(-12, 24))
        elif param == "months":
            params["months"] = rng.choice([12, 24, 36, 60])
        modifiers.append(Modifier(term, params))
    if any(m.term == "DUO:0000018" for m in modifiers):  # NPUNCU says what NCU says and more
        modifiers = [m for m in modifiers if m.term != "DUO:0000046"]
    return Conditions(
        permission=permission,
        diseases=tuple(sorted(diseases[:2])) if permission == DS else (),
        modifiers=tuple(sorted(modifiers, key=lambda m: m.term)),
    )


def generate(url: str, seed: int = 1) -> dict[str, Any]:
    started = time.perf_counter()
    upgrade(url)
    engine = create_engine(url)
    rng = random.Random(seed)
    summary: dict[str, Any] = {}
    with engine.begin() as connection:
        if connection.scalar(select(func.count()).select_from(DataUseConditions)):
            raise SystemExit("this database holds data-use conditions already")
        rows = connection.execute(
            select(Dataset.id, Dataset.organisation_id, Dataset.status)
            .where(Dataset.status != DatasetStatus.DRAFT)
            .order_by(Dataset.id)
        ).all()
        diseases: dict[str, list[str]] = defaultdict(list)
        for dataset_id, curie in connection.execute(
            select(DatasetVersion.dataset_id, DatasetDisease.term_curie)
            .join(DatasetDisease, DatasetDisease.version_id == DatasetVersion.id)
            .order_by(DatasetVersion.dataset_id, DatasetVersion.number, DatasetDisease.position)
        ):
            if curie not in diseases[dataset_id]:
                diseases[dataset_id].append(curie)
        now = dt.datetime.now(dt.UTC)
        conditions_rows, term_rows = [], []
        signatures: Counter[str] = Counter()
        permissions: Counter[str] = Counter()
        for dataset_id, _organisation, _status in rows:
            conditions = conditions_for(rng, diseases.get(dataset_id, []))
            content = conditions_json(conditions)
            signatures[conditions.signature] += 1
            permissions[conditions.permission] += 1
            conditions_rows.append(
                {
                    "dataset_id": dataset_id,
                    "revision": 1,
                    "permission": content["permission"],
                    "diseases": content["diseases"],
                    "modifiers": content["modifiers"],
                    "signature": conditions.signature,
                    "updated_at": now,
                    "updated_by_id": None,
                }
            )
            term_rows.extend(
                {"dataset_id": dataset_id, "term": t}
                for t in dict.fromkeys(
                    [content["permission"], *(m["term"] for m in content["modifiers"])]
                )
            )
        for start in range(0, len(conditions_rows), BATCH):
            connection.execute(insert(DataUseConditions), conditions_rows[start : start + BATCH])
        for start in range(0, len(term_rows), BATCH):
            connection.execute(insert(DataUseTerm), term_rows[start : start + BATCH])

        by_organisation: dict[str, list[str]] = defaultdict(list)
        for dataset_id, organisation, status in rows:
            if status == DatasetStatus.PUBLISHED:
                by_organisation[organisation].append(dataset_id)
        agreements, covered = [], []
        statuses: Counter[str] = Counter()
        for n, (organisation, dataset_ids) in enumerate(sorted(by_organisation.items()), 1):
            status = _pick(
                rng,
                [
                    (AgreementStatus.ACTIVE, 0.8),
                    (AgreementStatus.EXPIRED, 0.12),
                    (AgreementStatus.DRAFT, 0.08),
                ],
            )
            statuses[status] += 1
            effective = AS_OF - dt.timedelta(days=rng.randint(200, 1500))
            expires = (
                AS_OF - dt.timedelta(days=rng.randint(1, 150))
                if status == AgreementStatus.EXPIRED
                else AS_OF + dt.timedelta(days=rng.randint(30, 1500))
            )
            agreement_id = f"bench{n:07d}"
            agreements.append(
                {
                    "id": agreement_id,
                    "reference": f"DSA-BENCH-{n:04d}",
                    "version": 1,
                    "organisation_id": organisation,
                    "counterparty": "HARMONY Alliance",
                    "status": status,
                    "title": f"Data-sharing agreement {n}",
                    "effective_on": effective,
                    "expires_on": expires,
                    "permitted_uses": [GRU, HMB, DS],
                    "acknowledgement": "Acknowledge the HARMONY Alliance and the custodian.",
                    "publication_review_days": 30,
                    "return_of_results": False,
                    "requires_custodian_signoff": rng.random() < 0.3,
                    "signatories": [],
                    "revision": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            chosen = [d for d in dataset_ids if rng.random() < 0.9]
            covered.extend({"agreement_id": agreement_id, "dataset_id": d} for d in chosen)
        for start in range(0, len(agreements), BATCH):
            connection.execute(insert(Agreement), agreements[start : start + BATCH])
        for start in range(0, len(covered), BATCH):
            connection.execute(insert(AgreementDataset), covered[start : start + BATCH])
        summary = {
            "datasets_with_conditions": len(conditions_rows),
            "distinct_conditions": len(signatures),
            "permissions": dict(permissions),
            "data_use_terms": len(term_rows),
            "agreements": dict(statuses),
            "datasets_covered": len(covered),
        }
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(
                "VACUUM ANALYZE data_use_conditions, data_use_terms, agreements, agreement_datasets"
            )
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.database_url, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
