"""Parse FHIR search query strings into a typed :class:`SearchRequest` (no SQL here).

Repeated parameters are ANDed, comma-separated values ORed. Unknown parameters are an error unless
the client sent ``Prefer: handling=lenient``; then they are listed in ``ignored``. ``_federate`` is
parsed but never acted on locally: a federation layer reads ``federate`` and calls the local search
with the same request.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiguillage.fhir import errors as E
from aiguillage.fhir.searchparams import INCLUDES, PARAMS, SORTABLE, SearchParam, param, parse_reference
from aiguillage.nomenclatures.textfold import fold

DEFAULT_COUNT = 20
MAX_COUNT = 1000
DEFAULT_NEAR_KM = 20.0
CONTROL = ("_count", "_sort", "_total", "_summary", "_cursor", "_format", "_federate")
MODIFIERS = {"string": ("contains", "exact"), "token": (), "reference": (), "date": (), "number": (),
             "special": ()}
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


@dataclass(frozen=True)
class Value:
    """One parsed value: token (system, code), string (folded/raw), reference (type, id), date range,
    number (op, x), near (lat, lon, km)."""

    raw: str
    system: str | None = None
    code: str | None = None
    text: str = ""
    ref_type: str | None = None
    ref_id: str = ""
    op: str = "eq"
    lo: datetime | None = None
    hi: datetime | None = None
    number: float = 0.0
    near: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class Criterion:
    param: SearchParam  # the parameter tested on the (possibly chained) target
    values: tuple[Value, ...]  # ORed
    modifier: str | None = None
    chain: SearchParam | None = None  # reference parameter traversed first (location.address-city)


@dataclass(frozen=True)
class Include:
    source: str
    param: str
    target: str | None
    iterate: bool = False


@dataclass
class SearchRequest:
    resource_type: str
    criteria: list[Criterion] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    revincludes: list[Include] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    sort: str = ""  # "", "_id", "-_id", "_lastUpdated", "-_lastUpdated"
    total: str = ""  # "" (first page only) | none | estimate | accurate
    summary: str | None = None  # "count" only
    cursor: str | None = None
    federate: str | None = None
    ignored: list[str] = field(default_factory=list)
    echo: list[tuple[str, str]] = field(default_factory=list)  # parameters as understood, for links


def norm(text: str) -> str:
    """Search form of a string: accents removed, casefolded, whitespace runs collapsed."""
    return " ".join(fold(text).split())


def split_values(raw: str) -> list[str]:
    parts = re.split(r"(?<!\\),", raw)
    return [p.replace("\\,", ",") for p in parts]


def parse_search(
    resource_type: str, items: Sequence[tuple[str, str]], *, lenient: bool = False
) -> SearchRequest:
    if resource_type not in PARAMS:
        raise E.FhirInputError(f"resource type {resource_type!r} is not searchable here", E.WRONG_TYPE,
                               http_status=404)
    req = SearchRequest(resource_type)
    issues = []
    for key, raw in items:
        try:
            if key in CONTROL:
                _control(req, key, raw)
            elif key.startswith("_include") or key.startswith("_revinclude"):
                _include(req, key, raw)
            else:
                crit = _criterion(resource_type, key, raw)
                if crit is None:
                    if not lenient:
                        raise E.FhirInputError(f"unknown search parameter {key!r} for {resource_type}",
                                               E.UNKNOWN_PARAM)
                    req.ignored.append(key)
                    continue
                req.criteria.append(crit)
            if key not in ("_cursor", "_federate"):
                req.echo.append((key, raw))
        except E.FhirInputError as exc:
            issues.extend(exc.issues)
    if issues:
        raise E.FhirInputError("invalid search request", issues[0].code, issues)
    return req


def _control(req: SearchRequest, key: str, raw: str) -> None:
    if key == "_count":
        if not raw.isdigit():
            raise E.FhirInputError("_count must be a non-negative integer", E.BAD_CONTROL)
        req.count = min(int(raw), MAX_COUNT)
    elif key == "_sort":
        if raw not in {*SORTABLE, *("-" + s for s in SORTABLE)}:
            raise E.FhirInputError(f"_sort supports {', '.join(SORTABLE)} (prefix - for descending)",
                                   E.BAD_CONTROL)
        req.sort = raw
    elif key == "_total":
        if raw not in ("none", "estimate", "accurate"):
            raise E.FhirInputError("_total is none, estimate or accurate", E.BAD_CONTROL)
        req.total = raw
    elif key == "_summary":
        if raw not in ("count", "false"):
            raise E.FhirInputError("_summary supports count (and false)", E.BAD_CONTROL)
        req.summary = "count" if raw == "count" else None
    elif key == "_cursor":
        req.cursor = raw
    elif key == "_federate":
        req.federate = raw


def _include(req: SearchRequest, key: str, raw: str) -> None:
    base, _, mod = key.partition(":")
    if base not in ("_include", "_revinclude") or mod not in ("", "iterate", "recurse"):
        raise E.FhirInputError(f"unsupported include parameter {key!r}", E.BAD_INCLUDE)
    parts = raw.split(":")
    if len(parts) not in (2, 3) or parts[0] not in INCLUDES:
        raise E.FhirInputError(f"{key}={raw}: expected Type:parameter[:TargetType]", E.BAD_INCLUDE)
    source, name = parts[0], parts[1]
    names = INCLUDES[source] if name == "*" else (name,)
    for n in names:
        p = param(source, n)
        if p is None or p.type != "reference":
            raise E.FhirInputError(f"{source}:{n} is not a reference parameter", E.BAD_INCLUDE)
        target = parts[2] if len(parts) == 3 else None
        if target is not None and target not in p.targets:
            raise E.FhirInputError(f"{source}:{n} does not reference {target}", E.BAD_INCLUDE)
        inc = Include(source, n, target, iterate=bool(mod))
        (req.includes if base == "_include" else req.revincludes).append(inc)


def _criterion(resource_type: str, key: str, raw: str) -> Criterion | None:
    base, _, modifier = key.partition(":")
    ref_name, dot, target_name = base.partition(".")
    chain: SearchParam | None = None
    if dot:
        ref = param(resource_type, ref_name)
        if ref is None or ref.type != "reference":
            return None
        found = [param(t, target_name) for t in ref.targets]
        target = next((p for p in found if p is not None), None)
        if target is None:
            return None
        chain, p = ref, target
    else:
        found_p = param(resource_type, base)
        if found_p is None:
            return None
        p = found_p
    if modifier and modifier not in MODIFIERS.get(p.type, ()):
        raise E.FhirInputError(f"modifier :{modifier} is not supported on {base} ({p.type})", E.BAD_MODIFIER,
                               [E.issue(E.BAD_MODIFIER, f"unsupported modifier :{modifier}", key)])
    values = tuple(_value(p, v, modifier or None, key) for v in split_values(raw))
    return Criterion(p, values, modifier or None, chain)


def _bad(key: str, msg: str) -> E.FhirInputError:
    return E.FhirInputError(f"{key}: {msg}", E.BAD_VALUE, [E.issue(E.BAD_VALUE, msg, key)])


def _value(p: SearchParam, raw: str, modifier: str | None, key: str) -> Value:
    if p.type == "token":
        if "|" in raw:
            system, _, code = raw.partition("|")
            return Value(raw, system=system, code=code or None)
        return Value(raw, code=raw)
    if p.type == "string":
        return Value(raw, text=raw if modifier == "exact" else norm(raw))
    if p.type == "reference":
        parsed = parse_reference(raw)
        if parsed is not None:
            if parsed[0] not in p.targets:
                raise _bad(key, f"{parsed[0]} is not a target of {p.name}")
            return Value(raw, ref_type=parsed[0], ref_id=parsed[1])
        if not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", raw):
            raise _bad(key, f"not a reference: {raw!r}")
        return Value(raw, ref_id=raw)
    if p.type == "date":
        op, rest = _prefix(raw)
        lo, hi = parse_date_range(rest, key)
        return Value(raw, op=op, lo=lo, hi=hi)
    if p.type == "number":
        op, rest = _prefix(raw)
        try:
            return Value(raw, op=op, number=float(rest))
        except ValueError:
            raise _bad(key, f"not a number: {rest!r}") from None
    if p.name == "near":
        return Value(raw, near=parse_near(raw, key))
    raise _bad(key, "unsupported parameter type")  # pragma: no cover - registry is closed


def _prefix(raw: str) -> tuple[str, str]:
    if raw[:2] in PREFIXES and not raw[:2].isdigit():
        op = raw[:2]
        if op in ("ne", "ap"):
            raise E.FhirInputError(f"prefix {op} is not supported", E.BAD_VALUE)
        return {"sa": "gt", "eb": "lt"}.get(op, op), raw[2:]
    return "eq", raw


_DATE_RE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def parse_date_range(text: str, key: str = "date") -> tuple[datetime, datetime]:
    """A FHIR date/dateTime at any precision -> [lo, hi) as naive UTC datetimes."""
    m = _DATE_RE.match(text.strip())
    if not m:
        raise _bad(key, f"not a FHIR date/dateTime: {text!r}")
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        if mo is None:
            lo = datetime(int(y), 1, 1)
            return lo, datetime(int(y) + 1, 1, 1)
        if d is None:
            lo = datetime(int(y), int(mo), 1)
            hi = datetime(int(y) + (int(mo) == 12), int(mo) % 12 + 1, 1)
            return lo, hi
        if h is None:
            lo = datetime(int(y), int(mo), int(d))
            return lo, lo + timedelta(days=1)
        lo = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0),
                      int(float(frac) * 1e6) if frac else 0)
    except ValueError:
        raise _bad(key, f"not a valid date: {text!r}") from None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        lo = lo - sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    step = timedelta(microseconds=1) if frac else timedelta(seconds=1) if s else timedelta(minutes=1)
    return lo, lo + step


def parse_near(raw: str, key: str = "near") -> tuple[float, float, float]:
    parts = raw.split("|")
    try:
        lat, lon = float(parts[0]), float(parts[1])
        dist = float(parts[2]) if len(parts) > 2 and parts[2] else DEFAULT_NEAR_KM
    except (ValueError, IndexError):
        raise _bad(key, "near is latitude|longitude[|distance[|km]]") from None
    units = parts[3] if len(parts) > 3 else "km"
    if units not in ("km", "m", "[mi_i]"):
        raise _bad(key, f"unsupported distance unit {units!r} (km, m)")
    km = dist / 1000 if units == "m" else dist * 1.609344 if units == "[mi_i]" else dist
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 < km <= 1000 and math.isfinite(km)):
        raise _bad(key, "near: latitude/longitude out of range or distance not in (0, 1000] km")
    return lat, lon, km


def as_items(pairs: Any) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in pairs]
