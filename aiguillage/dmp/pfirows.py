"""PFI "Infocentre DMPv2" rows to Trace records, a million rows at a time.

Each row first takes a fast path: one look over its identifier cells for the only marks of damage
an identifier can carry (``#`` of an overflowed cell, ``+`` of scientific notation, a hyphen where a
truncated UUID would have it), then dictionary lookups of its low-cardinality cells in the
``Cells.clean_*`` tables, which hold only values that clean without any event. Any cell the fast
path cannot vouch for sends the whole row through ``_slow_row``, the full per-cell cleaning, so
every repair, rejection and warning is reported exactly as before, in the same order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from operator import itemgetter
from typing import cast

from .cells import Cells
from .columns import HEADERS, SheetKind
from .readers import Table
from .records import Action, Decision, Trace
from .report import ImportReport

_FIELDS = tuple(HEADERS[SheetKind.PFI])  # the order unpacked below
_Row = tuple[str, str, str, str, str, str, str, str, str, str, str, str, str, str, str]


def _uuid_suspect(value: str) -> bool:
    """Whether ``looks_truncated_uuid`` could hold: its first hyphen is at index 6 to 8."""
    return 6 <= value.find("-") <= 8 and len(value) != 36


class Dedup:
    """Exact duplicate rows of one file: reported with the line of the first occurrence.

    Rows are keyed by the hash of their cells (64 bits, in-process): a million rows cost a dict of
    ints, never the rows themselves.
    """

    __slots__ = ("file", "report", "seen")

    def __init__(self, report: ImportReport, file: str) -> None:
        self.seen: dict[int, int] = {}
        self.report = report
        self.file = file

    def duplicate(self, line: int, row: list[str]) -> bool:
        first = self.seen.setdefault(hash(tuple(row)), line)
        if first == line:
            return False
        self.reported(line, first, row)
        return True

    def reported(self, line: int, first: int, row: list[str]) -> None:
        self.report.add(
            "rejection",
            "DMP-0106",
            self.file,
            line,
            None,
            "\t".join(row),
            f"same row as line {first}: counted once",
        )


def pfi_traces(
    table: Table,
    mapping: dict[str, int],
    cells: Cells,
    report: ImportReport,
    known_ipps: Collection[str] | None,
) -> Iterator[Trace]:
    """Traces of a PFI export; rows must be padded so index -1 reads "" (missing columns)."""
    name = table.path.name
    width = len(table.headers)
    dedup = Dedup(report, name)
    seen = dedup.seen
    authors: set[str] = set()
    cells_of = itemgetter(*(mapping.get(f, -1) for f in _FIELDS))
    strip = str.strip
    loinc_get = cells.clean_loinc.get
    status_get = cells.clean_status.get
    bool_get = cells.clean_bool.get
    action_get = cast("dict[str, Action]", cells.clean_vocab.setdefault("action", {})).get
    decision_get = cast("dict[str, Decision]", cells.clean_vocab.setdefault("decision", {})).get
    when_get = cells.clean_when.get
    when = cells.when
    add_author = authors.add
    read = kept = 0
    try:
        for line, row in table.rows:
            read += 1
            first = seen.setdefault(hash(tuple(row)), line)
            if first != line:
                dedup.reported(line, first, row)
                continue
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            row.append("")  # index -1: the value of every column the file lacks
            c = cast(_Row, tuple(map(strip, cells_of(row))))
            d, sara, code, masking, ins, domain, ipp, src, author, share, action, decision, req, resp, status_raw = c
            ids = d + ipp + src + author + share
            trace: Trace | None = None
            if "#" not in ids and "+" not in ids and not _uuid_suspect(d) and not _uuid_suspect(share):
                status = status_get(status_raw)
                loinc = loinc_get(code) if code else None
                ins_present = bool_get(ins)
                act = action_get(action) if action else Action.UNKNOWN
                dec = decision_get(decision) if decision else Decision.UNKNOWN
                if (
                    status is not None
                    and (loinc is not None or not code)
                    and ins_present is not None
                    and act is not None
                    and dec is not None
                ):
                    if author:
                        add_author(author)
                    requested = (when_get(req) or when(line, "requested_at", req)) if req else None
                    answered = (when_get(resp) or when(line, "answered_at", resp)) if resp else None
                    trace = Trace(
                        d or None,
                        loinc,
                        status,
                        status_raw,
                        ipp or None,
                        None,
                        sara or None,
                        masking or None,
                        ins_present,
                        domain or None,
                        src or None,
                        author or None,
                        share or None,
                        act,
                        dec,
                        requested,
                        answered,
                        None,
                        f"{name}:{line}",
                    )
            if trace is None:
                trace = _slow_row(cells, line, c, known_ipps, authors, f"{name}:{line}")
            if trace.document_id is None and trace.loinc is None:
                report.reject("DMP-0111", name, line, None, None, "neither document id nor type: row rejected")
                continue
            kept += 1
            yield trace
    finally:
        report.rows_read[name] += read
        report.rows_kept[name] += kept


def _slow_row(
    cells: Cells, line: int, c: _Row, known_ipps: Collection[str] | None, authors: set[str], source: str
) -> Trace:
    """The full per-cell cleaning of one row, reporting every event in column order."""
    d, sara, code, masking, ins, domain, ipp, src, author_raw, share, action, decision, req, resp, status_raw = c
    doc_id = cells.ident(line, "document_id", d, check_uuid=True)
    status = cells.status(line, "status", status_raw)
    author = cells.ident(line, "author_id", author_raw, authors)
    if author:
        authors.add(author)
    return Trace(
        doc_id,
        cells.loinc(line, "loinc", code),
        status,
        status_raw,
        ipp=cells.ident(line, "ipp", ipp, known_ipps),
        sara_type=sara or None,
        masking=masking or None,
        ins_present=cells.boolean(line, "ins_present", ins),
        domain=domain or None,
        source_author_id=cells.ident(line, "source_author_id", src),
        author_id=author,
        share_id=cells.ident(line, "share_id", share, check_uuid=True),
        action=cells.vocab(line, "action", action, Action, Action.UNKNOWN),
        decision=cells.vocab(line, "decision", decision, Decision, Decision.UNKNOWN),
        requested_at=cells.when(line, "requested_at", req),
        answered_at=cells.when(line, "answered_at", resp),
        source=source,
    )
