"""Identifiers (CX/EI) and the patient key used as dedupe/bus key.

INS (matricule INS) is a PID-3 repetition with CX.5 = "INS" and an assigning authority OID:
1.2.250.1.213.1.4.8 NIR, .9 NIA, .10 NIR de test, .11 NIR de démonstration.
The IPP is the PID-3 repetition with CX.5 = "PI".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiguillage.hl7v2.escape import NULL_ER7, Delimiters
from aiguillage.hl7v2.message import Rep, leaf

INS_OIDS: dict[str, str] = {
    "1.2.250.1.213.1.4.8": "NIR",
    "1.2.250.1.213.1.4.9": "NIA",
    "1.2.250.1.213.1.4.10": "NIR_TEST",
    "1.2.250.1.213.1.4.11": "NIR_DEMO",
}


@dataclass(frozen=True, slots=True)
class Identifier:
    """A CX (or EI) identifier. ``value`` is an internal id (IPP, NDA): loggable, unlike the INS."""

    value: str
    authority: str = ""  # HD.1 namespace id (CX.4.1)
    authority_oid: str = ""  # HD.2 universal id (CX.4.2)
    type_code: str = ""  # CX.5

    @property
    def authority_key(self) -> str:
        return self.authority_oid or self.authority

    @classmethod
    def from_cx(cls, rep: Rep) -> Identifier:
        return cls.from_raw(rep.raw, rep.d, rep.codec)

    @classmethod
    def from_raw(cls, raw: str, d: Delimiters, codec: str) -> Identifier:
        """From one raw CX repetition: CX.1, CX.4.1, CX.4.2, CX.5."""
        c = raw.split(d.cs)
        n = len(c)
        ss = d.ss
        value = c[0]
        if ss in value:
            value = value.split(ss, 1)[0]
        hd = c[3] if n > 3 else ""
        if ss in hd:
            h = hd.split(ss)
            ns, oid = h[0], h[1]
        else:
            ns, oid = hd, ""
        tc = c[4] if n > 4 else ""
        if ss in tc:
            tc = tc.split(ss, 1)[0]
        if d.ec in raw or NULL_ER7 in raw:
            value, ns, oid, tc = (leaf(x, d, codec) for x in (value, ns, oid, tc))
        return cls(value, ns, oid, tc)


@dataclass(frozen=True, slots=True)
class Ins:
    """Matricule INS. The value never appears in repr."""

    value: str = field(repr=False)
    oid: str = ""
    kind: str = ""  # NIR | NIA | NIR_TEST | NIR_DEMO


def patient_key(value: str, authority: str) -> str:
    return f"IPP:{authority}:{value}"


def patient_key_from_pid3(raw: str, d: Delimiters, codec: str) -> str | None:
    """Key of the first PI repetition of a raw PID-3, or None."""
    for rep in raw.split(d.rs):
        if leaf(rep, d, codec, 1, 5) == "PI":
            value = leaf(rep, d, codec, 1, 1)
            if value:
                return patient_key(value, leaf(rep, d, codec, 1, 4, 2) or leaf(rep, d, codec, 1, 4, 1))
    return None


__all__ = ["INS_OIDS", "Identifier", "Ins", "patient_key", "patient_key_from_pid3"]
