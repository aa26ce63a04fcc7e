"""Checks across sheets: ids that do not match, conflicting content, labels against codes.

Traces are linked to documents one at a time (``TraceLinker`` is a generator transform), so a
PFI export of a million rows is never held in memory for this step.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from . import loinc as lc
from .records import Document, Stay, Trace
from .repair import fold, looks_truncated_uuid, uuid_core
from .report import ImportReport

_FAMILIES: tuple[tuple[str, str], ...] = (
    ("liaison", "LDL"),
    ("operatoire", "CRO"),
    ("consultation", "CRC"),
    ("biolog", "BIO"),
    ("imagerie", "IMG"),
    ("prescription", "ODS"),
    ("ordonnance", "ODS"),
)


CODE_FAMILY: dict[str | None, str] = {  # LOINC code -> indicator family
    **{lc.LDL: "LDL", lc.CRO: "CRO", lc.CRC: "CRC", lc.BIOLOGY: "BIO", lc.IMAGING: "IMG"},
    **dict.fromkeys(lc.ODS, "ODS"),
}


def code_family(code: str | None) -> str | None:
    if code is None:
        return None
    return CODE_FAMILY.get(code)


def label_family(label: str | None) -> str | None:
    if not label:
        return None
    key = fold(label)
    for word, fam in _FAMILIES:
        if word in key:
            return fam
    return None


class _Where(NamedTuple):
    file: str
    line: int | None


def _where(source: str | None) -> _Where:
    if not source or ":" not in source:
        return _Where(source or "", None)
    file, _, line = source.rpartition(":")
    return _Where(file, int(line) if line.isdigit() else None)


def check_documents(stays: list[Stay], documents: list[Document], report: ImportReport) -> None:
    """Documents whose venue is unknown or belongs to another patient, repeated ids, bad labels."""
    venues = {s.id: s for s in stays}
    for v in stays:
        for vid in v.venue_ids:
            venues.setdefault(vid, v)
    seen: dict[str, Document] = {}
    for d in documents:
        w = _where(d.source)
        if d.stay_id and venues and d.stay_id not in venues:
            report.warn(
                "DMP-0107",
                w.file,
                w.line,
                "N° venue",
                d.stay_id,
                "venue not in the venues sheet: document kept, counted only for document indicators",
            )
        elif d.stay_id and d.ipp and (owner := venues.get(d.stay_id)) is not None and owner.ipp and owner.ipp != d.ipp:
            report.warn(
                "DMP-0107",
                w.file,
                w.line,
                "IPP Patient",
                d.ipp,
                f"venue {d.stay_id} belongs to another IPP in the venues sheet: kept",
            )
        first = seen.get(d.local_id)
        if first is None:
            seen[d.local_id] = d
        elif (first.loinc, first.ipp, first.stay_id) != (d.loinc, d.ipp, d.stay_id):
            report.warn(
                "DMP-0114",
                w.file,
                w.line,
                "Id local du document",
                d.local_id,
                f"same id as {first.source} with other content: both kept",
            )
        fam_code, fam_label = code_family(d.loinc), label_family(d.label)
        if fam_code and fam_label and fam_code != fam_label:
            report.warn(
                "DMP-0115",
                w.file,
                w.line,
                "Type de document (libellé LOINC)",
                d.label,
                f"label says {fam_label}, code {d.loinc} says {fam_code}: the code is used",
            )


class TraceLinker:
    """Checks each trace against the documents sheet and re-links it when the match is unique."""

    def __init__(self, documents: list[Document], stays: list[Stay], report: ImportReport) -> None:
        self.report = report
        self.by_id: dict[str, Document] = {}
        self.by_core: dict[str, list[Document]] = {}
        self.by_ipp_code: dict[tuple[str | None, str | None], list[Document]] = {}
        for d in documents:
            self.by_id.setdefault(d.local_id, d)
            core = uuid_core(d.local_id)
            if core is not None:
                self.by_core.setdefault(core, []).append(d)
            self.by_ipp_code.setdefault((d.ipp, d.loinc), []).append(d)
        self._stays = stays
        self._venue_ids: set[str] | None = None
        self.linked = 0

    @property
    def venue_ids(self) -> set[str]:
        """Venue ids of the venues sheet, built on the first trace that carries a stay number."""
        if self._venue_ids is None:
            self._venue_ids = {s.id for s in self._stays} | {v for s in self._stays for v in s.venue_ids}
        return self._venue_ids

    def __call__(self, traces: Iterable[Trace]) -> Iterator[Trace]:
        if self.by_id:
            for t in traces:
                self.link(t)
                yield t
            return
        for t in traces:  # no documents sheet: only the stay check applies
            if t.stay_id and self.venue_ids and t.stay_id not in self.venue_ids:
                self._unknown_stay(t)
            yield t

    def _unknown_stay(self, t: Trace) -> None:
        w = _where(t.source)
        self.report.warn(
            "DMP-0107",
            w.file,
            w.line,
            "N° séjour",
            t.stay_id,
            "stay not in the venues sheet: trace kept with its own stay number",
        )

    def link(self, t: Trace) -> None:
        if t.stay_id and self.venue_ids and t.stay_id not in self.venue_ids:
            self._unknown_stay(t)
        if not self.by_id:
            return
        doc = self.by_id.get(t.document_id) if t.document_id else None
        if doc is not None:
            if _agrees(t, doc):
                self.linked += 1
                return
            w = _where(t.source)
            self.report.warn(
                "DMP-0114",
                w.file,
                w.line,
                "Id local document",
                t.document_id,
                f"document {doc.source} has another type or patient ({doc.loinc}); trying to re-match",
            )
        found = self._rematch(t)
        w = _where(t.source)
        if found is not None:
            self.report.repair(
                "DMP-0113",
                w.file,
                w.line,
                "Id local document",
                t.document_id,
                found.local_id,
                f"re-linked to the only matching document {found.local_id!r} ({found.source})",
            )
            t.document_id = found.local_id
            self.linked += 1
        elif doc is not None:
            self.report.warn(
                "DMP-0107",
                w.file,
                w.line,
                "Id local document",
                t.document_id,
                "no unique re-match: trace kept, not linked to that document",
            )
        else:
            self.report.warn(
                "DMP-0107",
                w.file,
                w.line,
                "Id local document",
                t.document_id,
                "no such document in the documents sheet and no unique match: trace kept unlinked",
            )

    def _rematch(self, t: Trace) -> Document | None:
        if t.document_id and looks_truncated_uuid(t.document_id):
            core = uuid_core(t.document_id)
            hits = [d for d in self.by_core.get(core or "", []) if t.document_id.lower() in d.local_id.lower()]
            if len(hits) == 1:
                return hits[0]
        if t.ipp and t.loinc:
            hits = [d for d in self.by_ipp_code.get((t.ipp, t.loinc), []) if d.local_id != t.document_id]
            if len(hits) == 1:
                return hits[0]
        return None


def _agrees(t: Trace, d: Document) -> bool:
    if t.loinc and d.loinc and t.loinc != d.loinc:
        return False
    return not (t.ipp and d.ipp and t.ipp != d.ipp)
