"""A synthetic REDCap data dictionary for the dictionary benchmarks, written as REDCap exports it.

    .venv/bin/python bench/generate_dictionary.py --variables 100000 --out /tmp/redcap.csv

What it holds (deterministic for a given ``--seed``): a haematology trial's case report forms —
demographics, diagnosis, then laboratory visits, molecular work-ups, treatment cycles, adverse
events, response assessments and follow-up visits repeated until ``--variables`` variables are
written (plus a descriptive field here and there, which holds no data and is not counted).
Every REDCap field type appears: text with validation types (integer, number, number_1dp,
date_ymd, date_dmy, datetime_ymd, datetime_seconds_dmy, email, alpha_only), notes, dropdown,
radio, checkbox, yesno, truefalse, calc, slider, file, descriptive and sql; choices in
``1, Yes | 2, No`` form, validation min/max, units in field notes, section headers, branching
logic, required flags, and about 2 % of fields annotated with ``@TERM=HV:…`` (terms of the
bundled HARMONY variables) besides REDCap's own action tags. Names are realistic and unique
(``hb_v12``, ``ae_grade_17``). Rows are written as they are made, with progress on stderr.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

HEADER = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)

YES_NO_UNKNOWN = "1, Yes | 0, No | 9, Unknown"
RESPONSE = "1, CR | 2, CRi | 3, MLFS | 4, PR | 5, SD | 6, PD | 9, Not evaluable"
GRADE = "1, Grade 1 | 2, Grade 2 | 3, Grade 3 | 4, Grade 4 | 5, Grade 5 (death)"


@dataclass(frozen=True)
class Field:
    """One field of a form: REDCap's columns, by their short names."""

    stem: str
    label: str
    type: str
    choices: str = ""
    note: str = ""
    validation: str = ""
    minimum: str = ""
    maximum: str = ""
    term: str = ""  # an HV CURIE that the field may be annotated with


# forms that occur once
DEMOGRAPHICS = (
    Field("record_id", "Record ID", "text"),
    Field("site", "Recruiting site", "sql", "select site_id, site_name from redcap_sites"),
    Field("consent", "Written informed consent obtained", "truefalse"),
    Field("consent_form", "Signed consent form", "file"),
    Field("dob", "Date of birth", "text", validation="date_dmy", term="HV:0000018"),
    Field("sex", "Sex", "radio", "1, Male | 2, Female | 9, Unknown", term="HV:0000017"),
    Field("ethnicity", "Ethnicity", "dropdown", "1, White | 2, Black | 3, Asian | 4, Other"),
    Field("height", "Body height", "text", "", "cm", "number", "100", "230", "HV:0000025"),
    Field("weight", "Body weight", "text", "", "kg", "number_1dp", "25", "250", "HV:0000024"),
    Field("bmi", "Body mass index", "calc", "round([weight]/(([height]/100)^2),1)", "kg/m2"),
    Field("contact_email", "Study nurse e-mail", "text", validation="email"),
    Field("initials", "Patient initials", "text", validation="alpha_only"),
)
DIAGNOSIS = (
    Field("dx_date", "Date of diagnosis", "text", validation="date_ymd", term="HV:0000027"),
    Field("age_dx", "Age at diagnosis", "text", "", "years", "integer", "0", "120", "HV:0000020"),
    Field(
        "who_dx",
        "WHO 2022 diagnosis",
        "dropdown",
        "1, AML with NPM1 mutation | 2, AML with CEBPA mutation | 3, AML, myelodysplasia-related"
        " | 4, AML with RUNX1::RUNX1T1 | 5, AML with CBFB::MYH11 | 6, AML, defined by "
        "differentiation | 99, Other",
        term="HV:0000028",
    ),
    Field("ecog", "ECOG performance status", "radio", "0, 0 | 1, 1 | 2, 2 | 3, 3 | 4, 4"),
    Field("kps", "Karnofsky performance status", "slider", "Dead | | Normal", "", "number"),
    Field("hctci", "HCT-CI score", "text", "", "", "integer", "0", "20", "HV:0000180"),
    Field("tmn", "Therapy-related myeloid neoplasm", "yesno", term="HV:0000033"),
    Field("dx_comment", "Comments on the diagnosis", "notes"),
)
# forms that repeat: (form name pattern, section pattern, fields, suffix pattern)
LABS = (
    Field("lab_date", "Date of blood sample", "text", validation="date_ymd"),
    Field("hb", "Haemoglobin", "text", "", "g/dL", "number_1dp", "2", "25", "HV:0000045"),
    Field("wbc", "White blood cell count", "text", "", "10*9/L", "number", "0", "500"),
    Field("plt", "Platelet count", "text", "", "10*9/L", "integer", "0", "2000", "HV:0000047"),
    Field("anc", "Absolute neutrophil count", "text", "", "10*9/L", "number", "0", "200"),
    Field("alc", "Absolute lymphocyte count", "text", "", "10*9/L", "number", "0", "500"),
    Field("pb_blasts", "Peripheral blood blasts", "text", "", "%", "integer", "0", "100"),
    Field("ldh", "Lactate dehydrogenase", "text", "", "U/L", "integer", "0", "10000"),
    Field("creat", "Serum creatinine", "text", "", "umol/L", "integer", "10", "2000"),
    Field("bili", "Total bilirubin", "text", "", "umol/L", "number", "0", "800"),
    Field("alt", "Alanine aminotransferase", "text", "", "U/L", "integer", "0", "5000"),
    Field("albumin", "Serum albumin", "text", "", "g/L", "integer", "5", "70"),
    Field("crp", "C-reactive protein", "text", "", "mg/L", "number", "0", "500"),
    Field("nlr", "Neutrophil-to-lymphocyte ratio", "calc", "round([anc]/[alc], 2)"),
    Field("lab_time", "Time the sample was taken", "text", validation="datetime_ymd"),
    Field("lab_comment", "Laboratory comments", "notes"),
)
MOLECULAR = (
    Field("mol_date", "Date of molecular work-up", "text", validation="date_dmy"),
    Field("npm1", "NPM1 mutation", "yesno", term="HV:0000124"),
    Field("flt3itd", "FLT3-ITD", "radio", YES_NO_UNKNOWN, term="HV:0000125"),
    Field("flt3_ar", "FLT3-ITD allelic ratio", "text", "", "", "number", "0", "10"),
    Field("flt3tkd", "FLT3-TKD mutation", "radio", YES_NO_UNKNOWN),
    Field("cebpa_bzip", "CEBPA bZIP in-frame mutation", "yesno"),
    Field("tp53", "TP53 mutation", "radio", YES_NO_UNKNOWN, term="HV:0000131"),
    Field("tp53_vaf", "TP53 variant allele frequency", "text", "", "%", "number", "0", "100"),
    Field("runx1", "RUNX1 mutation", "yesno"),
    Field("asxl1", "ASXL1 mutation", "yesno"),
    Field("idh1", "IDH1 mutation", "yesno"),
    Field("idh2", "IDH2 mutation", "yesno"),
    Field(
        "panel",
        "Genes sequenced",
        "checkbox",
        "1, NPM1 | 2, FLT3 | 3, CEBPA | 4, TP53 | 5, RUNX1 | 6, ASXL1 | 7, IDH1 | 8, IDH2",
    ),
    Field("karyotype", "Karyotype (ISCN)", "notes"),
    Field(
        "cyto_abn",
        "Cytogenetic abnormalities",
        "checkbox",
        "1, del(5q) | 2, -7 | 3, +8 | 4, complex | 5, t(8;21) | 6, inv(16) | 7, t(15;17)",
    ),
    Field("mol_report", "Molecular report", "file"),
)
CYCLE = (
    Field("cycle_start", "Cycle start date", "text", validation="date_ymd"),
    Field(
        "regimen",
        "Regimen",
        "dropdown",
        "1, 7+3 | 2, HiDAC | 3, FLAG-Ida | 4, Aza-Ven | 5, CPX-351 | 6, Midostaurin + 7+3",
        term="HV:0000182",
    ),
    Field("dose_pct", "Dose given", "text", "", "%", "integer", "0", "150"),
    Field("dose_reduced", "Dose reduced", "yesno"),
    Field("delayed", "Cycle delayed", "yesno"),
    Field("gcsf", "G-CSF given", "truefalse"),
    Field("rbc_units", "Red cell units transfused", "text", "", "", "integer", "0", "50"),
    Field("plt_units", "Platelet units transfused", "text", "", "", "integer", "0", "50"),
    Field("days_neutropenic", "Days with ANC below 0.5", "text", "", "days", "integer", "0", "90"),
    Field("cycle_comment", "Comments on the cycle", "notes"),
)
ADVERSE_EVENT = (
    Field("ae_term", "Adverse event (CTCAE term)", "text"),
    Field("ae_grade", "CTCAE grade", "radio", GRADE),
    Field("ae_onset", "Onset", "text", validation="datetime_seconds_dmy"),
    Field("ae_serious", "Serious adverse event", "yesno"),
    Field(
        "ae_related",
        "Relation to study drug",
        "dropdown",
        "1, Unrelated | 2, Unlikely | 3, Possible | 4, Probable | 5, Definite",
    ),
    Field("ae_outcome", "Outcome", "radio", "1, Resolved | 2, Ongoing | 3, Fatal"),
)
RESPONSE_FORM = (
    Field("resp_date", "Date of response assessment", "text", validation="date_ymd"),
    Field("resp", "Response", "radio", RESPONSE, term="HV:0000206"),
    Field("bm_blasts", "Bone marrow blasts", "text", "", "%", "number_1dp", "0", "100"),
    Field("mrd_status", "MRD status", "radio", "1, Negative | 2, Positive | 9, Not done"),
    Field("mrd_level", "MRD level", "text", "", "%", "number", "0", "100"),
    Field("mrd_method", "MRD method", "dropdown", "1, Flow cytometry | 2, qPCR NPM1 | 3, NGS"),
)
FOLLOW_UP = (
    Field("fu_date", "Date of follow-up", "text", validation="date_ymd"),
    Field("vital", "Vital status", "radio", "1, Alive | 2, Dead | 3, Lost to follow-up"),
    Field("relapse", "Relapse since the last visit", "yesno", term="HV:0000232"),
    Field("relapse_date", "Date of relapse", "text", validation="date_ymd"),
    Field("qol", "Quality of life today", "slider", "Worst | Moderate | Best"),
    Field("fu_comment", "Comments", "notes"),
)
REPEATING = (
    ("laboratory_visit_{n}", "Visit {n}: blood counts and chemistry", LABS, "_v{n}"),
    ("molecular_workup_{n}", "Sample {n}: molecular genetics", MOLECULAR, "_s{n}"),
    ("treatment_cycle_{n}", "Cycle {n}", CYCLE, "_c{n}"),
    ("adverse_event_{n}", "Adverse event {n}", ADVERSE_EVENT, "_{n}"),
    ("response_assessment_{n}", "Assessment {n}", RESPONSE_FORM, "_r{n}"),
    ("follow_up_{n}", "Follow-up visit {n}", FOLLOW_UP, "_fu{n}"),
)
ACTION_TAGS = ("@HIDDEN-SURVEY", "@READONLY", "@DEFAULT='9'", "@NOW", "@CHARLIMIT=200")


def _row(field: Field, name: str, form: str, section: str, rng: random.Random) -> list[str]:
    annotation = ""
    roll = rng.random()
    if field.term and roll < 0.2:
        annotation = f"@TERM={field.term}"
    elif roll < 0.05:
        annotation = rng.choice(ACTION_TAGS)
    branching = ""
    if field.stem.endswith(("_date", "_vaf", "_ar")) and rng.random() < 0.3:
        branching = "[consent] = '1'"
    return [
        name,
        form,
        section,
        field.type,
        field.label,
        field.choices,
        field.note,
        field.validation,
        field.minimum,
        field.maximum,
        "y" if field.stem in {"dob", "initials", "contact_email"} else "",
        branching,
        "y" if rng.random() < 0.3 else "",
        "",
        "",
        "",
        "",
        annotation,
    ]


def rows(variables: int, seed: int) -> Iterator[list[str]]:
    """REDCap rows with exactly ``variables`` non-descriptive fields."""
    rng = random.Random(seed)
    written = 0

    def form_rows(
        fields: tuple[Field, ...], form: str, section: str, suffix: str
    ) -> Iterator[list[str]]:
        nonlocal written
        if rng.random() < 0.3:  # an instruction at the top of the form: holds no data
            yield [
                f"note_{form}{suffix}"[:90],
                form,
                "",
                "descriptive",
                f"<p>Fill in {form.replace('_', ' ')} from the source documents.</p>",
                *[""] * 13,
            ]
        for index, field in enumerate(fields):
            if written >= variables:
                return
            written += 1
            yield _row(field, field.stem + suffix, form, section if index == 0 else "", rng)

    yield from form_rows(DEMOGRAPHICS, "demographics", "Patient", "")
    yield from form_rows(DIAGNOSIS, "diagnosis", "Diagnosis", "")
    n = 0
    while written < variables:
        n += 1
        for form, section, fields, suffix in REPEATING:
            yield from form_rows(fields, form.format(n=n), section.format(n=n), suffix.format(n=n))
            if written >= variables:
                break


def generate(out: IO[str], variables: int, seed: int = 1, progress: bool = True) -> dict[str, int]:
    """Write the dictionary to ``out``; a summary of what it holds."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    counts: dict[str, int] = {"rows": 0}
    started = time.perf_counter()
    for row in rows(variables, seed):
        writer.writerow(row)
        counts["rows"] += 1
        counts[row[3]] = counts.get(row[3], 0) + 1
        if row[17].startswith("@TERM"):
            counts["annotated"] = counts.get("annotated", 0) + 1
        if progress and counts["rows"] % 20_000 == 0:
            print(
                f"  {counts['rows']:,} rows in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
                flush=True,
            )
    counts["variables"] = counts["rows"] - counts.get("descriptive", 0)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variables", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with args.out.open("w", encoding="utf-8", newline="") as out:
        summary = generate(out, args.variables, args.seed)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
