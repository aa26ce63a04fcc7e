"""Importers for the SARA sheets (venues, documents, consolidated traces) and the PFI export.

Nothing is silently dropped: each repair, rejection and duplicate is an ImportReport event.
Traces are produced by a generator so a million-row export is never held as rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import cast

from .cells import Cells
from .columns import SheetKind, detect_kind, map_headers
from .dedup import Dedup
from .errors import DmpInputError
from .pfirows import pfi_traces
from .readers import Table, open_table
from .records import Document, Exclusion, Stay, StayKind, Trace
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


def _get(row: list[str], mapping: dict[str, int], field: str) -> str:
    """The cell of ``field``; rows are padded by ``_pad`` so a missing column reads as ""."""
    return row[mapping.get(field, -1)].strip()


def _pad(row: list[str], width: int) -> list[str]:
    if len(row) < width:
        row.extend([""] * (width - len(row)))
    row.append("")  # index -1: the value of every column the file lacks
    return row


_VENUE_FIELDS = (
    "id",
    "discharged_in_month",
    "ace",
    "kind",
    "ipp",
    "admission",
    "discharge",
    "unit",
    "legal_entity",
    "group_id",
    "ins_qualified",
    "surgical",
    "adult",
    "exclusions",
)
_NO_EXCLUSION: frozenset[Exclusion] = frozenset()


def _plain(raw: str) -> bool:
    """A non-empty identifier or text cell no cleaning would touch (no overflow, E+, mojibake)."""
    return raw[:1] != "#" and "+" not in raw and raw.isascii() and "A" not in raw


def read_venues(path: str | Path, report: ImportReport) -> list[Stay]:
    """Venues of a GAP/SARA extraction; plain cells take dictionary lookups, others full cleaning.

    Cells are cleaned in column order (fast lookups fall back to ``Cells`` one cell at a time), so
    the events come out as the per-cell cleaning reports them. Repeated values (UF, legal entity, dates,
    exclusion sets) are shared between stays.
    """
    table, kind = _open(path, report, (SheetKind.VENUES,))
    mapping, cells = _setup(table, kind, report)
    width = len(table.headers)
    name = table.path.name
    dedup = Dedup(report, name, lambda: open_table(table.path).rows)
    out: list[Stay] = []
    seen_ids: dict[str, int] = {}
    cells_of = itemgetter(*(mapping.get(f, -1) for f in _VENUE_FIELDS))
    has_discharged, has_ins, has_adult = (
        "discharged_in_month" in mapping,
        "ins_qualified" in mapping,
        "adult" in mapping,
    )
    bool_get, day_get = cells.clean_bool.get, cells.clean_day.get
    kind_get = cast("dict[str, StayKind]", cells.clean_vocab.setdefault("kind", {})).get
    shared: dict[str, str] = {}
    exclusion_sets: dict[str, frozenset[Exclusion]] = {}
    boolean, day, text = cells.boolean, cells.day, cells.text
    strip = str.strip
    seen, seen_add = dedup.seen, dedup.seen.add
    read = 0
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
        (
            raw_id,
            raw_dis,
            raw_ace,
            raw_kind,
            raw_ipp,
            raw_adm,
            raw_dch,
            raw_unit,
            raw_le,
            raw_grp,
            raw_ins,
            raw_surg,
            raw_adult,
            raw_excl,
        ) = map(strip, cells_of(row))
        sid = (raw_id if _plain(raw_id) else cells.ident(line, "id", raw_id)) if raw_id else None
        if not sid:
            report.reject("DMP-0111", name, line, cells.col("id"), raw_id, "no venue id: row rejected")
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
        discharged: bool | None = None
        if has_discharged and (discharged := bool_get(raw_dis)) is None:
            discharged = boolean(line, "discharged_in_month", raw_dis)
        ace = bool_get(raw_ace)
        if ace is None:
            ace = bool(boolean(line, "ace", raw_ace))
        default_kind = StayKind.CONSULTATION if ace and not discharged else StayKind.MCO
        stay_kind = kind_get(raw_kind) if raw_kind else default_kind
        if stay_kind is None:
            stay_kind = cells.vocab(line, "kind", raw_kind, StayKind, default_kind, _KIND_ALIASES.get)
        ipp = (
            (raw_ipp if raw_ipp[0] != "#" and "+" not in raw_ipp else cells.ident(line, "ipp", raw_ipp) or "")
            if raw_ipp
            else ""
        )
        admission = (day_get(raw_adm) or day(line, "admission", raw_adm)) if raw_adm else None
        discharge = (day_get(raw_dch) or day(line, "discharge", raw_dch)) if raw_dch else None
        unit = (raw_unit if _plain(raw_unit) else text(line, "unit", raw_unit)) if raw_unit else None
        legal = (raw_le if _plain(raw_le) else text(line, "legal_entity", raw_le)) if raw_le else None
        group = (raw_grp if _plain(raw_grp) else text(line, "group_id", raw_grp)) if raw_grp else None
        ins: bool | None = None
        if has_ins and (ins := bool_get(raw_ins)) is None:
            ins = boolean(line, "ins_qualified", raw_ins)
        surgical = bool_get(raw_surg)
        if surgical is None:
            surgical = bool(boolean(line, "surgical", raw_surg))
        adult: bool | None = None
        if has_adult and (adult := bool_get(raw_adult)) is None:
            adult = boolean(line, "adult", raw_adult)
        exclusions = _NO_EXCLUSION
        if raw_excl:
            exclusions = _exclusions(cells, line, raw_excl)
            exclusions = exclusion_sets.setdefault(raw_excl, exclusions) if exclusions else _NO_EXCLUSION
        out.append(
            Stay(
                sid,
                ipp,
                stay_kind,
                admission,
                discharge,
                shared.setdefault(unit, unit) if unit else unit,
                shared.setdefault(legal, legal) if legal else legal,
                group,
                ins,
                surgical,
                ace or stay_kind is StayKind.CONSULTATION,
                adult,
                discharged,
                exclusions,
                (),
                f"{name}:{line}",
            )
        )
    dedup.finish()
    report.rows_read[name] += read
    report.rows_kept[name] += len(out)
    return out


def _exclusions(cells: Cells, line: int, raw: str) -> frozenset[Exclusion]:
    if not raw:
        return _NO_EXCLUSION
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
    dedup = Dedup(report, name, lambda: open_table(table.path).rows)
    out: list[Document] = []
    for line, row, key in table.rows:
        report.rows_read[name] += 1
        if dedup.duplicate(line, row, key):
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
    dedup.finish()
    report.rows_kept[name] += len(out)
    return out


def iter_traces(path: str | Path, report: ImportReport, known_ipps: Collection[str] | None = None) -> Iterator[Trace]:
    """Traces of a PFI export or of a SARA consolidated traces sheet, one at a time."""
    table, kind = _open(path, report, (SheetKind.PFI, SheetKind.SARA_TRACES))
    mapping, cells = _setup(table, kind, report)
    if kind is SheetKind.PFI:
        yield from pfi_traces(table, mapping, cells, report, known_ipps)
    else:
        yield from _sara_traces(table, mapping, cells, report, known_ipps)


def _sara_traces(
    table: Table, mapping: dict[str, int], cells: Cells, report: ImportReport, known_ipps: Collection[str] | None
) -> Iterator[Trace]:
    width = len(table.headers)
    name = table.path.name
    dedup = Dedup(report, name, lambda: open_table(table.path).rows)
    try:
        for line, row, key in table.rows:
            report.rows_read[name] += 1
            if dedup.duplicate(line, row, key):
                continue
            row = _pad(row, width)
            g = partial(_get, row, mapping)
            doc_id = cells.ident(line, "document_id", g("document_id"), check_uuid=True)
            status = cells.status(line, "status", g("status"))
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
            if doc_id is None and trace.loinc is None:
                report.reject("DMP-0111", name, line, None, None, "neither document id nor type: row rejected")
                continue
            report.rows_kept[name] += 1
            yield trace
    finally:
        dedup.finish()
