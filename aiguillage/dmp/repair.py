"""Repairs for the defects real exports carry (see corpus hopen/README.md).

Each function is pure: it returns the repaired value and says what it did; the importer turns
that into ImportReport events with file, line and column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

# --- mojibake --------------------------------------------------------------------------------

_DOUBLE_MARKERS = ("Ã", "Â", "â€")
# UTF-8 bytes C3 xx read as Windows-1252 give "Ã" + a symbol; some tools then fold "Ã" to "A"
# ("Présent" -> "PrÃ©sent" -> "PrA@sent"). Known second characters after the fold:
_FOLDED = {
    "@": "é",
    "©": "é",
    "¨": "è",
    "ª": "ê",
    "«": "ë",
    "§": "ç",
    "¢": "â",
    "®": "î",
    "¯": "ï",
    "´": "ô",
    "¹": "ù",
    "»": "û",
    "¼": "ü",
}
_FOLDED_RE = re.compile("(?<=[a-z])A([" + re.escape("".join(_FOLDED)) + "])(?=[a-z])")


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 read as Windows-1252 (possibly twice) and the folded ``A@`` pattern."""
    out = text
    for _ in range(2):
        if not any(m in out for m in _DOUBLE_MARKERS):
            break
        try:
            out = out.encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            break
    if "A" in out:
        out = _FOLDED_RE.sub(lambda m: _FOLDED[m.group(1)], out)
    return out


def fold(text: str) -> str:
    """Lower-case, accents removed, anything not a letter or digit dropped: header/vocab keys."""
    t = unicodedata.normalize("NFKD", fix_mojibake(text))
    return "".join(c for c in t.lower() if c.isalnum())


# --- spreadsheet damage ----------------------------------------------------------------------

_SCI = re.compile(r"^\s*([0-9]+)(?:[.,]([0-9]+))?[eE]\+?([0-9]+)\s*$")


def is_overflow(value: str) -> bool:
    """``#####``: the cell was too narrow when copied; the value is gone."""
    return len(value) >= 2 and value.strip("#") == "" and value.startswith("#")


@dataclass(frozen=True, slots=True)
class Mangled:
    """An integer id rendered as ``8,1E+11``: all we know is an interval and a digit count."""

    low: int  # inclusive
    high: int  # exclusive
    digits: int

    def admits(self, candidate: str) -> bool:
        return candidate.isdigit() and len(candidate) == self.digits and self.low <= int(candidate) < self.high


def parse_mangled(value: str) -> Mangled | None:
    m = _SCI.match(value)
    if m is None:
        return None
    whole, frac, exp = m.group(1), m.group(2) or "", int(m.group(3))
    try:
        mantissa = Decimal(f"{whole}.{frac}" if frac else whole)
    except InvalidOperation:  # pragma: no cover - regex guarantees digits
        return None
    half = Decimal(5) * Decimal(10) ** (-(len(frac) + 1))
    scale = Decimal(10) ** exp
    low = int(((mantissa - half) * scale).to_integral_value(rounding="ROUND_CEILING"))
    high = int(((mantissa + half) * scale).to_integral_value(rounding="ROUND_CEILING"))
    return Mangled(max(low, 0), high, len(whole) + exp)


def rematch_mangled(mangled: Mangled, candidates: Iterable[str]) -> str | None:
    """The unique candidate id compatible with the mangled value, else None."""
    found: str | None = None
    for c in candidates:
        if mangled.admits(c):
            if found is not None and c != found:
                return None
            found = c
    return found


# --- identifiers -----------------------------------------------------------------------------

# first group 6-8 hex (the export may cut its first characters), inner groups of 4 hex, a last
# group of up to 12 characters (cut, sometimes with a stray letter: "7ae3a8ci", "eci")
_UUIDISH = re.compile(r"^[0-9a-fA-F]{6,8}(?:-[0-9a-fA-F]{4}){0,3}-[0-9a-zA-Z]{1,12}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def looks_truncated_uuid(value: str) -> bool:
    """A hyphenated hex id that is not a full 8-4-4-4-12 UUID (ends cut off by the export)."""
    return "-" in value and len(value) != 36 and _UUIDISH.match(value) is not None and not _UUID.match(value)


def uuid_core(value: str) -> str | None:
    """The inner groups of a (possibly truncated) UUID, which survive truncation at both ends."""
    parts = value.split("-")
    if len(parts) == 5:
        return "-".join(parts[1:4]).lower()
    return None


# --- closed vocabularies ---------------------------------------------------------------------


def complete_prefix(value: str, vocabulary: Iterable[str], min_len: int = 6) -> str | None:
    """The unique vocabulary word ``value`` is a truncation of (``ERREUR_VERIFICATI``)."""
    if len(value) < min_len:
        return None
    hits = [w for w in vocabulary if w.startswith(value) and w != value]
    return hits[0] if len(hits) == 1 else None


_YES = {"oui", "o", "yes", "y", "true", "vrai", "1", "x", "present"}
_NO = {"non", "n", "no", "false", "faux", "0", "absent", ""}


def parse_bool(value: str) -> bool | None:
    """oui/non, true/false, Présent/Absent (after mojibake repair); None when unreadable."""
    key = fold(value)
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None


# --- dates -----------------------------------------------------------------------------------

_EXCEL_EPOCH = datetime(1899, 12, 30)


def parse_datetime(value: str) -> datetime:
    """``10/03/2025 11:54[:ss]``, ``10/03/2025``, ISO, or an Excel serial number; ValueError else."""
    s = value.strip()
    if len(s) >= 10 and s[2] == "/" and s[5] == "/":
        day, month, year = int(s[0:2]), int(s[3:5]), int(s[6:10])
        if len(s) == 10:
            return datetime(year, month, day)
        rest = s[10:].strip()
        parts = rest.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(value)
        return datetime(year, month, day, int(parts[0]), int(parts[1]), int(float(parts[2])) if len(parts) == 3 else 0)
    if len(s) >= 10 and s[4] == "-" and s[7] == "-":
        return datetime.fromisoformat(s.replace("Z", "+00:00")).replace(tzinfo=None)
    if s.replace(".", "", 1).isdigit() and 20000 < float(s) < 80000:
        return _EXCEL_EPOCH + timedelta(days=float(s))
    raise ValueError(value)


def parse_date(value: str) -> date:
    return parse_datetime(value).date()
