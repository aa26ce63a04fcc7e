"""The ADT aggregate: patients (JSON projection state), their event log, and flat stay/movement rows.

``adt_patients`` holds one row per patient key (``IPP:<authority>:<value>``) with the projection
state as JSON, ``merged_into`` once an A40/A47 merged it away, and a ``version`` guarding concurrent
writers. ``adt_events`` is the per-patient event log (deduplicated by fingerprint, ordered by a
canonical key) from which a state is rebuilt when a late message arrives. ``adt_stays`` and
``adt_movements`` are flat, query-friendly rows derived from the state and kept in sync in the same
transaction: capacity and DMP reconciliation read those, never the JSON. No INS value is stored in
the flat rows, only whether the identity is trusted (PID-32 = VALI).

Dates in the flat rows are the HL7 local date-times as sent (any UTC offset dropped), naive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Index, String, Text, bindparam, delete, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from aiguillage.errors import StoreError
from aiguillage.store.base import utcnow

CONCURRENT_UPDATE = "ADT-0001"  # another worker changed the patient first (retryable)

PENDING_TRIGGERS = frozenset({"A05", "A14", "A15", "A16"})  # planned movements: not where the patient is
ADMIT_TRIGGERS = frozenset({"A01", "A04"})


class AdtPatient(SQLModel, table=True):
    __tablename__ = "adt_patients"

    patient_key: str = Field(sa_column=Column(String(255), primary_key=True))
    merged_into: str | None = Field(default=None, sa_column=Column(String(255), nullable=True, index=True))
    state: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    moved_stays: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # A44: stay -> new owner
    last_order: str = Field(default="", max_length=255)  # canonical key of the last event applied
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))
    version: int = Field(default=0)


class AdtEventRow(SQLModel, table=True):
    __tablename__ = "adt_events"
    __table_args__ = (Index("ix_adt_events_patient_order", "patient_key", "order_key"),)

    fingerprint: str = Field(sa_column=Column(String(64), primary_key=True))
    patient_key: str = Field(max_length=255)  # the patient whose log holds it (after merges/moves)
    stay_value: str | None = Field(default=None, max_length=255)  # PV1-19.1, to move a stay (A44)
    order_key: str = Field(max_length=255)
    message_id: str = Field(default="", max_length=32)
    trigger: str = Field(max_length=8)
    event: str = Field(sa_column=Column(Text, nullable=False))  # AdtEvent.to_json()
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))


class AdtStay(SQLModel, table=True):
    __tablename__ = "adt_stays"

    stay_key: str = Field(sa_column=Column(String(255), primary_key=True))  # NDA:<authority>:<value>
    patient_key: str = Field(sa_column=Column(String(255), nullable=False, index=True))
    visit_number: str = Field(default="", max_length=255)
    patient_class: str = Field(default="", max_length=8)
    uf_hebergement: str = Field(default="", max_length=64)  # PV1-3.1 of the current movement
    uf_medicale: str = Field(default="", max_length=64)  # ZBE-7.10
    uf_soins: str = Field(default="", max_length=64)  # ZBE-8.10
    current_movement: str = Field(default="", max_length=255)
    admit_at: datetime | None = Field(default=None, sa_column=Column(DateTime, nullable=True))
    discharge_at: datetime | None = Field(default=None, sa_column=Column(DateTime, nullable=True))
    discharged: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    cancelled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    ins_trusted: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))


class AdtMovement(SQLModel, table=True):
    __tablename__ = "adt_movements"

    stay_key: str = Field(sa_column=Column(String(255), primary_key=True))
    movement_id: str = Field(sa_column=Column(String(255), primary_key=True))  # ZBE-1.1
    seq: int = Field(default=0)
    trigger: str = Field(default="", max_length=8)
    action: str = Field(default="", max_length=8)
    at: datetime | None = Field(default=None, sa_column=Column(DateTime, nullable=True))
    patient_class: str = Field(default="", max_length=8)
    uf_hebergement: str = Field(default="", max_length=64)
    uf_medicale: str = Field(default="", max_length=64)
    uf_soins: str = Field(default="", max_length=64)
    nature: str = Field(default="", max_length=8)
    cancelled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    historic: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))


PATIENTS = AdtPatient.__table__  # type: ignore[attr-defined]
EVENTS = AdtEventRow.__table__  # type: ignore[attr-defined]
STAYS = AdtStay.__table__  # type: ignore[attr-defined]
MOVEMENTS = AdtMovement.__table__  # type: ignore[attr-defined]


# --- HL7 date-times ---------------------------------------------------------------------------


def ts14(value: str) -> str:
    """HL7 TS -> 14 sortable digits (``YYYYMMDDHHMMSS``), '' when there is no date."""
    digits = ""
    for ch in value:
        if not ch.isdigit():
            break
        digits += ch
    return digits[:14].ljust(14, "0") if len(digits) >= 4 else ""


def to_datetime(value: str) -> datetime | None:
    t = ts14(value)
    if not t:
        return None
    try:
        return datetime(int(t[0:4]), int(t[4:6]) or 1, int(t[6:8]) or 1, int(t[8:10]), int(t[10:12]),
                        int(t[12:14]))
    except ValueError:
        return None


def stay_key(value: str, authority: str) -> str:
    return f"NDA:{authority}:{value}"


# --- patients and their event log -------------------------------------------------------------


# Statements built once (the hot path runs them per message): SQLAlchemy compiles each once.
_LOAD_PATIENT = select(PATIENTS).where(PATIENTS.c.patient_key == bindparam("k"))
_MERGED_INTO = select(PATIENTS.c.merged_into).where(PATIENTS.c.patient_key == bindparam("k"))
_EVENT_EXISTS = select(EVENTS.c.fingerprint).where(EVENTS.c.fingerprint == bindparam("fp"))
_UPDATE_PATIENT = (
    update(PATIENTS)
    .where(PATIENTS.c.patient_key == bindparam("k"), PATIENTS.c.version == bindparam("v"))
    .values(version=bindparam("v2"), state=bindparam("state"), moved_stays=bindparam("moved_stays"),
            last_order=bindparam("last_order"), merged_into=bindparam("merged_into"),
            updated_at=bindparam("updated_at"))
)


def load_patient(conn: Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute(_LOAD_PATIENT, {"k": key}).mappings().first()
    if row is None:
        return None
    d = dict(row)
    d["state"] = json.loads(d["state"] or "{}")
    d["moved_stays"] = json.loads(d["moved_stays"] or "{}")
    return d


def resolve(conn: Connection, key: str) -> str:
    """Follow ``merged_into`` links to the surviving patient key."""
    seen: set[str] = set()
    while key not in seen:
        seen.add(key)
        nxt = conn.execute(_MERGED_INTO, {"k": key}).scalar()
        if not nxt:
            return key
        key = nxt
    return key


def save_patient(conn: Connection, key: str, current: dict[str, Any] | None, *, state: dict[str, Any],
                 moved_stays: dict[str, str], last_order: str, merged_into: str | None) -> None:
    """Insert or update (guarded by version) one patient row; a lost race raises a retryable error."""
    values = {
        "state": json.dumps(state, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
        "moved_stays": json.dumps(moved_stays, sort_keys=True), "last_order": last_order[:255],
        "merged_into": merged_into, "updated_at": utcnow(),
    }
    if current is None:
        try:
            conn.execute(insert(PATIENTS), {"patient_key": key, "version": 1, **values})
        except IntegrityError as exc:
            raise StoreError("patient created concurrently", CONCURRENT_UPDATE) from exc
        return
    moved = conn.execute(
        _UPDATE_PATIENT, {"k": key, "v": current["version"], "v2": current["version"] + 1, **values}
    ).rowcount
    if not moved:
        raise StoreError("patient updated concurrently", CONCURRENT_UPDATE)


def event_exists(conn: Connection, fingerprint: str) -> bool:
    return conn.execute(_EVENT_EXISTS, {"fp": fingerprint}).first() is not None


def add_event(conn: Connection, *, fingerprint: str, patient_key: str, stay_value: str | None, order_key: str,
              message_id: str, trigger: str, event_json: str) -> None:
    conn.execute(insert(EVENTS), {
        "fingerprint": fingerprint, "patient_key": patient_key, "stay_value": stay_value,
        "order_key": order_key[:255], "message_id": message_id[:32], "trigger": trigger[:8], "event": event_json,
        "created_at": utcnow(),
    })


def events_of(conn: Connection, patient_key: str) -> list[tuple[str, str, str]]:
    """The patient's log as (order_key, fingerprint, event JSON), in canonical order.

    Sorted in Python, not by the database: PostgreSQL collations do not order text by code point.
    """
    e = EVENTS.c
    rows = conn.execute(select(e.order_key, e.fingerprint, e.event).where(e.patient_key == patient_key)).all()
    return sorted((r.order_key, r.fingerprint, r.event) for r in rows)


def move_events(conn: Connection, from_key: str, to_key: str, stay_value: str | None = None) -> int:
    """Hand a patient's log (or one stay's part of it) over to another patient."""
    q = update(EVENTS).where(EVENTS.c.patient_key == from_key)
    if stay_value is not None:
        q = q.where(EVENTS.c.stay_value == stay_value)
    return int(conn.execute(q.values(patient_key=to_key)).rowcount or 0)


# --- flat rows ----------------------------------------------------------------------------------


def _fit(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    """Cut strings to their column length (a long local code must not fail the transaction)."""
    for name, value in row.items():
        length = getattr(table.c[name].type, "length", None)
        if isinstance(value, str) and length and len(value) > length:
            row[name] = value[:length]
    return row


def _live(movements: dict[str, Any]) -> list[dict[str, Any]]:
    live = [m for m in movements.values() if not m["cancelled"]]
    return sorted(live, key=lambda m: (ts14(m["movement"]["at"]), m["seq"]))


def derive_rows(patient_key: str, state: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Flat ``adt_stays`` and ``adt_movements`` rows for one patient's projection state."""
    stays: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    ins_trusted = bool((state.get("patient") or {}).get("ins_trusted"))
    locations = state.get("locations", {})
    for value, st in state.get("stays", {}).items():
        stay = st["stay"]
        vn = stay.get("visit_number") or {}
        key = stay_key(vn.get("value") or value, vn.get("authority_oid") or vn.get("authority") or "")
        locs = locations.get(value, {})
        live = _live(st["movements"])
        effective = [m for m in live if m["trigger"] not in PENDING_TRIGGERS]
        cur = effective[-1] if effective else None
        loc = locs.get(cur["movement"]["id"], {}) if cur else {}
        admits = [m for m in effective if m["trigger"] in ADMIT_TRIGGERS]
        admit = (admits[0]["movement"]["at"] if admits else "") or stay.get("admit_at", "") or (
            effective[0]["movement"]["at"] if effective else "")
        discharges = [m for m in live if m["trigger"] == "A03"]
        discharge = (discharges[-1]["movement"]["at"] or stay.get("discharge_at", "")) if discharges else ""
        stays.append(_fit(STAYS, {
            "stay_key": key, "patient_key": patient_key, "visit_number": vn.get("value") or value,
            "patient_class": loc.get("patient_class", stay.get("patient_class", "")),
            "uf_hebergement": loc.get("point_of_care", stay.get("point_of_care", "")),
            "uf_medicale": cur["movement"]["uf_medicale"] if cur else "",
            "uf_soins": cur["movement"]["uf_soins"] if cur else "",
            "current_movement": cur["movement"]["id"] if cur else "",
            "admit_at": to_datetime(admit) if effective else None, "discharge_at": to_datetime(discharge),
            "discharged": bool(discharges), "cancelled": bool(st["movements"]) and not live,
            "ins_trusted": ins_trusted,
        }))
        for mid, m in st["movements"].items():
            mv = m["movement"]
            mloc = locs.get(mid, {})
            moves.append(_fit(MOVEMENTS, {
                "stay_key": key, "movement_id": mid, "seq": m["seq"], "trigger": m["trigger"],
                "action": mv["action"], "at": to_datetime(mv["at"]),
                "patient_class": mloc.get("patient_class", ""), "uf_hebergement": mloc.get("point_of_care", ""),
                "uf_medicale": mv["uf_medicale"], "uf_soins": mv["uf_soins"], "nature": mv["nature"],
                "cancelled": m["cancelled"], "historic": mv["historic"],
            }))
    return stays, moves


def _pk_where(table: Any, pk: tuple[str, ...]) -> list[Any]:
    return [table.c[c] == bindparam(f"pk_{c}") for c in pk]


def _sync(conn: Connection, table: Any, pk: tuple[str, ...], existing: list[dict[str, Any]],
          desired: list[dict[str, Any]]) -> int:
    now = utcnow()
    have = {tuple(r[c] for c in pk): r for r in existing}
    want = {tuple(r[c] for c in pk): r for r in desired}
    inserts: list[dict[str, Any]] = []
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for k, row in want.items():
        old = have.get(k)
        if old is None:
            inserts.append({**row, "updated_at": now})
        elif any(old[c] != v for c, v in row.items()):
            cols = tuple(sorted(c for c in row if c not in pk))
            change: dict[str, Any] = {f"pk_{c}": v for c, v in zip(pk, k, strict=True)}
            change.update({f"v_{c}": row[c] for c in cols})
            change["v_updated_at"] = now
            updates.setdefault(cols, []).append(change)
    gone = [{f"pk_{c}": v for c, v in zip(pk, k, strict=True)} for k in have.keys() - want.keys()]
    for keys in {tuple(sorted(r)) for r in inserts}:  # executemany per column set (normally one)
        conn.execute(insert(table), [r for r in inserts if tuple(sorted(r)) == keys])
    for cols, changes in updates.items():
        stmt = update(table).where(*_pk_where(table, pk)).values(
            {c: bindparam(f"v_{c}") for c in (*cols, "updated_at")}
        )
        conn.execute(stmt, changes)
    if gone:
        conn.execute(delete(table).where(*_pk_where(table, pk)), gone)
    return len(inserts) + sum(len(v) for v in updates.values()) + len(gone)


def sync_rows(conn: Connection, patient_keys: Sequence[str], stays: list[dict[str, Any]],
              movements: list[dict[str, Any]]) -> int:
    """Make the flat rows of ``patient_keys`` equal to ``stays``/``movements``; returns rows changed.

    Rows whose content did not change are not touched (their ``updated_at`` stays).
    """
    wanted = {s["stay_key"] for s in stays}
    old_stays = [dict(r) for r in conn.execute(select(STAYS).where(
        or_(STAYS.c.patient_key.in_(list(patient_keys)), STAYS.c.stay_key.in_(list(wanted))))).mappings()]
    all_keys = wanted | {r["stay_key"] for r in old_stays}
    old_moves = [dict(r) for r in conn.execute(
        select(MOVEMENTS).where(MOVEMENTS.c.stay_key.in_(list(all_keys)))).mappings()] if all_keys else []
    changed = _sync(conn, MOVEMENTS, ("stay_key", "movement_id"), old_moves, movements)
    return changed + _sync(conn, STAYS, ("stay_key",), old_stays, stays)


# --- read service (capacity, DMP reconciliation, API) -------------------------------------------


@contextmanager
def _conn(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


def get_patient(bind: Engine | Connection, key: str) -> dict[str, Any] | None:
    """The patient (following merges) with its projection state and flat stays, or None."""
    with _conn(bind) as conn:
        survivor = resolve(conn, key)
        row = load_patient(conn, survivor)
        if row is None:
            return None
        return {
            "patient_key": survivor, "requested_key": key, "merged": survivor != key,
            "state": row["state"], "version": row["version"], "updated_at": row["updated_at"],
            "stays": _stays(conn, survivor),
        }


def _stays(conn: Connection, patient_key: str) -> list[dict[str, Any]]:
    q = select(STAYS).where(STAYS.c.patient_key == patient_key).order_by(STAYS.c.admit_at, STAYS.c.stay_key)
    return [dict(r) for r in conn.execute(q).mappings()]


def stays_of(bind: Engine | Connection, patient_key: str) -> list[dict[str, Any]]:
    """Flat stays of a patient (after merges: of the surviving patient)."""
    with _conn(bind) as conn:
        return _stays(conn, resolve(conn, patient_key))


def movements_of(bind: Engine | Connection, stay_key_: str) -> list[dict[str, Any]]:
    q = select(MOVEMENTS).where(MOVEMENTS.c.stay_key == stay_key_).order_by(MOVEMENTS.c.at, MOVEMENTS.c.seq)
    with _conn(bind) as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


UF_FIELDS = {"hebergement": "uf_hebergement", "medicale": "uf_medicale", "soins": "uf_soins"}


def stays_active_at(bind: Engine | Connection, at: datetime, uf: str | None = None, *,
                    uf_field: str = "hebergement") -> list[dict[str, Any]]:
    """Stays in progress at ``at`` (admitted, not yet discharged, not cancelled).

    Each row carries ``at_uf_hebergement`` / ``at_uf_medicale`` / ``at_uf_soins`` / ``at_movement``:
    where the patient was at that time (last live, non-planned movement at or before ``at``).
    ``uf`` keeps only stays whose unit at that time matches (``uf_field``: hebergement, medicale, soins).
    """
    column = UF_FIELDS[uf_field]
    s = STAYS.c
    q = select(STAYS).where(s.cancelled.is_(False), s.admit_at.isnot(None), s.admit_at <= at,
                            or_(s.discharge_at.is_(None), s.discharge_at > at)).order_by(s.stay_key)
    with _conn(bind) as conn:
        stays = [dict(r) for r in conn.execute(q).mappings()]
        if not stays:
            return []
        m = MOVEMENTS.c
        mq = (select(MOVEMENTS).where(m.stay_key.in_([x["stay_key"] for x in stays]), m.cancelled.is_(False),
                                      m.at.isnot(None), m.at <= at).order_by(m.at, m.seq))
        where: dict[str, dict[str, Any]] = {}
        for r in conn.execute(mq).mappings():
            if r["trigger"] not in PENDING_TRIGGERS:
                where[r["stay_key"]] = dict(r)
    out = []
    for st in stays:
        mv = where.get(st["stay_key"])
        for name in UF_FIELDS.values():
            st[f"at_{name}"] = mv[name] if mv else st[name]
        st["at_movement"] = mv["movement_id"] if mv else ""
        if uf is None or st[f"at_{column}"] == uf:
            out.append(st)
    return out


__all__ = [
    "CONCURRENT_UPDATE", "EVENTS", "MOVEMENTS", "PATIENTS", "STAYS", "add_event", "derive_rows", "event_exists",
    "events_of", "get_patient", "load_patient", "move_events", "movements_of", "resolve", "save_patient",
    "stay_key", "stays_active_at", "stays_of", "sync_rows", "to_datetime", "ts14",
]
