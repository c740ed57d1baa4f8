"""The shared CSV reader (core.files.csv_rows) names a quote left open by the line and column
where it opened, whether the file ends inside it or a later quote, meant to open another cell,
ends it; cells that really hold line breaks still read as one cell. The project's own CSV files
(the demo's partner list, concepts and dictionaries) go through the same reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalogue.datasets import demo as catalogue_demo
from core import demo as core_demo
from core.files import FileLimits, FileProblem, csv_rows, read_csv_file


def rows(text: str, **options) -> list[tuple[int, list[str]]]:
    return list(csv_rows(text, limits=FileLimits(), **options))


def problem(text: str, **options) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        rows(text, **options)
    return caught.value


def test_a_quote_ended_by_a_later_cells_opening_quote_is_named_where_it_opened():
    text = 'name,label,type\nage,Age,integer\nsex,"Sex,categorical\nhb,Hb,decimal\nx,"X",text\n'
    found = problem(text)
    assert (found.line, found.column) == (3, "label")
    assert found.message.startswith('line 3, column 5: this quote (") is never closed')
    assert "line 5" in found.message  # where the quote that ended it is


def test_a_quote_the_file_ends_in_is_named_where_it_opened():
    found = problem('a,b\n1,2\n3,"never closed\n5,6\n7,8\n')
    assert (found.line, found.column) == (3, "b")
    assert found.message.startswith("line 3, column 3: this quote")
    assert "every line after it" in found.message


def test_a_tab_separated_table_after_other_lines_names_the_files_lines():
    text = 'subject\tobject\tcomment\nx\ty\t"open\nx\ty\t"z"\n'
    found = problem(text, delimiter="\t", first_line=9)
    assert (found.line, found.column) == (10, "comment")
    assert found.message.startswith("line 10, column 5: this quote")
    assert rows("a\tb\n1\t2\n", delimiter="\t", first_line=9) == [(9, ["a", "b"]), (10, ["1", "2"])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a line break inside a quoted cell, then the delimiter or the line's end
        ('a,b\n1,"x\ny",z\n5,6\n', [(1, ["a", "b"]), (2, ["1", "x\ny", "z"]), (4, ["5", "6"])]),
        ('a,b\n1,"x\ny"\n5,6\n', [(1, ["a", "b"]), (2, ["1", "x\ny"]), (4, ["5", "6"])]),
        # doubled quotes inside a quoted cell over two lines
        ('a,b\n1,"say ""hi""\nthere"\n', [(1, ["a", "b"]), (2, ["1", 'say "hi"\nthere'])]),
        # a quote inside an unquoted cell is a character (5" tall)
        ('a,b\n1,5" tall\n2,3\n', [(1, ["a", "b"]), (2, ["1", '5" tall']), (3, ["2", "3"])]),
        # a cell that closes its quote on its own line and runs on is read as before
        ('a,b\n1,"5" tall\n', [(1, ["a", "b"]), (2, ["1", "5 tall"])]),
        # blanks between the closing quote and the delimiter
        ('a,b\n1,"x\ny"  ,z\n', [(1, ["a", "b"]), (2, ["1", "x\ny  ", "z"])]),
    ],
)
def test_cells_that_hold_line_breaks_or_quotes_read_as_before(text, expected):
    assert rows(text) == expected


def test_a_cell_grown_past_the_limit_by_an_open_quote_names_the_quote():
    text = 'a,b\n1,"open\n' + "x,y\n" * 2000
    with pytest.raises(FileProblem) as caught:
        list(csv_rows(text, limits=FileLimits(max_cell_chars=1000)))
    found = caught.value
    assert found.line == 2 and found.message.startswith("line 2, column 3: this quote")


def test_the_projects_own_csv_files_name_the_file_line_and_column(tmp_path):
    path = tmp_path / "partners.csv"
    path.write_text('name,city\nAmgen,Brussels\n"Abbvie Inc,North Chicago\nX,"Y"\n')
    with pytest.raises(FileProblem) as caught:
        read_csv_file(path)
    assert caught.value.line == 3
    assert caught.value.message.startswith("partners.csv: line 3, column 1: this quote")


def test_the_demo_partner_list_is_read_by_the_shared_reader(tmp_path, monkeypatch):
    (tmp_path / "harmony_partners.csv").write_text(
        "name,city,country,country_code,category\n"
        'Amgen,Brussels,Belgium,BE,industry\nAbbvie Inc,"North Chicago, Illinois,United '
        'States,US,industry\nCharite,"Berlin",Germany,DE,academic\n'
    )
    monkeypatch.setattr(core_demo, "SHARED_DIR", tmp_path)
    with pytest.raises(FileProblem) as caught:
        core_demo.partner_organisations()
    assert "harmony_partners.csv: line 3, column 12: this quote" in caught.value.message
    (tmp_path / "harmony_partners.csv").write_text(
        "name,city,country,country_code,category\n"
        'Abbvie Inc,"North Chicago, Illinois",United States,us,industry\n'
    )
    [(name, city, country, _kind)] = core_demo.partner_organisations()
    assert (name, city, country) == ("Abbvie Inc", "North Chicago, Illinois", "US")


def test_the_demo_concepts_are_read_by_the_shared_reader(tmp_path):
    bundled = (catalogue_demo.DATA_DIR / "concepts.csv").read_text(encoding="utf-8").splitlines()
    broken = [*bundled[:3], bundled[3].replace(",", ',"', 1), *bundled[4:]]
    path = tmp_path / "concepts.csv"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    with pytest.raises(FileProblem) as caught:
        catalogue_demo.read_concepts(path)
    assert caught.value.message.startswith("concepts.csv: line 4, column")
    assert len(catalogue_demo.read_concepts(Path(catalogue_demo.DATA_DIR / "concepts.csv"))) > 200
