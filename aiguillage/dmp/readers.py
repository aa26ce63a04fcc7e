"""Rows out of TSV/CSV/XLSX files, whatever the encoding (UTF-8 or Windows-1252, detected)."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from .errors import DmpInputError

_CHUNK = 1 << 20


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
    """Headers and a one-pass iterator of (physical line number, cells)."""

    path: Path
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str


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
    reader = csv.reader(fh, delimiter=_sniff_delimiter(first, p.suffix.lower()), quoting=csv.QUOTE_MINIMAL)
    try:
        headers = next(reader)
    except StopIteration:
        fh.close()
        raise DmpInputError(f"empty file: {p.name}", "DMP-0001") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for row in reader:
                if row and any(row):
                    yield reader.line_num, row
        finally:
            fh.close()

    return Table(p, headers, rows(), encoding)


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

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for n, row in enumerate(it, start=2):
                cells = [_cell(v) for v in row]
                if any(cells):
                    yield n, cells
        finally:
            wb.close()

    return Table(p, headers, rows(), "xlsx")
