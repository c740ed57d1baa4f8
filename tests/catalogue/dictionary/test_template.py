"""Our CSV/XLSX dictionary template and OMOP concept lists."""

from __future__ import annotations

import io

from openpyxl import Workbook

from catalogue.dictionary.template import read_omop, read_template
from catalogue.models import ValueType

GOOD = """name,label,value_type,unit,permissible_values,missing_codes,term,form
hb_dx,Haemoglobin at diagnosis,decimal,g/dL,,999,HV:0000010,baseline
sex,Sex,categorical,,1=Male@NCIT:C20197|2=Female@NCIT:C16576,9,,baseline
npm1,NPM1 mutated,boolean,,,,,molecular
"""


def test_template_csv():
    reading = read_template(GOOD.encode())
    assert reading.ok, reading.problems
    hb, sex, npm1 = reading.variables
    assert (hb.value_type, hb.unit, hb.missing_codes, hb.mappings) == (
        ValueType.DECIMAL,
        "g/dL",
        ["999"],
        ["HV:0000010"],
    )
    assert [(v.code, v.label, v.term) for v in sex.permissible_values] == [
        ("1", "Male", "NCIT:C20197"),
        ("2", "Female", "NCIT:C16576"),
    ]
    assert npm1.form == "molecular" and npm1.row == 4


def test_template_semicolons_and_xlsx():
    reading = read_template(GOOD.replace(",", ";").encode())
    assert [v.name for v in reading.variables] == ["hb_dx", "sex", "npm1"]
    workbook = Workbook()
    sheet = workbook.active
    for line in GOOD.strip().splitlines():
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = read_template(buffer.getvalue(), "dictionary.xlsx")
    assert xlsx.ok and [v.name for v in xlsx.variables] == ["hb_dx", "sex", "npm1"]


def test_template_problems():
    data = """name,label,value_type,permissible_values,term
ok,OK,integer,,
ok,Again,integer,,
x,X,colour,,
cat,Cat,categorical,,
vals,Vals,categorical,1=A|1=B,
t,T,text,,not a curie
"""
    messages = [str(p) for p in read_template(data.encode()).problems]
    assert messages == [
        "row 3, column “name”: “ok” is defined twice (first on row 2)",
        "row 4, column “value_type”: unknown value type “colour” (use one of integer, decimal, "
        "categorical, boolean, date, datetime, text)",
        "row 5, column “permissible_values”: a categorical variable lists its values (code=label|…)",
        "row 6, column “permissible_values”: the code 1 is used twice",
        "row 7, column “term”: “not a curie” is not a CURIE such as HV:0000001 or NCIT:C3171",
    ]
    missing = read_template(b"name,label\nx,X\n")
    assert str(missing.problems[0]) == "row 1: missing the required column: value_type"
    assert "Excel" in str(read_template(b"not a workbook", "d.xlsx").problems[0])


def test_omop_concepts_arrive_mapped():
    data = b"""concept_id,concept_name,domain_id,vocabulary_id,concept_code,unit
3000963,Hemoglobin [Mass/volume] in Blood,Measurement,LOINC,718-7,g/dL
4149320,Acute myeloid leukemia,Condition,SNOMED,91861009,
abc,Broken,Measurement,LOINC,x,
"""
    reading = read_omop(data)
    hb, aml = reading.variables
    assert hb.name == "hemoglobin_mass_volume_in_blood" and hb.mappings == ["OMOP:3000963"]
    assert hb.value_type is ValueType.DECIMAL and hb.unit == "g/dL"
    assert aml.value_type is ValueType.BOOLEAN
    assert (
        str(reading.problems[0])
        == "row 4, column “concept_id”: “abc” is not an OMOP concept id (digits)"
    )


def test_units_are_checked_against_ucum():
    data = b"name,label,value_type,unit\nhb,Hb,decimal,g/dL\nwbc,WBC,decimal,10*9/L\nx,X,decimal,grams per litre\ny,Y,decimal,furlongs\n"
    reading = read_template(data)
    assert [str(p) for p in reading.problems] == [
        "row 4, column “unit”: “grams per litre” is not a UCUM unit: UCUM units have no spaces (e.g. g/dL, 10*9/L)",
        "row 5, column “unit”: “furlongs” is not a UCUM unit (e.g. g/dL, 10*9/L, umol/L, %, a for years)",
    ]
