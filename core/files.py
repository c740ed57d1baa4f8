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
from typing import Any

from core.errors import ServiceError

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
    text: str, *, delimiter: str = ",", limits: FileLimits | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for each record of CSV/TSV text.

    :raises FileProblem: for a cell longer than the limit or a quote that is never closed
        (naming the line where it opened).
    :raises FileTooLarge: for more records than the limit.
    """
    limits = limits or file_limits()
    # the csv module's limit is process-wide; every reader sets it from the same setting
    csv.field_size_limit(limits.max_cell_chars)
    reader = csv.reader(_newlines(text), delimiter=delimiter)
    previous_end = 0
    records = 0
    # a quote left open swallows the rest of the file, so only the last record can hold one:
    # each record is handed on when the next one has been read
    held: tuple[int, list[str]] | None = None
    while True:
        start = previous_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            opened = _unclosed_quote(text, start)
            if opened is not None:
                raise _quote_problem(opened) from None
            if "field larger" in str(exc):
                raise FileProblem(
                    start,
                    f"a cell of the record on line {start} is longer than "
                    f"{limits.max_cell_chars:,} characters",
                ) from None
            raise FileProblem(start, f"not valid CSV on line {start} ({exc})") from None
        records += 1
        if records > limits.max_rows:
            raise FileTooLarge(
                f"The file has more than {limits.max_rows:,} rows, more than we import."
            )
        if held is not None:
            yield held
        # a cell our downloads marked (see neutralise) reads back without the mark
        held = (start, [c[1:] if c[:1] == "'" and c[1:2] in _TRIGGERS else c for c in cells])
        previous_end = reader.line_num
    if held is not None:
        if reader.line_num > held[0]:  # the last record ran over several lines
            opened = _unclosed_quote(text, held[0])
            if opened is not None:
                raise _quote_problem(opened)
        yield held


def _quote_problem(line: int) -> FileProblem:
    return FileProblem(
        line,
        f'the quote (") opened on line {line} is never closed: every line after it would be '
        'read into one cell. Close it, or double a quote inside a cell ("")',
    )


def _unclosed_quote(text: str, start: int) -> int | None:
    """The line of a quote that opens and is never closed in the text from line ``start`` to
    the end of the file, or None."""
    rest = _newlines(text).read().split("\n", start - 1)[-1] if start > 1 else text
    rest = rest.replace("\r\n", "\n").replace("\r", "\n")
    quoted = False
    opened_at = 0
    position = rest.find('"')
    while position >= 0:
        quoted = not quoted
        if quoted:
            opened_at = position
        position = rest.find('"', position + 1)
    if not quoted:
        return None
    return start + rest.count("\n", 0, opened_at)


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
                    f"The workbook has more than {limits.max_rows:,} rows, more than we import."
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
