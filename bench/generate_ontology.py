"""A synthetic OWL ontology for the ontology benchmarks, written as Turtle or N-Triples.

    .venv/bin/python bench/generate_ontology.py --terms 200000 --format ttl --out /tmp/syn.ttl

What it holds (all deterministic for a given ``--seed``):

- OWL classes ``http://purl.obolibrary.org/obo/SYN_0000001`` … (CURIEs ``SYN:0000001``), numbered
  in a random order, as OBO releases are;
- English labels built from a medical vocabulary (so prefixes such as "leu", "acu", "my" match
  many terms), 0-4 exact synonyms (British spellings, inverted NCIt-style forms, noun swaps …),
  abbreviations for about a fifth of the terms through ``hv:abbreviation`` (declared, as in our
  bundled vocabularies, a sub-property of ``oboInOwl:hasExactSynonym``), definitions for most
  terms and database cross-references for some;
- a polyhierarchy: a dozen roots, most terms one parent, about 5 % two; depths mostly 6-12;
- one designated term with exactly ``--descendants`` descendants (10,000 by default): its
  subtree is closed (no term outside it has a parent inside it, second parents inside it stay
  inside it), so the count is exact even with the polyhierarchy; its CURIE is printed;
- a few obsolete terms (``owl:deprecated true``, "obsolete …" labels, a replacement term).

The hierarchy is planned first as small integer arrays; the file is then written term by term,
without building an RDF graph, with progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

OBO = "http://purl.obolibrary.org/obo/"
IRI_PREFIX = OBO + "SYN_"
PREFIX = "SYN"
OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OIO = "http://www.geneontology.org/formats/oboInOwl#"
DCT = "http://purl.org/dc/terms/"
HVV = "https://w3id.org/harmony/vocab#"
XSD = "http://www.w3.org/2001/XMLSchema#"
ONTOLOGY_IRI = "http://purl.obolibrary.org/obo/syn.owl"

# --- vocabulary -----------------------------------------------------------------------------

MODIFIERS = (
    "acute", "chronic", "subacute", "congenital", "hereditary", "familial", "juvenile", "adult",
    "childhood", "neonatal", "idiopathic", "primary", "secondary", "refractory", "relapsed",
    "recurrent", "progressive", "transient", "malignant", "benign", "atypical", "systemic",
    "localized", "diffuse", "focal", "severe", "mild", "early-onset", "late-onset",
    "therapy-related", "drug-induced", "autoimmune", "infectious", "inflammatory", "metastatic",
    "invasive", "acquired", "aggressive", "indolent", "smoldering", "accelerated",
    "myelodysplasia-related",
)  # fmt: skip
QUALIFIERS = (
    "myeloid", "lymphoid", "lymphocytic", "lymphoblastic", "monocytic", "myelomonocytic",
    "megakaryoblastic", "erythroid", "plasmacytic", "promyelocytic", "granulocytic",
    "neutrophilic", "eosinophilic", "basophilic", "mast cell", "histiocytic", "dendritic cell",
    "B-cell", "T-cell", "NK-cell", "hepatic", "renal", "pulmonary", "cardiac", "myocardial",
    "cerebral", "spinal", "cutaneous", "gastric", "intestinal", "colonic", "pancreatic",
    "thyroid", "adrenal", "pituitary", "ovarian", "testicular", "prostatic", "mammary", "osseous",
    "muscular", "neuronal", "retinal", "vascular", "arterial", "venous", "lymphatic", "splenic",
    "thymic", "medullary", "cortical", "leukocyte", "mucosal", "synovial", "articular",
    "hematopoietic", "mesenchymal", "epithelial", "glandular", "squamous", "ductal", "lobular",
    "follicular", "mantle cell", "marginal zone", "hairy cell", "Burkitt", "Hodgkin",
    "anaplastic large cell", "myeloproliferative", "mixed phenotype", "blastic plasmacytoid",
    "acinar", "alveolar", "biliary", "bronchial", "cervical", "esophageal", "laryngeal", "nasal",
    "oral", "pleural", "peritoneal", "uterine", "vulvar", "ocular", "auditory", "dental",
    "myometrial", "myelinated", "mycobacterial", "myotonic", "leukemic", "lymphohistiocytic",
    "acute-phase", "acral", "actinic", "adipose", "amyloid", "angioimmunoblastic",
)  # fmt: skip
NOUNS = (
    "leukemia", "leukocytosis", "leukopenia", "leukodystrophy", "leukoencephalopathy",
    "leucinosis", "lymphoma", "myeloma", "myelodysplasia", "myelofibrosis", "myopathy",
    "myositis", "myasthenia", "mycosis", "myelitis", "myocarditis", "neoplasm", "carcinoma",
    "sarcoma", "adenoma", "adenocarcinoma", "blastoma", "hyperplasia", "dysplasia", "aplasia",
    "anemia", "thrombocytopenia", "neutropenia", "cytopenia", "syndrome", "disease", "disorder",
    "deficiency", "insufficiency", "infection", "inflammation", "abscess", "fibrosis",
    "sclerosis", "stenosis", "thrombosis", "embolism", "hemorrhage", "infarction", "ischemia",
    "necrosis", "atrophy", "hypertrophy", "cyst", "tumor", "lesion", "ulcer", "neuropathy",
    "nephropathy", "cardiomyopathy", "encephalopathy", "encephalitis", "meningitis", "hepatitis",
    "nephritis", "arthritis", "dermatitis", "vasculitis", "histiocytosis", "mastocytosis",
    "polycythemia", "thrombocythemia", "neoplasia", "acidosis", "acromegaly", "agranulocytosis",
)  # fmt: skip
SUFFIXES = (
    "type 1", "type 2", "type 3", "type 4", "with inv(16)", "with NPM1 mutation",
    "with FLT3-ITD", "in remission", "of childhood", "of the elderly", "stage I", "stage II",
    "stage III", "stage IV", "grade 1", "grade 2", "grade 3", "NOS", "in situ",
    "with myelodysplasia-related changes", "associated with pregnancy", "with t(8;21)",
    "with BCR-ABL1", "with TP53 mutation", "with monosomy 7", "without maturation",
    "with maturation", "of the bone marrow", "of the skin", "of the central nervous system",
)  # fmt: skip
BRITISH = {
    "leukemia": "leukaemia", "leukemic": "leukaemic", "anemia": "anaemia", "tumor": "tumour",
    "hemorrhage": "haemorrhage", "hematopoietic": "haematopoietic", "esophageal": "oesophageal",
    "localized": "localised", "polycythemia": "polycythaemia", "ischemia": "ischaemia",
    "leukopenia": "leucopenia", "leukocyte": "leucocyte", "leukocytosis": "leucocytosis",
    "thrombocythemia": "thrombocythaemia", "smoldering": "smouldering",
}  # fmt: skip
SWAPS = {
    "neoplasm": "tumor", "tumor": "neoplasm", "carcinoma": "cancer", "disease": "disorder",
    "disorder": "disease", "syndrome": "disease", "neoplasia": "neoplasm", "lesion": "lesions",
    "infection": "infectious disease", "relapsed": "recurrent", "recurrent": "relapsed",
    "childhood": "pediatric", "adult": "adult-onset", "B-cell": "B cell", "T-cell": "T cell",
}  # fmt: skip
DEFINITION_VERBS = (
    "characterized by",
    "defined by",
    "presenting with",
    "resulting from",
    "associated with",
)
DEFINITION_FEATURES = (
    "an abnormal proliferation of cells", "progressive loss of function", "an increased number "
    "of immature cells", "infiltration of the affected tissue", "a recurrent genetic "
    "abnormality", "cytopenias in the peripheral blood", "fever and fatigue", "organ enlargement",
    "a poor response to standard therapy", "a favourable prognosis",
)  # fmt: skip

# share of the terms at each depth (0 is the roots, a fixed dozen): mostly 6-12, as in large
# biomedical ontologies
DEPTH_WEIGHTS = (0, 0.0004, 0.002, 0.006, 0.015, 0.035, 0.07, 0.11, 0.15, 0.16, 0.15, 0.12,
                 0.09, 0.05, 0.03)  # fmt: skip
ROOTS = 12
TWO_PARENTS = 0.05
OBSOLETE_SHARE = 0.0005
DESIGNATED_DEPTH = 4


@dataclass
class Plan:
    """The hierarchy as arrays indexed by node (nodes in level order)."""

    depth: array  # depth of each node
    parent1: array  # first parent (-1 for a root or an obsolete term)
    parent2: array  # second parent or -1
    number: array  # the node's number in its CURIE
    designated: int
    designated_size: int
    obsolete_from: int  # nodes from here on are obsolete (no parents)


@dataclass
class Summary:
    path: str
    terms: int
    triples: int = 0
    designated: str = ""
    designated_label: str = ""
    designated_descendants: int = 0
    two_parents: int = 0
    obsolete: int = 0
    depths: dict[int, int] = field(default_factory=dict)
    sample_labels: list[str] = field(default_factory=list)
    sample_synonyms: list[str] = field(default_factory=list)
    sample_abbreviations: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` by ``weights`` (largest remainder), at least 1 where the weight > 0 and
    no gaps, so that every level has a level above it."""
    scale = sum(weights)
    raw = [total * w / scale for w in weights]
    sizes = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - sizes[i], reverse=True)
    for i in order[: total - sum(sizes)]:
        sizes[i] += 1
    for i, w in enumerate(weights):  # fill gaps from the largest level
        if w > 0 and sizes[i] == 0 and total >= len(weights):
            sizes[i] = 1
            sizes[max(range(len(sizes)), key=sizes.__getitem__)] -= 1
    return sizes


def plan_hierarchy(terms: int, descendants: int, rng: random.Random) -> Plan:
    obsolete = max(3, int(terms * OBSOLETE_SHARE))
    live = terms - obsolete
    if live < ROOTS + 200:
        raise SystemExit("use at least 1,000 terms")
    designated_size = min(descendants, live // 4)
    # levels: roots, then the weights; the designated subtree takes its own share of levels
    # below DESIGNATED_DEPTH
    level_sizes = [ROOTS, *_allocate(live - ROOTS, list(DEPTH_WEIGHTS[1:]))]
    sub_weights = [w if d > DESIGNATED_DEPTH else 0 for d, w in enumerate(DEPTH_WEIGHTS)]
    sub_sizes = _allocate(designated_size, sub_weights[DESIGNATED_DEPTH + 1 :])
    sub_sizes = [0] * (DESIGNATED_DEPTH + 1) + sub_sizes
    depth, parent1, parent2 = array("b"), array("i"), array("i")
    general: list[list[int]] = []  # nodes outside the subtree, per depth
    inside: list[list[int]] = []  # nodes inside the subtree, per depth
    designated = -1
    node = 0

    def pick(pool: list[int]) -> int:
        # skewed: a few parents get many children, as in real ontologies
        return pool[int(len(pool) * rng.random() ** 1.6)]

    for d, size in enumerate(level_sizes):
        general.append([])
        inside.append([])
        for k in range(size):
            in_subtree = k < sub_sizes[d]
            depth.append(d)
            p1 = p2 = -1
            if d > 0:
                if in_subtree:
                    pool = inside[d - 1] if d - 1 > DESIGNATED_DEPTH else [designated]
                else:
                    pool = general[d - 1]
                p1 = pick(pool)
                if len(pool) > 1 and rng.random() < TWO_PARENTS:
                    p2 = pick(pool)
                    while p2 == p1:
                        p2 = pool[rng.randrange(len(pool))]
            parent1.append(p1)
            parent2.append(p2)
            if in_subtree:
                inside[d].append(node)
            elif d == DESIGNATED_DEPTH and designated < 0:
                designated = node  # the first one at its depth: it gets no general children
            else:
                general[d].append(node)
            node += 1
    obsolete_from = node
    for _ in range(obsolete):
        depth.append(0)
        parent1.append(-1)
        parent2.append(-1)
        node += 1
    numbers = list(range(1, terms + 1))
    rng.shuffle(numbers)
    return Plan(
        depth=depth,
        parent1=parent1,
        parent2=parent2,
        number=array("i", numbers),
        designated=designated,
        designated_size=sum(sub_sizes),
        obsolete_from=obsolete_from,
    )


# --- names ----------------------------------------------------------------------------------


class Namer:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()
        self.counter = 0

    def label(self, parent_label: str | None) -> str:
        rng = self.rng
        for _ in range(30):
            if parent_label and len(parent_label.split()) <= 4 and rng.random() < 0.3:
                # a narrower term named after its parent, as in "acute myeloid leukemia with …"
                text = (
                    f"{rng.choice(MODIFIERS)} {parent_label}"
                    if rng.random() < 0.5
                    else f"{parent_label} {rng.choice(SUFFIXES)}"
                )
            else:
                words = []
                if rng.random() < 0.55:
                    words.append(rng.choice(MODIFIERS))
                words.append(rng.choice(QUALIFIERS))
                if rng.random() < 0.25:
                    words.append(rng.choice(QUALIFIERS))
                words.append(rng.choice(NOUNS))
                if rng.random() < 0.12:
                    words.append(rng.choice(SUFFIXES))
                text = " ".join(words)
            if text not in self.used:
                self.used.add(text)
                return text
        self.counter += 1
        text = f"{text} variant {self.counter}"
        self.used.add(text)
        return text

    def synonyms(self, label: str) -> list[str]:
        rng = self.rng
        wanted = rng.choices((0, 1, 2, 3, 4), weights=(35, 30, 20, 10, 5))[0]
        words = label.split(" ")
        candidates = []
        british = " ".join(BRITISH.get(w, w) for w in words)
        if british != label:
            candidates.append(british)
        swapped = [SWAPS.get(w, w) for w in words]
        if swapped != words:
            candidates.append(" ".join(swapped))
        if len(words) >= 2:
            candidates.append(f"{words[-1]}, {' '.join(words[:-1])}")  # NCIt-style inversion
        if len(words) >= 3:
            candidates.append(" ".join(words[1:]))
        candidates.append(f"{label}, NOS")
        candidates.append(label[:1].upper() + label[1:] + " (disorder)")
        rng.shuffle(candidates)
        return [c for c in dict.fromkeys(candidates) if c != label][:wanted]

    def abbreviation(self, label: str) -> str | None:
        words = [w for w in label.replace("-", " ").split(" ") if w[:1].isalpha()]
        if not 2 <= len(words) <= 5 or self.rng.random() > 0.25:
            return None
        text = "".join(w[0] for w in words).upper()
        if self.rng.random() < 0.3:
            text += str(self.rng.randint(1, 9))
        return text

    def definition(self, label: str) -> str | None:
        rng = self.rng
        if rng.random() > 0.6:
            return None
        noun = next((w for w in reversed(label.split(" ")) if w in NOUNS), "condition")
        article = "An" if noun[0] in "aeiou" else "A"
        return (
            f"{article} {noun} {rng.choice(DEFINITION_VERBS)} "
            f"{rng.choice(DEFINITION_FEATURES)} in the {rng.choice(QUALIFIERS)} tissue."
        )

    def xrefs(self) -> list[str]:
        rng = self.rng
        out = []
        if rng.random() < 0.3:
            out.append(f"MESH:D{rng.randrange(1, 999999):06d}")
        if rng.random() < 0.1:
            out.append(f"ICD10:C{rng.randrange(0, 97):02d}.{rng.randrange(0, 10)}")
        return out


# --- writing --------------------------------------------------------------------------------


def _literal(text: str) -> str:
    return (
        '"'
        + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        + '"'
    )


class Writer:
    """Writes (subject, predicate, object) statements as Turtle blocks or N-Triples lines."""

    PREFIXES = {
        "owl": OWL,
        "rdf": RDF,
        "rdfs": RDFS,
        "obo": OBO,
        "oboInOwl": OIO,
        "dcterms": DCT,
        "hv": HVV,
        "xsd": XSD,
    }

    def __init__(self, out: IO[str], fmt: str):
        self.out, self.fmt = out, fmt
        self.triples = 0
        if fmt == "ttl":
            for name, iri in self.PREFIXES.items():
                out.write(f"@prefix {name}: <{iri}> .\n")
            out.write("\n")

    def iri(self, iri: str) -> str:
        if self.fmt == "ttl":
            for name, base in (("obo", OBO), ("oboInOwl", OIO), ("hv", HVV), ("rdfs", RDFS),
                               ("owl", OWL), ("dcterms", DCT)):  # fmt: skip
                if iri.startswith(base) and iri[len(base) :].replace("_", "").isalnum():
                    return f"{name}:{iri[len(base) :]}"
        return f"<{iri}>"

    def subject(self, subject: str, statements: list[tuple[str, str]]) -> None:
        """``statements``: (predicate IRI, object already written as a term)."""
        self.triples += len(statements)
        if self.fmt == "nt":
            s = f"<{subject}>"
            self.out.write("".join(f"{s} <{p}> {o} .\n" for p, o in statements))
            return
        parts = [("a" if p == RDF + "type" else self.iri(p)) + " " + o for p, o in statements]
        self.out.write(self.iri(subject) + " " + " ;\n    ".join(parts) + " .\n")

    def obj(self, iri: str) -> str:
        return self.iri(iri) if self.fmt == "ttl" else f"<{iri}>"

    @staticmethod
    def text(value: str, language: str | None = "en") -> str:
        return _literal(value) + (f"@{language}" if language else "")


def curie_of(number: int) -> str:
    return f"{PREFIX}:{number:07d}"


def iri_of(number: int) -> str:
    return f"{IRI_PREFIX}{number:07d}"


def generate(
    out_path: Path,
    *,
    terms: int = 200_000,
    fmt: str = "ttl",
    seed: int = 1,
    descendants: int = 10_000,
    progress: bool = True,
    samples: int = 200,
) -> Summary:
    started = time.perf_counter()
    rng = random.Random(seed)
    plan = plan_hierarchy(terms, descendants, rng)
    namer = Namer(rng)
    summary = Summary(path=str(out_path), terms=terms)
    n = len(plan.depth)
    # labels are made in level order (a child may be named after its parent) and kept, 200k
    # short strings; everything else is made while writing
    labels: list[str] = []
    for node in range(n):
        p = plan.parent1[node]
        labels.append(namer.label(labels[p] if p >= 0 else None))
    by_number = sorted(range(n), key=plan.number.__getitem__)  # write in CURIE order
    sample_rng = random.Random(seed + 1)
    sample_every = max(1, n // samples)
    with out_path.open("w", encoding="utf-8", newline="\n") as handle:
        w = Writer(handle, fmt)
        w.subject(
            ONTOLOGY_IRI,
            [
                (RDF + "type", w.obj(OWL + "Ontology")),
                (DCT + "title", w.text("Synthetic benchmark ontology")),
                (OWL + "versionInfo", w.text(f"seed {seed}, {terms} terms", None)),
                (DCT + "license", w.obj("https://creativecommons.org/publicdomain/zero/1.0/")),
            ],
        )
        w.subject(
            HVV + "abbreviation",
            [
                (RDF + "type", w.obj(OWL + "AnnotationProperty")),
                (RDFS + "subPropertyOf", w.obj(OIO + "hasExactSynonym")),
            ],
        )
        handle.write("\n")
        for index, node in enumerate(by_number):
            number = plan.number[node]
            label = labels[node]
            statements = [(RDF + "type", w.obj(OWL + "Class"))]
            if node >= plan.obsolete_from:
                replacement = by_number[sample_rng.randrange(plan.obsolete_from)]
                statements += [
                    (RDFS + "label", w.text(f"obsolete {label}")),
                    (OWL + "deprecated", f'"true"^^{w.obj(XSD + "boolean")}'),
                    (OBO + "IAO_0100001", w.obj(iri_of(plan.number[replacement]))),
                ]
                summary.obsolete += 1
            else:
                statements.append((RDFS + "label", w.text(label)))
                definition = namer.definition(label)
                if definition:
                    statements.append((OBO + "IAO_0000115", w.text(definition)))
                synonyms = namer.synonyms(label)
                statements += [(OIO + "hasExactSynonym", w.text(s)) for s in synonyms]
                abbreviation = namer.abbreviation(label)
                if abbreviation:
                    statements.append((HVV + "abbreviation", w.text(abbreviation, None)))
                statements += [(OIO + "hasDbXref", w.text(x, None)) for x in namer.xrefs()]
                for parent in (plan.parent1[node], plan.parent2[node]):
                    if parent >= 0:
                        statements.append((RDFS + "subClassOf", w.obj(iri_of(plan.number[parent]))))
                if plan.parent2[node] >= 0:
                    summary.two_parents += 1
                summary.depths[plan.depth[node]] = summary.depths.get(plan.depth[node], 0) + 1
                if index % sample_every == 0:
                    summary.sample_labels.append(label)
                    summary.sample_synonyms.extend(synonyms[:1])
                    if abbreviation:
                        summary.sample_abbreviations.append(abbreviation)
            w.subject(iri_of(number), statements)
            if progress and (index + 1) % 10_000 == 0:
                print(
                    f"\r  written {index + 1:,}/{n:,} terms ({w.triples:,} triples)",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
    if progress:
        print(file=sys.stderr)
    summary.triples = w.triples
    summary.designated = curie_of(plan.number[plan.designated])
    summary.designated_label = labels[plan.designated]
    summary.designated_descendants = plan.designated_size
    summary.depths = dict(sorted(summary.depths.items()))
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def descendants_in_file(path: Path, curie: str) -> int:
    """Check: count the descendants of ``curie`` by reading the file's subClassOf statements
    (a line scan, N-Triples or this generator's Turtle)."""
    children: dict[str, list[str]] = {}
    current = None
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            words = line.split()
            if not words:
                continue
            if not line.startswith(" "):
                current = words[0].strip("<>").replace("obo:", OBO)
            for token, following in _pairs(words):
                if token in ("rdfs:subClassOf", f"<{RDFS}subClassOf>"):
                    parent = following.strip("<>;.").replace("obo:", OBO)
                    children.setdefault(parent, []).append(current or "")
    root = iri_of(int(curie.split(":")[1]))
    seen: set[str] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return len(seen)


def _pairs(words: list[str]) -> Iterator[tuple[str, str]]:
    for i in range(len(words) - 1):
        yield words[i], words[i + 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--terms", type=int, default=200_000)
    parser.add_argument("--format", choices=("ttl", "nt"), default="ttl")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--descendants", type=int, default=10_000)
    parser.add_argument("--check", action="store_true", help="recount the designated subtree")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    summary = generate(
        args.out,
        terms=args.terms,
        fmt=args.format,
        seed=args.seed,
        descendants=args.descendants,
    )
    if args.json:
        print(json.dumps(summary.__dict__, indent=1))
    else:
        size = args.out.stat().st_size
        print(
            f"{args.out}: {summary.terms:,} terms, {summary.triples:,} triples, "
            f"{size / 1e6:.1f} MB in {summary.seconds} s; {summary.two_parents:,} with two "
            f"parents, {summary.obsolete} obsolete; depths {summary.depths}"
        )
        print(
            f"designated term: {summary.designated} ({summary.designated_label!r}) with "
            f"{summary.designated_descendants:,} descendants"
        )
    if args.check:
        counted = descendants_in_file(args.out, summary.designated)
        print(f"check: {counted:,} descendants of {summary.designated} in the file")
        if counted != summary.designated_descendants:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
