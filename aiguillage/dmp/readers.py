"""Rows out of TSV/CSV/XLSX files, whatever the encoding (UTF-8 or Windows-1252, detected)."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from pathlib import Path
from typing import TextIO

from .errors import DmpInputError

_CHUNK = 1 << 20
_PLAIN_LINE_MAX = 100_000  # csv.field_size_limit() is 131,072: longer lines go to the csv module


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file decodes as UTF-8, else ``cp1252`` (``latin-1`` fallback)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        with path.open("rb") as fh:
            dec = codecs.getincrementaldecoder("cp1252")()
            while chunk := fh.read(_CHUNK):
                dec.decode(chunk)
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _sniff_delimiter(first_line: str, suffix: str) -> str:
    if suffix in (".tsv", ".tab"):
        return "\t"
    counts = {d: first_line.count(d) for d in ("\t", ";", ",")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


@dataclass
class Table:
    """Headers and a one-pass iterator of (physical line number, cells, row key).

    The row key is an in-process hash of the row's cells (equal cells, equal key): duplicate
    detection keeps these ints, never the rows.
    """

    path: Path
    headers: list[str]
    rows: Iterator[tuple[int, list[str], int]]
    encoding: str


def row_key(row: list[str], delimiter: str = "\t") -> int:
    """The key of a row parsed by the csv module: the hash of its line as an unquoted file has it."""
    joined = delimiter.join(row)
    if joined.count(delimiter) == len(row) - 1:  # no cell holds the delimiter: unambiguous
        return hash(joined)
    return hash(tuple(row))


def open_table(path: str | Path) -> Table:
    p = Path(path)
    if not p.is_file():
        raise DmpInputError(f"file not found: {p.name}", "DMP-0001")
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return _open_xlsx(p)
    encoding = detect_encoding(p)
    fh = p.open("r", encoding=encoding, newline="")
    first = fh.readline()
    fh.seek(0)
    delimiter = _sniff_delimiter(first, p.suffix.lower())
    reader = csv.reader(fh, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
    try:
        headers = next(reader)
    except StopIteration:
        fh.close()
        raise DmpInputError(f"empty file: {p.name}", "DMP-0001") from None
    return Table(p, headers, _rows(fh, delimiter, reader.line_num), encoding)


def _rows(fh: TextIO, delimiter: str, consumed: int) -> Iterator[tuple[int, list[str], int]]:
    """Rows after the header, as ``csv.reader`` gives them, with ``line_num`` and the row key.

    A line without quotes, NUL or very long text is split on the delimiter directly: for such a
    line that is exactly what the csv module does, at a fraction of the cost, and the line itself
    gives the row key. From the first line that has any of them on, the csv module reads the rest
    (quoted cells may hold delimiters and line breaks).
    """
    line_no = consumed
    lines = iter(fh)
    try:
        for line in lines:
            line_no += 1
            if '"' in line or "\0" in line or len(line) > _PLAIN_LINE_MAX:
                reader = csv.reader(chain((line,), lines), delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
                before = line_no - 1
                for row in reader:
                    if row and any(row):
                        yield before + reader.line_num, row, row_key(row, delimiter)
                return
            text = line.rstrip("\r\n")
            row = text.split(delimiter)
            if any(row):
                yield line_no, row, hash(text)
    finally:
        fh.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.strftime("%d/%m/%Y %H:%M:%S")
            if (value.hour or value.minute or value.second)
            else (value.strftime("%d/%m/%Y"))
        )
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _open_xlsx(p: Path) -> Table:
    from openpyxl import load_workbook  # local: keep import time low for the CLI

    try:
        wb = load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise DmpInputError(f"unreadable workbook: {p.name}", "DMP-0001") from exc
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    try:
        headers = [_cell(v) for v in next(it)]
    except StopIteration:
        wb.close()
        raise DmpInputError(f"empty workbook: {p.name}", "DMP-0001") from None

    def rows() -> Iterator[tuple[int, list[str], int]]:
        try:
            for n, row in enumerate(it, start=2):
                cells = [_cell(v) for v in row]
                if any(cells):
                    yield n, cells, row_key(cells)
        finally:
            wb.close()

    return Table(p, headers, rows(), "xlsx")
