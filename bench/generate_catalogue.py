"""A synthetic HARMONY catalogue for the discovery benchmarks (search, coverage, dashboard, DCAT).

    .venv/bin/python bench/generate_catalogue.py --database-url sqlite:////tmp/cat.sqlite3 --migrate
    .venv/bin/python bench/generate_catalogue.py --database-url URL --datasets 50 --variables 2000 \
        --mappings 500 --check

It writes into an already migrated database without datasets (``--migrate`` migrates it first),
through the real tables, so that the application reads the result like any other catalogue:

- the bundled vocabularies (HAEM, HV, DUO) unless they are loaded already;
- organisations: the HARMONY partners of ``../shared/harmony_partners.csv`` (when present) and a
  built-in set of European hospitals, trial groups and registries, each with one custodian;
- ``--datasets`` datasets: about 95 % published, 3 % drafts and 2 % retired, a few with two or
  three versions (older ones superseded); titles, descriptions and keywords built from a
  haematology vocabulary with Zipf-like word frequencies (“patient”, “date”, “treatment”,
  “response” in most datasets; “FLT3”, “del(17p)”, “blinatumomab” in few; British and American
  spellings both present), 1-3 disease terms of the HAEM hierarchy weighted towards AML, MDS,
  myeloma, CLL, DLBCL and ALL, source type, 1-4 countries, patients (log-normal, some below
  10), records, time coverage, age groups, data model, contact, provenance and
  published/modified dates spread over the eight years before ``AS_OF``;
- exactly ``--variables`` variables over the datasets' current versions (10 to 1,000 per
  dictionary, log-normal), built from the demo concepts
  (``catalogue/datasets/data/demo/concepts.csv``)
  and every HV term: names like ``hb_dx``, ``hgb_c3``, ``flt3itd_bl``, ``date_of_diagnosis``,
  ``ecog_m3``, labels, some descriptions, forms, time points, value types, units and
  permissible values;
- exactly ``--mappings`` mappings of variables (and some permissible values) to terms: about
  95 % accepted (mostly exactMatch, some closeMatch / broadMatch / relatedMatch), the rest
  suggested by the assistant or rejected; blood counts, dates and demographics are mapped
  often, specific markers rarely, every HV term at least once at the default size.

Then it calls the search index hook of the application when there is one
(``catalogue.search.rebuild_index``) and refreshes the planner statistics (ANALYZE; VACUUM
ANALYZE on PostgreSQL). Rows are written in batches (PostgreSQL ``COPY``, SQLite
``executemany``) with constant memory; the same seed writes the same rows (identifiers and
timestamps included). :func:`generate` returns a summary with the counts, the time of each
phase and the designated things benchmarks ask about (common and rare words, a disease with
many datasets below it, eight HV terms for the coverage question, the largest organisation).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import functools
import heapq
import itertools
import json
import math
import os
import random
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = Path(os.environ.get("HARMONY_SHARED_DIR", ROOT.parent / "shared"))
PARTNERS_FILE = SHARED / "harmony_partners.csv"
CONCEPTS_FILE = ROOT / "catalogue" / "datasets" / "data" / "demo" / "concepts.csv"
APP_ENV = {"HARMONY_ENV": "testing", "LOG_LEVEL": "WARNING"}

#: The generated catalogue's "now": every date lies before it (fixed, so that a seed always
#: gives the same rows).
AS_OF = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
# the columns of an audit event as the generator writes them (the hash last)
AUDIT_COLUMNS = (
    "seq", "at", "actor_id", "actor_label", "action", "object_type", "object_id", "before",
    "after", "summary", "context", "reason", "request_id", "prev_hash", "hash",
)  # fmt: skip
YEARS_OF_GROWTH = 8
BATCH_DATASETS = 200  # datasets per batch of variables and mappings

# --- what the benchmarks ask about ------------------------------------------------------------

#: words a search benchmark can rely on being in most datasets (title, description, keywords)
COMMON_WORDS = ("patient", "date", "treatment", "response", "diagnosis", "data", "survival")
#: words in few datasets (their exact counts are in the summary)
RARE_WORDS = (
    "FLT3",
    "del(17p)",
    "blinatumomab",
    "luspatercept",
    "Richter",
    "tumour",
    "tumor",
    "leukaemia",
    "leukemia",
    "haemoglobin",
    "hemoglobin",
    "myeloma",
)
#: the term with many datasets below it
DESIGNATED_DISEASE = "NCIT:C9290"  # Myeloid Neoplasm (AML, MDS, MPN, CML, CMML … below it)
#: the coverage question: common counts and dates, a few markers and scores, one group term
COVERAGE_TERMS = (
    "HV:0000045",  # Haemoglobin
    "HV:0000047",  # Platelet count
    "HV:0000017",  # Sex
    "HV:0000027",  # Date of diagnosis
    "HV:0000125",  # FLT3 internal tandem duplication
    "HV:0000161",  # ELN 2022 genetic risk
    "HV:0000098",  # Deletion 17p
    "HV:0000005",  # Molecular markers (a group: any marker below it counts)
)

# --- organisations ----------------------------------------------------------------------------

# (name, city, country, kind): European hospitals, trial groups and registries beside the partners
BUILTIN_ORGANISATIONS = (
    ("Karolinska Universitetssjukhuset", "Stockholm", "SE", "hospital"),
    ("Skånes universitetssjukhus", "Lund", "SE", "hospital"),
    ("Swedish Blood Cancer Registry", "Stockholm", "SE", "registry"),
    ("Rigshospitalet", "Copenhagen", "DK", "hospital"),
    ("Aarhus Universitetshospital", "Aarhus", "DK", "hospital"),
    ("Danish Lymphoma Registry", "Aarhus", "DK", "registry"),
    ("Oslo universitetssykehus", "Oslo", "NO", "hospital"),
    ("Helsinki University Hospital", "Helsinki", "FI", "hospital"),
    ("Medical University of Vienna", "Vienna", "AT", "university"),
    ("Austrian Group for Medical Tumour Therapy", "Vienna", "AT", "trial_group"),
    ("Medical University of Gdańsk", "Gdańsk", "PL", "university"),
    ("Institute of Hematology and Transfusion Medicine", "Warsaw", "PL", "hospital"),
    ("Polish Adult Leukemia Group", "Katowice", "PL", "trial_group"),
    ("Instituto Português de Oncologia do Porto", "Porto", "PT", "hospital"),
    ("National and Kapodistrian University of Athens", "Athens", "GR", "university"),
    ("St James's Hospital", "Dublin", "IE", "hospital"),
    ("Semmelweis University", "Budapest", "HU", "university"),
    ("University Hospital Brno", "Brno", "CZ", "hospital"),
    ("Czech Myeloma Group", "Brno", "CZ", "trial_group"),
    ("Universitair Ziekenhuis Leuven", "Leuven", "BE", "hospital"),
    ("Hospices Civils de Lyon", "Lyon", "FR", "hospital"),
    ("Institut Paoli-Calmettes", "Marseille", "FR", "hospital"),
    ("Intergroupe Francophone du Myélome", "Toulouse", "FR", "trial_group"),
    ("Universitätsklinikum Heidelberg", "Heidelberg", "DE", "hospital"),
    ("Universitätsklinikum Carl Gustav Carus Dresden", "Dresden", "DE", "hospital"),
    ("German CLL Study Group", "Cologne", "DE", "trial_group"),
    ("HOVON Foundation", "Rotterdam", "NL", "trial_group"),
    ("Netherlands Cancer Registry", "Utrecht", "NL", "registry"),
    ("GIMEMA Foundation", "Rome", "IT", "trial_group"),
    ("Ospedale San Raffaele", "Milan", "IT", "hospital"),
    ("PETHEMA Foundation", "Madrid", "ES", "trial_group"),
    ("Hospital Clínic de Barcelona", "Barcelona", "ES", "hospital"),
    ("Swiss Group for Clinical Cancer Research", "Bern", "CH", "trial_group"),
    ("University Hospital Zurich", "Zurich", "CH", "hospital"),
    ("University College London Hospitals", "London", "GB", "hospital"),
    (
        "University of Birmingham Cancer Research Clinical Trials Unit",
        "Birmingham",
        "GB",
        "trial_group",
    ),
    ("Nordic Lymphoma Group", "Oslo", "NO", "trial_group"),
    ("Slovenian Cancer Registry", "Ljubljana", "SI", "registry"),
)
KIND_WEIGHT = {
    "registry": 2.5,
    "trial_group": 2.0,
    "hospital": 1.5,
    "university": 1.2,
    "industry": 0.6,
    "other": 0.4,
    "regulator": 0.05,
    "hta_body": 0.05,
}
COUNTRY_WEIGHTS = {
    "DE": 14, "FR": 11, "IT": 11, "GB": 10, "ES": 9, "NL": 8, "BE": 5, "CH": 4, "AT": 4,
    "SE": 3.5, "PL": 3, "DK": 2.5, "NO": 2, "FI": 2, "CZ": 2, "PT": 2, "GR": 2, "IE": 1.5,
    "HU": 1.5, "RO": 1, "SI": 0.5, "SK": 0.5, "HR": 0.5, "BG": 0.5, "LU": 0.3, "EE": 0.3,
    "LT": 0.3, "LV": 0.3, "IS": 0.2, "US": 1, "IL": 0.3,
}  # fmt: skip
COUNTRY_NAMES = {
    "DE": "German", "FR": "French", "IT": "Italian", "GB": "UK", "ES": "Spanish",
    "NL": "Dutch", "BE": "Belgian", "CH": "Swiss", "AT": "Austrian", "SE": "Swedish",
    "PL": "Polish", "DK": "Danish", "NO": "Norwegian", "FI": "Finnish", "CZ": "Czech",
    "PT": "Portuguese", "GR": "Greek", "IE": "Irish", "HU": "Hungarian", "RO": "Romanian",
    "SI": "Slovenian", "SK": "Slovak", "HR": "Croatian", "BG": "Bulgarian",
    "LU": "Luxembourg", "EE": "Estonian", "LT": "Lithuanian", "LV": "Latvian",
    "IS": "Icelandic", "US": "US", "IL": "Israeli",
}  # fmt: skip

# --- diseases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    key: str
    curie: str
    weight: float
    name: str  # British spelling; American made by americanise()
    short: str
    markers: tuple[str, ...]  # specific words for descriptions and keywords
    interventions: tuple[str, ...]
    related: tuple[str, ...] = ()  # disease terms that come along as second or third term
    concepts: tuple[str, ...] = ()  # concept keys (or HV CURIEs) of its dictionaries


COMMON_INTERVENTIONS = ("intensive chemotherapy", "allogeneic transplantation", "supportive care")
AREAS = (
    Area(
        "aml", "NCIT:C3171", 22, "acute myeloid leukaemia", "AML",
        ("NPM1", "FLT3-ITD", "FLT3", "CEBPA", "TP53", "RUNX1", "ASXL1", "IDH1", "IDH2",
         "KMT2A", "inv(16)", "t(8;21)", "measurable residual disease", "ELN 2022 risk",
         "gemtuzumab ozogamicin", "midostaurin", "venetoclax", "CPX-351", "gilteritinib"),
        ("daunorubicin and cytarabine induction", "venetoclax with azacitidine",
         "midostaurin added to intensive chemotherapy", "CPX-351",
         "gemtuzumab ozogamicin with induction", "gilteritinib maintenance",
         "high-dose cytarabine consolidation"),
        ("NCIT:C3247", "NCIT:C27912", "NCIT:C7600"),
        ("who_aml", "icc_aml", "ontogeny", "tmn", "prior_mds", "prior_mpn", "prior_ctx", "emd",
         "eln2017", "eln2022", "pb_blasts", "bm_blasts", "karyo", "cg_result", "cg_method",
         "n_meta", "n_abn", "nk", "ck", "mk", "del5q", "m7", "del17p", "tri8", "t821", "inv16",
         "t1517", "kmt2a_r", "t911", "t69", "inv3", "npm1", "flt3itd", "flt3_ar", "flt3tkd",
         "flt3_type", "cebpa", "cebpa_bzip", "tp53", "tp53_vaf", "runx1", "asxl1", "idh1",
         "idh2", "dnmt3a", "tet2", "kit", "nras", "kras", "wt1", "ptpn11", "kmt2a_ptd", "panel",
         "resp_aml", "best_aml", "mrd_status", "mrd_method", "mrd_level", "mrd_sens",
         "mrd_src", "cycles_to_cr", "dnr", "gcsf", "consol", "allo", "hct_dt", "donor",
         "sc_source", "cond_int", "hct_status", "agvhd", "cgvhd", "diff_syn", "early_death",
         "rfs_m", "fn", "rand_arm", "rand_dt", "HV:0000107", "HV:0000108", "HV:0000109",
         "HV:0000110", "HV:0000130", "HV:0000208", "HV:0000209", "HV:0000210",
         "HV:0000216"),
    ),
    Area(
        "mds", "NCIT:C3247", 13, "myelodysplastic syndromes", "MDS",
        ("SF3B1", "del(5q)", "IPSS-R", "IPSS-M", "ring sideroblasts", "transfusion dependence",
         "luspatercept", "azacitidine", "erythropoietin", "TP53", "ASXL1"),
        ("azacitidine", "luspatercept", "lenalidomide for del(5q)",
         "erythropoiesis-stimulating agents",
         "reduced-intensity allogeneic transplantation"),
        ("NCIT:C3171", "NCIT:C3178", "NCIT:C27262"),
        ("who_mds", "who5_mds", "ipssr_grp", "ipssr_score", "ipssm_grp", "ipssm_score",
         "ipssr_cyto", "bm_blasts", "rs_pct", "mld", "mf_grade", "bm_cell", "karyo", "ck",
         "del5q", "m7", "tri8", "sf3b1", "srsf2", "u2af1", "zrsr2", "ezh2", "asxl1", "runx1",
         "tp53", "tp53_vaf", "tp53_state", "bcor", "stag2", "epo", "ferritin", "rbc_td",
         "rbc_units", "esa", "hma", "len", "resp_mds", "hi_e", "transf", "allo", "hct_dt",
         "donor", "cond_int", "prior_ctx", "tmn", "HV:0000034", "HV:0000076"),
    ),
    Area(
        "mm", "NCIT:C3242", 14, "multiple myeloma", "myeloma",
        ("del(17p)", "t(4;14)", "t(14;16)", "gain(1q)", "R-ISS", "M-protein",
         "free light chains", "daratumumab", "lenalidomide", "bortezomib",
         "autologous transplantation", "next-generation flow", "teclistamab"),
        ("bortezomib, lenalidomide and dexamethasone", "daratumumab-based induction",
         "high-dose melphalan with autologous transplantation", "lenalidomide maintenance",
         "teclistamab", "CAR T-cell therapy"),
        ("NCIT:C9349", "NCIT:C4665"),
        ("iss", "riss", "r2iss", "ds_stage", "mprot_s", "mprot_u", "hc_iso", "lc_type", "flc_k",
         "flc_l", "flc_ratio", "sife", "uife", "bm_pc", "b2m", "ca", "crea", "alb", "lytic",
         "t414", "t1416", "t1114", "gain1q", "del17p", "del13q", "resp_mm", "asct", "len",
         "neuropathy", "pfs_m", "pfs_status", "mrd_status", "mrd_method", "mrd_level",
         "mrd_sens", "maint", "tprot", "igg", "iga", "igm", "HV:0000084", "HV:0000085",
         "HV:0000211", "HV:0000212"),
    ),
    Area(
        "cll", "NCIT:C3163", 10, "chronic lymphocytic leukaemia", "CLL",
        ("IGHV", "del(17p)", "TP53", "del(11q)", "trisomy 12", "ibrutinib", "venetoclax",
         "obinutuzumab", "Binet stage", "CLL-IPI", "Richter transformation", "acalabrutinib"),
        ("ibrutinib", "venetoclax with obinutuzumab", "fludarabine, cyclophosphamide and rituximab",
         "acalabrutinib", "watch and wait"),
        ("NCIT:C27911",),
        ("cll_dx", "binet", "rai", "cll_ipi", "ighv", "ighv_ident", "subset", "notch1",
         "del17p", "del13q", "tri12", "del11q", "tp53", "b2m", "alc", "resp_cll", "tx_class",
         "afib", "ttnt_m", "pfs_m", "transf", "infection", "HV:0000236"),
    ),
    Area(
        "dlbcl", "NCIT:C8851", 9, "diffuse large B-cell lymphoma", "DLBCL",
        ("cell of origin", "MYC", "BCL2", "IPI", "R-CHOP", "polatuzumab vedotin",
         "CAR T-cell therapy", "PET-CT", "Deauville score", "CNS-IPI", "tumour volume"),
        ("R-CHOP", "polatuzumab vedotin with R-CHP", "axicabtagene ciloleucel",
         "R-mini-CHOP", "high-dose methotrexate CNS prophylaxis"),
        ("NCIT:C138211", "NCIT:C3209"),
        ("dlbcl_dx", "coo", "myc_r", "bcl2_r", "bm_inv", "ann_arbor", "ipi", "ipi_grp",
         "cns_ipi", "bsymp", "extranod", "bulky", "spleno", "ldh_elev", "ldh_uln", "resp_lug",
         "deauville", "rt", "cart", "pfs_m", "efs_m", "cns", "HV:0000042", "iadl", "cirs"),
    ),
    Area(
        "all", "NCIT:C3167", 7, "acute lymphoblastic leukaemia", "ALL",
        ("BCR::ABL1", "Philadelphia chromosome", "ETV6::RUNX1", "IKZF1", "blinatumomab",
         "inotuzumab ozogamicin", "asparaginase", "MRD", "prednisone response",
         "CNS involvement"),
        ("blinatumomab", "inotuzumab ozogamicin", "ponatinib with chemotherapy",
         "paediatric-inspired chemotherapy", "tisagenlecleucel"),
        ("NCIT:C8936", "NCIT:C8694"),
        ("all_lin", "cns", "cns_status", "etv6_runx1", "tcf3_pbx1", "hyperdip", "hypodip",
         "iamp21", "dna_index", "t922", "t411", "kmt2a_r", "ikzf1", "pb_blasts_abs",
         "pred_resp", "bm_m_d15", "resp_all", "risk_all", "mrd_status", "mrd_method",
         "mrd_level", "mrd_sens", "mrd_src", "down", "testis", "mediast", "asp", "relapse",
         "rel_site", "efs_m", "lansky", "age_dx_dec", "HV:0000106", "HV:0000158"),
    ),
    Area(
        "fl", "NCIT:C3209", 4, "follicular lymphoma", "FL",
        ("FLIPI", "rituximab maintenance", "POD24", "bendamustine", "obinutuzumab",
         "histological transformation"),
        ("bendamustine with rituximab", "rituximab maintenance", "lenalidomide with rituximab",
         "watch and wait"),
        ("NCIT:C8851",),
        ("ann_arbor", "bsymp", "bm_inv", "bulky", "spleno", "ldh_elev", "resp_lug", "pfs_m",
         "transf", "rt", "b2m", "HV:0000190"),
    ),
    Area(
        "cml", "NCIT:C3174", 3, "chronic myeloid leukaemia", "CML",
        ("BCR::ABL1", "imatinib", "major molecular response", "treatment-free remission",
         "nilotinib", "dasatinib", "asciminib"),
        ("imatinib", "nilotinib", "dasatinib", "asciminib", "treatment discontinuation"),
        (),
        ("t922", "bcr_abl_type", "HV:0000159", "HV:0000218", "spleno", "pb_blasts", "transf"),
    ),
    Area(
        "mpn", "NCIT:C4345", 4, "myeloproliferative neoplasms", "MPN",
        ("JAK2 V617F", "CALR", "MPL", "ruxolitinib", "myelofibrosis", "thrombosis",
         "hydroxyurea", "phlebotomy"),
        ("ruxolitinib", "hydroxyurea", "ropeginterferon alfa-2b", "fedratinib"),
        ("NCIT:C3336", "NCIT:C2862"),
        ("HV:0000153", "HV:0000154", "spleno", "mf_grade", "hct", "bm_cell", "HV:0000035",
         "transf", "ferritin"),
    ),
    Area(
        "hl", "NCIT:C9357", 3, "Hodgkin lymphoma", "Hodgkin",
        ("ABVD", "BEACOPP", "brentuximab vedotin", "interim PET", "nivolumab", "late effects"),
        ("ABVD", "escalated BEACOPP", "brentuximab vedotin with AVD", "nivolumab"),
        ("NCIT:C7164",),
        ("ann_arbor", "bsymp", "bulky", "mediast", "resp_lug", "deauville", "rt", "pfs_m",
         "spm", "HV:0000191"),
    ),
    Area(
        "mcl", "NCIT:C4337", 2, "mantle cell lymphoma", "MCL",
        ("ibrutinib", "MIPI", "TP53", "Ki-67", "cytarabine", "autologous transplantation"),
        ("ibrutinib with rituximab", "R-CHOP/R-DHAP", "bendamustine with rituximab"),
        (),
        ("ann_arbor", "bm_inv", "spleno", "ldh_elev", "tp53", "resp_lug", "pfs_m", "asct"),
    ),
    Area(
        "tcl", "NCIT:C3468", 2, "peripheral T-cell lymphoma", "PTCL",
        ("CHOP", "brentuximab vedotin", "ALK", "CD30", "romidepsin"),
        ("CHOP", "brentuximab vedotin with CHP", "autologous consolidation"),
        ("NCIT:C3720",),
        ("ann_arbor", "bsymp", "extranod", "ipi", "ipi_grp", "resp_lug", "pfs_m"),
    ),
    Area(
        "cmml", "NCIT:C3178", 1.5, "chronic myelomonocytic leukaemia", "CMML",
        ("CPSS", "azacitidine", "monocytosis", "ASXL1", "NRAS"),
        ("azacitidine", "decitabine", "hydroxyurea"),
        ("NCIT:C3247",),
        ("amc", "asxl1", "nras", "kras", "tet2", "srsf2", "hma", "bm_blasts", "transf"),
    ),
    Area(
        "mzl", "NCIT:C4341", 1, "marginal zone lymphoma", "MZL",
        ("Helicobacter pylori", "splenic marginal zone", "rituximab", "MALT"),
        ("rituximab", "bendamustine with rituximab"),
        (),
        ("ann_arbor", "spleno", "bm_inv", "resp_lug", "pfs_m", "HV:0000156"),
    ),
)  # fmt: skip
OTHER_AREA_WEIGHT = 2.5  # any other term of the hierarchy
SUBTYPE_SHARE = 0.3  # a dataset tagged with a term below its area's term instead

# concepts every dictionary draws from (key, probability)
CORE_SINGLES = (
    ("patid", 0.97), ("site", 0.6), ("sex", 0.97), ("dob", 0.55), ("yob", 0.3),
    ("age_dx", 0.8), ("age_reg", 0.35), ("country", 0.25), ("ethnic", 0.25),
    ("weight", 0.6), ("height", 0.55), ("bmi", 0.35), ("bsa", 0.2), ("dt_diag", 0.93),
    ("consent_dt", 0.3), ("reg_dt", 0.3), ("ecog", 0.7), ("karnofsky", 0.15),
    ("hctci", 0.15), ("cci", 0.15), ("regimen", 0.8), ("lot", 0.4), ("prior_lines", 0.2),
    ("tx_phase", 0.3), ("tx_int", 0.3), ("tx_start", 0.85), ("tx_end", 0.6),
    ("eot_reason", 0.5), ("resp_dt", 0.8), ("resp_crit", 0.4), ("cr", 0.4), ("vital", 0.9),
    ("dt_death", 0.7), ("dt_lfu", 0.75), ("dt_last", 0.3), ("cod", 0.5), ("relapse", 0.55),
    ("dt_rel", 0.5), ("prog", 0.4), ("dt_prog", 0.35), ("os_m", 0.6), ("os_status", 0.45),
    ("efs_m", 0.3), ("fu_m", 0.3), ("spm", 0.2), ("qol_instr", 0.15), ("qol_ghs", 0.1),
    ("HV:0000193", 0.1), ("HV:0000022", 0.05),
)  # fmt: skip
LAB_CORE = (
    "hb", "wbc", "plt", "anc", "alc", "ldh", "crea", "bili", "alt", "ast", "alb", "crp",
    "amc", "hct", "mcv", "urate", "ca", "ferritin", "b2m", "fibrinogen",
)  # fmt: skip
LAB_CORE_P = (
    0.97, 0.95, 0.95, 0.8, 0.6, 0.75, 0.7, 0.6, 0.55, 0.5, 0.5, 0.45,
    0.3, 0.3, 0.25, 0.25, 0.3, 0.2, 0.2, 0.15,
)  # fmt: skip
FOLLOW_UP_BLOCK = ("dt_lfu", "vital", "relapse", "ecog", "HV:0000183")
AE_BLOCK = ("ae_term", "ae_grade")
# other names custodians give the same variable (short naming style)
ALIASES = {
    "hb": ("hb", "hgb", "hb", "haemoglobin"),
    "wbc": ("wbc", "leuco", "wcc", "wbc"),
    "plt": ("plt", "platelets", "thrombo", "plt"),
    "anc": ("anc", "neutro", "anc"),
    "dt_diag": ("dt_diag", "dx_date", "diag_dt", "date_dx"),
    "dob": ("dob", "dt_birth", "birth_dt"),
    "patid": ("patid", "pid", "subject_id", "usubjid", "pat_no"),
    "sex": ("sex", "gender", "sex"),
    "crea": ("crea", "creat", "creatinine"),
    "ecog": ("ecog", "ps", "ecog_ps", "who_ps"),
    "flt3itd": ("flt3itd", "flt3_itd", "flt3itd"),
    "vital": ("vital", "vital_status", "status"),
    "dt_lfu": ("dt_lfu", "lfu_date", "last_fu"),
    "ldh": ("ldh", "ld", "ldh"),
}
TIME_PHRASES = {"dx": "at diagnosis", "bl": "at baseline", "eot": "at end of treatment"}

# --- words ------------------------------------------------------------------------------------

# British → American, applied to whole text (titles, descriptions, labels, names)
SPELLINGS = (
    ("leukaemia", "leukemia"),
    ("haemoglobin", "hemoglobin"),
    ("haematopoietic", "hematopoietic"),
    ("haematolog", "hematolog"),
    ("haematocrit", "hematocrit"),
    ("haem", "hem"),
    ("tumour", "tumor"),
    ("anaemia", "anemia"),
    ("paediatric", "pediatric"),
    ("randomis", "randomiz"),
    ("characteris", "characteriz"),
    ("organisation", "organization"),
    ("favourable", "favorable"),
    ("centre", "center"),
    ("analysed", "analyzed"),
    ("leuco", "leuko"),
    ("programme", "program"),
    ("oestrogen", "estrogen"),
)
_SPELLING_RE = re.compile("|".join(b for b, _ in SPELLINGS), re.IGNORECASE)
_AMERICAN = dict(SPELLINGS)


@functools.lru_cache(maxsize=65536)
def americanise(text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        found = match.group(0)
        american = _AMERICAN[found.lower()]
        return american.capitalize() if found[0].isupper() else american

    return _SPELLING_RE.sub(swap, text)


POPULATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (  # (phrase, age groups)
    ("adults", ("adult",)),
    ("adults", ("adult",)),
    ("older adults", ("elderly",)),
    ("patients aged 60 years or older", ("elderly",)),
    ("fit adults up to 65 years", ("adult",)),
    ("adults of any age", ("adult", "elderly")),
    ("young adults", ("adult",)),
)
PAEDIATRIC_POPULATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("children and adolescents", ("paediatric",)),
    ("children and adolescents", ("paediatric",)),
    ("patients of all ages", ("paediatric", "adult", "elderly")),
)
# the share of paediatric datasets by disease area (others: 2 %)
PAEDIATRIC = {"all": 0.6, "aml": 0.12, "hl": 0.2, "cml": 0.08, "other": 0.1, "mds": 0.03}
STAGES = ("newly diagnosed", "newly diagnosed", "relapsed or refractory", "previously untreated",
          "high-risk", "lower-risk", "transplant-eligible", "transplant-ineligible")  # fmt: skip
TRIAL_GROUPS = ("HOVON", "GIMEMA", "PETHEMA", "AMLSG", "GMALL", "NCRI", "ALFA", "GFM", "IFM",
                "EMN", "GHSG", "NLG", "SAKK", "LYSA", "GCLLSG", "FILO", "CELG", "SAL", "PALG",
                "UKALL", "NOPHO", "CML-Study", "EBMT")  # fmt: skip
PHASES = ("II", "III", "III", "III", "I/II", "IV")
OPENINGS = {
    "clinical_trial": (
        "A randomised phase {phase} trial of {intervention} in {population} with {stage} "
        "{disease}.",
        "An open-label, single-arm phase {phase} study of {intervention} in {population} with "
        "{stage} {disease}.",
        "A multicentre phase {phase} trial comparing {intervention} with standard treatment in "
        "{population} with {stage} {disease}, run by {group} at {sites} centres.",
    ),
    "registry": (
        "A population-based registry of all patients diagnosed with {disease} in {where} since "
        "{first}.",
        "A national registry of {disease} that records diagnosis, first-line treatment and "
        "outcome of patients treated at {sites} centres in {where}.",
        "A disease registry of {population} with {disease}, with yearly updates from the "
        "treating centres in {where}.",
    ),
    "observational_cohort": (
        "A prospective observational cohort of {population} with {disease} treated at {sites} "
        "centres in {where} between {first} and {last}.",
        "A retrospective cohort of consecutive patients with {stage} {disease} seen at {city} "
        "between {first} and {last}.",
    ),
    "biobank": (
        "A biobank of bone marrow and peripheral blood samples from patients with {disease}, "
        "with clinical annotation at diagnosis and during follow-up.",
        "Viable cells, DNA and RNA of {population} with {disease} collected at {city} since "
        "{first}, linked to clinical data.",
    ),
    "real_world": (
        "A real-world extract of electronic health records of patients with {disease} treated "
        "with {intervention} in routine care in {where}.",
        "Routine-care data of {population} with {disease} from hospital information systems "
        "in {where}, {first} to {last}.",
    ),
}
# what the data hold: each names most of patient / date / treatment / response
CONTENTS = (
    "Patient-level data cover baseline characteristics, treatment, response and survival, "
    "each with the date of assessment.",
    "For every patient the dataset holds the date of diagnosis, the treatment given, the "
    "response to each line of therapy and the date of last follow-up.",
    "Data include patient demographics, the date of diagnosis, laboratory values, treatment "
    "details, response assessments and follow-up.",
    "Each patient record holds the diagnosis, the treatment dates, the best response and the "
    "survival status at the date of last contact.",
    "The dataset describes each patient from diagnosis through treatment to response and "
    "long-term outcome; all dates are given as months from diagnosis.",
    "Variables cover the patient at diagnosis, every treatment line with start and end date, "
    "response and relapse.",
    "Data on diagnosis, treatment and response of each patient, with dates of every event.",
)
# further sentences, most frequent first (picked with Zipf weights)
EXTRAS = (
    "Overall survival and event-free survival are updated every year.",
    "Data are pseudonymised at the treating centre before transfer.",
    "Laboratory values come from the local laboratories and are reported with their units.",
    "Blood counts are recorded at diagnosis and before every cycle.",
    "Adverse events are graded with CTCAE version 5.0.",
    "Bone marrow aspirates were reviewed centrally.",
    "Follow-up continues until death or withdrawal of consent.",
    "Cytogenetics were analysed in reference laboratories.",
    "Quality of life was assessed with the EORTC QLQ-C30 questionnaire.",
    "Allogeneic haematopoietic cell transplantation in first remission is documented with "
    "donor type and conditioning.",
    "Samples of every patient are stored in the biobank.",
    "Infections and transfusions during induction are recorded.",
    "Minimal residual disease was measured by flow cytometry.",
    "Causes of death are coded centrally.",
    "Comorbidities are recorded with the Charlson comorbidity index.",
    "Haemoglobin, platelet count and neutrophil count are available for every visit.",
    "Tumour lysis syndrome and other early complications are recorded.",
    "Next-generation sequencing with a myeloid gene panel was performed at diagnosis.",
    "Patients who relapsed were followed for second-line treatment.",
    "Health economics data (hospital days, transfusions) are available on request.",
    "Imaging reports are summarised as structured variables.",
    "Paediatric patients were treated according to the national protocol.",
    "The statistical analysis plan is available from the trial office.",
    "Circulating tumour DNA was collected in a subset.",
    "Anaemia and transfusion dependence are documented at each visit.",
    "Data were converted to the OMOP common data model in 2023.",
    "Central pathology review confirmed the diagnosis in all cases.",
    "Long-term survivors are followed for late effects.",
    "Treatment-related mortality is recorded separately.",
    "The registry is linked with the national death index.",
    "Geriatric assessment was performed before treatment.",
    "Minimal residual disease by quantitative PCR is available for selected markers.",
    "Data collection follows the HARMONY core variable set.",
    "Sample handling follows a standard operating procedure of the central laboratory.",
    "Pharmacokinetic samples were taken in the first cycle.",
)
MARKER_SENTENCES = (
    "The molecular work-up includes {markers}.",
    "Key variables: {markers}.",
    "Of particular interest are {markers}.",
    "The dataset is rich in {markers}.",
)
ACCESS_SENTENCES = (
    "Access is granted by the HARMONY Data Access Committee for approved research questions.",
    "Requests are reviewed by the steering committee; a data sharing agreement is required.",
    "Aggregated results may be published; re-identification attempts are not allowed.",
)
ACCESS_RIGHTS = (
    "Restricted. Pseudonymised individual patient data are shared for approved research "
    "questions within the HARMONY Alliance after review by the HARMONY Data Access Committee. "
    "A data sharing agreement is required.",
    "Restricted. Access after approval of a research proposal by the custodian's scientific "
    "board and signature of a data transfer agreement.",
    "Restricted: analyses run in the HARMONY platform only; no individual data leave it.",
    "Non-public. Aggregated data on request; individual data only for joint projects.",
)
KEYWORDS = (
    "haematology", "survival", "clinical trial", "treatment outcome", "real-world data",
    "registry", "measurable residual disease", "allogeneic transplantation", "cytogenetics",
    "quality of life", "elderly patients", "molecular genetics", "chemotherapy",
    "next-generation sequencing", "targeted therapy", "immunotherapy", "biobank", "relapse",
    "toxicity", "risk stratification", "supportive care", "paediatric", "health economics",
    "pharmacovigilance", "tumour lysis syndrome", "late effects", "infections", "anaemia",
    "transfusion", "geriatric assessment",
)  # fmt: skip
COHORT_FOCUS = (
    "treatment patterns and survival",
    "outcomes after allogeneic transplantation",
    "infections during induction",
    "long-term follow-up",
    "response and relapse",
    "comorbidity and treatment choice",
    "molecular characterisation at diagnosis",
)
BIOBANK_CONTENT = ("bone marrow and blood samples", "viable cells, DNA and RNA",
                   "diagnostic and relapse samples", "paired tumour and germline DNA")  # fmt: skip
RETIREMENT_NOTES = (
    "Superseded by a new dataset of the same registry.",
    "The custodian no longer shares this dataset.",
    "Merged into the alliance's pooled dataset.",
)


def _zipf(n: int, s: float = 1.0) -> list[float]:
    return [1 / (rank + 1) ** s for rank in range(n)]


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, items: Sequence[Any], cumulative: Sequence[float]) -> Any:
    return items[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def _pick_distinct(
    rng: random.Random, items: Sequence[Any], weights: Sequence[float], k: int
) -> list[Any]:
    """``k`` different items, weighted (Efraimidis-Spirakis keys), in the order drawn."""
    keyed = [(rng.random() ** (1 / w), i) for i, w in enumerate(weights) if w > 0]
    return [items[i] for _key, i in heapq.nlargest(min(k, len(keyed)), keyed)]


def _pair(text: str) -> tuple[str, str]:
    code, label = text.split("=", 1)
    return code, label


def _lower_words(label: str) -> str:
    """“Acute Myeloid Leukemia with Mutated NPM1” → “acute myeloid leukemia with mutated NPM1”
    (capitalised words lower-cased; abbreviations and gene names kept)."""
    return " ".join(
        w.lower() if w[:1].isupper() and (w[1:].islower() or not w[1:]) and len(w) > 1 else w
        for w in label.split(" ")
    )


def _id(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


def _slug(text: str) -> str:
    from catalogue.datasets.services import slugify

    return slugify(text)


def _name_slug(text: str) -> str:
    ascii_text = text.lower().replace("β", "beta").replace("κ", "kappa").replace("λ", "lambda")
    return re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")[:60]


# --- concepts (what a variable is) ------------------------------------------------------------


@dataclass(eq=False)  # compared by identity: dictionaries ask "is it in there" often
class Concept:
    key: str
    label: str
    form: str
    value_type: str
    unit: str | None
    minimum: str | None
    maximum: str | None
    values: list[tuple[str, str]]
    term: str | None
    predicate: str  # SKOS predicate of the variable's mapping
    value_terms: list[tuple[str, str, str]]  # (code, curie, predicate)
    description: str | None
    weight: float = 1.0  # how readily custodians map it
    json_values: dict[bool, str] = field(default_factory=dict)  # american → JSON text


PREDICATES = {
    "": "skos:exactMatch",
    "exact": "skos:exactMatch",
    "close": "skos:closeMatch",
    "broad": "skos:broadMatch",
    "narrow": "skos:narrowMatch",
    "related": "skos:relatedMatch",
}
HV_FORMS = {
    "HV:0000001": "demographics",
    "HV:0000002": "diagnosis",
    "HV:0000003": "laboratory",
    "HV:0000004": "cytogenetics",
    "HV:0000005": "molecular",
    "HV:0000006": "diagnosis",
    "HV:0000007": "treatment",
    "HV:0000008": "response",
    "HV:0000009": "follow_up",
}
# how readily a mapping is made, by the HV group of the term
MAPPING_WEIGHT = {
    "demographics": 3.0,
    "laboratory": 3.0,
    "diagnosis": 2.0,
    "treatment": 1.5,
    "response": 1.5,
    "follow_up": 1.5,
    "cytogenetics": 1.2,
    "molecular": 1.2,
}


def load_concepts(terms: dict[str, TermInfo]) -> dict[str, Concept]:
    """The demo concepts, plus one concept for every HV variable none of them maps to (keyed
    by its CURIE), so that every HV term can be a mapping target."""
    concepts: dict[str, Concept] = {}
    with CONCEPTS_FILE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            values = [_pair(part) for part in row["values"].split("|") if "=" in part]
            value_terms = []
            for part in row["value_terms"].split("|"):
                if "=" not in part:
                    continue
                code, target = part.split("=", 1)
                curie, _, predicate = target.partition("~")
                if curie in terms:
                    value_terms.append((code, curie, PREDICATES[predicate]))
            term = row["term"] or None
            concepts[row["key"]] = Concept(
                key=row["key"],
                label=row["label"],
                form=row["form"],
                value_type=row["value_type"],
                unit=row["unit"] or None,
                minimum=row["min"] or None,
                maximum=row["max"] or None,
                values=values,
                term=term if term in terms else None,
                predicate=PREDICATES[row["predicate"]],
                value_terms=value_terms,
                description=row["description"] or None,
            )
    mapped = {c.term for c in concepts.values() if c.term}
    for curie, info in sorted(terms.items()):
        if not curie.startswith("HV:") or curie in mapped or info.group is None:
            continue
        if info.value_type is None:  # a group: no variable of its own
            continue
        short = min(
            (s for s in info.synonyms if " " not in s and len(s) <= 10),
            key=len,
            default=None,
        )
        value_type = info.value_type
        choices: list[tuple[str, str]] = []
        if value_type == "boolean":
            choices = [("0", "No"), ("1", "Yes")]
        elif value_type == "categorical":
            choices = [("1", "Yes"), ("2", "No"), ("9", "Unknown")]
        concepts[curie] = Concept(
            key=_name_slug(short or info.label),
            label=info.label,
            form=HV_FORMS.get(info.group, "diagnosis"),
            value_type=value_type,
            unit=info.unit,
            minimum=None,
            maximum=None,
            values=choices,
            term=curie,
            predicate="skos:exactMatch",
            value_terms=[],
            description=None,
        )
    by_term: dict[str, str] = {}
    for key, concept in concepts.items():
        if concept.term:
            by_term.setdefault(concept.term, key)
        group = terms[concept.term].group if concept.term else None
        form = HV_FORMS.get(group or "", concept.form)
        concept.weight = MAPPING_WEIGHT.get(form, 1.0) * (
            3.0 if concept.value_type == "date" else 1.0
        )
        for american in (False, True):
            values_json = [
                {"code": code, "label": americanise(label) if american else label}
                for code, label in concept.values
            ]
            concept.json_values[american] = json.dumps(
                values_json, ensure_ascii=False, separators=(",", ":")
            )
    # CURIE references in the area lists name the concept that maps to the term
    for curie, key in by_term.items():
        concepts.setdefault(curie, concepts[key])
    return concepts


# --- the term store ---------------------------------------------------------------------------


@dataclass
class TermInfo:
    curie: str
    label: str
    value_type: str | None
    unit: str | None
    synonyms: list[str]
    parents: list[str]
    group: str | None = None  # HV: the top concept above it


def read_terms() -> dict[str, TermInfo]:
    from sqlalchemy import select

    from core.db import get_session
    from ontologies.models import Term, TermEdge, TermSynonym

    session = get_session()
    terms = {
        curie: TermInfo(curie, label, value_type, unit, [], [])
        for curie, label, value_type, unit in session.execute(
            select(Term.curie, Term.label, Term.value_type, Term.unit)
            .where(Term.ontology_prefix.in_(("HV", "HAEM")), Term.is_obsolete.is_(False))
            .order_by(Term.curie)
        )
    }
    for curie, text in session.execute(
        select(TermSynonym.term_curie, TermSynonym.text).order_by(TermSynonym.id)
    ):
        if curie in terms:
            terms[curie].synonyms.append(text)
    for child, parent in session.execute(
        select(TermEdge.child_curie, TermEdge.parent_curie).order_by(
            TermEdge.child_curie, TermEdge.parent_curie
        )
    ):
        if child in terms and parent in terms:
            terms[child].parents.append(parent)

    def top(curie: str, seen: frozenset[str] = frozenset()) -> str:
        parents = [p for p in terms[curie].parents if p not in seen]
        return curie if not parents else top(parents[0], seen | {curie})

    for curie, info in terms.items():
        if curie.startswith("HV:") and info.parents:
            info.group = top(curie)
    return terms


def ancestors_of(terms: dict[str, TermInfo]) -> dict[str, frozenset[str]]:
    """Every term with itself and everything above it."""
    memo: dict[str, frozenset[str]] = {}

    def up(curie: str) -> frozenset[str]:
        if curie not in memo:
            memo[curie] = frozenset({curie}).union(*(up(p) for p in terms[curie].parents))
        return memo[curie]

    for curie in terms:
        up(curie)
    return memo


# --- the plan (one small record per dataset) --------------------------------------------------


@dataclass
class Org:
    id: str
    name: str
    city: str | None
    country: str
    kind: str
    weight: float
    user_id: str = ""
    user_label: str = ""
    email: str = ""
    domain: str = ""


@dataclass
class Plan:
    index: int
    id: str
    identifier: str
    org: Org
    status: str  # dataset status
    area: Area
    diseases: list[str]
    versions: list[dict[str, Any]]  # oldest first; the last one is the current
    american: bool
    style: str
    n_variables: int = 0
    mapping_share: float = 0.0
    missing_codes: str = "[]"
    dataset_times: dict[str, Any] = field(default_factory=dict)


def _organisations(rng: random.Random) -> list[tuple[str, str | None, str, str]]:
    rows: list[tuple[str, str | None, str, str]] = []
    if PARTNERS_FILE.exists():
        with PARTNERS_FILE.open(encoding="utf-8") as handle:
            for line in csv.DictReader(handle):
                rows.append(
                    (line["name"], line["city"] or None, line["country_code"], _kind_of(line))
                )
    rows += list(BUILTIN_ORGANISATIONS)
    seen: set[str] = set()
    unique = []
    for row in rows:
        if row[0].lower() not in seen:
            seen.add(row[0].lower())
            unique.append(row)
    return unique


def _kind_of(row: dict[str, str]) -> str:
    name, category = row["name"].lower(), row["category"]
    if category == "industry":
        return "industry"
    if category != "academic_or_public":
        return "other"
    if "excellence" in name:
        return "hta_body"
    if "medicamentos" in name or "bundesinstitut" in name:
        return "regulator"
    if any(w in name for w in ("hopitaux", "hospital", "nhs", "ospedale", "medisch", "charite")):
        return "hospital"
    if any(w in name for w in ("universit", "vumc", "vib vzw")):
        return "university"
    if any(
        w in name
        for w in ("group", "association", "foundation", "fondazione", "stiftung", "society",
                  "groupe", "research", "initiative", "gpoh", "leukanet", "fundaci")
    ):  # fmt: skip
        return "trial_group"
    return "other"


def _sizes(rng: random.Random, count: int, total: int) -> list[int]:
    """``count`` log-normal sizes between 10 and 1,000 (wider when the total needs it) that add
    up to exactly ``total``."""
    if count == 0:
        return []
    low = min(10, total // count)
    high = max(1000, -(-total // count))
    raw = [rng.lognormvariate(0, 0.9) for _ in range(count)]

    def clipped(factor: float) -> list[int]:
        return [min(high, max(low, round(r * factor))) for r in raw]

    lo_f, hi_f = 0.0, float(total) * 10
    for _ in range(60):
        mid = (lo_f + hi_f) / 2
        if sum(clipped(mid)) < total:
            lo_f = mid
        else:
            hi_f = mid
    sizes = clipped(hi_f)
    difference = total - sum(sizes)
    order = sorted(range(count), key=lambda i: (-raw[i], i))
    while difference:
        step = 1 if difference > 0 else -1
        moved = False
        for i in order:
            if difference == 0:
                break
            if low <= sizes[i] + step <= high:
                sizes[i] += step
                difference -= step
                moved = True
        if not moved:
            raise ValueError(f"cannot spread {total} variables over {count} datasets")
    return sizes


class Generator:
    def __init__(self, *, datasets: int, variables: int, mappings: int, seed: int, progress: bool):
        if datasets < 1:
            raise ValueError("at least one dataset")
        if variables < datasets:
            raise ValueError("at least one variable per dataset")
        if mappings > variables * 2:
            raise ValueError("at most two mappings per variable")
        self.n_datasets = datasets
        self.n_variables = variables
        self.n_mappings = mappings
        self.seed = seed
        self.progress = progress
        self.rng = random.Random(seed)
        self.seconds: dict[str, float] = {}
        self.counts: Counter[str] = Counter()
        self.word_df: Counter[str] = Counter()  # published datasets whose text has the word
        self.variable_df: Counter[str] = Counter()  # … whose dictionary has it
        self.disease_datasets: Counter[str] = Counter()  # published datasets at or below
        self.coverage: Counter[str] = Counter()  # published versions covering COVERAGE_TERMS
        self.mapped_terms: set[str] = set()
        self.writer: Writer | None = None
        self.started = time.perf_counter()

    @property
    def out(self) -> Writer:
        if self.writer is None:  # pragma: no cover - generate() sets it first
            raise RuntimeError("no writer yet")
        return self.writer

    def say(self, message: str) -> None:
        if self.progress:
            elapsed = time.perf_counter() - self.started
            print(f"[{elapsed:7.1f} s] {message}", file=sys.stderr, flush=True)

    # --- setup --------------------------------------------------------------------------------

    def vocabularies(self) -> None:
        from sqlalchemy import select

        from core.db import get_session
        from core.policies import SYSTEM
        from ontologies.bundled import load_bundled
        from ontologies.models import Ontology

        session = get_session()
        loaded = set(session.scalars(select(Ontology.prefix)))
        if {"HV", "HAEM", "DUO"} <= loaded:
            self.say("vocabularies: already loaded")
        else:
            self.say("vocabularies: loading the bundled HAEM, HV and DUO")
            load_bundled(SYSTEM)
            session.commit()
        self.terms = read_terms()
        self.up = ancestors_of(self.terms)
        self.concepts = load_concepts(self.terms)
        self.haem = sorted(c for c in self.terms if not c.startswith("HV:"))
        self.children: dict[str, list[str]] = {}
        for curie, info in self.terms.items():
            for parent in info.parents:
                self.children.setdefault(parent, []).append(curie)
        self.below = {c: sorted(d for d in self.terms if c in self.up[d]) for c in self.terms}

    def organisations(self) -> list[Org]:
        from sqlalchemy import select

        from core.db import get_session
        from core.models import Organisation, OrganisationKind, Role, RoleGrant, User

        session = get_session()
        rng = random.Random(self.seed * 7 + 1)
        existing = {o.name: o for o in session.scalars(select(Organisation))}
        orgs: list[Org] = []
        rows = _organisations(rng)
        zipf = _zipf(len(rows), 0.8)
        rng.shuffle(zipf)
        for (name, city, country, kind), z in zip(rows, zipf, strict=True):
            organisation = existing.get(name)
            if organisation is None:
                organisation = Organisation(
                    id=_id(rng),
                    name=name,
                    city=city,
                    country=country,
                    kind=OrganisationKind(kind),
                    created_at=AS_OF - dt.timedelta(days=YEARS_OF_GROWTH * 365 + 30),
                )
                session.add(organisation)
            slug = _slug(name)[:40].strip("-")
            org = Org(
                id=organisation.id,
                name=name,
                city=city,
                country=country,
                kind=str(organisation.kind.value),
                weight=KIND_WEIGHT.get(kind, 0.5) * z,
                domain=f"{slug}.bench.harmony.example",
            )
            org.email = f"custodian@{org.domain}"
            user = session.scalar(select(User).where(User.email == org.email))
            if user is None:
                user = User(
                    id=_id(rng),
                    email=org.email,
                    name=f"Data custodian, {name}"[:200],
                    organisation_id=organisation.id,
                    created_at=AS_OF - dt.timedelta(days=YEARS_OF_GROWTH * 365),
                )
                session.add(user)
                session.add(
                    RoleGrant(
                        id=_id(rng),
                        user=user,
                        role=Role.CUSTODIAN,
                        organisation_id=organisation.id,
                        granted_at=user.created_at,
                    )
                )
            org.user_id = user.id
            org.user_label = user.name
            orgs.append(org)
        session.commit()
        self.counts["organisations"] = len(orgs)
        return orgs

    # --- planning -----------------------------------------------------------------------------

    def plan(self, orgs: list[Org]) -> list[Plan]:
        rng = self.rng
        org_cum = _cumulative([o.weight for o in orgs])
        area_cum = _cumulative([a.weight for a in AREAS] + [OTHER_AREA_WEIGHT])
        other = Area("other", "", 0, "", "", (), (), (), ())
        plans: list[Plan] = []
        used_identifiers: set[str] = set()
        # exact shares of drafts (3 %) and retired datasets (2 %), at least one of each
        drafts = max(1, round(self.n_datasets * 0.03)) if self.n_datasets >= 10 else 0
        retired = max(1, round(self.n_datasets * 0.02)) if self.n_datasets >= 10 else 0
        statuses = ["draft"] * drafts + ["retired"] * retired
        statuses += ["published"] * (self.n_datasets - len(statuses))
        rng.shuffle(statuses)
        for index, status in enumerate(statuses):
            r = random.Random(self.seed * 1_000_003 + index)
            org = _pick(r, orgs, org_cum)
            area = _pick(r, [*AREAS, other], area_cum)
            diseases = self._diseases(r, area)
            if area is other:
                name = _lower_words(self.terms[diseases[0]].label)
                area = Area("other", diseases[0], 0, name, "", (), ())
            american = r.random() < 0.4
            plan = Plan(
                index=index,
                id=_id(r),
                identifier="",
                org=org,
                status=status,
                area=area,
                diseases=diseases,
                versions=[],
                american=american,
                style="",
            )
            self._versions(r, plan)
            title = plan.versions[-1]["title"]
            base = _slug(title.replace("\N{EN DASH}", "-"))
            identifier, n = base, 1
            while identifier in used_identifiers:
                n += 1
                identifier = f"{base[:55]}-{n}"
            used_identifiers.add(identifier)
            plan.identifier = identifier
            source = plan.versions[-1]["source_type"]
            model = plan.versions[-1]["data_model"]
            plan.style = (
                "sdtm"
                if model == "sdtm"
                else "long"
                if model == "omop" or r.random() < 0.25
                else "redcap"
                if source == "clinical_trial" and r.random() < 0.4
                else "short"
            )
            share_roll = r.random()
            plan.mapping_share = (
                0.0 if share_roll < 0.1 else r.uniform(0.2, 1.0) * (0.3 if status == "draft" else 1)
            )
            plan.missing_codes = '["-9","-8"]' if r.random() < 0.3 else "[]"
            plans.append(plan)
        sizes = _sizes(rng, len(plans), self.n_variables)
        for plan, size in zip(plans, sizes, strict=True):
            plan.n_variables = size
        return plans

    def _diseases(self, r: random.Random, area: Area) -> list[str]:
        if area.key == "other":
            first = r.choice(self.haem)
        else:
            first = area.curie
            if r.random() < SUBTYPE_SHARE:
                below = [c for c in self.below.get(area.curie, []) if c != area.curie]
                if below:
                    first = r.choice(below)
        diseases = [first]
        extra = r.random()
        count = 1 if extra < 0.7 else 2 if extra < 0.93 else 3
        pool = [c for c in area.related if c in self.terms]
        pool += [c for c in self.below.get(area.curie, []) if c != first] if area.curie else []
        while len(diseases) < count and pool:
            candidate = r.choice(pool)
            if candidate not in diseases:
                diseases.append(candidate)
            pool.remove(candidate)
        return diseases

    def _versions(self, r: random.Random, plan: Plan) -> None:
        """The metadata of each version, oldest first, with their dates."""
        area = plan.area
        source = _pick(
            r,
            ["clinical_trial", "registry", "observational_cohort", "biobank", "real_world"],
            _cumulative([40, 20, 20, 8, 12]),
        )
        population, age_groups = r.choice(POPULATIONS)
        if PAEDIATRIC.get(area.key, 0.02) > r.random():
            population, age_groups = r.choice(PAEDIATRIC_POPULATIONS)
        stage = r.choice(STAGES)
        others = list(COUNTRY_WEIGHTS)
        countries = [plan.org.country]
        extra = _pick(r, [0, 0, 0, 1, 1, 2, 3], _cumulative([1] * 7))
        countries += [
            c
            for c in _pick_distinct(r, others, list(COUNTRY_WEIGHTS.values()), extra + 1)
            if c != plan.org.country
        ][:extra]
        where = (
            f"{COUNTRY_NAMES.get(countries[0], countries[0])} centres"
            if len(countries) == 1
            else f"{len(countries)} European countries"
        )
        interventions = area.interventions or COMMON_INTERVENTIONS
        intervention = r.choice(interventions)
        group = r.choice(TRIAL_GROUPS)
        # dates: publication grows over the years (density rising towards AS_OF)
        span = YEARS_OF_GROWTH * 365 * 86400
        start = AS_OF - dt.timedelta(seconds=span)
        if plan.status == "draft":
            created = AS_OF - dt.timedelta(seconds=r.uniform(1, 200) * 86400)
            published: list[dt.datetime | None] = [None]
        else:
            count = 1
            roll = r.random()
            if roll < 0.06:
                count = 2
            elif roll < 0.08:
                count = 3
            first_pub = start + dt.timedelta(seconds=span * r.random() ** (1 / 1.8))
            moments = [first_pub]
            for _ in range(count - 1):
                gap = (AS_OF - moments[-1]).total_seconds()
                moments.append(moments[-1] + dt.timedelta(seconds=gap * r.uniform(0.2, 0.8)))
            published = list(moments)
            created = first_pub - dt.timedelta(days=r.uniform(3, 300))
        last_year_cap = ((published[-1] or AS_OF) - dt.timedelta(days=60)).year
        first_year = r.randint(1990 if source == "registry" else 2000, last_year_cap)
        duration = int(r.expovariate(1 / 5))
        last_year = min(last_year_cap, first_year + duration)
        patients_median = {"registry": 1500, "real_world": 800, "biobank": 300}.get(source, 250)
        patients = max(1, min(250_000, round(r.lognormvariate(math.log(patients_median), 1.5))))
        if r.random() < 0.02:  # a pilot, a rare subtype: counts the small-cell rule hides
            patients = r.randint(1, 9)
        markers = _pick_distinct(r, area.markers, _zipf(len(area.markers)), r.randint(2, 5))
        disease = area.name or self.terms[plan.diseases[0]].label.lower()
        city = plan.org.city or COUNTRY_NAMES.get(plan.org.country, plan.org.country)
        slots = {
            "phase": r.choice(PHASES),
            "intervention": intervention,
            "population": population,
            "stage": stage,
            "disease": disease,
            "where": where,
            "first": first_year,
            "years": str(first_year)
            if first_year == last_year
            else f"{first_year}\N{EN DASH}{last_year}",
            "last": last_year,
            "sites": r.randint(3, 120),
            "group": group,
            "city": city,
        }
        title = self._title(r, source, slots, area, countries[0])
        description = self._description(r, source, slots, markers)
        keywords = self._keywords(r, area, markers, source)
        data_model = _pick(r, ["custom", "omop", "sdtm", "other"], _cumulative([50, 25, 15, 10]))
        trial_ids = []
        if source == "clinical_trial":
            year = max(2004, first_year)
            trial_ids.append(f"{year}-{r.randint(0, 999999):06d}-{r.randint(10, 99)}")
            if r.random() < 0.8:
                trial_ids.append(f"NCT0{r.randint(1000000, 6999999)}")
        domain = plan.org.domain
        contact = {
            "clinical_trial": f"{group} trial office",
            "registry": f"{area.short or 'Registry'} registry team",
        }.get(source, f"Data office, {plan.org.name}")[:200]
        versions = []
        for number, when in enumerate(published, start=1):
            share = number / len(published)
            v_patients = max(1, round(patients * (0.6 + 0.4 * share)))
            v_last = max(first_year, last_year - (len(published) - number))
            freeze_year = min(v_last + 1, (when or AS_OF).year)
            freeze = dt.date(freeze_year, r.choice((3, 6, 9, 12)), r.choice((1, 15, 28)))
            moment = when or AS_OF
            if freeze >= moment.date():
                freeze = (moment - dt.timedelta(days=r.randint(20, 90))).date()
            provenance = [
                {"step": "pseudonymised", "date": (freeze + dt.timedelta(days=10)).isoformat()}
            ]
            if r.random() < 0.7:
                provenance.append(
                    {
                        "step": "second_pseudonymisation",
                        "date": (freeze + dt.timedelta(days=15)).isoformat(),
                    }
                )
            if r.random() < 0.8:
                provenance.append(
                    {
                        "step": "quality_checked",
                        "date": (freeze + dt.timedelta(days=18)).isoformat(),
                    }
                )
            if data_model == "omop":
                provenance.append(
                    {
                        "step": "converted_to_omop",
                        "date": (freeze + dt.timedelta(days=19)).isoformat(),
                    }
                )
            v_created = (
                created
                if number == 1
                else (published[number - 2] or created) + dt.timedelta(days=r.uniform(1, 30))
            )
            if when is not None and v_created >= when:
                v_created = when - dt.timedelta(hours=1)
            versions.append(
                {
                    "id": _id(r),
                    "number": number,
                    "status": "published" if when is not None else "draft",
                    "version": f"DF-{freeze.year}-{freeze.month:02d}"
                    + (
                        " (final analysis)" if number == len(published) and r.random() < 0.3 else ""
                    ),
                    "title": title,
                    "description": description,
                    "source_type": source,
                    "trial_ids": trial_ids,
                    "countries": countries,
                    "patients": v_patients,
                    "records": v_patients * max(1, round(r.lognormvariate(math.log(30), 1))),
                    "first_year": first_year,
                    "last_year": v_last,
                    "age_groups": list(age_groups),
                    "data_model": data_model,
                    "keywords": keywords,
                    "contact_name": contact,
                    "contact_email": f"data-{plan.index + 1}@{domain}",
                    "landing_page": f"https://{domain}/datasets/{plan.index + 1}",
                    "access_rights": r.choice(ACCESS_RIGHTS),
                    "provenance": provenance,
                    "classification": (
                        None
                        if area.key in ("dlbcl", "fl", "hl", "mcl", "tcl", "mzl")
                        and r.random() < 0.5
                        else "who_2016"
                        if moment.year < 2023
                        else r.choice(("who_haem5", "icc_2022"))
                    ),
                    "data_freeze": freeze,
                    "created_at": v_created,
                    "published_at": when,
                }
            )
        if len(versions) > 1:
            for v in versions[:-1]:
                v["status"] = "superseded"
        if plan.status == "draft" and r.random() < 0.3:  # drafts are not always complete
            versions[-1]["patients"] = None
            versions[-1]["records"] = None
            versions[-1]["landing_page"] = None
        if plan.american:
            for v in versions:
                v["title"] = americanise(v["title"])
                v["description"] = americanise(v["description"])
                v["keywords"] = [americanise(k) for k in v["keywords"]]
        plan.versions = versions
        last = versions[-1]
        plan_modified = (last["published_at"] or last["created_at"]) + dt.timedelta(
            days=r.uniform(0, 40)
        )
        plan_modified = min(plan_modified, AS_OF)
        retired_at = None
        if plan.status == "retired":
            retired_at = last["published_at"] + (AS_OF - last["published_at"]) * r.uniform(0.2, 0.9)
            plan_modified = retired_at
        last["modified_at"] = min(plan_modified, AS_OF)
        for v in versions[:-1]:
            v["modified_at"] = v["published_at"]
        plan.dataset_times = {
            "created_at": versions[0]["created_at"],
            "modified_at": last["modified_at"],
            "published_at": versions[0]["published_at"],
            "retired_at": retired_at,
            "retirement_note": r.choice(RETIREMENT_NOTES) if retired_at else None,
        }

    def _title(
        self, r: random.Random, source: str, slots: dict[str, Any], area: Area, country: str
    ) -> str:
        disease = slots["disease"]
        place = COUNTRY_NAMES.get(country, country)
        if source == "clinical_trial":
            acronym = f"{slots['group']}-{r.randint(1, 180)}"
            if area.short and r.random() < 0.6:
                acronym += f" {area.short}"
            return (
                f"{acronym}: {slots['intervention']} in {slots['population']} with "
                f"{slots['stage']} {disease}"
            )
        if source == "registry":
            return r.choice(
                (
                    f"{place} {disease} registry ({slots['years']})",
                    f"{slots['city']} {disease} registry",
                    f"National {disease} registry ({place})",
                )
            )
        if source == "observational_cohort":
            focus = r.choice(COHORT_FOCUS)
            return f"{slots['city']} cohort of {slots['population']} with {disease}: {focus}"
        if source == "biobank":
            content = r.choice(BIOBANK_CONTENT)
            return f"{disease[0].upper()}{disease[1:]} biobank, {slots['city']}: {content}"
        return (
            f"Real-world {slots['intervention']} in {disease}: {place} health records "
            f"{slots['years']}"
        )

    def _description(
        self, r: random.Random, source: str, slots: dict[str, Any], markers: list[str]
    ) -> str:
        sentences = [r.choice(OPENINGS[source]).format(**slots)]
        if r.random() < 0.92:
            sentences.append(r.choice(CONTENTS))
        extras = _pick_distinct(r, EXTRAS, _zipf(len(EXTRAS), 1.1), r.randint(1, 4))
        sentences += extras
        if markers:
            listed = markers[:-1]
            text = ", ".join(listed) + (" and " if listed else "") + markers[-1]
            sentences.append(r.choice(MARKER_SENTENCES).format(markers=text))
        paragraphs = [" ".join(sentences)]
        if r.random() < 0.5:
            paragraphs.append(r.choice(ACCESS_SENTENCES))
        return "\n\n".join(paragraphs)

    def _keywords(self, r: random.Random, area: Area, markers: list[str], source: str) -> list[str]:
        keywords = [area.name] if area.name else []
        keywords += markers[: r.randint(0, 2)]
        keywords += _pick_distinct(r, KEYWORDS, _zipf(len(KEYWORDS)), r.randint(2, 5))
        if source == "registry" and "registry" not in keywords:
            keywords.append("registry")
        return list(dict.fromkeys(keywords))

    # --- writing datasets ---------------------------------------------------------------------

    def write_datasets(self, plans: list[Plan]) -> None:
        from catalogue.models import Dataset, DatasetDisease, DatasetVersion

        dataset_rows = []
        version_rows = []
        disease_rows = []
        change_rows = []
        for plan in plans:
            times = plan.dataset_times
            changes: list[tuple[dt.datetime, int | None, str, str]] = []
            for v in plan.versions:
                if v["number"] == 1:
                    changes.append(
                        (v["created_at"], 1, "created", f"Created “{v['title'][:400]}” as a draft.")
                    )
                else:
                    changes.append(
                        (
                            v["created_at"],
                            v["number"],
                            "version_opened",
                            f"Opened version {v['number']} as a draft "
                            f"(a copy of version {v['number'] - 1}).",
                        )
                    )
                changes.append(
                    (
                        v["created_at"] + (v["published_at"] - v["created_at"]) / 2
                        if v["published_at"]
                        else v["modified_at"],
                        v["number"],
                        "dictionary_imported",
                        "Imported the data dictionary.",
                    )
                )
                if v["published_at"] is not None:
                    summary = f"Published version {v['number']}" + (
                        f" (supersedes version {v['number'] - 1})." if v["number"] > 1 else "."
                    )
                    changes.append((v["published_at"], v["number"], "published", summary))
            if times["retired_at"] is not None:
                changes.append(
                    (
                        times["retired_at"],
                        None,
                        "retired",
                        f"Retired the dataset. {times['retirement_note']}",
                    )
                )
            dataset_rows.append(
                (
                    plan.id,
                    plan.identifier,
                    plan.org.id,
                    plan.status,
                    len(changes),
                    times["created_at"],
                    times["modified_at"],
                    times["published_at"],
                    times["retired_at"],
                    times["retirement_note"],
                    plan.org.user_id,
                )
            )
            for at, number, action, summary in changes:
                label = f"{plan.org.user_label} <{plan.org.email}>"
                change_rows.append((at, plan.id, number, plan.org.user_id, label, action, summary))
            for v in plan.versions:
                version_rows.append(
                    (
                        v["id"],
                        plan.id,
                        v["number"],
                        v["status"],
                        v["version"],
                        v["title"][:300],
                        v["description"],
                        v["source_type"],
                        json.dumps(v["trial_ids"]),
                        json.dumps(v["countries"]),
                        v["patients"],
                        v["records"],
                        v["first_year"],
                        v["last_year"],
                        json.dumps(v["age_groups"]),
                        v["data_model"],
                        json.dumps(v["keywords"], ensure_ascii=False),
                        v["contact_name"],
                        v["contact_email"],
                        v["landing_page"],
                        v["access_rights"],
                        json.dumps(v["provenance"]),
                        v["classification"],
                        v["data_freeze"],
                        v["created_at"],
                        v["modified_at"],
                        v["published_at"],
                    )
                )
                for position, curie in enumerate(plan.diseases):
                    disease_rows.append((v["id"], curie, position))
            self.counts["versions"] += len(plan.versions)
            self.counts[f"datasets_{plan.status}"] += 1
            for v in plan.versions:
                self.counts[f"versions_{v['status']}"] += 1
            if plan.status == "published":
                self._count_words(plan)
                for curie in {a for d in plan.diseases for a in self.up[d]}:
                    self.disease_datasets[curie] += 1
        self.counts["datasets"] = len(plans)
        self.counts["dataset_diseases"] = len(disease_rows)
        self.counts["audit_events"] = len(change_rows)
        writer = self.out
        writer.insert(
            Dataset,
            ("id", "identifier", "organisation_id", "status", "revision", "created_at",
             "modified_at", "published_at", "retired_at", "retirement_note", "created_by_id"),
            dataset_rows,
        )  # fmt: skip
        writer.insert(
            DatasetVersion,
            ("id", "dataset_id", "number", "status", "version", "title", "description",
             "source_type", "trial_ids", "countries", "patients", "records", "first_year",
             "last_year", "age_groups", "data_model", "keywords", "contact_name",
             "contact_email", "landing_page", "access_rights", "provenance", "classification",
             "data_freeze", "created_at", "modified_at", "published_at"),
            version_rows,
            json_columns=("trial_ids", "countries", "age_groups", "keywords", "provenance"),
        )  # fmt: skip
        writer.insert(DatasetDisease, ("version_id", "term_curie", "position"), disease_rows)
        self._write_history(change_rows)
        writer.commit()

    def _write_history(self, changes: list[tuple[Any, ...]]) -> None:
        """The datasets' histories as the audit trail holds them: appended to the chain in
        the order of their times, each event hashed over the one before (as
        ``core.audit.record`` would have), and the chain's head moved to the last one."""
        from core.audit import AuditEvent, AuditHead, event_hash

        session = self.out.session
        head = session.get(AuditHead, 1)
        seq, prev_hash = (head.seq, head.hash) if head is not None else (0, "0" * 64)
        rows = []
        for at, dataset_id, number, actor_id, label, action, summary in sorted(
            changes, key=lambda c: (c[0], c[1])
        ):
            seq += 1
            fields = {
                "seq": seq,
                "at": at,
                "actor_id": actor_id,
                "actor_label": label[:600],
                "action": f"dataset.{action}",
                "object_type": "dataset",
                "object_id": dataset_id,
                "before": None,
                "after": None,
                "summary": summary[:500],
                "context": {"version": number} if number is not None else None,
                "reason": None,
                "request_id": None,
                "prev_hash": prev_hash,
            }
            prev_hash = event_hash(fields)
            rows.append((*(fields[c] for c in AUDIT_COLUMNS[:-1]), prev_hash))
        self.out.insert(
            AuditEvent,
            AUDIT_COLUMNS,
            ((*r[:10], json.dumps(r[10]) if r[10] is not None else None, *r[11:]) for r in rows),
            json_columns=("before", "after", "context"),
        )
        if head is None:
            session.add(AuditHead(id=1, seq=seq, hash=prev_hash))
        else:
            head.seq, head.hash = seq, prev_hash
        session.flush()

    def _count_words(self, plan: Plan) -> None:
        v = plan.versions[-1]
        text = " ".join([v["title"], v["description"], *v["keywords"]]).lower()
        for word in (*COMMON_WORDS, *RARE_WORDS):
            if _contains(text, word):
                self.word_df[word] += 1

    # --- variables and mappings ---------------------------------------------------------------

    def write_dictionaries(self, plans: list[Plan]) -> None:
        from catalogue.models import Mapping, Variable

        writer = self.out
        variable_id = writer.next_id(Variable)
        mapping_id = writer.next_id(Mapping)
        first_variable_id = variable_id
        remaining_mappings = self.n_mappings
        weights = [p.n_variables * p.mapping_share for p in plans]
        remaining_weight = sum(weights)
        variable_columns = (
            "id", "version_id", "position", "name", "label", "description", "form", "section",
            "time_point", "value_type", "unit", "minimum", "maximum", "multiple", "source_type",
            "permissible_values", "missing_codes",
        )  # fmt: skip
        mapping_columns = (
            "id", "variable_id", "value_code", "predicate", "object_curie", "justification",
            "confidence", "status", "author_id", "author_label", "mapping_date", "comment",
            "reason", "created_at",
        )  # fmt: skip
        self.seconds["write_variables"] = 0.0
        self.seconds["write_mappings"] = 0.0
        self.seconds["make_dictionaries"] = 0.0
        written = 0
        for start in range(0, len(plans), BATCH_DATASETS):
            batch = plans[start : start + BATCH_DATASETS]
            t0 = time.perf_counter()
            variable_rows: list[tuple[Any, ...]] = []
            mapping_rows: list[tuple[Any, ...]] = []
            for i, plan in enumerate(batch):
                index = start + i
                r = random.Random(self.seed * 2_000_003 + plan.index)
                specs = self._dictionary(r, plan)
                version = plan.versions[-1]
                candidates: list[tuple[float, int, str | None, str, str, Concept]] = []
                seen: set[str] = set()  # a concept's repeats (hb_c2, hb_c3 …) are mapped less
                for position, (name, label, description, form, section, tp, concept) in enumerate(
                    specs
                ):
                    vid = variable_id + position
                    variable_rows.append(
                        (
                            vid,
                            version["id"],
                            position,
                            name,
                            label,
                            description,
                            form,
                            section,
                            tp,
                            concept.value_type,
                            concept.unit,
                            concept.minimum,
                            concept.maximum,
                            False,
                            _source_field_type(plan.style, concept),
                            concept.json_values[plan.american],
                            plan.missing_codes,
                        )
                    )
                    repeat = 0.1 if concept.key in seen else 1.0
                    seen.add(concept.key)
                    if concept.term:
                        candidates.append(
                            (
                                concept.weight * repeat,
                                vid,
                                None,
                                concept.term,
                                concept.predicate,
                                concept,
                            )
                        )
                    for code, curie, predicate in concept.value_terms:
                        candidates.append((0.5 * repeat, vid, code, curie, predicate, concept))
                variable_id += len(specs)
                # how many of this dataset's candidates are mapped
                weight = weights[index]
                share = (
                    remaining_mappings * weight / remaining_weight if remaining_weight > 0 else 0
                )
                remaining_weight -= weight
                if index == len(plans) - 1:
                    share = remaining_mappings
                wanted = min(len(candidates), max(0, round(share)), remaining_mappings)
                chosen = _pick_distinct(r, candidates, [c[0] for c in candidates], wanted)
                chosen.sort(key=lambda c: (c[1], c[2] or ""))
                covered: set[str] = set()
                for _w, vid, code, curie, predicate, concept in chosen:
                    row, status, final_predicate, final_curie = self._mapping(
                        r, plan, mapping_id, vid, code, curie, predicate, concept
                    )
                    mapping_rows.append(row)
                    mapping_id += 1
                    if status == "accepted" and final_predicate in COVERING:
                        covered |= self.up[final_curie]
                remaining_mappings -= len(chosen)
                if plan.status == "published":
                    for term in COVERAGE_TERMS:
                        if term in covered:
                            self.coverage[term] += 1
                    found: set[str] = set()
                    for _name, label, description, *_fields in specs:
                        found |= _tracked_in(label)
                        if description:
                            found |= _tracked_in(description)
                    self.variable_df.update(found)
            t1 = time.perf_counter()
            writer.insert(Variable, variable_columns, variable_rows, convert=False)
            t2 = time.perf_counter()
            writer.insert(Mapping, mapping_columns, mapping_rows, convert=False)
            writer.commit()
            t3 = time.perf_counter()
            self.seconds["make_dictionaries"] += t1 - t0
            self.seconds["write_variables"] += t2 - t1
            self.seconds["write_mappings"] += t3 - t2
            written += len(batch)
            self.counts["variables"] += len(variable_rows)
            self.counts["mappings"] += len(mapping_rows)
            if written % (BATCH_DATASETS * 5) == 0 or written == len(plans):
                self.say(
                    f"dictionaries: {written:,}/{len(plans):,} datasets, "
                    f"{self.counts['variables']:,} variables, {self.counts['mappings']:,} mappings"
                )
        if remaining_mappings:
            raise ValueError(
                f"only {self.n_mappings - remaining_mappings:,} of {self.n_mappings:,} mappings "
                "fit the variables; ask for fewer mappings or more variables"
            )
        if variable_id - first_variable_id != self.n_variables:  # pragma: no cover
            raise RuntimeError("the dictionaries do not add up to the variables asked for")
        writer.fix_sequence(Variable)
        writer.fix_sequence(Mapping)
        writer.commit()

    def _dictionary(
        self, r: random.Random, plan: Plan
    ) -> list[tuple[str, str, str | None, str | None, str | None, str | None, Concept]]:
        """``(name, label, description, form, section, time point, concept)`` of exactly
        ``plan.n_variables`` variables."""
        concepts = self.concepts
        area = plan.area
        n = plan.n_variables
        out: list[tuple[str, str, str | None, str | None, str | None, str | None, Concept]] = []
        names: set[str] = set()
        alias_choice = {k: r.choice(v) for k, v in ALIASES.items()}
        lab_keys = [k for k, p in zip(LAB_CORE, LAB_CORE_P, strict=True) if r.random() < p]
        lab_keys += [k for k in area.concepts if k in concepts and concepts[k].form == "laboratory"
                     and k not in lab_keys and r.random() < 0.6]  # fmt: skip
        lab_suffix_dx = r.choice(("dx", "dx", "bl", "0"))
        label_joiner = r.choice((", ", " at ", " \N{EN DASH} ", " ("))
        describe = r.uniform(0.1, 0.6)

        def base_name(concept: Concept) -> str:
            key = concept.key
            if plan.style == "long":
                return _name_slug(americanise(concept.label) if plan.american else concept.label)
            short = alias_choice.get(key, key)
            return short.upper()[:8].rstrip("_") if plan.style == "sdtm" else short

        def add(
            concept: Concept,
            suffix: str | None,
            phrase: str | None,
            form: str | None,
            time_point: str | None = "",
        ) -> None:
            """One variable; ``phrase`` ends the label and is the time point, unless
            ``time_point`` says otherwise ("" means: the phrase)."""
            if len(out) >= n:
                return
            name = base_name(concept)
            if suffix:
                name = f"{name}_{suffix}".upper() if plan.style == "sdtm" else f"{name}_{suffix}"
            unique, k = name, 1
            while unique in names:
                k += 1
                unique = f"{name}_{k}"
            names.add(unique)
            label = concept.label
            if phrase and time_point is None:  # not a time point: an event's number
                label = f"{label} ({phrase})"
            elif phrase:
                joined = label_joiner if not phrase.startswith("at ") else " "
                label = f"{label}{joined}{phrase}" + (")" if joined == " (" else "")
            if plan.american:
                label = americanise(label)
            description = None
            if concept.description and r.random() < describe + 0.3:
                description = concept.description
            elif r.random() < describe / 4:
                where = (form or concept.form).replace("_", " ")
                description = f"{concept.label} as recorded in the {where} form."
            if description and plan.american:
                description = americanise(description)
            point = phrase if time_point == "" else time_point
            out.append((unique, label, description, form or concept.form, None, point, concept))

        def concept_of(key: str) -> Concept | None:
            return concepts.get(key)

        # once per patient: core, then the area's own, in form order
        singles: list[Concept] = []
        for key, p in CORE_SINGLES:
            c = concept_of(key)
            if c is not None and r.random() < p:
                singles.append(c)
        for key in area.concepts:
            c = concept_of(key)
            if c is not None and c.form != "laboratory" and r.random() < 0.8 and c not in singles:
                singles.append(c)
        for c in r.sample(list(self.concepts.values()), 3):  # something unexpected
            if r.random() < 0.3 and c not in singles:
                singles.append(c)
        order = {"demographics": 0, "diagnosis": 1, "laboratory": 2, "cytogenetics": 3,
                 "molecular": 4, "treatment": 5, "response": 6, "follow_up": 7}  # fmt: skip
        singles.sort(key=lambda c: order.get(c.form, 8))
        if n < len(singles) + len(lab_keys):  # a small dictionary: the most common first
            keep = n - min(len(lab_keys), n // 4)
            singles = singles[:keep]
        for c in singles:
            add(c, None, None, None)
        for key in lab_keys:
            c = concept_of(key)
            if c is not None:
                add(c, lab_suffix_dx, TIME_PHRASES.get(lab_suffix_dx, "at diagnosis"), "laboratory")
        # repeated visits until the dictionary is full
        response_keys: list[str] = [
            k
            for k in ("resp_dt", "cr", "mrd_status", "mrd_level", "bm_blasts")
            if k in area.concepts or k in ("resp_dt", "cr")
        ]
        area_response = [
            k for k in area.concepts if k in concepts and concepts[k].form == "response"
        ]
        response_keys += area_response[:2]
        visit = 0
        ae = 0
        while len(out) < n:
            visit += 1
            suffix, phrase = _time_point(plan, visit)
            form = f"laboratory_{suffix}" if plan.style == "redcap" else "laboratory"
            for key in lab_keys:
                c = concept_of(key)
                if c is not None:
                    add(c, suffix, phrase, form)
            if visit % 2 == 0:
                for key in response_keys:
                    c = concept_of(key)
                    if c is not None:
                        add(c, suffix, phrase, "response")
            if suffix.startswith(("m", "y", "fu")):
                for key in FOLLOW_UP_BLOCK:
                    c = concept_of(key)
                    if c is not None:
                        add(c, suffix, phrase, "follow_up")
            for _ in range(r.randint(0, 2)):
                ae += 1
                for key in AE_BLOCK:
                    c = concept_of(key)
                    if c is not None:
                        add(c, str(ae), f"event {ae}", "adverse_events", time_point=None)
            if visit > 10_000:  # pragma: no cover - a dictionary that cannot grow
                raise RuntimeError("dictionary does not fill up")
        return out

    def _mapping(
        self,
        r: random.Random,
        plan: Plan,
        mapping_id: int,
        variable_id: int,
        code: str | None,
        curie: str,
        predicate: str,
        concept: Concept,
    ) -> tuple[tuple[Any, ...], str, str, str]:
        from catalogue.models import MappingJustification

        version = plan.versions[-1]
        base = version["published_at"] or version["modified_at"]
        created = version["created_at"] + (base - version["created_at"]) * r.uniform(0.3, 0.9)
        roll = r.random()
        status = "accepted" if roll < 0.95 else "suggested" if roll < 0.985 else "rejected"
        if plan.status == "draft" and roll < 0.2:
            status = "suggested"
        term_label = self.terms[curie].label
        reason = None
        comment = None
        if status == "accepted":
            if predicate == "skos:exactMatch" and r.random() < 0.04:
                predicate = "skos:closeMatch"
                comment = "Measured differently from the term's definition."
            justification = (
                MappingJustification.MANUAL if r.random() < 0.85 else MappingJustification.IMPORTED
            )
            confidence: float | None = CONFIDENCE.get(predicate, 0.9)
            author_id, author_label = plan.org.user_id, plan.org.user_label
        else:
            if status == "rejected":
                siblings = [
                    s
                    for p in self.terms[curie].parents
                    for s in self.children.get(p, [])
                    if s != curie and self.terms[s].value_type is not None
                ]
                if siblings:
                    curie = r.choice(sorted(siblings))
                    term_label = self.terms[curie].label
                comment = "Not the same measurement."
            justification = MappingJustification.LEXICAL
            confidence = round(r.uniform(0.55, 0.97), 3)
            what = "value" if code else "label"
            reason = f"{what} “{concept.label}” partly matches the label “{term_label}”"[:300]
            author_id, author_label = None, "HARMONY mapping assistant"
            if status == "rejected":
                author_id, author_label = plan.org.user_id, plan.org.user_label
        self.counts[f"mappings_{status}"] += 1
        self.counts[f"mappings_{predicate}"] += 1
        if code:
            self.counts["value_mappings"] += 1
        self.mapped_terms.add(curie)
        writer = self.out
        row = (  # plain values, as the database stores them
            mapping_id,
            variable_id,
            code,
            predicate,
            curie,
            justification.value,
            confidence,
            status,
            author_id,
            author_label,
            writer.plain_date(created.date()),
            comment,
            reason,
            writer.plain_datetime(created),
        )
        return row, status, predicate, curie

    # --- after the rows -----------------------------------------------------------------------

    def hooks(self) -> dict[str, float | None]:
        """Run the index-building hooks of other parts of the application that exist (each
        named by the places it may be imported from); their seconds, None when absent."""
        import importlib

        from core.db import get_session

        done: dict[str, float | None] = {}
        for places in HOOKS:
            label = places[0]
            function = None
            for place in places:
                module_name, _, function_name = place.rpartition(".")
                try:
                    module = importlib.import_module(module_name)
                except ImportError:
                    continue
                function = getattr(module, function_name, None)
                if function is not None:
                    break
            if function is None:
                self.say(f"hooks: {label} does not exist (yet); skipped")
                done[label] = None
                continue
            started = time.perf_counter()
            self.say(f"hooks: {label} …")

            def report(*args: Any, label: str = label) -> None:
                if len(args) == 2:  # (done, total)
                    self.say(f"hooks: {label}: {args[0]:,}/{args[1]:,}")
                else:
                    self.say(f"hooks: {label}: {' '.join(map(str, args))}")

            function(progress=report if self.progress else None)
            get_session().commit()
            done[label] = round(time.perf_counter() - started, 2)
            self.say(f"hooks: {label} ran in {done[label]:.1f} s")
        return done

    def analyze(self, url: str) -> None:
        from sqlalchemy import text

        from core.db import make_engine

        engine = make_engine(url)
        try:
            if engine.dialect.name == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))
            else:
                with engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
        finally:
            engine.dispose()


#: index-building hooks, each with the places it may live (the first one names it)
HOOKS = (("catalogue.search.rebuild_index", "catalogue.search.indexer.rebuild_index"),)
COVERING = ("skos:exactMatch", "skos:closeMatch", "skos:broadMatch")
CONFIDENCE = {
    "skos:exactMatch": 1.0,
    "skos:closeMatch": 0.9,
    "skos:broadMatch": 0.8,
    "skos:narrowMatch": 0.8,
    "skos:relatedMatch": 0.7,
}


def _time_point(plan: Plan, visit: int) -> tuple[str, str]:
    """The suffix and phrase of a dataset's ``visit``-th repeated time point."""
    source = plan.versions[-1]["source_type"]
    if source == "clinical_trial":
        cycles = 6
        if visit <= cycles:
            return f"c{visit}", f"cycle {visit}"
        months = (3, 6, 9, 12, 18, 24, 30, 36, 48, 60)
        k = visit - cycles
        if k <= len(months):
            return f"m{months[k - 1]}", f"month {months[k - 1]}"
        return f"fu{k - len(months)}", f"follow-up visit {k - len(months)}"
    if source in ("registry", "real_world"):
        return f"y{visit}", f"year {visit}"
    cohort_months = (3, 6, 12, 24, 36, 48, 60)
    if visit <= len(cohort_months):
        return f"m{cohort_months[visit - 1]}", f"month {cohort_months[visit - 1]}"
    return f"v{visit}", f"visit {visit}"


def _source_field_type(style: str, concept: Concept) -> str | None:
    if style != "redcap":
        return None
    return {
        "categorical": "dropdown" if len(concept.values) > 3 else "radio",
        "boolean": "yesno",
        "text": "notes" if concept.form == "follow_up" else "text",
    }.get(concept.value_type, "text")


def _contains(text: str, word: str) -> bool:
    """``word`` starts a word of ``text`` (both lower-cased): “patient” finds “patients”."""
    lowered = word.lower()
    return lowered in text and _word_start(lowered).search(text) is not None


@functools.lru_cache(maxsize=256)
def _word_start(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(word))


@functools.lru_cache(maxsize=65536)
def _tracked_in(text: str) -> frozenset[str]:
    """The words of COMMON_WORDS and RARE_WORDS that ``text`` has (as :func:`_contains`)."""
    lowered = text.lower()
    return frozenset(w for w in (*COMMON_WORDS, *RARE_WORDS) if _contains(lowered, w))


# --- bulk writing -----------------------------------------------------------------------------


class Writer:
    """Rows in bulk on the session's connection: PostgreSQL COPY, SQLite executemany."""

    def __init__(self) -> None:
        from core.db import get_session

        self.session = get_session()
        self.dialect = self.session.get_bind().dialect

    def insert(
        self,
        model: Any,
        columns: Sequence[str],
        rows: Iterable[tuple[Any, ...]],
        *,
        convert: bool = True,
        json_columns: Sequence[str] = (),
    ) -> int:
        connection = self.session.connection()
        table = model.__table__
        dialect = self.dialect
        if convert:
            processors = [
                None if c in json_columns else table.c[c].type.bind_processor(dialect)
                for c in columns
            ]
            rows = (
                tuple(
                    v if f is None or v is None else f(v)
                    for f, v in zip(processors, row, strict=True)
                )
                for row in rows
            )
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in columns)
        raw: Any = connection.connection.driver_connection
        count = 0
        if dialect.name == "postgresql":
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            placeholders = ", ".join("?" * len(columns))
            cursor = raw.cursor()
            try:
                rows = list(rows)
                cursor.executemany(
                    f"INSERT INTO {quote(table.name)} ({names}) VALUES ({placeholders})",  # noqa: S608
                    rows,
                )
                count = len(rows)
            finally:
                cursor.close()
        return count

    def plain_datetime(self, value: dt.datetime) -> Any:
        """A UTC timestamp as the database takes it without SQLAlchemy's help: on SQLite the
        text the application's rows have (sqlite3 adapts their aware datetimes this way)."""
        if self.dialect.name == "sqlite":
            return value.astimezone(dt.UTC).isoformat(" ")
        return value

    def plain_date(self, value: dt.date) -> Any:
        return value.isoformat() if self.dialect.name == "sqlite" else value

    def next_id(self, model: Any) -> int:
        from sqlalchemy import func, select

        return (self.session.scalar(select(func.max(model.__table__.c.id))) or 0) + 1

    def fix_sequence(self, model: Any) -> None:
        """PostgreSQL: the serial sequence continues after the ids given explicitly."""
        if self.dialect.name != "postgresql":
            return
        from sqlalchemy import text

        name = model.__table__.name
        self.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(max(id), 0) + 1 FROM {name}), false)"
            )
        )

    def commit(self) -> None:
        self.session.commit()


# --- the API ----------------------------------------------------------------------------------


def generate(
    database_url: str,
    *,
    datasets: int = 10_000,
    variables: int = 1_000_000,
    mappings: int = 200_000,
    seed: int = 1,
    progress: bool = True,
    hooks: bool = True,
) -> dict[str, Any]:
    """Write a synthetic catalogue into the migrated database at ``database_url`` (which has no
    datasets yet) and return its summary (see the module documentation and bench/README.md).
    ``hooks=False`` leaves out the index-building hooks (:data:`HOOKS`)."""
    from sqlalchemy import event, func, select

    from catalogue.models import Dataset
    from core import create_app
    from core.db import database, get_session

    gen = Generator(
        datasets=datasets, variables=variables, mappings=mappings, seed=seed, progress=progress
    )
    app = create_app({"DATABASE_URL": database_url}, env=APP_ENV)
    with app.app_context():
        engine = database().engine
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _bulk_settings(dbapi_connection: Any, _record: Any) -> None:
            # in WAL mode, NORMAL syncs at checkpoints only: a bench database needs no more
            # (a larger page cache made no measurable difference)
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    phase_started = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal phase_started
        now = time.perf_counter()
        gen.seconds[name] = round(now - phase_started, 2)
        phase_started = now

    with app.app_context():
        if get_session().scalar(select(func.count()).select_from(Dataset)):
            raise ValueError("the database holds datasets already; generate into an empty one")
        gen.vocabularies()
        phase("vocabularies")
        gen.writer = Writer()
        orgs = gen.organisations()
        gen.say(f"organisations: {len(orgs)} with one custodian each")
        phase("organisations")
        plans = gen.plan(orgs)
        gen.say(f"plan: {len(plans):,} datasets")
        phase("plan")
        gen.write_datasets(plans)
        gen.say(
            f"datasets: {gen.counts['datasets']:,} datasets, {gen.counts['versions']:,} versions"
        )
        phase("datasets")
        gen.write_dictionaries(plans)
        making = {
            k: round(gen.seconds.pop(k), 2)
            for k in ("make_dictionaries", "write_variables", "write_mappings")
        }
        phase("dictionaries")
        gen.seconds.update({f"dictionaries_{k}": v for k, v in making.items()})
        ran: dict[str, float | None] = {places[0]: None for places in HOOKS}
        try:
            if hooks:
                ran = gen.hooks()
        except Exception:
            gen.say(
                "hooks: failed (the traceback follows); the catalogue's rows are written and "
                "committed: rebuild the index once it works, or generate with --no-hooks"
            )
            gen.analyze(database_url)
            raise
        phase("hooks")
    gen.say("analyze: refreshing the planner statistics")
    gen.analyze(database_url)
    phase("analyze")
    gen.seconds["total"] = round(time.perf_counter() - gen.started, 2)
    summary = _summary(gen, plans, orgs, ran, database_url)
    gen.say(f"done in {gen.seconds['total']:.1f} s")
    return summary


def _summary(
    gen: Generator,
    plans: list[Plan],
    orgs: list[Org],
    hooks: dict[str, float | None],
    url: str,
) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    published = gen.counts["datasets_published"]
    by_org = Counter(p.org.id for p in plans if p.status == "published")
    top_org_id, top_count = by_org.most_common(1)[0] if by_org else (orgs[0].id, 0)
    top = next(o for o in orgs if o.id == top_org_id)
    counts = {
        "organisations": gen.counts["organisations"],
        "custodians": gen.counts["organisations"],
        "datasets": gen.counts["datasets"],
        "datasets_by_status": {
            s: gen.counts[f"datasets_{s}"] for s in ("published", "draft", "retired")
        },
        "versions": gen.counts["versions"],
        "versions_by_status": {
            s: gen.counts[f"versions_{s}"] for s in ("published", "draft", "superseded")
        },
        "dataset_diseases": gen.counts["dataset_diseases"],
        "audit_events": gen.counts["audit_events"],
        "variables": gen.counts["variables"],
        "mappings": gen.counts["mappings"],
        "mappings_by_status": {
            s: gen.counts[f"mappings_{s}"] for s in ("accepted", "suggested", "rejected")
        },
        "mappings_by_predicate": {
            p: gen.counts[f"mappings_{p}"]
            for p in (
                "skos:exactMatch",
                "skos:closeMatch",
                "skos:broadMatch",
                "skos:narrowMatch",
                "skos:relatedMatch",
            )
        },
        "value_mappings": gen.counts["value_mappings"],
        "mapped_terms": len(gen.mapped_terms),
        "hv_terms_mapped": len({t for t in gen.mapped_terms if t.startswith("HV:")}),
    }
    by_size = sorted(
        (p for p in plans if p.status == "published"), key=lambda p: (-p.n_variables, p.index)
    )
    multi = next((p for p in plans if len(p.versions) > 1 and p.status == "published"), None)
    small = next(
        (p for p in plans if p.status == "published" and (p.versions[-1]["patients"] or 99) < 10),
        None,
    )
    disease_label = gen.terms[DESIGNATED_DISEASE].label
    return {
        "seed": gen.seed,
        "database": make_url(url).get_backend_name(),
        "as_of": AS_OF.isoformat(),
        "counts": counts,
        "seconds": gen.seconds,
        "words": {
            # the share of published datasets whose title, description or keywords have a word
            # starting like this (so "patient" counts "patients"), and of their dictionaries
            "common": [w for w in COMMON_WORDS if gen.word_df[w] >= published / 2],
            "rare": [w for w in RARE_WORDS if 0 < gen.word_df[w] <= published / 10],
            "datasets": {w: gen.word_df[w] for w in (*COMMON_WORDS, *RARE_WORDS)},
            "dictionaries": {w: gen.variable_df[w] for w in (*COMMON_WORDS, *RARE_WORDS)},
            "published_datasets": published,
        },
        "disease": {
            "curie": DESIGNATED_DISEASE,
            "label": disease_label,
            "query": disease_label.lower(),
            "datasets": gen.disease_datasets[DESIGNATED_DISEASE],
        },
        "diseases": {area.curie: gen.disease_datasets[area.curie] for area in AREAS},
        "coverage_terms": list(COVERAGE_TERMS),
        "coverage": {t: gen.coverage[t] for t in COVERAGE_TERMS},
        "organisation": {
            "id": top.id,
            "name": top.name,
            "datasets": top_count,
            "custodian_email": top.email,
        },
        "datasets": {
            "largest": by_size[0].identifier if by_size else None,
            "typical": by_size[len(by_size) // 2].identifier if by_size else None,
            "multi_version": multi.identifier if multi else None,
            "small_cell": small.identifier if small else None,
            "draft": next((p.identifier for p in plans if p.status == "draft"), None),
            "retired": next((p.identifier for p in plans if p.status == "retired"), None),
        },
        "hooks": hooks,
    }


# --- checks -----------------------------------------------------------------------------------


def check(database_url: str, summary: dict[str, Any]) -> list[str]:
    """What is wrong with a generated catalogue (empty when nothing): the counts of the summary
    against the database, statuses, references, and the coverage rule of the application."""
    from sqlalchemy import func, select

    from catalogue.mappings import coverage
    from catalogue.models import (
        Dataset,
        DatasetDisease,
        DatasetVersion,
        Mapping,
        Variable,
        VersionStatus,
    )
    from core import create_app
    from core.db import get_session
    from ontologies.models import Term

    problems: list[str] = []
    app = create_app({"DATABASE_URL": database_url}, env=APP_ENV)
    with app.app_context():
        session = get_session()

        def count(query: Any) -> int:
            return session.scalar(select(func.count()).select_from(query.subquery())) or 0

        counts = summary["counts"]
        found = {
            "datasets": count(select(Dataset.id)),
            "versions": count(select(DatasetVersion.id)),
            "variables": count(select(Variable.id)),
            "mappings": count(select(Mapping.id)),
            "dataset_diseases": count(select(DatasetDisease.version_id)),
        }
        for key, value in found.items():
            if value != counts[key]:
                problems.append(f"{key}: {value} in the database, {counts[key]} in the summary")
        for status, expected in counts["datasets_by_status"].items():
            value = count(select(Dataset.id).where(Dataset.status == status))
            if value != expected:
                problems.append(f"{status} datasets: {value}, expected {expected}")
        dangling = count(
            select(Mapping.id)
            .outerjoin(Term, Term.curie == Mapping.object_curie)
            .where(Term.curie.is_(None))
        ) + count(
            select(Mapping.id)
            .outerjoin(Variable, Variable.id == Mapping.variable_id)
            .where(Variable.id.is_(None))
        )
        if dangling:
            problems.append(f"{dangling} mappings point to nothing")
        public = select(DatasetVersion.id).join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        public = public.where(
            Dataset.status == "published", DatasetVersion.status == VersionStatus.PUBLISHED
        )
        public_ids = set(session.scalars(public))
        for term in summary["coverage_terms"]:
            covered = coverage.covered_terms([term], None)
            n = sum(1 for version in covered if version in public_ids)
            if n != summary["coverage"][term]:
                problems.append(
                    f"coverage of {term}: {n} by the rule, {summary['coverage'][term]} counted"
                )
        no_public = count(
            select(Dataset.id)
            .where(Dataset.status != "draft")
            .where(
                ~select(DatasetVersion.id)
                .where(
                    DatasetVersion.dataset_id == Dataset.id,
                    DatasetVersion.status == VersionStatus.PUBLISHED,
                )
                .exists()
            )
        )
        if no_public:
            problems.append(
                f"{no_public} published or retired datasets without a published version"
            )
    return problems


# --- command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--variables", type=int, default=1_000_000)
    parser.add_argument("--mappings", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--migrate", action="store_true", help="migrate the database first")
    parser.add_argument(
        "--check", action="store_true", help="verify the result against the database"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--no-hooks", action="store_true", help="do not build the search index afterwards"
    )
    args = parser.parse_args(argv)
    if args.migrate:
        from core import migrate

        print("migrating the database", file=sys.stderr, flush=True)
        migrate.upgrade(args.database_url)
    summary = generate(
        args.database_url,
        datasets=args.datasets,
        variables=args.variables,
        mappings=args.mappings,
        seed=args.seed,
        progress=not args.quiet,
        hooks=not args.no_hooks,
    )
    status = 0
    if args.check:
        problems = check(args.database_url, summary)
        for problem in problems:
            print(f"check: {problem}", file=sys.stderr)
        if not problems:
            print("check: the database agrees with the summary", file=sys.stderr)
        status = 1 if problems else 0
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return status


if __name__ == "__main__":
    sys.exit(main())
