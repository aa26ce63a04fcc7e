"""LOINC codes of the HOP'EN 2 indicators, the LOINC mod-10 check digit and OCR repair.

LOINC's check digit is the mod-10 (Luhn) algorithm over the digits before the hyphen: from the
right, double every other digit starting with the rightmost, sum the digits of every product and
the undoubled digits, check = (10 - sum % 10) % 10. E.g. 34874 -> 8, 57833 -> 6, 11490 -> 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product

LDL = "11490-0"  # lettre de liaison à la sortie
CRO = "34874-8"  # CR opératoire
CRC = "11488-4"  # CR ou fiche de consultation ou de visite
BIOLOGY = "11502-2"  # CR d'examens biologiques
IMAGING = "18748-4"  # CR d'imagerie médicale
# Ordonnances de sortie: the prescription type codes of JDV_J07-XdsTypeCode-CISIS (seed: "57828-6,
# 57832-8, ..."; DMP matrice d'habilitation). PRESC-* are JDV_J07's non-LOINC prescription codes
# (actes infirmiers, biologie...), which the seed counts as ordonnances de sortie. Not included:
# PRESC-AAT (arrêt de travail) and 75468-9 (renouvellement par le pharmacien).
ODS: frozenset[str] = frozenset(
    {
        "57828-6",  # Prescription (autre)
        "57832-8",  # Prescription de soins
        "57833-6",  # Prescription de produits de santé
        "PRESC-BIO",
        "PRESC-KINE",
        "PRESC-INF",
        "PRESC-PEDI",
        "PRESC-ORTHOPHO",
        "PRESC-ORTHOPTIE",
    }
)
KNOWN: dict[str, str] = {
    LDL: "Lettre de liaison à la sortie",
    CRO: "CR opératoire",
    CRC: "CR ou fiche de consultation ou de visite",
    BIOLOGY: "CR d'examens biologiques",
    IMAGING: "CR d'imagerie médicale",
    "57828-6": "Prescription (autre)",
    "57832-8": "Prescription de soins",
    "57833-6": "Prescription de produits de santé",
}

_SHAPE = re.compile(r"^([0-9A-Za-z]{1,7})-([0-9A-Za-z])$")
# Characters OCR and hand copying confuse with digits.
_OCR: dict[str, str] = {
    "O": "0",
    "o": "0",
    "D": "0",
    "Q": "0",
    "I": "1",
    "l": "1",
    "i": "1",
    "|": "1",
    "Z": "2",
    "z": "2",
    "E": "3",
    "A": "4",
    "S": "5",
    "s": "5",
    "G": "6",
    "b": "6",
    "T": "7",
    "B": "8",
    "g": "9",
    "q": "9",
}


def check_digit(body: str) -> int:
    """Mod-10 check digit of the part of a LOINC code before the hyphen."""
    if not body.isdigit():
        raise ValueError(f"LOINC body must be digits: {body!r}")
    total = 0
    for pos, ch in enumerate(reversed(body)):
        d = ord(ch) - 48
        if pos % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def is_valid(code: str) -> bool:
    m = _SHAPE.match(code)
    if m is None or not m.group(1).isdigit() or not m.group(2).isdigit():
        return False
    return check_digit(m.group(1)) == int(m.group(2))


@dataclass(frozen=True, slots=True)
class LoincRepair:
    original: str
    code: str | None  # None: not repairable
    how: str  # "valid" | "ocr" | "check-digit recomputed" | "known code at one substitution" | "invalid"


def repair(raw: str, known: frozenset[str] | None = None) -> LoincRepair:
    """Return the code as is when valid, else the unique repair the check digit allows.

    Order: (1) OCR substitutions in body and check digit, kept when exactly one candidate passes
    the check digit (``34874-B`` -> ``34874-8``); (2) when the body reads as digits but the check
    character is damaged, the check digit is recomputed from the body (``57833-B`` -> ``57833-6``);
    (3) one differing digit from a unique ``known`` code. Anything else is reported invalid.
    """
    code = raw.strip()
    if is_valid(code) or code.startswith("PRESC-"):
        return LoincRepair(raw, code, "valid")
    m = _SHAPE.match(code.replace(" ", ""))
    if m is None:
        return LoincRepair(raw, None, "invalid")
    body, chk = m.group(1), m.group(2)
    options = [[c] if c.isdigit() else ([_OCR[c]] if c in _OCR else []) for c in body + chk]
    if all(options):
        candidates = {"".join(p) for p in product(*options)}
        good = sorted(c[:-1] + "-" + c[-1] for c in candidates if check_digit(c[:-1]) == int(c[-1]))
        if len(good) == 1:
            return LoincRepair(raw, good[0], "ocr")
    digits_body = "".join(o[0] for o in options[:-1]) if all(options[:-1]) else None
    if digits_body is not None and not chk.isdigit():
        return LoincRepair(raw, f"{digits_body}-{check_digit(digits_body)}", "check-digit recomputed")
    if known and digits_body is not None:
        near = [k for k in known if is_valid(k) and _one_substitution(k, f"{digits_body}-{chk}")]
        if len(near) == 1:
            return LoincRepair(raw, near[0], "known code at one substitution")
    return LoincRepair(raw, None, "invalid")


def _one_substitution(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1
