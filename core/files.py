"""Reading the files people upload, and writing the CSV files they download — safely, in one place.

Every reader of an uploaded table (dictionary CSV/XLSX, REDCap, OMOP, SSSOM/TSV) goes through
:func:`decode_text`, :func:`csv_rows` and :func:`workbook_rows`, so that each hostile or odd file
meets the same answer wherever it is sent:

- text in UTF-8, UTF-16 or UTF-32 (with or without a byte-order mark) is read as such; bytes that
  are none of them, and NUL characters (which PostgreSQL cannot store), are a :class:`FileProblem`
  naming the line;
- CR-only line endings (old Mac files) read like LF and CRLF;
- a quote left open is named by the line where it opened (the csv module would quietly read the
  rest of the file into one cell);
- a cell longer than ``UPLOAD_MAX_CELL_CHARS`` is a problem on its line, not a ``_csv.Error``;
- an XLSX workbook is checked before openpyxl opens it: the sum of its members' uncompressed
  sizes and their compression ratio (a decompression bomb inflates a 1 MB file to gigabytes) are
  capped, and its rows and columns are read streaming (read-only mode) up to a cap;
- more rows than ``UPLOAD_MAX_ROWS`` is :class:`FileTooLarge` (413);
- a cell that our own CSV downloads neutralised (``'=…``, see below) reads back without the mark.

Every CSV download goes through :func:`csv_writer`, which neutralises cells that a spreadsheet
would run as a formula (OWASP "CSV injection"): a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading ``'``. Numbers (``int``, ``float``, ``Decimal``
values, not text that looks like one) are written as they are: a column is numeric only when the
code that fills it hands over numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.errors import ServiceError
from core.text import plural

# the defaults of the settings of the same names (see core.config)
DEFAULT_MAX_ROWS = 1_000_000
DEFAULT_MAX_COLUMNS = 500
DEFAULT_MAX_CELL_CHARS = 1_000_000
DEFAULT_XLSX_MAX_UNCOMPRESSED_MB = 512
DEFAULT_XLSX_MAX_RATIO = 100

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGERS = frozenset(FORMULA_TRIGGERS)

# (byte-order mark, codec) — UTF-32 first: its little-endian mark begins with UTF-16's
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class FileProblem(ValueError):
    """The file cannot be read from this line on (``line`` is 1-based, ``column`` a header
    name or None). Readers turn it into a 422 report entry."""

    def __init__(self, line: int, message: str, column: str | None = None):
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


class FileTooLarge(ServiceError):
    """The file is within the upload limit but unfolds into more than we read (413)."""

    # the same type and title as a body over MAX_UPLOAD_MB: to a client, both are "too large"
    status, title, slug = 413, "Request too large", "413"


@dataclass(frozen=True)
class FileLimits:
    max_rows: int = DEFAULT_MAX_ROWS
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS
    xlsx_max_uncompressed_bytes: int = DEFAULT_XLSX_MAX_UNCOMPRESSED_MB * 1024 * 1024
    xlsx_max_ratio: int = DEFAULT_XLSX_MAX_RATIO


def file_limits() -> FileLimits:
    """The limits of the running application (its settings), else the defaults (a reader used
    outside an application, e.g. in a script)."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return FileLimits()
    config = current_app.config
    return FileLimits(
        max_rows=int(config.get("UPLOAD_MAX_ROWS", DEFAULT_MAX_ROWS)),
        max_columns=int(config.get("UPLOAD_MAX_COLUMNS", DEFAULT_MAX_COLUMNS)),
        max_cell_chars=int(config.get("UPLOAD_MAX_CELL_CHARS", DEFAULT_MAX_CELL_CHARS)),
        xlsx_max_uncompressed_bytes=int(
            config.get("XLSX_MAX_UNCOMPRESSED_MB", DEFAULT_XLSX_MAX_UNCOMPRESSED_MB)
        )
        * 1024
        * 1024,
        xlsx_max_ratio=int(config.get("XLSX_MAX_RATIO", DEFAULT_XLSX_MAX_RATIO)),
    )


# --- text -----------------------------------------------------------------------------------


def _encoding_of(data: bytes) -> tuple[str, int]:
    """(codec, length of the byte-order mark). Without a mark, the NUL bytes that UTF-16 and
    UTF-32 put next to every ASCII character give them away (UTF-8 text has none)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    head = data[:4]
    if len(head) == 4 and b"\x00" in head:
        if head[1:] == b"\x00\x00\x00":
            return "utf-32-le", 0
        if head[:3] == b"\x00\x00\x00":
            return "utf-32-be", 0
        if head[1] == 0 and head[3] == 0:
            return "utf-16-le", 0
        if head[0] == 0 and head[2] == 0:
            return "utf-16-be", 0
    return "utf-8", 0


def decode_text(data: bytes) -> str:
    """The text of an uploaded text file (UTF-8, UTF-16 or UTF-32; see the module docstring).

    :raises FileProblem: for bytes its encoding cannot read, or a NUL character, naming the
        line.
    """
    codec, skip = _encoding_of(data)
    try:
        text = data[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        line = _line_at(data[skip:], exc.start, codec)
        guess = ""
        if codec == "utf-8":
            try:
                data.decode("cp1252")
            except UnicodeDecodeError:
                pass
            else:
                guess = " It looks like Windows-1252 (Excel's plain “CSV” format)."
        bad = data[skip + exc.start]
        name = {"utf-8": "UTF-8"}.get(codec, codec.upper().replace("-LE", "").replace("-BE", ""))
        raise FileProblem(
            line,
            f"the file is not {name} text: byte 0x{bad:02X} on line {line} cannot be read."
            f"{guess} Save or export it as “CSV UTF-8” and upload it again",
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise FileProblem(
            line, f"line {line} holds a NUL character (byte 0), which is not text: remove it"
        )
    return text


def _line_at(data: bytes, offset: int, codec: str) -> int:
    newline = "\n".encode(codec)
    return data.count(newline, 0, offset) + 1


def _newlines(text: str) -> io.StringIO:
    # universal newlines: CR-only (old Mac) and CRLF files read as LF, so lines count right
    return io.StringIO(text, newline=None)


# --- CSV ------------------------------------------------------------------------------------


def sniff_delimiter(text: str, delimiters: str = ",;\t") -> str:
    """The delimiter of the header line: the one of ``delimiters`` it holds most of."""
    first = _newlines(text[:65536]).readline().lstrip("\ufeff")
    return max(delimiters, key=first.count)


def csv_rows(
    text: str,
    *,
    delimiter: str = ",",
    limits: FileLimits | None = None,
    first_line: int = 1,
) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for each record of CSV/TSV text.

    ``first_line``: the number of the text's first line in its file, for a table that follows
    other lines (SSSOM's metadata block), so that every line a problem names is the file's.

    A quote left open is the one mistake the csv module cannot see: it reads on, across line
    ends, to the next quote in the file (perhaps the opening quote of a cell rows later) and
    hands back rows whose cells have slid, so that a reader would blame a later row for an
    "unknown value type". A record that runs over several lines is therefore read again by
    :func:`_open_quote`, which finds a quoted cell that crosses a line end and either never
    ends or ends in a quote followed by more text (the quote that closed it was meant to open
    another cell); the problem names the line and column of the quote that opened it. Cells
    that legitimately hold line breaks (REDCap labels, say) are quoted and end in a quote
    followed by the delimiter or the end of the line, and read as before.

    :raises FileProblem: for a cell longer than the limit or a quote that is never closed
        (naming the line and column where it opened).
    :raises FileTooLarge: for more records than the limit.
    """
    limits = limits or file_limits()
    # the csv module's limit is process-wide; every reader sets it from the same setting
    csv.field_size_limit(limits.max_cell_chars)
    consumed: list[str] = []  # the physical lines of the record being read

    def lines() -> Iterator[str]:
        for line in _newlines(text):
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    previous_end = first_line - 1
    records = 0
    header: list[str] | None = None
    while True:
        start = previous_end + 1
        consumed.clear()
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # a quote left open makes the cell grow until it is too long: name the quote
            _check_quotes(consumed, start, delimiter, header)
            if "field larger" in str(exc):
                raise FileProblem(
                    start,
                    f"a cell of the record on line {start} is longer than "
                    f"{limits.max_cell_chars:,} characters",
                ) from None
            raise FileProblem(start, f"not valid CSV on line {start} ({exc})") from None
        if len(consumed) > 1:
            _check_quotes(consumed, start, delimiter, header)
        records += 1
        if records > limits.max_rows:
            raise FileTooLarge(
                f"The file has more than {plural(limits.max_rows, 'row')}, more than we import."
            )
        # a cell our downloads marked (see neutralise) reads back without the mark
        cells = [c[1:] if c[:1] == "'" and c[1:2] in _TRIGGERS else c for c in cells]
        if header is None:
            header = cells
        yield start, cells
        previous_end = first_line - 1 + reader.line_num


@dataclass(frozen=True)
class OpenQuote:
    """A quote that opens a cell and is never closed: where it is (1-based line and column of
    the quote, the cell's index in its record) and the line where a later quote ended the cell
    (None: the file ended inside it)."""

    line: int
    column: int
    cell: int
    ended_on: int | None


def _open_quote(lines: list[str], start: int, delimiter: str) -> OpenQuote | None:
    """The quote left open in one record, read as the csv module reads it (a quote opens a
    cell only at the cell's start; two quotes inside a quoted cell are one quote), or None.

    ``lines``: the record's physical lines (ending in a line feed, the last one perhaps not),
    ``start``: the number of the first. Only a quoted cell that crosses a line end counts:
    one that closes on its own line and runs on (``"5" tall``) is read as the csv module
    reads it, as before."""
    text = "".join(lines)
    line, line_start, cell = start, 0, 0
    at_cell_start, quoted = True, False
    opened = (0, 0, 0)
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if quoted:
            if char == '"':
                if text.startswith('"', i + 1):
                    i += 2
                    continue
                quoted = False
                if line > opened[0]:  # the cell crossed a line end: what follows the quote?
                    rest = text[i + 1 : _end_of_cell(text, i + 1, delimiter)]
                    if rest.strip():
                        return OpenQuote(opened[0], opened[1], opened[2], line)
            elif char == "\n":
                line, line_start = line + 1, i + 1
        elif char == delimiter:
            cell += 1
            at_cell_start = True
            i += 1
            continue
        elif char == "\n":
            line, line_start, cell = line + 1, i + 1, 0
            at_cell_start = True
            i += 1
            continue
        elif char == '"' and at_cell_start:
            quoted = True
            opened = (line, i - line_start + 1, cell)
        at_cell_start = False
        i += 1
    if quoted:
        return OpenQuote(opened[0], opened[1], opened[2], None)
    return None


def _end_of_cell(text: str, position: int, delimiter: str) -> int:
    ends = [i for i in (text.find(delimiter, position), text.find("\n", position)) if i >= 0]
    return min(ends) if ends else len(text)


def _check_quotes(lines: list[str], start: int, delimiter: str, header: list[str] | None) -> None:
    """:raises FileProblem: naming the quote left open in the record, when there is one."""
    found = _open_quote(lines, start, delimiter)
    if found is None:
        return
    heading = None
    if header is not None and found.cell < len(header) and header[found.cell].strip():
        heading = header[found.cell].strip()
    where = f"line {found.line}, column {found.column}"
    if found.ended_on is None:
        consequence = "every line after it would be read into one cell"
    else:
        consequence = (
            f"the cell it opens would run on to the next quote, on line {found.ended_on}, "
            "taking in every line between"
        )
    raise FileProblem(
        found.line,
        f'{where}: this quote (") is never closed: {consequence}. Close it, or write a quote '
        'inside a cell twice ("")',
        column=heading,
    )


def read_csv_file(path: Path) -> list[dict[str, str]]:
    """The rows of one of the project's own CSV files (the demo's data, a partner list) as
    dictionaries keyed by the header row, read by :func:`csv_rows` like an upload, so that a
    slip made while editing one (a quote left open) is named by its line and column instead of
    shifting the cells of later rows. Short rows are padded with ``""``.

    :raises FileProblem: with the file's name in the message, for text that cannot be read.
    """
    try:
        rows = csv_rows(decode_text(path.read_bytes()), limits=FileLimits())
        header = [cell.strip() for cell in next(rows, (0, []))[1]]
        return [
            dict(zip(header, [*cells, *[""] * (len(header) - len(cells))], strict=False))
            for _line, cells in rows
            if any(cell.strip() for cell in cells)
        ]
    except FileProblem as exc:
        raise FileProblem(exc.line, f"{path.name}: {exc.message}", exc.column) from None


def check_header(cells: Iterable[str], *, line: int = 1) -> None:
    """:raises FileProblem: for a column heading that appears twice (after trimming and
    ignoring case, as the readers match them)."""
    seen: dict[str, str] = {}
    for cell in cells:
        key = " ".join(cell.split()).lower().replace(" ", "_")
        if not key:
            continue
        if key in seen:
            raise FileProblem(
                line,
                f"the column “{cell.strip()}” appears twice in the header row: keep one",
                column=cell.strip(),
            )
        seen[key] = cell


# --- XLSX -----------------------------------------------------------------------------------


def check_workbook(data: bytes, limits: FileLimits | None = None) -> None:
    """Refuse a workbook that would unfold into more than we read, before opening it.

    The sizes a zip declares are the most its members unpack to (Python's zipfile stops at
    the declared size and checks the CRC), so they can be trusted as a bound.

    :raises FileProblem: for a file that is not a zip archive (not a workbook).
    :raises FileTooLarge: for members over the size or compression-ratio limit.
    """
    limits = limits or file_limits()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileProblem(1, f"not a readable Excel workbook ({exc})") from None
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if unpacked > limits.xlsx_max_uncompressed_bytes:
        raise FileTooLarge(
            f"The workbook unpacks to {unpacked / 1024 / 1024:,.0f} MB, more than the "
            f"{limits.xlsx_max_uncompressed_bytes / 1024 / 1024:,.0f} MB we read: save it as "
            "CSV, or split it."
        )
    worst = max((m.file_size / max(m.compress_size, 1) for m in members), default=0)
    if unpacked / packed > limits.xlsx_max_ratio or (
        worst > limits.xlsx_max_ratio and unpacked > 10 * 1024 * 1024
    ):
        raise FileTooLarge(
            f"The workbook unpacks to {unpacked / packed:,.0f} times its size, more than a "
            f"spreadsheet does (limit: {limits.xlsx_max_ratio} times): it is refused as a possible "
            "decompression bomb. Save it as CSV and upload that."
        )


def workbook_rows(
    data: bytes, limits: FileLimits | None = None
) -> Iterator[tuple[int, list[str | None]]]:
    """(row number, cells as text or None) of the first sheet of an XLSX workbook, streamed.

    :raises FileProblem: for a file openpyxl cannot read.
    :raises FileTooLarge: see :func:`check_workbook`; more rows than the limit.
    """
    from openpyxl import load_workbook

    limits = limits or file_limits()
    check_workbook(data, limits)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a broken workbook
        raise FileProblem(1, f"not a readable Excel workbook ({exc})") from None
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        # read-only rows are padded to the sheet's declared width: no wider than the limit
        width = min(limits.max_columns, sheet.max_column or limits.max_columns)
        rows = sheet.iter_rows(values_only=True, max_col=width)
        for number, row in enumerate(rows, start=1):
            if number > limits.max_rows:
                raise FileTooLarge(
                    f"The workbook has more than {plural(limits.max_rows, 'row')}, more than we "
                    "import."
                )
            cells = [None if cell is None else str(cell) for cell in row]
            while cells and cells[-1] is None:
                cells.pop()
            yield number, cells
    except (FileTooLarge, FileProblem):
        raise
    except Exception as exc:  # a broken sheet surfaces while it is streamed
        raise FileProblem(1, f"not a readable Excel workbook ({exc})") from None
    finally:
        workbook.close()


# --- CSV downloads --------------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """A cell as a spreadsheet may open it: text that starts like a formula gets a leading
    ``'``; numbers, None and other text pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class SafeWriter:
    """A ``csv.writer`` whose rows are neutralised (see :func:`neutralise`)."""

    def __init__(self, out: Any, **options: Any):
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **options: Any) -> SafeWriter:
    """The writer of every CSV (and TSV) download: ``csv.writer`` options, formula-safe."""
    return SafeWriter(out, **options)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
