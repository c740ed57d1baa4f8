"""The dictionary upload page: a REDCap file imported with its report, a broken file explained
row by row with nothing changed, and the form's own errors."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from core.models import Role
from tests.conftest import csrf_token, login

pytestmark = pytest.mark.usefixtures("vocabularies")

REDCAP = (Path(__file__).parent / "data" / "aml_trial_redcap.csv").read_bytes()


def text(response) -> str:
    return response.get_data(as_text=True)


def etag_of(html: str) -> str:
    match = re.search(r'name="revision" value="([^"]+)"', html)
    assert match
    return match.group(1).replace("&#34;", '"')


@pytest.fixture
def setup(make, client):
    org = make.organisation()
    custodian = make.user(Role.CUSTODIAN, organisation=org)
    identifier = make.dataset(org)
    login(client, custodian.email)
    return identifier


def upload(client, identifier, data: bytes, filename: str, fmt: str = "", revision=None):
    page = text(client.get(f"/datasets/{identifier}/dictionary"))
    return client.post(
        f"/datasets/{identifier}/dictionary",
        data={
            "csrf_token": csrf_token(client, "/"),
            "revision": revision or etag_of(page),
            "format": fmt,
            "file": (io.BytesIO(data), filename),
        },
        content_type="multipart/form-data",
    )


def test_the_page_explains_the_formats_and_offers_the_template(client, setup):
    html = text(client.get(f"/datasets/{setup}/dictionary"))
    assert '<input id="file" name="file" type="file"' in html
    assert 'value="redcap"' in html and 'value="omop"' in html and 'value="template"' in html
    assert 'href="/api/v1/dictionary-template.csv"' in html
    assert 'href="/api/v1/dictionary-template.xlsx"' in html
    dataset_page = text(client.get(f"/datasets/{setup}"))
    assert f'href="/datasets/{setup}/dictionary"' in dataset_page  # "Upload dictionary"


def test_a_redcap_dictionary_is_imported_with_a_report(client, setup):
    response = upload(client, setup, REDCAP, "aml_trial_redcap.csv")
    assert response.status_code == 200
    html = text(response)
    assert "Imported aml_trial_redcap.csv" in html
    assert "REDCap data dictionary" in html and "18 rows read" in html
    figures = {
        label: value
        for value, label in re.findall(
            r'<span class="figure-value">([\d,]+)</span><span class="figure-label">([^<]+)<', html
        )
    }
    assert figures["variables in the file"] == "17" and figures["added"] == "17"
    assert figures["removed"] == "0"
    notes = html.split('class="table problem-table"')[1].split("</table>")[0]
    assert '<td class="num">3</td>' in notes and "descriptive field" in notes
    variables = text(client.get(f"/datasets/{setup}"))
    assert "17 variables" in variables and "<code>flt3itd</code>" in variables
    assert "Imported the dictionary from aml_trial_redcap.csv" in variables  # history
    assert f"/api/v1/datasets/{setup}/dictionary.csv" in variables  # downloads

    again = upload(client, setup, REDCAP, "aml_trial_redcap.csv", fmt="redcap")
    assert again.status_code == 200
    assert '<span class="figure-value">17</span><span class="figure-label">unchanged<' in text(
        again
    )


def test_a_broken_file_is_explained_row_by_row_and_changes_nothing(client, setup):
    broken = REDCAP.replace(b"1, Male | 2, Female", b"1 Male ; 2 Female").replace(
        b"fu_date,follow_up,,text", b"fu_date,follow_up,,sparkle"
    )
    response = upload(client, setup, broken, "broken.csv")
    assert response.status_code == 422
    html = text(response)
    assert "Nothing was imported: 2 problems in broken.csv" in html
    rows = re.findall(
        r'<tr><td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>',
        html.split("Problems in the file")[1].split("</table>")[0],
    )
    assert [(row, column) for row, column, _ in rows] == [
        ("4", "Choices, Calculations, OR Slider Labels"),
        ("19", "Field Type"),
    ]
    assert "sparkle" in rows[1][2]
    assert "No data dictionary yet." in text(client.get(f"/datasets/{setup}"))


def test_form_errors(client, setup):
    page = text(client.get(f"/datasets/{setup}/dictionary"))
    token = csrf_token(client, "/")
    missing = client.post(
        f"/datasets/{setup}/dictionary",
        data={"csrf_token": token, "revision": etag_of(page), "format": ""},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 422
    assert 'id="file-error">Choose the dictionary file to upload.' in text(missing)
    wrong = upload(client, setup, b"%PDF-1.4", "protocol.pdf")
    assert wrong.status_code == 415 and 'id="file-error"' in text(wrong)
    stale = upload(client, setup, REDCAP, "aml.csv", revision='"stale-1"')
    assert stale.status_code == 412 and "Nothing was imported." in text(stale)


def test_published_datasets_and_strangers(client, make, app):
    org = make.organisation()
    published = make.dataset(org, publish=True)
    draft = make.dataset(org)
    login(client, make.user(Role.CUSTODIAN, organisation=org).email)
    closed = client.get(f"/datasets/{published}/dictionary")
    assert closed.status_code == 409 and "New version" in text(closed)
    stranger = app.test_client()
    login(stranger, make.user(Role.CUSTODIAN).email)
    assert stranger.get(f"/datasets/{draft}/dictionary").status_code == 404
    assert stranger.get(f"/datasets/{published}/dictionary").status_code == 403
    response = stranger.post(
        f"/datasets/{draft}/dictionary",
        data={"csrf_token": csrf_token(stranger, "/"), "file": (io.BytesIO(REDCAP), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404


def test_counts_of_one_read_in_the_singular(client, setup):
    """Issue 15: "1 rows were read", "1 mappings came with the file"."""
    broken = upload(client, setup, b"name,label,value_type\nage,Age,number of years\n", "one.csv")
    assert broken.status_code == 422
    html = text(broken)
    assert "Nothing was imported: 1 problem in one.csv" in html
    assert "1 row was read as" in html and "1 rows" not in html
    assert "Fix it in the file" in html
    one = b"name,label,value_type,term\nhb,Haemoglobin,decimal,HV:0000045\n"
    response = upload(client, setup, one, "one.csv")
    imported = text(response)
    assert response.status_code == 200, re.sub(r"<[^>]+>", " ", imported)[-3000:]
    assert "1 row read" in imported
    assert '<span class="figure-label">variable in the file</span>' in imported
    assert "1 mapping came with the file; 0 mappings of removed variables" in imported
    assert "has 1 variable now" in text(client.get(f"/datasets/{setup}/dictionary"))
