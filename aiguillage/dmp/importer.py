"""Importers for the SARA sheets (venues, documents, consolidated traces) and the PFI export.

Nothing is silently dropped: each repair, rejection and duplicate is an ImportReport event.
Traces are produced by a generator so a million-row export is never held as rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from functools import partial
from pathlib import Path

from .cells import Cells
from .columns import HEADERS, SheetKind, detect_kind, map_headers
from .errors import DmpInputError
from .readers import Table, open_table
from .records import Action, Decision, Document, Exclusion, Stay, StayKind, Trace
from .repair import fold
from .report import ImportReport

_KIND_ALIASES: dict[str, StayKind] = {
    "radio": StayKind.RADIOTHERAPY,
    "radiotherapie": StayKind.RADIOTHERAPY,
    "chimio": StayKind.CHEMOTHERAPY,
    "chimiotherapie": StayKind.CHEMOTHERAPY,
    "dialyse": StayKind.DIALYSIS,
    "mrc": StayKind.DIALYSIS,
    "mrcdialyse": StayKind.DIALYSIS,
    "consultation": StayKind.CONSULTATION,
    "ace": StayKind.CONSULTATION,
    "urg": StayKind.EMERGENCY,
    "urgences": StayKind.EMERGENCY,
    "ssr": StayKind.SMR,
}
_EXCLUSION_ALIASES: dict[str, Exclusion] = {
    "nonassure": Exclusion.NOT_INSURED,
    "nonassuresocial": Exclusion.NOT_INSURED,
    "nia": Exclusion.NIA,
    "insnia": Exclusion.NIA,
    "ase": Exclusion.ASE_MINOR,
    "mineurase": Exclusion.ASE_MINOR,
    "nouveaune": Exclusion.NEWBORN,
    "nn": Exclusion.NEWBORN,
    "decede": Exclusion.DECEASED,
    "deces": Exclusion.DECEASED,
    "dcd": Exclusion.DECEASED,
}


def _open(path: str | Path, report: ImportReport, expected: tuple[SheetKind, ...]) -> tuple[Table, SheetKind]:
    table = open_table(path)
    name = table.path.name
    report.encodings[name] = table.encoding
    report.add("info", "DMP-0116", name, None, None, None, f"read as {table.encoding}")
    kind = detect_kind(table.headers)
    if kind is None or kind not in expected:
        raise DmpInputError(
            f"{name}: headers do not look like {' or '.join(k.value for k in expected)} "
            f"(detected: {kind.value if kind else 'nothing'})",
            "DMP-0002",
        )
    return table, kind


def _setup(table: Table, kind: SheetKind, report: ImportReport) -> tuple[dict[str, int], Cells]:
    mapping, unknown = map_headers(kind, table.headers)
    for h in unknown:
        report.warn("DMP-0109", table.path.name, 1, h, h, "column not understood: ignored")
    columns = {f: table.headers[i] for f, i in mapping.items()}
    return mapping, Cells(report, table.path.name, columns)


class _Dedup:
    """Exact duplicate rows of one file: reported with the line of the first occurrence."""

    def __init__(self, report: ImportReport, file: str) -> None:
        self.seen: dict[int, int] = {}
        self.report = report
        self.file = file

    def duplicate(self, line: int, row: list[str]) -> bool:
        key = hash(tuple(row))
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = line
            return False
        self.report.add(
            "rejection",
            "DMP-0106",
            self.file,
            line,
            None,
            "\t".join(row),
            f"same row as line {first}: counted once",
        )
        return True


def _get(row: list[str], mapping: dict[str, int], field: str) -> str:
    """The cell of ``field``; rows are padded by ``_pad`` so a missing column reads as ""."""
    return row[mapping.get(field, -1)].strip()


def _pad(row: list[str], width: int) -> list[str]:
    if len(row) < width:
        row.extend([""] * (width - len(row)))
    row.append("")  # index -1: the value of every column the file lacks
    return row


def read_venues(path: str | Path, report: ImportReport) -> list[Stay]:
    table, kind = _open(path, report, (SheetKind.VENUES,))
    mapping, cells = _setup(table, kind, report)
    width = len(table.headers)
    name = table.path.name
    dedup = _Dedup(report, name)
    out: list[Stay] = []
    seen_ids: dict[str, int] = {}
    for line, row in table.rows:
        report.rows_read[name] += 1
        if dedup.duplicate(line, row):
            continue
        row = _pad(row, width)
        sid = cells.ident(line, "id", _get(row, mapping, "id"))
        if not sid:
            report.reject(
                "DMP-0111", name, line, cells.col("id"), _get(row, mapping, "id"), "no venue id: row rejected"
            )
            continue
        if sid in seen_ids:
            report.warn(
                "DMP-0114",
                name,
                line,
                cells.col("id"),
                sid,
                f"venue id already on line {seen_ids[sid]}: first kept",
            )
            continue
        seen_ids[sid] = line
        g = partial(_get, row, mapping)
        discharged = (
            cells.boolean(line, "discharged_in_month", g("discharged_in_month"))
            if "discharged_in_month" in mapping
            else None
        )
        ace = bool(cells.boolean(line, "ace", g("ace")))
        default_kind = StayKind.CONSULTATION if ace and not discharged else StayKind.MCO
        stay_kind = cells.vocab(line, "kind", g("kind"), StayKind, default_kind, _KIND_ALIASES.get)
        out.append(
            Stay(
                id=sid,
                ipp=cells.ident(line, "ipp", g("ipp")) or "",
                kind=stay_kind,
                admission=cells.day(line, "admission", g("admission")),
                discharge=cells.day(line, "discharge", g("discharge")),
                unit=cells.text(line, "unit", g("unit")),
                legal_entity=cells.text(line, "legal_entity", g("legal_entity")),
                group_id=cells.text(line, "group_id", g("group_id")),
                ins_qualified=cells.boolean(line, "ins_qualified", g("ins_qualified"))
                if "ins_qualified" in mapping
                else None,
                surgical=bool(cells.boolean(line, "surgical", g("surgical"))),
                ace=ace or stay_kind is StayKind.CONSULTATION,
                adult=cells.boolean(line, "adult", g("adult")) if "adult" in mapping else None,
                discharged_in_month=discharged,
                exclusions=_exclusions(cells, line, g("exclusions")),
                source=f"{name}:{line}",
            )
        )
    report.rows_kept[name] += len(out)
    return out


def _exclusions(cells: Cells, line: int, raw: str) -> frozenset[Exclusion]:
    if not raw:
        return frozenset()
    out: set[Exclusion] = set()
    by_value = {fold(e.value): e for e in Exclusion}
    for part in raw.replace(";", ",").replace("|", ",").split(","):
        key = fold(part)
        if not key:
            continue
        found = _EXCLUSION_ALIASES.get(key) or by_value.get(key)
        if found is None:
            cells.report.warn(
                "DMP-0109",
                cells.file,
                line,
                cells.col("exclusions"),
                part,
                "not one of the seed's exclusion cases: ignored, stay kept in the denominator",
            )
        else:
            out.add(found)
    return frozenset(out)


def read_documents(path: str | Path, report: ImportReport, known_ipps: Collection[str] | None = None) -> list[Document]:
    table, kind = _open(path, report, (SheetKind.DOCUMENTS,))
    mapping, cells = _setup(table, kind, report)
    width = len(table.headers)
    name = table.path.name
    dedup = _Dedup(report, name)
    out: list[Document] = []
    for line, row in table.rows:
        report.rows_read[name] += 1
        if dedup.duplicate(line, row):
            continue
        row = _pad(row, width)
        g = partial(_get, row, mapping)
        doc_id = cells.ident(line, "local_id", g("local_id"), check_uuid=True)
        if not doc_id:
            report.reject("DMP-0111", name, line, cells.col("local_id"), g("local_id"), "no document id: row rejected")
            continue
        out.append(
            Document(
                local_id=doc_id,
                loinc=cells.loinc(line, "loinc", g("loinc")),
                ipp=cells.ident(line, "ipp", g("ipp"), known_ipps),
                stay_id=cells.ident(line, "stay_id", g("stay_id")),
                produced_on=cells.day(line, "produced_on", g("produced_on")),
                sara_type=cells.text(line, "sara_type", g("sara_type")),
                label=cells.text(line, "label", g("label")),
                ins_qualified=cells.boolean(line, "ins_qualified", g("ins_qualified"))
                if "ins_qualified" in mapping
                else None,
                no_transmission=bool(cells.boolean(line, "no_transmission", g("no_transmission")))
                if "no_transmission" in mapping
                else False,
                subcontracted=bool(cells.boolean(line, "subcontracted", g("subcontracted")))
                if "subcontracted" in mapping
                else False,
                source=f"{name}:{line}",
            )
        )
    report.rows_kept[name] += len(out)
    return out


def iter_traces(path: str | Path, report: ImportReport, known_ipps: Collection[str] | None = None) -> Iterator[Trace]:
    """Traces of a PFI export or of a SARA consolidated traces sheet, one at a time."""
    table, kind = _open(path, report, (SheetKind.PFI, SheetKind.SARA_TRACES))
    mapping, cells = _setup(table, kind, report)
    width = len(table.headers)
    name = table.path.name
    dedup = _Dedup(report, name)
    authors: set[str] = set()
    pfi = kind is SheetKind.PFI
    pfi_idx = [mapping.get(f, -1) for f in HEADERS[SheetKind.PFI]]  # the order unpacked below
    for line, row in table.rows:
        report.rows_read[name] += 1
        if dedup.duplicate(line, row):
            continue
        row = _pad(row, width)
        g = partial(_get, row, mapping)
        doc_id = cells.ident(line, "document_id", g("document_id"), check_uuid=True)
        status = cells.status(line, "status", g("status"))
        if not pfi:
            trace = Trace(
                doc_id,
                cells.loinc(line, "loinc", g("loinc")),
                status,
                g("status"),
                ipp=cells.ident(line, "ipp", g("ipp"), known_ipps),
                stay_id=cells.ident(line, "stay_id", g("stay_id")),
                sent_on=cells.day(line, "sent_on", g("sent_on")),
                source=f"{name}:{line}",
            )
        else:
            (
                _d,
                sara,
                code,
                masking,
                ins,
                domain,
                ipp,
                src_author,
                author_raw,
                share,
                action,
                decision,
                req,
                resp,
                status_raw,
            ) = [row[i].strip() for i in pfi_idx]
            author = cells.ident(line, "author_id", author_raw, authors)
            if author:
                authors.add(author)
            trace = Trace(
                doc_id,
                cells.loinc(line, "loinc", code),
                status,
                status_raw,
                ipp=cells.ident(line, "ipp", ipp, known_ipps),
                sara_type=sara or None,
                masking=masking or None,
                ins_present=cells.boolean(line, "ins_present", ins),
                domain=domain or None,
                source_author_id=cells.ident(line, "source_author_id", src_author),
                author_id=author,
                share_id=cells.ident(line, "share_id", share, check_uuid=True),
                action=cells.vocab(line, "action", action, Action, Action.UNKNOWN),
                decision=cells.vocab(line, "decision", decision, Decision, Decision.UNKNOWN),
                requested_at=cells.when(line, "requested_at", req),
                answered_at=cells.when(line, "answered_at", resp),
                source=f"{name}:{line}",
            )
        if doc_id is None and trace.loinc is None:
            report.reject("DMP-0111", name, line, None, None, "neither document id nor type: row rejected")
            continue
        report.rows_kept[name] += 1
        yield trace
