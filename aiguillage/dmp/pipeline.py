"""Files in, indicators out: import every sheet, cross-check them, compute the month."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from pathlib import Path

from .crosscheck import TraceLinker, check_documents
from .importer import iter_traces, read_documents, read_venues
from .indicators import compute_indicators
from .records import Document, Stay, Trace
from .report import ImportReport
from .results import IndicatorReport


def reconcile_files(
    month: str,
    *,
    venues: str | Path | None = None,
    documents: str | Path | None = None,
    traces: str | Path | None = None,
    pfi: str | Path | None = None,
    sunes_certified: bool = False,
    report: ImportReport | None = None,
) -> IndicatorReport:
    """Indicators of ``month`` from the SARA sheets and/or the PFI export (any may be absent)."""
    rep = report if report is not None else ImportReport()
    stays: list[Stay] = read_venues(venues, rep) if venues else []
    ipps = {s.ipp for s in stays if s.ipp} or None
    docs: list[Document] = read_documents(documents, rep, ipps) if documents else []
    if docs:
        check_documents(stays, docs, rep)
    streams: list[Iterator[Trace]] = [iter_traces(p, rep, ipps) for p in (traces, pfi) if p]
    linked = TraceLinker(docs, stays, rep)(chain.from_iterable(streams))
    return compute_indicators(month, stays, docs, linked, sunes_certified=sunes_certified, import_report=rep)
