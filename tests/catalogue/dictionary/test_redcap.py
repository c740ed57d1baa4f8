"""Reading REDCap data dictionaries: every field type, and broken files explained by row."""

from __future__ import annotations

import csv
import io

from catalogue.dictionary.redcap import read_redcap
from catalogue.models import ValueType

HEADER = [
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
]


def dictionary(*rows: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(row + [""] * (len(HEADER) - len(row)))
    return out.getvalue().encode()


EVERY_TYPE = dictionary(
    ["record_id", "baseline", "", "text", "Record ID"],
    ["intro", "baseline", "Diagnosis", "descriptive", "<b>Please fill in at diagnosis</b>"],
    ["dx_date", "baseline", "", "text", "Date of diagnosis", "", "", "date_ymd"],
    ["dx_time", "baseline", "", "text", "Sample taken at", "", "", "datetime_seconds_dmy"],
    ["age_dx", "baseline", "", "text", "Age at diagnosis", "", "years", "integer", "0", "120"],
    [
        "hb_dx",
        "baseline",
        "Blood counts",
        "text",
        "Haemoglobin",
        "",
        "g/dL",
        "number_1dp",
        "2",
        "25",
    ],
    ["comments", "baseline", "", "notes", "Comments"],
    ["sex", "baseline", "", "radio", "Sex", "1, Male | 2, Female | 9, Unknown"],
    ["who_dx", "baseline", "", "dropdown", "WHO diagnosis", "1, AML with NPM1 | 2, AML-MR"],
    ["cyto", "baseline", "", "checkbox", "Cytogenetic findings", "1, del(5q) | 2, -7 | 3, complex"],
    ["flt3itd", "baseline", "", "yesno", "FLT3-ITD present"],
    ["consent", "baseline", "", "truefalse", "Consent given"],
    ["bmi", "baseline", "", "calc", "BMI", "[weight]/([height]*[height])"],
    ["ecog", "baseline", "", "slider", "ECOG performance", "Fully active | | Disabled"],
    ["report", "baseline", "", "file", "Pathology report"],
    ["centre", "baseline", "", "sql", "Centre", "select id, name from centres"],
    ["os_months", "follow_up", "", "text", "Overall survival", "", "months", "number"],
)


def test_every_field_type():
    reading = read_redcap(EVERY_TYPE)
    assert reading.ok, reading.problems
    by_name = {v.name: v for v in reading.variables}
    assert "intro" not in by_name
    assert next(n.message for n in reading.notes).startswith("descriptive field “intro”")
    assert by_name["dx_date"].value_type is ValueType.DATE
    assert by_name["dx_time"].value_type is ValueType.DATETIME
    assert by_name["age_dx"].value_type is ValueType.INTEGER
    assert (by_name["age_dx"].minimum, by_name["age_dx"].maximum) == ("0", "120")
    hb = by_name["hb_dx"]
    assert hb.value_type is ValueType.DECIMAL and hb.section == "Blood counts"
    assert hb.description == "g/dL" and hb.form == "baseline"
    assert by_name["comments"].value_type is ValueType.TEXT
    assert [(p.code, p.label) for p in by_name["sex"].permissible_values] == [
        ("1", "Male"),
        ("2", "Female"),
        ("9", "Unknown"),
    ]
    assert by_name["who_dx"].value_type is ValueType.CATEGORICAL
    assert by_name["cyto"].multiple and len(by_name["cyto"].permissible_values) == 3
    assert by_name["flt3itd"].value_type is ValueType.BOOLEAN
    assert by_name["consent"].permissible_values[0].label == "True"
    assert (
        by_name["bmi"].value_type is ValueType.DECIMAL
        and "calculated" in by_name["bmi"].description
    )
    assert by_name["ecog"].value_type is ValueType.INTEGER and by_name["ecog"].maximum == "100"
    assert by_name["report"].value_type is ValueType.TEXT
    assert any("database query" in n.message for n in reading.notes)
    assert by_name["os_months"].form == "follow_up" and by_name["os_months"].section is None
    assert by_name["record_id"].row == 2 and by_name["os_months"].row == 18


def test_problems_name_row_and_column():
    reading = read_redcap(
        dictionary(
            ["ok_field", "f", "", "text", "Fine"],
            ["ok_field", "f", "", "text", "Again"],
            ["Bad Name", "f", "", "text", "Spaces"],
            ["kind", "f", "", "listbox", "Unknown type"],
            ["choice", "f", "", "radio", "Broken choices", "1 Yes | 2, No"],
            ["lab", "f", "", "text", "Lab", "", "", "number", "low"],
        )
    )
    messages = [str(p) for p in reading.problems]
    assert messages[0].startswith(
        "row 3, column “Variable / Field Name”: “ok_field” is defined twice"
    )
    assert messages[1].startswith("row 4, column “Variable / Field Name”")
    assert messages[2].startswith("row 5, column “Field Type”: unknown field type “listbox”")
    assert messages[3].startswith(
        "row 6, column “Choices, Calculations, OR Slider Labels”: malformed"
    )
    assert messages[4] == "row 7, column “Text Validation Min”: “low” is not a number"


def test_missing_columns_and_encoding():
    no_type = b"Variable / Field Name,Form Name,Field Label\nx,f,X\n"
    assert "“Field Type”" in str(read_redcap(no_type).problems[0])
    latin1 = dictionary(["hb", "f", "", "text", "Hämoglobin"]).decode().encode("latin-1")
    assert "not UTF-8" in str(read_redcap(latin1).problems[0])
    assert "empty" in str(read_redcap(b"").problems[0])


def test_multiline_labels_keep_row_numbers():
    data = dictionary(["a", "f", "", "text", "first\nline two"], ["b", "f", "", "text", "B"])
    reading = read_redcap(data)
    assert [(v.name, v.row) for v in reading.variables] == [("a", 2), ("b", 4)]
