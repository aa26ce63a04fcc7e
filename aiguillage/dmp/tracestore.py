"""Queries on the DMP push tables: documents received, push traces, records for the indicators, CSV.

The CSV export uses the PFI "Infocentre DMPv2" headers (the first spelling of each column in
:data:`aiguillage.dmp.columns.HEADERS`), so an export reads back through the PFI importer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection

from aiguillage.dmp.columns import HEADERS, SheetKind
from aiguillage.dmp.records import Action, Decision, DmpStatus, Document, Trace
from aiguillage.dmp.tables import documents as DOCS
from aiguillage.dmp.tables import traces as TRACES
from aiguillage.store.base import utcnow

# PFI column order of the export, then our own columns
PFI_FIELDS: tuple[str, ...] = tuple(HEADERS[SheetKind.PFI])
EXTRA_FIELDS: tuple[str, ...] = ("message_id", "attempt", "set_id", "stay_id", "reason")


# --- documents ---------------------------------------------------------------------------------


def add_document(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert a document row unless its message id is already there; True when inserted."""
    if conn.execute(select(DOCS.c.message_id).where(DOCS.c.message_id == values["message_id"])).first():
        return False
    now = utcnow()
    conn.execute(insert(DOCS).values(push_state="PENDING", last_status=None, received_at=now, updated_at=now,
                                     **values))
    return True


def get_document(engine: Engine, message_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(DOCS).where(DOCS.c.message_id == message_id)).mappings().first()
    return dict(row) if row else None


def set_push_state(engine: Engine, message_id: str, state: str, status: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(update(DOCS).where(DOCS.c.message_id == message_id)
                     .values(push_state=state, last_status=status, updated_at=utcnow()))


def set_already_shared(engine: Engine, set_id: str, message_id: str) -> bool:
    """True when another version of ``set_id`` was accepted by the DMP (the next push is a Modification)."""
    q = select(func.count()).select_from(TRACES).where(
        TRACES.c.set_id == set_id, TRACES.c.message_id != message_id,
        TRACES.c.status == DmpStatus.SUCCESS.value, TRACES.c.action != Action.SUPPRESSION.value,
    )
    with engine.connect() as conn:
        return bool(conn.execute(q).scalar_one())


def next_attempt(engine: Engine, message_id: str) -> int:
    q = select(func.max(TRACES.c.attempt)).where(TRACES.c.message_id == message_id)
    with engine.connect() as conn:
        return int(conn.execute(q).scalar() or 0) + 1


# --- traces ------------------------------------------------------------------------------------


def add_trace(engine: Engine, row: dict[str, Any]) -> int:
    with engine.begin() as conn:
        res = conn.execute(insert(TRACES).values(**row))
        return int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0


@dataclass(frozen=True)
class TraceFilter:
    message_id: str | None = None
    document_id: str | None = None
    status: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[Any]:
        c = TRACES.c
        out: list[Any] = []
        if self.message_id:
            out.append(c.message_id == self.message_id)
        if self.document_id:
            out.append(c.document_id == self.document_id)
        if self.status:
            out.append(c.status.in_(list(self.status)))
        if self.since:
            out.append(c.requested_at >= self.since)
        if self.until:
            out.append(c.requested_at < self.until)
        return out


def list_traces(engine: Engine, flt: TraceFilter, limit: int = 100, after_id: int = 0) -> list[dict[str, Any]]:
    q = select(TRACES).where(*flt.where(), TRACES.c.id > after_id).order_by(TRACES.c.id).limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def iter_traces(engine: Engine, flt: TraceFilter, batch: int = 5000) -> Iterator[dict[str, Any]]:
    after = 0
    while True:
        rows = list_traces(engine, flt, batch, after)
        yield from rows
        if len(rows) < batch:
            return
        after = int(rows[-1]["id"])


def trace_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime | date) else v) for k, v in row.items()}


# --- records for the indicators ------------------------------------------------------------------


def _status(raw: str) -> DmpStatus:
    try:
        return DmpStatus(raw)
    except ValueError:
        return DmpStatus.UNKNOWN  # NON_ENVOYE, ERREUR_TECHNIQUE: kept, never a success


def as_trace(row: dict[str, Any]) -> Trace:
    return Trace(
        document_id=row["document_id"], loinc=row["loinc"], status=_status(row["status"]), status_raw=row["status"],
        ipp=row["ipp"], stay_id=row["stay_id"], sara_type=row["sara_type"], masking=row["masking"],
        ins_present=bool(row["ins_present"]), domain=row["domain"], source_author_id=row["source_author_id"],
        author_id=row["author_id"], share_id=row["share_id"], action=Action(row["action"]),
        decision=Decision(row["decision"]), requested_at=row["requested_at"], answered_at=row["answered_at"],
        source=f"dmp_traces:{row['id']}",
    )


def trace_records(engine: Engine, since: datetime | None, until: datetime | None) -> Iterator[Trace]:
    for row in iter_traces(engine, TraceFilter(since=since, until=until)):
        yield as_trace(row)


def document_records(engine: Engine, since: date, until: date) -> list[Document]:
    q = select(DOCS).where((DOCS.c.produced_on.is_(None)) | DOCS.c.produced_on.between(since, until))
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [
        Document(local_id=r["document_id"], loinc=r["loinc"], ipp=r["ipp"], stay_id=r["stay_id"],
                 produced_on=r["produced_on"], ins_qualified=r["ins_kind"] is not None,
                 source=f"dmp_documents:{r['message_id']}")
        for r in rows
    ]


# --- CSV export ---------------------------------------------------------------------------------


def _cell(field: str, value: Any) -> str:
    if value is None:
        return ""
    if field == "ins_present":
        return "Présent" if value else "Absent"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    return str(value)


def export_csv(rows: Iterator[dict[str, Any]], *, delimiter: str = ";") -> Iterator[str]:
    """CSV text chunks: PFI headers then our columns, one row per trace."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([HEADERS[SheetKind.PFI][f][0] for f in PFI_FIELDS] + list(EXTRA_FIELDS))
    yield buf.getvalue()
    for row in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow([_cell(f, row.get(f)) for f in PFI_FIELDS] + [_cell(f, row.get(f)) for f in EXTRA_FIELDS])
        yield buf.getvalue()


__all__ = [
    "TraceFilter", "add_document", "add_trace", "as_trace", "document_records", "export_csv", "get_document",
    "iter_traces", "list_traces", "next_attempt", "set_already_shared", "set_push_state", "trace_json",
    "trace_records",
]
