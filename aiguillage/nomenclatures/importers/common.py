"""Helpers shared by the importers: dates, identifiers, issue building."""

from __future__ import annotations

import re

from aiguillage.errors import Issue
from aiguillage.nomenclatures.model import Resource
from aiguillage.nomenclatures.systems import KNOWN_OID_URLS

ParseResult = tuple[list[Resource], list[Issue]]

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{6})?$")
_OID = re.compile(r"^[0-2](\.(0|[1-9]\d*))+$")


def iso_date(value: str | None) -> str | None:
    """``2015-04-08T00:00:00+01:00`` or ``20150408000000`` -> ``2015-04-08``; empty -> None.

    Raises ValueError on anything else.
    """
    if value is None:
        return None
    v = value.strip()
    if not v:
        return None
    m = _ISO.match(v) or _COMPACT.match(v)
    if not m:
        raise ValueError(f"not a date: {value!r}")
    y, mo, d = m.group(1), m.group(2), m.group(3)
    if not (1 <= int(mo) <= 12 and 1 <= int(d) <= 31):
        raise ValueError(f"not a date: {value!r}")
    return f"{y}-{mo}-{d}"


def is_oid(value: str) -> bool:
    return bool(_OID.match(value))


def oid_from_identifier(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip()
    if v.lower().startswith("urn:oid:"):
        v = v[8:]
    return v if is_oid(v) else None


def system_from_oid(oid: str) -> str:
    """Canonical URL for a well-known OID, else ``urn:oid:<oid>`` (the registry resolves it later)."""
    return KNOWN_OID_URLS.get(oid, f"urn:oid:{oid}")


def loc(filename: str, line: int | None = None, field: str | None = None) -> str:
    out = filename
    if line is not None:
        out += f":{line}"
    if field:
        out += f" {field}"
    return out
