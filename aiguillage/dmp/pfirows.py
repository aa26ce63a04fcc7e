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
from datetime import datetime
from operator import itemgetter
from typing import cast

from .cells import Cells
from .columns import HEADERS, SheetKind
from .dedup import Dedup
from .readers import Table, open_table
from .records import Action, Decision, Trace
from .report import ImportReport

_FIELDS = tuple(HEADERS[SheetKind.PFI])  # the order unpacked below
_Row = tuple[str, str, str, str, str, str, str, str, str, str, str, str, str, str, str]


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
    dedup = Dedup(report, name, lambda: open_table(table.path).rows)
    seen = dedup.seen
    seen_add = seen.add
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
        for line, row, key in table.rows:
            read += 1
            n_seen = len(seen)
            seen_add(key)
            if len(seen) == n_seen:
                dedup.reported(line, row, key)
                continue
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            row.append("")  # index -1: the value of every column the file lacks
            d, sara, code, masking, ins, domain, ipp, src, author, share, action, decision, req, resp, status_raw = map(
                strip, cells_of(row)
            )
            ids = d + ipp + src + author + share
            trace: Trace | None = None
            if (
                "#" not in ids
                and "+" not in ids
                and not (6 <= d.find("-") <= 8 and len(d) != 36)  # the only shape looks_truncated_uuid admits
                and not (6 <= share.find("-") <= 8 and len(share) != 36)
            ):
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
                    answered: datetime | None
                    if resp == req and requested is not None:
                        answered = requested  # same text, read without event: same value, no event again
                    else:
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
                c = (d, sara, code, masking, ins, domain, ipp, src, author, share, action, decision, req, resp)
                trace = _slow_row(cells, line, (*c, status_raw), known_ipps, authors, f"{name}:{line}")
            if trace.document_id is None and trace.loinc is None:
                report.reject("DMP-0111", name, line, None, None, "neither document id nor type: row rejected")
                continue
            kept += 1
            yield trace
    finally:
        report.rows_read[name] += read
        report.rows_kept[name] += kept
        dedup.finish()


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
