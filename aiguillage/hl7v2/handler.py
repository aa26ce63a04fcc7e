"""The HL7 v2 worker handler: stored ADT message -> persisted patient/stay/movement projection + event.

Runs inside the worker's transaction (``conn``). Intake already parsed and mapped the message, so a
mapping error here is a real rejection (non-retryable, REJECTED with its code); store errors
propagate and are retried.

Determinism whatever the arrival order: every event is kept in its patient's log (``adt_events``),
deduplicated by a fingerprint of its content (a repeated message changes nothing) and ordered by a
canonical key (EVN-2 recorded date-time, ZBE-2, trigger, MSH-10, fingerprint). An event sorting
after everything already applied is applied to the stored state (the common case); a late one
makes the patient's state be rebuilt from its log in canonical order. Either way the state equals
the pure :class:`~aiguillage.hl7v2.projection.Projection` of the canonically ordered log.

Ownership: every event in a patient's log belongs to that patient. A40/A47 hand the merged
patient's whole log to the survivor (the merged key then points to it through ``merged_into``);
A44 hands over the events of one stay and leaves a redirect, so late messages for that stay follow
it. The patient's identity (and INS trust) comes from its own messages only.

Local codes: on channels opted in through ``AdtOptions.uf_mapping_channels`` the UF codes (PV1-3.1,
ZBE-7.10, ZBE-8.10) go through the mapping tables (source = the message source, field ``UF``); an
unmapped UF holds the message (HELD, MAP-0001) until an admin maps it and reprocesses.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from aiguillage.hl7v2.events import EVENTS, AdtEvent, AdtKind, Category, to_adt_event
from aiguillage.hl7v2.parser import parse
from aiguillage.hl7v2.projection import PatientState, Projection
from aiguillage.mappings import MappingContext
from aiguillage.router.bus import Record
from aiguillage.router.handlers import Handler, InboundMessage, Outcome
from aiguillage.router.topics import Topic
from aiguillage.store import adt
from aiguillage.store.messages import MessageStatus

log = logging.getLogger(__name__)

UF_FIELD = "UF"
_PRIORITY = {"CANCEL": 0, "INSERT": 1, "UPDATE": 2}  # which message's PV1 locates a movement


@dataclass
class AdtOptions:
    """Per-engine options of the HL7 v2 handler (kept in ``engine.services["hl7v2"]``)."""

    uf_mapping_channels: set[str] = field(default_factory=set)  # channels whose UF codes must be mapped
    uf_mapping_field: str = UF_FIELD
    uf_target_system: str = ""  # suggested target system when a mapping table is created on a miss


@dataclass(frozen=True)
class Applied:
    """What applying one event did (no personal data: safe in message meta and logs)."""

    duplicate: bool
    replay: str  # "none" | "incremental" | "full"
    patients: int  # patient rows written
    rows_changed: int  # flat stay/movement rows inserted, updated or deleted


# --- canonical order and identity ---------------------------------------------------------------


def fingerprint(ev: AdtEvent) -> str:
    """Content hash of an event, ignoring MSH-10 and warnings: a re-sent message has the same one."""
    d = ev.to_dict()
    for k in ("control_id", "warnings"):
        d.pop(k, None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def order_key(ev: AdtEvent) -> str:
    at = adt.ts14(ev.movement.at) if ev.movement is not None else ""
    recorded = adt.ts14(ev.recorded_at) or adt.ts14(ev.occurred_at) or at
    return f"{recorded}|{at}|{ev.trigger}|{ev.control_id[:60]}"


def _stay_value(ev: AdtEvent) -> str | None:
    vn = ev.stay.visit_number if ev.stay is not None else None
    return vn.value if vn is not None else None


# --- pure replay ---------------------------------------------------------------------------------


def _apply(proj: Projection, owner: str, ev: AdtEvent, locations: dict[str, dict[str, Any]]) -> None:
    """Apply one event of ``owner``'s log: every key it names is an alias of ``owner``."""
    for k in (ev.bus_key, ev.merge.prior_key if ev.merge is not None else None):
        if k and k != owner:
            proj.merged_into[k] = owner
    before = proj.patients.get(owner)
    previous = before.patient if before is not None else None
    proj.apply(ev)
    ps = proj.patients.get(owner)
    if ps is not None and previous is not None and ev.patient.key != owner:
        ps.patient = previous  # identity from the patient's own messages only
    mv, stay, sv = ev.movement, ev.stay, _stay_value(ev)
    if EVENTS[ev.trigger].category is not Category.MOVEMENT or mv is None or stay is None or sv is None:
        return
    locs = locations.setdefault(sv, {})
    old = locs.get(mv.id)
    prio = _PRIORITY.get(mv.action, 0)
    if old is None or prio > old["p"] or (prio == old["p"] == _PRIORITY["UPDATE"]):
        locs[mv.id] = {"p": prio, "patient_class": stay.patient_class, "point_of_care": stay.point_of_care,
                       "room": stay.room, "bed": stay.bed, "facility": stay.facility}


def _state_of(proj: Projection, owner: str, locations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ps = proj.patients.get(owner)
    d: dict[str, Any] = ps.to_dict() if ps is not None else {"patient": None, "stays": {}}
    d["locations"] = locations
    d["seq"] = proj._seq
    return d


def replay(owner: str, events: list[AdtEvent]) -> dict[str, Any]:
    """State of ``owner`` from its log, already in canonical order (pure)."""
    proj = Projection()
    locations: dict[str, dict[str, Any]] = {}
    for ev in events:
        _apply(proj, owner, ev, locations)
    return _state_of(proj, owner, locations)


def advance(owner: str, state: dict[str, Any], ev: AdtEvent) -> dict[str, Any]:
    """State of ``owner`` after one more event that sorts after every event already in ``state``."""
    proj = Projection(_seq=int(state.get("seq", 0)))
    if state.get("patient") is not None:
        proj.patients[owner] = PatientState.from_dict(state)
    locations = json.loads(json.dumps(state.get("locations", {})))
    _apply(proj, owner, ev, locations)
    return _state_of(proj, owner, locations)


# --- persistence ---------------------------------------------------------------------------------


def _rebuild(conn: Connection, owner: str) -> tuple[dict[str, Any], str]:
    log_ = adt.events_of(conn, owner)
    state = replay(owner, [AdtEvent.from_json(text) for _, _, text in log_])
    last = json.dumps([log_[-1][0], log_[-1][1]]) if log_ else ""
    return state, last


def route(conn: Connection, ev: AdtEvent) -> str:
    """The patient whose log takes ``ev``: follows merges, then A44 redirects of the event's stay."""
    owner = adt.resolve(conn, ev.bus_key)
    sv = _stay_value(ev)
    if EVENTS[ev.trigger].category is not Category.MOVEMENT or not sv:
        return owner
    seen = {owner}
    while True:
        row = adt.load_patient(conn, owner)
        target = row["moved_stays"].get(sv) if row is not None else None
        if not target:
            return owner
        nxt = adt.resolve(conn, target)
        if nxt in seen:
            return owner
        seen.add(nxt)
        owner = nxt


def _after(order: str, last: str) -> bool:
    return not last or json.loads(order) > json.loads(last)


def apply_event(conn: Connection, ev: AdtEvent, message_id: str = "") -> Applied:
    """Persist ``ev`` into the ADT projection (state, log and flat rows) inside ``conn``'s transaction."""
    fp = fingerprint(ev)
    if adt.event_exists(conn, fp):
        return Applied(True, "none", 0, 0)
    order = json.dumps([order_key(ev), fp])
    owner = route(conn, ev)
    rows: dict[str, dict[str, Any] | None] = {owner: adt.load_patient(conn, owner)}
    touched, full = [owner], set()
    redirects: dict[str, dict[str, str]] = {}
    merged: dict[str, str] = {}
    merge = ev.merge
    if EVENTS[ev.trigger].category is Category.MERGE and merge is not None and merge.prior_key:
        prior = adt.resolve(conn, merge.prior_key)
        if prior != owner:
            rows[prior] = adt.load_patient(conn, prior)
            prior_moved = dict((rows[prior] or {}).get("moved_stays", {}))
            owner_moved = dict((rows[owner] or {}).get("moved_stays", {}))
            vn = merge.prior_visit_number
            if ev.kind is AdtKind.MOVE_ACCOUNT:
                if vn is not None and vn.value:
                    adt.move_events(conn, prior, owner, vn.value)
                    prior_moved[vn.value] = owner
                    owner_moved.pop(vn.value, None)
            else:  # A40 merge, A47 change of identifier: the prior patient's whole history moves
                adt.move_events(conn, prior, owner)
                for k, v in prior_moved.items():
                    owner_moved.setdefault(k, v)
                prior_moved = {}
                merged[prior] = owner
            redirects = {prior: prior_moved, owner: owner_moved}
            touched.append(prior)
            full |= {prior, owner}
    adt.add_event(conn, fingerprint=fp, patient_key=owner, stay_value=_stay_value(ev), order_key=order_key(ev),
                  message_id=message_id, trigger=ev.trigger, event_json=ev.to_json())
    replayed = "incremental"
    all_stays: list[dict[str, Any]] = []
    all_moves: list[dict[str, Any]] = []
    for key in touched:
        current = rows[key]
        state: dict[str, Any]
        if key in merged:
            state, last = {"patient": None, "stays": {}, "locations": {}, "seq": 0}, ""
        elif key in full or current is None or not current["state"] or not _after(order, current["last_order"]):
            state, last = _rebuild(conn, key)
            replayed = "full"
        else:
            state, last = advance(key, current["state"], ev), order
        adt.save_patient(conn, key, current, state=state,
                         moved_stays=redirects.get(key, (current or {}).get("moved_stays", {})),
                         last_order=last, merged_into=merged.get(key, (current or {}).get("merged_into")))
        stays, moves = adt.derive_rows(key, state)
        all_stays += stays
        all_moves += moves
    changed = adt.sync_rows(conn, touched, all_stays, all_moves)
    return Applied(False, replayed, len(touched), changed)


# --- local codes (opt-in per channel) ------------------------------------------------------------


def units_of(ev: AdtEvent) -> list[str]:
    """Local UF codes the message carries: PV1-3.1, ZBE-7.10, ZBE-8.10 (non-empty, once each)."""
    codes = [ev.stay.point_of_care if ev.stay is not None else ""]
    if ev.movement is not None:
        codes += [ev.movement.uf_medicale, ev.movement.uf_soins]
    return list(dict.fromkeys(c for c in codes if c))


def translate_units(conn: Connection, msg: InboundMessage, ev: AdtEvent, options: AdtOptions) -> Outcome | None:
    """Map the message's UF codes through the mapping tables; a HELD outcome when one is missing."""
    ctx = MappingContext(conn, msg.id)
    for code in units_of(ev):
        ctx.translate(msg.source or msg.channel, options.uf_mapping_field, code,
                      target_system=options.uf_target_system)
    return ctx.outcome_if_missing()


# --- the handler ---------------------------------------------------------------------------------


def make_handler(options: AdtOptions | None = None) -> Handler:
    opts = options if options is not None else AdtOptions()

    def handle(msg: InboundMessage, conn: Connection) -> Outcome:
        ev = to_adt_event(parse(msg.raw, strict=False), strict=False)  # HL7Error: non-retryable -> REJECTED
        if msg.channel in opts.uf_mapping_channels:
            held = translate_units(conn, msg, ev, opts)
            if held is not None:
                return held
        applied = apply_event(conn, ev, msg.id)
        meta: dict[str, Any] = {
            "trigger": ev.trigger, "kind": ev.kind.value,
            "action": ev.movement.action if ev.movement is not None else "",
            "duplicate": applied.duplicate, "replay": applied.replay, "rows_changed": applied.rows_changed,
        }
        log.debug("adt %s applied for message %s (%s, %d rows)", ev.trigger, msg.id, applied.replay,
                  applied.rows_changed)
        event = Record(Topic.EVENTS_ADT.value, ev.bus_key, ev.to_json().encode())
        return Outcome(MessageStatus.PROCESSED, events=[event], meta=meta)

    return handle


handler: Handler = make_handler()

__all__ = ["AdtOptions", "Applied", "apply_event", "fingerprint", "handler", "make_handler", "order_key",
           "replay", "route", "translate_units", "units_of"]
