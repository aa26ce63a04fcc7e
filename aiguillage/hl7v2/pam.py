"""IHE PAM France 2.11 model: patient (PID), stay (PV1), movement (ZBE), ZFA, ZFD, ZFM, MRG.

Dates stay HL7 TS strings (``YYYYMMDD[HHMM[SS]]``), lossless and sortable at equal precision.
Personal data (names, birth date, INS value) are excluded from repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from aiguillage.hl7v2.identifiers import INS_OIDS, Identifier, Ins, patient_key
from aiguillage.hl7v2.message import Segment, split_components

IDENTITY_STATUSES = frozenset({
    "VIDE", "PROV", "VALI", "DOUB", "DESA", "DPOT", "DOUA", "COLP", "COLV", "FILI", "CACH", "ANOM",
    "IDVER", "RECD", "IDRA", "USUR", "HOMD", "HOMA", "INVA", "FICT", "DOUT",
})  # HL7 table 0445, French version (PAM FR 2.11 section 6.6.15)
ZBE_ACTIONS = frozenset({"INSERT", "UPDATE", "CANCEL"})
ZBE9_NATURES = frozenset({"S", "H", "M", "L", "D", "SM", "SH", "MH", "LD", "HMS", "C"})
ZFA1_STATUSES = frozenset({"ACTIF", "FERME", "INEXISTANT"})
ZFA9_VALUES = frozenset({"NA", "IO", "INO"})
ZFA11_VALUES = frozenset({"NA", "INC", "IC"})


@dataclass(slots=True)
class Patient:
    ipp: Identifier | None = None
    other_ids: list[Identifier] = field(default_factory=list)
    ins: Ins | None = None  # kept apart; used only when ins_trusted
    ins_trusted: bool = False
    identity_status: str = ""  # PID-32 first repetition (table 0445)
    identity_attributes: list[str] = field(default_factory=list)  # PID-32 further repetitions
    family_name: str = field(default="", repr=False)
    given_name: str = field(default="", repr=False)
    name_type: str = ""
    birth_date: str = field(default="", repr=False)
    sex: str = ""

    @property
    def key(self) -> str | None:
        if self.ipp is None:
            return None
        return patient_key(self.ipp.value, self.ipp.authority_key)


@dataclass(slots=True)
class Stay:
    visit_number: Identifier | None = None  # PV1-19 (NDA)
    patient_class: str = ""  # PV1-2
    point_of_care: str = ""  # PV1-3.1: UF d'hébergement
    room: str = ""
    bed: str = ""
    facility: str = ""  # PV1-3.4
    admission_type: str = ""  # PV1-4
    hospital_service: str = ""  # PV1-10
    attending_doctor: str = ""  # PV1-7.1 (professional id, not a patient datum)
    discharge_disposition: str = ""  # PV1-36
    admit_at: str = ""  # PV1-44
    discharge_at: str = ""  # PV1-45


@dataclass(slots=True)
class Movement:
    id: str = ""  # ZBE-1.1
    id_namespace: str = ""  # ZBE-1.2
    ids: list[str] = field(default_factory=list)  # every ZBE-1 repetition, "id^namespace"
    at: str = ""  # ZBE-2
    action: str = ""  # ZBE-4 INSERT | UPDATE | CANCEL
    historic: bool = False  # ZBE-5 = Y
    original_trigger: str = ""  # ZBE-6
    uf_medicale: str = ""  # ZBE-7.10
    uf_medicale_label: str = ""  # ZBE-7.1
    uf_soins: str = ""  # ZBE-8.10
    uf_soins_label: str = ""  # ZBE-8.1
    nature: str = ""  # ZBE-9


@dataclass(slots=True)
class Zfa:
    dmp_status: str = ""  # ZFA-1 ACTIF | FERME | INEXISTANT
    dmp_status_at: str = ""
    dmp_closed_at: str = ""
    feeding_opposition: str = ""  # ZFA-9 NA | IO | INO
    feeding_opposition_at: str = ""
    consultation_consent: str = ""  # ZFA-11 NA | INC | IC
    consultation_consent_at: str = ""


@dataclass(slots=True)
class Zfd:
    lunar_date: str = ""
    gestation_weeks: str = ""
    sms_consent: str = ""
    birth_date_modified: str = ""
    identity_mode: str = ""  # ZFD-5 mode d'obtention de l'identité (e.g. INSI)
    insi_query_at: str = ""
    identity_proof: str = ""
    proof_valid_until: str = ""


@dataclass(slots=True)
class Zfm:
    entry_mode: str = ""  # ZFM-1 mode d'entrée PMSI
    exit_mode: str = ""
    provenance: str = ""
    destination: str = ""
    emergency_passage: str = ""


@dataclass(slots=True)
class Merge:
    """MRG: the identifiers being merged away (A40), changed (A47) or the account's source (A44)."""

    prior_ipp: Identifier | None = None
    prior_ids: list[Identifier] = field(default_factory=list)
    prior_visit_number: Identifier | None = None  # MRG-5

    @property
    def prior_key(self) -> str | None:
        if self.prior_ipp is None:
            return None
        return patient_key(self.prior_ipp.value, self.prior_ipp.authority_key)


# --- extraction ---------------------------------------------------------------------------


def patient_from(pid: Segment) -> Patient:
    p = Patient()
    d, codec = pid.d, pid.codec
    raw3 = pid.raw(3)
    for rep in raw3.split(d.rs) if raw3 else ():
        ident = Identifier.from_raw(rep, d, codec)
        t = ident.type_code
        if t == "PI" and p.ipp is None:
            p.ipp = ident
        elif t == "INS" or (ident.authority_oid in INS_OIDS and t != "NH"):
            if p.ins is None:
                p.ins = Ins(ident.value, ident.authority_oid, INS_OIDS.get(ident.authority_oid, ""))
        else:
            p.other_ids.append(ident)
    raw32 = pid.raw(32)
    if raw32:
        statuses = [split_components(r, d, codec)[0] for r in raw32.split(d.rs)]
        p.identity_status = statuses[0]
        p.identity_attributes = [s for s in statuses[1:] if s]
    p.ins_trusted = p.ins is not None and p.identity_status == "VALI"
    name = pid.comps(5, 1, 7)
    p.family_name, p.given_name, p.name_type = name[0], name[1], name[6]
    p.birth_date, p.sex = pid.values(7, 8)
    return p


def stay_from(pv1: Segment) -> Stay:
    vn = pv1.raw(19)
    loc = pv1.comps(3, 1, 4)
    cls, adm, doctor, service, disp, admit, dis = pv1.values(2, 4, 7, 10, 36, 44, 45)
    return Stay(
        visit_number=Identifier.from_raw(vn.split(pv1.d.rs, 1)[0], pv1.d, pv1.codec) if vn else None,
        patient_class=cls,
        point_of_care=loc[0],
        room=loc[1],
        bed=loc[2],
        facility=loc[3],
        admission_type=adm,
        hospital_service=service,
        attending_doctor=doctor,
        discharge_disposition=disp,
        admit_at=admit,
        discharge_at=dis,
    )


def movement_from(zbe: Segment) -> Movement:
    d = zbe.d
    raw1 = zbe.raw(1)
    ids = [[*split_components(r, d, zbe.codec), "", ""] for r in raw1.split(d.rs)] if raw1 else []
    at, action, historic, orig, nature = zbe.values(2, 4, 5, 6, 9)
    uf_m = zbe.comps(7, 1, 10)
    uf_s = zbe.comps(8, 1, 10)
    return Movement(
        id=ids[0][0] if ids else "",
        id_namespace=ids[0][1] if ids else "",
        ids=[f"{c[0]}^{c[1]}" for c in ids],
        at=at,
        action=action,
        historic=historic == "Y",
        original_trigger=orig,
        uf_medicale=uf_m[9],
        uf_medicale_label=uf_m[0],
        uf_soins=uf_s[9],
        uf_soins_label=uf_s[0],
        nature=nature,
    )


def zfa_from(s: Segment) -> Zfa:
    return Zfa(*s.values(1, 2, 3, 9, 10, 11, 12))


def zfd_from(s: Segment) -> Zfd:
    return Zfd(*s.values(1, 2, 3, 4, 5, 6, 7, 8))


def zfm_from(s: Segment) -> Zfm:
    return Zfm(*s.values(1, 2, 3, 4, 5))


def merge_from(mrg: Segment) -> Merge:
    m = Merge()
    for rep in mrg.repetitions(1):
        ident = Identifier.from_cx(rep)
        if ident.type_code == "PI" and m.prior_ipp is None:
            m.prior_ipp = ident
        else:
            m.prior_ids.append(ident)
    vn = mrg.repetitions(5)
    if vn:
        m.prior_visit_number = Identifier.from_cx(vn[0])
    return m


# --- (de)serialisation ----------------------------------------------------------------------


def to_dict(obj: Any) -> Any:
    if obj is None or isinstance(obj, str | bool | int):
        return obj
    if isinstance(obj, list):
        return [to_dict(x) for x in obj]
    return {f.name: to_dict(getattr(obj, f.name)) for f in fields(obj)}


def _ident(d: dict[str, Any] | None) -> Identifier | None:
    return None if d is None else Identifier(**d)


def patient_from_dict(d: dict[str, Any]) -> Patient:
    d = dict(d)
    d["ipp"] = _ident(d.get("ipp"))
    d["other_ids"] = [Identifier(**x) for x in d.get("other_ids", [])]
    d["ins"] = None if d.get("ins") is None else Ins(**d["ins"])
    return Patient(**d)


def stay_from_dict(d: dict[str, Any]) -> Stay:
    d = dict(d)
    d["visit_number"] = _ident(d.get("visit_number"))
    return Stay(**d)


def merge_from_dict(d: dict[str, Any]) -> Merge:
    return Merge(_ident(d.get("prior_ipp")), [Identifier(**x) for x in d.get("prior_ids", [])],
                 _ident(d.get("prior_visit_number")))


__all__ = [
    "IDENTITY_STATUSES", "ZBE9_NATURES", "ZBE_ACTIONS", "ZFA1_STATUSES", "ZFA9_VALUES", "ZFA11_VALUES",
    "Merge", "Movement", "Patient", "Stay", "Zfa", "Zfd", "Zfm", "merge_from", "merge_from_dict",
    "movement_from", "patient_from", "patient_from_dict", "stay_from", "stay_from_dict", "to_dict",
    "zfa_from", "zfd_from", "zfm_from",
]
