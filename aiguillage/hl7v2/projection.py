"""Pure projection of AdtEvents onto patient / stay / movement state (no I/O, deterministic).

Rules: movements are keyed by ZBE-1; a repeated INSERT is ignored (idempotent); CANCEL marks the
movement cancelled (a cancel arriving before its insert leaves a tombstone, so the late insert stays
cancelled); Z99 (UPDATE) replaces the movement's data but keeps its original trigger; the current
movement is the last live one ordered by ZBE-2 then arrival; A40 moves every stay of the merged
patient to the surviving one; A47 re-keys the patient; A44 moves one stay (MRG-5) between patients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiguillage.hl7v2.events import EVENTS, AdtEvent, AdtKind, Category
from aiguillage.hl7v2.pam import Movement, Patient, Stay, patient_from_dict, stay_from_dict, to_dict


@dataclass
class MovementState:
    movement: Movement
    trigger: str  # the trigger that inserted it
    seq: int  # arrival order, tie-breaker
    cancelled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"movement": to_dict(self.movement), "trigger": self.trigger, "seq": self.seq,
                "cancelled": self.cancelled}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MovementState:
        return cls(Movement(**d["movement"]), d["trigger"], int(d["seq"]), bool(d["cancelled"]))


@dataclass
class StayState:
    stay: Stay
    movements: dict[str, MovementState] = field(default_factory=dict)

    def live(self) -> list[MovementState]:
        return sorted((m for m in self.movements.values() if not m.cancelled),
                      key=lambda m: (m.movement.at.ljust(14, "0"), m.seq))

    @property
    def current(self) -> MovementState | None:
        live = self.live()
        return live[-1] if live else None

    @property
    def discharged(self) -> bool:
        return any(m.trigger == "A03" for m in self.live())

    def to_dict(self) -> dict[str, Any]:
        return {"stay": to_dict(self.stay), "movements": {k: m.to_dict() for k, m in self.movements.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StayState:
        return cls(stay_from_dict(d["stay"]),
                   {k: MovementState.from_dict(m) for k, m in d.get("movements", {}).items()})


@dataclass
class PatientState:
    patient: Patient
    stays: dict[str, StayState] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state (holds personal data: store it, never log it)."""
        return {"patient": to_dict(self.patient), "stays": {k: s.to_dict() for k, s in self.stays.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PatientState:
        return cls(patient_from_dict(d["patient"]),
                   {k: StayState.from_dict(s) for k, s in d.get("stays", {}).items()})


@dataclass
class Projection:
    patients: dict[str, PatientState] = field(default_factory=dict)
    merged_into: dict[str, str] = field(default_factory=dict)
    _seq: int = 0

    def resolve(self, key: str) -> str:
        seen = set()
        while key in self.merged_into and key not in seen:
            seen.add(key)
            key = self.merged_into[key]
        return key

    def apply(self, ev: AdtEvent) -> None:
        self._seq += 1
        key = self.resolve(ev.bus_key)
        ps = self.patients.get(key)
        if ps is None:
            ps = self.patients[key] = PatientState(ev.patient)
        elif ev.patient.ipp is not None:
            ps.patient = ev.patient
        spec = EVENTS[ev.trigger]
        if spec.category is Category.MERGE:
            self._merge(ev, key, ps)
            return
        if spec.category is not Category.MOVEMENT or ev.stay is None or ev.movement is None:
            return
        vn = ev.stay.visit_number
        stay_key = vn.value if vn is not None else ""
        st = ps.stays.get(stay_key)
        if st is None:
            st = ps.stays[stay_key] = StayState(ev.stay)
        mv = ev.movement
        existing = st.movements.get(mv.id)
        if mv.action == "CANCEL":
            if existing is None:
                st.movements[mv.id] = MovementState(mv, ev.cancels or "", self._seq, cancelled=True)
            else:
                existing.cancelled = True
            return
        st.stay = ev.stay
        if mv.action == "UPDATE":
            if existing is not None:
                existing.movement = mv
            else:
                st.movements[mv.id] = MovementState(mv, ev.corrects or "", self._seq)
            return
        if existing is None:
            st.movements[mv.id] = MovementState(mv, ev.trigger, self._seq)
        elif existing.cancelled and not existing.trigger:
            existing.trigger = ev.trigger  # late insert of an already cancelled movement

    def _merge(self, ev: AdtEvent, key: str, ps: PatientState) -> None:
        if ev.merge is None or ev.merge.prior_key is None:
            return
        prior = self.resolve(ev.merge.prior_key)
        if prior == key:
            return
        old = self.patients.get(prior)
        if ev.kind is AdtKind.MOVE_ACCOUNT:
            vn = ev.merge.prior_visit_number
            if old is not None and vn is not None and vn.value in old.stays:
                ps.stays[vn.value] = old.stays.pop(vn.value)
            return
        if old is not None:
            for sk, st in old.stays.items():
                ps.stays.setdefault(sk, st)
            del self.patients[prior]
        self.merged_into[prior] = key


def project(events: list[AdtEvent]) -> Projection:
    p = Projection()
    for ev in events:
        p.apply(ev)
    return p


__all__ = ["MovementState", "PatientState", "Projection", "StayState", "project"]
