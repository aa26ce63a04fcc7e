"""Masking for the admin view: ER7 with personal data replaced, structure kept.

Every non-empty leaf of a masked field becomes ``***`` (NULL ``""`` stays NULL), so an operator
still sees which components were sent. PID-3 repetitions of type INS / NH only lose their value.
"""

from __future__ import annotations

from typing import Any

from aiguillage.hl7v2.escape import NULL_ER7, Delimiters
from aiguillage.hl7v2.message import Message, Segment

MASK = "***"

MASKED_FIELDS: dict[str, tuple[int, ...]] = {
    "PID": (5, 6, 7, 9, 11, 13, 14, 19, 20, 29),  # names, mother's name, birth date, address, phones...
    "PD1": (),
    "NK1": (2, 4, 5, 6, 30, 31, 32),  # names, address, phones, contact person
    "MRG": (7,),  # prior patient name
    "IN1": (16, 18, 19),  # insured's name, birth date, address
    "IN2": (),
    "GT1": (3, 5, 6, 7, 8),
    "OBX": (),
}
SENSITIVE_ID_TYPES = frozenset({"INS", "NH", "INS-C", "INS-A"})


def _mask_raw(value: str, d: Delimiters) -> str:
    if not value:
        return value
    out_reps = []
    for rep in value.split(d.rs):
        comps = []
        for comp in rep.split(d.cs):
            subs = [s if (not s or s == NULL_ER7) else MASK for s in comp.split(d.ss)]
            comps.append(d.ss.join(subs))
        out_reps.append(d.cs.join(comps))
    return d.rs.join(out_reps)


def _mask_ids(value: str, d: Delimiters) -> str:
    reps = value.split(d.rs)
    for i, rep in enumerate(reps):
        comps = rep.split(d.cs)
        if len(comps) > 4 and comps[4] in SENSITIVE_ID_TYPES and comps[0]:
            comps[0] = MASK
            reps[i] = d.cs.join(comps)
    return d.rs.join(reps)


def masked_fields(seg: Segment) -> list[str]:
    fields = list(seg.fields)
    d = seg.d
    for n in MASKED_FIELDS.get(fields[0], ()):
        if n < len(fields):
            fields[n] = _mask_raw(fields[n], d)
    if fields[0] in ("PID", "MRG") and len(fields) > 3:
        idx = 3 if fields[0] == "PID" else 1
        fields[idx] = _mask_ids(fields[idx], d)
    return fields


def mask(msg: Message) -> str:
    """ER7 text of the message with personal data masked (the message itself is not changed)."""
    return "".join(Segment(masked_fields(s), s.d).encode() + "\r" for s in msg)


def to_view(msg: Message, masked: bool = True) -> dict[str, Any]:
    """JSON-ready view for the messages API: header summary and segments -> non-empty fields."""
    t = msg.message_type
    segments = []
    for s in msg:
        fields = masked_fields(s) if masked else s.fields
        segments.append({
            "name": fields[0],
            "fields": {f"{fields[0]}-{n}": v for n, v in enumerate(fields) if n and v},
        })
    return {
        "message_type": f"{t.code}^{t.trigger}^{t.structure}".rstrip("^"),
        "control_id": msg.control_id,
        "version": msg.version,
        "sending_app": msg.sending_app,
        "sending_facility": msg.sending_facility,
        "charset": msg.charset,
        "normalised": msg.normalised,
        "masked": masked,
        "segments": segments,
    }


__all__ = ["MASK", "MASKED_FIELDS", "mask", "masked_fields", "to_view"]
