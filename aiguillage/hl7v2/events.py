"""PAM FR ADT events: the trigger table and ``to_adt_event(msg) -> AdtEvent``.

Policy: every problem is collected. Errors raise :class:`HL7MappingError` carrying all issues;
warnings ride on ``AdtEvent.warnings``. ``strict=True`` turns the tolerances into errors: A08 (not
PAM France), a missing ZBE-4 (otherwise inferred from the trigger), a missing ZBE-6 on CANCEL or
UPDATE, a ZBE-5 other than Y/N, a missing EVN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiguillage.errors import Issue
from aiguillage.hl7v2 import errors as E
from aiguillage.hl7v2.errors import HL7MappingError
from aiguillage.hl7v2.message import Message
from aiguillage.hl7v2.pam import (
    IDENTITY_STATUSES,
    ZBE_ACTIONS,
    Merge,
    Movement,
    Patient,
    Stay,
    Zfa,
    Zfd,
    Zfm,
    merge_from,
    merge_from_dict,
    movement_from,
    patient_from,
    patient_from_dict,
    stay_from,
    stay_from_dict,
    to_dict,
    zfa_from,
    zfd_from,
    zfm_from,
)

SUPPORTED_VERSIONS = frozenset({"2.5", "2.5.1"})
PROCESSING_IDS = frozenset({"P", "D", "T"})


class AdtKind(StrEnum):
    ADMIT = "ADMIT"
    REGISTER_OUTPATIENT = "REGISTER_OUTPATIENT"
    CANCEL_ADMIT = "CANCEL_ADMIT"
    PRE_ADMIT = "PRE_ADMIT"
    CANCEL_PRE_ADMIT = "CANCEL_PRE_ADMIT"
    PENDING_ADMIT = "PENDING_ADMIT"
    CANCEL_PENDING_ADMIT = "CANCEL_PENDING_ADMIT"
    OUTPATIENT_TO_INPATIENT = "OUTPATIENT_TO_INPATIENT"
    INPATIENT_TO_OUTPATIENT = "INPATIENT_TO_OUTPATIENT"
    CANCEL_CLASS_CHANGE = "CANCEL_CLASS_CHANGE"
    TRANSFER = "TRANSFER"
    CANCEL_TRANSFER = "CANCEL_TRANSFER"
    PENDING_TRANSFER = "PENDING_TRANSFER"
    CANCEL_PENDING_TRANSFER = "CANCEL_PENDING_TRANSFER"
    DISCHARGE = "DISCHARGE"
    CANCEL_DISCHARGE = "CANCEL_DISCHARGE"
    PENDING_DISCHARGE = "PENDING_DISCHARGE"
    CANCEL_PENDING_DISCHARGE = "CANCEL_PENDING_DISCHARGE"
    LEAVE_OF_ABSENCE = "LEAVE_OF_ABSENCE"
    CANCEL_LEAVE_OF_ABSENCE = "CANCEL_LEAVE_OF_ABSENCE"
    RETURN_FROM_LEAVE = "RETURN_FROM_LEAVE"
    CANCEL_RETURN_FROM_LEAVE = "CANCEL_RETURN_FROM_LEAVE"
    CHANGE_ATTENDING_DOCTOR = "CHANGE_ATTENDING_DOCTOR"
    CANCEL_CHANGE_ATTENDING_DOCTOR = "CANCEL_CHANGE_ATTENDING_DOCTOR"
    UPDATE_MOVEMENT = "UPDATE_MOVEMENT"
    MOVE_ACCOUNT = "MOVE_ACCOUNT"
    ADD_PERSON = "ADD_PERSON"
    UPDATE_PERSON = "UPDATE_PERSON"
    UPDATE_PATIENT = "UPDATE_PATIENT"  # A08, not PAM France
    CHANGE_PATIENT_ID = "CHANGE_PATIENT_ID"
    MERGE_PATIENT = "MERGE_PATIENT"


class Category(StrEnum):
    MOVEMENT = "movement"  # PID + PV1 + ZBE
    IDENTITY = "identity"  # PID
    MERGE = "merge"  # PID + MRG


@dataclass(frozen=True, slots=True)
class EventSpec:
    kind: AdtKind
    category: Category
    cancels: tuple[str, ...] = ()  # triggers this cancel trigger may cancel (first = default)


_M, _I, _G = Category.MOVEMENT, Category.IDENTITY, Category.MERGE
K = AdtKind
EVENTS: dict[str, EventSpec] = {
    "A01": EventSpec(K.ADMIT, _M),
    "A04": EventSpec(K.REGISTER_OUTPATIENT, _M),
    "A11": EventSpec(K.CANCEL_ADMIT, _M, ("A01", "A04")),
    "A05": EventSpec(K.PRE_ADMIT, _M),
    "A38": EventSpec(K.CANCEL_PRE_ADMIT, _M, ("A05",)),
    "A14": EventSpec(K.PENDING_ADMIT, _M),
    "A27": EventSpec(K.CANCEL_PENDING_ADMIT, _M, ("A14",)),
    "A06": EventSpec(K.OUTPATIENT_TO_INPATIENT, _M),  # with ZBE-4 CANCEL: cancels an A07
    "A07": EventSpec(K.INPATIENT_TO_OUTPATIENT, _M),  # with ZBE-4 CANCEL: cancels an A06
    "A02": EventSpec(K.TRANSFER, _M),
    "A12": EventSpec(K.CANCEL_TRANSFER, _M, ("A02",)),
    "A15": EventSpec(K.PENDING_TRANSFER, _M),
    "A26": EventSpec(K.CANCEL_PENDING_TRANSFER, _M, ("A15",)),
    "A03": EventSpec(K.DISCHARGE, _M),
    "A13": EventSpec(K.CANCEL_DISCHARGE, _M, ("A03",)),
    "A16": EventSpec(K.PENDING_DISCHARGE, _M),
    "A25": EventSpec(K.CANCEL_PENDING_DISCHARGE, _M, ("A16",)),
    "A21": EventSpec(K.LEAVE_OF_ABSENCE, _M),
    "A52": EventSpec(K.CANCEL_LEAVE_OF_ABSENCE, _M, ("A21",)),
    "A22": EventSpec(K.RETURN_FROM_LEAVE, _M),
    "A53": EventSpec(K.CANCEL_RETURN_FROM_LEAVE, _M, ("A22",)),
    "A54": EventSpec(K.CHANGE_ATTENDING_DOCTOR, _M),
    "A55": EventSpec(K.CANCEL_CHANGE_ATTENDING_DOCTOR, _M, ("A54",)),
    "Z99": EventSpec(K.UPDATE_MOVEMENT, _M),
    "A44": EventSpec(K.MOVE_ACCOUNT, _G),
    "A28": EventSpec(K.ADD_PERSON, _I),
    "A31": EventSpec(K.UPDATE_PERSON, _I),
    "A08": EventSpec(K.UPDATE_PATIENT, _I),
    "A47": EventSpec(K.CHANGE_PATIENT_ID, _G),
    "A40": EventSpec(K.MERGE_PATIENT, _G),
}
CLASS_CHANGE = {"A06": "A07", "A07": "A06"}


@dataclass(slots=True)
class AdtEvent:
    trigger: str
    kind: AdtKind
    control_id: str
    message_type: str = ""  # "ADT^A01^ADT_A01"
    version: str = ""
    sending_app: str = ""
    sending_facility: str = ""
    recorded_at: str = ""  # EVN-2
    occurred_at: str = ""  # EVN-6
    patient: Patient = field(default_factory=Patient)
    stay: Stay | None = None
    movement: Movement | None = None
    zfa: Zfa | None = None
    zfd: Zfd | None = None
    zfm: Zfm | None = None
    merge: Merge | None = None
    cancels: str | None = None  # trigger of the event cancelled
    corrects: str | None = None  # Z99: trigger of the movement corrected
    warnings: list[Issue] = field(default_factory=list)

    @property
    def bus_key(self) -> str:
        """Patient key (IPP with its authority): one patient's events stay in order."""
        return self.patient.key or f"MSG:{self.sending_app}:{self.control_id}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = to_dict(self)
        d["kind"] = self.kind.value
        d["warnings"] = [w.as_dict() for w in self.warnings]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AdtEvent:
        d = dict(d)
        d["kind"] = AdtKind(d["kind"])
        d["patient"] = patient_from_dict(d["patient"])
        for name, build in (("stay", stay_from_dict), ("merge", merge_from_dict)):
            if d.get(name) is not None:
                d[name] = build(d[name])
        for name, typ in (("movement", Movement), ("zfa", Zfa), ("zfd", Zfd), ("zfm", Zfm)):
            if d.get(name) is not None:
                d[name] = typ(**d[name])
        d["warnings"] = [Issue(w["severity"], w["code"], w["message"], w.get("location"))
                         for w in d.get("warnings", [])]
        return cls(**d)

    @classmethod
    def from_json(cls, text: str | bytes) -> AdtEvent:
        return cls.from_dict(json.loads(text))

    def __repr__(self) -> str:
        return f"<AdtEvent {self.trigger} {self.kind.value} id={self.control_id!r} key={self.bus_key!r}>"


class _Report:
    __slots__ = ("errors", "strict", "warnings")

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def error(self, code: str, message: str, location: str | None = None) -> None:
        self.errors.append(Issue("error", code, message, location))

    def soft(self, code: str, message: str, location: str | None = None) -> None:
        """A warning, or an error in strict mode."""
        if self.strict:
            self.error(code, message, location)
        else:
            self.warnings.append(Issue("warning", code, message, location))


def to_adt_event(msg: Message, strict: bool = False) -> AdtEvent:
    """Map a parsed ADT message to an :class:`AdtEvent`; raises :class:`HL7MappingError` listing
    every error (each Issue has an HL7 location and a code mapping to table 0357)."""
    r = _Report(strict)
    msh = msg.msh
    code, trigger, structure = msh.comps(9, 1, 3)[:3]
    sending_app, sending_facility, control_id, pid_code, version = msh.values(3, 4, 10, 11, 12)
    if not code or not trigger:
        r.error(E.REQUIRED_FIELD, "MSH-9 message type is missing", "MSH-9")
    elif code != "ADT":
        r.error(E.BAD_MESSAGE_TYPE, f"message type {code[:10]} is not ADT", "MSH-9.1")
    if not control_id:
        r.error(E.REQUIRED_FIELD, "MSH-10 message control id is missing", "MSH-10")
    if not version:
        r.error(E.REQUIRED_FIELD, "MSH-12 version id is missing", "MSH-12")
    elif version not in SUPPORTED_VERSIONS:
        r.error(E.BAD_VERSION, f"version {version[:10]} not supported (2.5, 2.5.1)", "MSH-12")
    if pid_code and pid_code not in PROCESSING_IDS:
        r.error(E.BAD_PROCESSING_ID, f"processing id {pid_code[:5]} not supported", "MSH-11")
    spec = EVENTS.get(trigger)
    if spec is None:
        if trigger:
            r.error(E.UNKNOWN_EVENT, f"event {trigger[:5]} is not a PAM FR event", "MSH-9.2")
        raise HL7MappingError("message does not map to a PAM FR event", r.errors[0].code, issues=r.errors)
    if trigger == "A08":
        r.soft(E.NOT_PAM_FR, "A08 is not part of PAM France: read as a patient update", "MSH-9.2")

    event = AdtEvent(trigger, spec.kind, control_id, f"{code}^{trigger}^{structure}" if structure
                     else f"{code}^{trigger}", version, sending_app, sending_facility)
    evn = msg.segment("EVN")
    if evn is None:
        r.soft(E.MISSING_SEGMENT, "EVN segment missing", "EVN")
    else:
        event.recorded_at, event.occurred_at = evn.values(2, 6)

    pid = msg.segment("PID")
    if pid is None:
        r.error(E.MISSING_SEGMENT, "PID segment missing", "PID")
    else:
        p = patient_from(pid)
        event.patient = p
        if p.ipp is None:
            r.error(E.REQUIRED_FIELD, "PID-3 has no IPP (identifier type PI)", "PID-3")
        if p.identity_status and p.identity_status not in IDENTITY_STATUSES:
            r.warnings.append(Issue("warning", E.BAD_TABLE_VALUE,
                                    "PID-32 value not in table 0445", "PID-32"))
        if p.ins is not None and not p.ins_trusted:
            r.warnings.append(Issue("warning", E.INS_UNTRUSTED,
                                    "INS present but PID-32 is not VALI: not used", "PID-32"))

    if spec.category is Category.MOVEMENT:
        _movement(msg, spec, event, r)
    else:
        pv1 = msg.segment("PV1")
        if pv1 is not None and (pv1.get(2) or pv1.raw(19)):
            event.stay = stay_from(pv1)
        if spec.category is Category.MERGE:
            mrg = msg.segment("MRG")
            if mrg is None:
                r.error(E.MISSING_SEGMENT, f"MRG segment required for {trigger}", "MRG")
            else:
                event.merge = merge_from(mrg)
                if trigger in ("A40", "A47") and event.merge.prior_ipp is None:
                    r.error(E.REQUIRED_FIELD, "MRG-1 has no prior IPP (type PI)", "MRG-1")
                if trigger == "A44" and event.merge.prior_visit_number is None:
                    r.error(E.REQUIRED_FIELD, "MRG-5 prior visit number missing", "MRG-5")

    for name, build, attr in (("ZFA", zfa_from, "zfa"), ("ZFD", zfd_from, "zfd"), ("ZFM", zfm_from, "zfm")):
        seg = msg.segment(name)
        if seg is not None:
            setattr(event, attr, build(seg))
    if r.errors:
        raise HL7MappingError(f"{len(r.errors)} error(s) mapping {trigger}", r.errors[0].code,
                              location=r.errors[0].location, issues=r.errors + r.warnings)
    event.warnings = r.warnings
    return event


def _movement(msg: Message, spec: EventSpec, event: AdtEvent, r: _Report) -> None:
    trigger = event.trigger
    pv1 = msg.segment("PV1")
    if pv1 is None:
        r.error(E.MISSING_SEGMENT, f"PV1 segment required for {trigger}", "PV1")
    else:
        stay = stay_from(pv1)
        event.stay = stay
        if not stay.patient_class:
            r.error(E.REQUIRED_FIELD, "PV1-2 patient class missing", "PV1-2")
        if stay.visit_number is None or not stay.visit_number.value:
            r.error(E.REQUIRED_FIELD, "PV1-19 visit number missing", "PV1-19")
    zbe = msg.segment("ZBE")
    if zbe is None:
        r.error(E.MISSING_SEGMENT, f"ZBE segment required for {trigger}", "ZBE")
        return
    mv = movement_from(zbe)
    event.movement = mv
    if not mv.id:
        r.error(E.REQUIRED_FIELD, "ZBE-1 movement id missing", "ZBE-1")
    if not mv.at:
        r.error(E.REQUIRED_FIELD, "ZBE-2 movement date missing", "ZBE-2")
    expected = "UPDATE" if trigger == "Z99" else ("CANCEL" if spec.cancels else "INSERT")
    if not mv.action:
        r.soft(E.ZBE_ACTION_INFERRED, f"ZBE-4 action missing: {expected} inferred from {trigger}", "ZBE-4")
        mv.action = expected
    elif mv.action not in ZBE_ACTIONS:
        r.error(E.BAD_TABLE_VALUE, "ZBE-4 must be INSERT, UPDATE or CANCEL", "ZBE-4")
    elif mv.action != expected and not (trigger in CLASS_CHANGE and mv.action == "CANCEL"):
        r.error(E.INCONSISTENT, f"ZBE-4 {mv.action} does not match event {trigger}", "ZBE-4")
    historic = zbe.get(5)
    if historic not in ("Y", "N"):
        r.soft(E.BAD_TABLE_VALUE, "ZBE-5 historic indicator must be Y or N", "ZBE-5")
    orig = mv.original_trigger
    valid_orig = len(orig) == 3 and orig[0] in "AZ" and orig[1:].isdigit()
    if orig and not valid_orig:
        r.soft(E.BAD_TABLE_VALUE, "ZBE-6 is not a trigger event code", "ZBE-6")
    if mv.action in ("UPDATE", "CANCEL") and not valid_orig:
        r.soft(E.REQUIRED_FIELD, f"ZBE-6 original trigger required with {mv.action}", "ZBE-6")
    if mv.action == "CANCEL":
        allowed = spec.cancels or ((CLASS_CHANGE[trigger],) if trigger in CLASS_CHANGE else ())
        if trigger in CLASS_CHANGE:
            event.kind = AdtKind.CANCEL_CLASS_CHANGE
        if valid_orig and orig not in allowed:
            r.error(E.INCONSISTENT, f"{trigger} cannot cancel {orig}", "ZBE-6")
        event.cancels = orig if valid_orig else (allowed[0] if allowed else None)
    elif mv.action == "UPDATE":
        if valid_orig and (orig == "Z99" or orig not in EVENTS):
            r.error(E.INCONSISTENT, f"Z99 cannot correct {orig}", "ZBE-6")
        event.corrects = orig if valid_orig else None


__all__ = ["EVENTS", "AdtEvent", "AdtKind", "Category", "EventSpec", "to_adt_event"]
