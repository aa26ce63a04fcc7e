"""Files in, indicators out: import every sheet, cross-check them, compute the month."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

from .crosscheck import TraceLinker, check_documents
from .importer import iter_traces, read_documents, read_venues
from .indicators import compute_indicators
from .records import Document, Stay, Trace
from .report import ImportReport
from .results import IndicatorReport


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a month is imported and computed.

    The import allocates millions of short-lived records and keeps hundreds of thousands of stays,
    which the cyclic collector would scan again and again (about a fifth of the run) to find
    nothing: the reconciliation builds no reference cycles in bulk (a workbook's few wait for the
    next collection). Reference counting still frees every record as soon as it is dropped. The
    collector is switched back on at the end if it was on (the switch is process-wide: another
    thread's cyclic garbage waits as long).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
    with _collector_paused():
        return _reconcile(month, venues, documents, traces, pfi, sunes_certified, report)


def _reconcile(
    month: str,
    venues: str | Path | None,
    documents: str | Path | None,
    traces: str | Path | None,
    pfi: str | Path | None,
    sunes_certified: bool,
    report: ImportReport | None,
) -> IndicatorReport:
    rep = report if report is not None else ImportReport()
    stays: list[Stay] = read_venues(venues, rep) if venues else []
    ipps = {s.ipp for s in stays if s.ipp} or None
    docs: list[Document] = read_documents(documents, rep, ipps) if documents else []
    if docs:
        check_documents(stays, docs, rep)
    streams: list[Iterator[Trace]] = [iter_traces(p, rep, ipps) for p in (traces, pfi) if p]
    linked = TraceLinker(docs, stays, rep)(streams[0] if len(streams) == 1 else chain.from_iterable(streams))
    return compute_indicators(month, stays, docs, linked, sunes_certified=sunes_certified, import_report=rep)
