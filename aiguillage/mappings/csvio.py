"""CSV form of the mapping tables: ``source,field,local_value,target_system,target_code,target_display``.

Reading returns every row with its line number plus every structural issue (bad header, wrong
column count, undecodable bytes); the service validates the targets. ``;``-separated files (a
spreadsheet's French export) are accepted; a UTF-8 BOM is ignored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiguillage.errors import Issue
from aiguillage.mappings.errors import CSV_MALFORMED

COLUMNS = ("source", "field", "local_value", "target_system", "target_code", "target_display")


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    values: dict[str, str]


def read(data: bytes | str) -> tuple[list[CsvRow], list[Issue]]:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return [], [Issue("error", CSV_MALFORMED, f"not UTF-8 text (byte {exc.start})", "line 1")]
    else:
        text = data.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[CsvRow] = []
    issues: list[Issue] = []
    try:
        header = next(reader, None)
        if header is None:
            return [], [Issue("error", CSV_MALFORMED, "empty file: a header line is required", "line 1")]
        if tuple(h.strip().lower() for h in header) != COLUMNS:
            msg = f"header must be {','.join(COLUMNS)}"
            return [], [Issue("error", CSV_MALFORMED, msg, "line 1")]
        line = reader.line_num
        for record in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(COLUMNS):
                msg = f"expected {len(COLUMNS)} columns, found {len(record)}"
                issues.append(Issue("error", CSV_MALFORMED, msg, f"line {start}"))
                continue
            rows.append(CsvRow(start, dict(zip(COLUMNS, (c.strip() for c in record), strict=True))))
    except csv.Error as exc:
        issues.append(Issue("error", CSV_MALFORMED, f"unreadable CSV: {exc}", f"line {reader.line_num}"))
    return rows, issues


def write(entries: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in entries:
        writer.writerow([e["source"], e["field"], e["local_value"], e["target_system"], e["target_code"],
                         e["target_display"]])
    return out.getvalue()
