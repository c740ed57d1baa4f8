"""Exporting a dictionary as our template, and reading it back: a round trip changes nothing.
Also the ``harmony catalogue`` commands."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from catalogue.models import Mapping, MappingStatus, Variable
from core.db import get_session
from tests.catalogue.dictionary.test_import_api import by_name, etag, new_custodian, sample, upload


@pytest.fixture
def custodian(make, vocabularies):
    return new_custodian(make)


@pytest.fixture
def trial(app, client, make, custodian) -> str:
    """A draft with the every-field-type REDCap dictionary, mapped further by hand: a second
    term for a variable, a suggestion still open, a formula-looking label."""
    identifier = make.dataset(custodian["organisation"])
    text = sample("redcap_every_type.csv").decode().replace("Study ID", "=HYPERLINK(1)")
    response = upload(client, identifier, text.encode(), "trial.csv", custodian["headers"])
    assert response.status_code == 200, response.json
    with app.app_context():
        session = get_session()
        ids = {row.name: row.id for row in session.execute(select(Variable.name, Variable.id))}
        session.add_all(
            [
                Mapping(variable_id=ids["hb_dx"], object_curie="HV:0000052"),
                Mapping(
                    variable_id=ids["kps"],
                    object_curie="HV:0000179",
                    status=MappingStatus.SUGGESTED,
                    confidence=0.8,
                ),
            ]
        )
        session.commit()
    return identifier


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_csv_export_in_the_template_format(client, custodian, trial):
    response = client.get(f"/api/v1/datasets/{trial}/dictionary.csv", headers=custodian["headers"])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{trial}-v1-dictionary.csv"'
    )
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # so that Excel reads it as UTF-8
    rows = rows_of(text)
    assert rows[0] == [
        "name", "label", "value_type", "description", "form", "time_point", "unit",
        "permissible_values", "missing_codes", "term",
    ]  # fmt: skip
    by = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert len(by) == 20 and next(iter(by)) == "record_id"
    assert by["hb_dx"]["term"] == "HV:0000045|HV:0000052"
    assert by["hb_dx"]["unit"] == "g/dL" and by["hb_dx"]["value_type"] == "decimal"
    assert by["kps"]["term"] == ""  # a suggestion is not a mapping yet
    assert by["who_dx"]["permissible_values"] == (
        "1=AML with NPM1 mutation@NCIT:C82431|2=AML with RUNX1::RUNX1T1@NCIT:C9288|"
        "3=AML, myelodysplasia-related|9=Other"
    )


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_importing_an_export_changes_nothing(client, custodian, trial, extension):
    headers = custodian["headers"]
    before = by_name(client, trial, headers)
    tag = etag(client, trial, headers)
    exported = client.get(f"/api/v1/datasets/{trial}/dictionary.{extension}", headers=headers)
    assert exported.status_code == 200
    response = upload(client, trial, exported.data, f"export.{extension}", headers)
    assert response.status_code == 200, response.json
    report = response.json
    assert report["format"] == "template"
    assert {k: report[k] for k in ("added", "changed", "removed", "unchanged")} == {
        "added": 0,
        "changed": 0,
        "removed": 0,
        "unchanged": 20,
    }
    assert (report["mappings_added"], report["mappings_removed"]) == (0, 0)
    assert by_name(client, trial, headers) == before  # REDCap's sections and ranges kept too
    assert etag(client, trial, headers) == tag
    history = client.get(f"/api/v1/datasets/{trial}/history", headers=headers).json
    assert [h["action"] for h in history].count("dictionary_imported") == 1


def test_xlsx_cells_are_text(client, custodian, trial):
    response = client.get(f"/api/v1/datasets/{trial}/dictionary.xlsx", headers=custodian["headers"])
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    label = sheet.cell(row=2, column=2)
    assert (label.value, label.data_type) == ("=HYPERLINK(1)", "s")  # never a formula


def test_the_export_of_an_older_version(client, make, custodian):
    headers = custodian["headers"]
    identifier = make.dataset(
        custodian["organisation"], publish=True, variables=[{"name": "hb", "label": "Hb"}]
    )
    client.post(
        f"/api/v1/datasets/{identifier}/versions",
        headers=headers | {"If-Match": etag(client, identifier, headers)},
    )
    upload(client, identifier, sample("template_good.csv"), "d.csv", headers, confirm_removals=True)
    draft = rows_of(
        client.get(f"/api/v1/datasets/{identifier}/dictionary.csv", headers=headers).get_data(
            as_text=True
        )
    )
    assert len(draft) == 9
    public = rows_of(
        client.get(f"/api/v1/datasets/{identifier}/dictionary.csv").get_data(as_text=True)
    )
    assert [r[0] for r in public[1:]] == ["hb"]
    old = client.get(f"/api/v1/datasets/{identifier}/dictionary.xlsx?version=1")
    assert old.headers["Content-Disposition"].endswith('-v1-dictionary.xlsx"')


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_the_command_line_imports_and_exports(cli, app, make, tmp_path, vocabularies):
    identifier = make.dataset(make.organisation())
    path = tmp_path / "trial.csv"
    path.write_bytes(sample("redcap_every_type.csv"))
    result = cli.invoke(args=["catalogue", "import-dictionary", identifier, str(path)])
    assert result.exit_code == 0, result.output
    assert f"{identifier} version 1: redcap dictionary trial.csv, 21 rows read" in result.stdout
    assert "20 added, 0 changed, 0 removed, 0 unchanged" in result.stdout
    assert "writing …" in result.stderr  # progress
    assert "note: row 3: descriptive field “enrol_intro”" in result.stderr

    out = tmp_path / "export.csv"
    exported = cli.invoke(args=["catalogue", "export-dictionary", identifier, "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert len(rows_of(out.read_text(encoding="utf-8"))) == 21
    to_stdout = cli.invoke(args=["catalogue", "export-dictionary", identifier])
    assert rows_of(to_stdout.stdout)[1][0] == "record_id"
    xlsx = tmp_path / "export.xlsx"
    cli.invoke(
        args=["catalogue", "export-dictionary", identifier, "--format", "xlsx", "-o", str(xlsx)]
    )
    again = cli.invoke(
        args=["catalogue", "import-dictionary", identifier, str(xlsx), "--format", "template"]
    )
    assert again.exit_code == 0, again.output
    assert "0 added, 0 changed, 0 removed, 20 unchanged" in again.stdout


def test_the_command_line_fails_with_the_problems(cli, make, tmp_path, vocabularies):
    identifier = make.dataset(make.organisation())
    path = tmp_path / "broken.csv"
    path.write_bytes(sample("redcap_broken.csv"))
    result = cli.invoke(args=["catalogue", "import-dictionary", identifier, str(path)])
    assert result.exit_code == 1
    assert "problem: row 5, column “Field Type”: unknown field type “listbox”" in result.stderr
    assert "not imported, 6 problems" in result.stderr
    unknown = cli.invoke(args=["catalogue", "import-dictionary", "no-such-dataset", str(path)])
    assert unknown.exit_code == 1 and "No dataset" in unknown.stderr
