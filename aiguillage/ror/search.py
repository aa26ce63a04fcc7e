"""Execute a parsed :class:`SearchRequest` on the index tables (SQLite and PostgreSQL).

One SELECT per page over ``ror_resources`` with one ``pk IN (index subquery)`` per criterion, keyset
paging (the cursor carries the last sort key, so pages stay stable under concurrent inserts), then
the ``_include``/``_revinclude`` fetches. Resources come back as stored JSON text: nothing is parsed
or validated on the search path.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from aiguillage.fhir import errors as E
from aiguillage.fhir.query import Criterion, Include, SearchRequest, Value
from aiguillage.fhir.searchparams import SearchParam
from aiguillage.ror import tables as T

R = T.resources
MAX_INCLUDED = 2000
MAX_ITERATE = 8


@dataclass
class Hit:
    res_type: str
    res_id: str
    json: str


@dataclass
class SearchResult:
    matches: list[Hit] = field(default_factory=list)
    included: list[Hit] = field(default_factory=list)
    total: int | None = None
    next_cursor: str | None = None


# --- criteria ----------------------------------------------------------------------------------


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _date_cond(col: Any, v: Value) -> ColumnElement[bool]:
    lo, hi = v.lo, v.hi
    return {
        "eq": and_(col >= lo, col < hi),
        "gt": col >= hi,
        "ge": col >= lo,
        "lt": col < lo,
        "le": col < hi,
    }[v.op]


def _num_cond(col: Any, v: Value) -> ColumnElement[bool]:
    x = v.number
    return {"eq": col == x, "gt": col > x, "ge": col >= x, "lt": col < x, "le": col <= x}[v.op]


def _token_cond(v: Value) -> ColumnElement[bool]:
    t = T.tokens
    conds = []
    if v.code is not None:
        conds.append(t.c.code == v.code)
    if v.system is not None:
        conds.append(t.c.system == v.system)
    return and_(*conds) if conds else true()


def _string_cond(v: Value, modifier: str | None) -> ColumnElement[bool]:
    s = T.strings
    if modifier == "exact":
        return s.c.raw == v.text
    if modifier == "contains":
        return s.c.value.like(f"%{_like_escape(v.text)}%", escape="\\")
    return and_(s.c.value >= v.text, s.c.value < v.text + "\uffff")  # starts-with, index range


def _near_cond(v: Value) -> ColumnElement[bool]:
    assert v.near is not None
    lat, lon, km = v.near
    p = T.positions
    dlat = km / 110.574
    coslat = max(math.cos(math.radians(lat)), 0.01)
    dlon = km / (111.320 * coslat)
    kx, ky = 111.320 * coslat, 110.574  # equirectangular: accurate to well under 1 % at 100 km
    return and_(
        p.c.lat.between(lat - dlat, lat + dlat), p.c.lon.between(lon - dlon, lon + dlon),
        ((p.c.lat - lat) * ky) * ((p.c.lat - lat) * ky) + ((p.c.lon - lon) * kx) * ((p.c.lon - lon) * kx)
        <= km * km,
    )


def param_clause(res: Any, p: SearchParam, values: tuple[Value, ...], modifier: str | None) -> ColumnElement[bool]:
    """A boolean on the resource table alias ``res`` for one parameter and its ORed values."""
    if p.name == "_id":
        return res.c.res_id.in_([v.code or "" for v in values])
    if p.name == "_lastUpdated":
        return or_(*(_date_cond(res.c.last_updated, v) for v in values))
    if p.type == "token":
        t = T.tokens
        sub = select(t.c.res_pk).where(t.c.param == p.name, or_(*(_token_cond(v) for v in values)))
    elif p.type == "string":
        s = T.strings
        sub = select(s.c.res_pk).where(s.c.param == p.name, or_(*(_string_cond(v, modifier) for v in values)))
    elif p.type == "reference":
        rf = T.refs
        conds = [and_(rf.c.target_id == v.ref_id, rf.c.target_type == v.ref_type) if v.ref_type
                 else rf.c.target_id == v.ref_id for v in values]
        sub = select(rf.c.res_pk).where(rf.c.param == p.name, or_(*conds))
    elif p.type == "number":
        n = T.numbers
        sub = select(n.c.res_pk).where(n.c.param == p.name, or_(*(_num_cond(n.c.value, v) for v in values)))
    elif p.name == "near":
        sub = select(T.positions.c.res_pk).where(or_(*(_near_cond(v) for v in values)))
    else:  # pragma: no cover - the registry is closed
        raise E.FhirInputError(f"parameter {p.name} cannot be searched", E.UNKNOWN_PARAM)
    return res.c.pk.in_(sub)


def criterion_clause(c: Criterion) -> ColumnElement[bool]:
    if c.chain is None:
        return param_clause(R, c.param, c.values, c.modifier)
    tgt = R.alias("chain_target")
    rf = T.refs
    sub = (
        select(rf.c.res_pk)
        .join(tgt, and_(tgt.c.res_type == rf.c.target_type, tgt.c.res_id == rf.c.target_id))
        .where(rf.c.param == c.chain.name, tgt.c.res_type == c.param.resource, tgt.c.deleted.is_(False),
               param_clause(tgt, c.param, c.values, c.modifier))
    )
    return R.c.pk.in_(sub)


def base_query(req: SearchRequest) -> Select[Any]:
    return select(R.c.pk).where(R.c.res_type == req.resource_type, R.c.deleted.is_(False),
                                *(criterion_clause(c) for c in req.criteria))


# --- paging ------------------------------------------------------------------------------------


def encode_cursor(sort: str, key: list[Any]) -> str:
    raw = json.dumps({"s": sort, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, sort: str) -> list[Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["s"] != sort or not isinstance(data["k"], list):
            raise ValueError
        return list(data["k"])
    except (ValueError, KeyError, TypeError):
        raise E.FhirInputError("invalid or expired _cursor for this search", E.BAD_CURSOR) from None


def _ordered(req: SearchRequest, q: Select[Any]) -> tuple[Select[Any], list[Any]]:
    """Apply sort and keyset condition; returns the query and the columns making the cursor key."""
    from datetime import datetime

    desc = req.sort.startswith("-")
    key = req.sort.lstrip("-")
    if key == "name":
        S = T.strings
        name = (select(func.coalesce(func.min(S.c.value), ""))
                .where(S.c.res_pk == R.c.pk, S.c.param == "name").scalar_subquery())
        cols: list[Any] = [name, R.c.pk]
    else:
        cols = {"": [R.c.pk], "_id": [R.c.res_id], "_lastUpdated": [R.c.last_updated, R.c.pk]}[key]
    if req.cursor:
        last = decode_cursor(req.cursor, req.sort)
        if key == "_lastUpdated":
            last = [datetime.fromisoformat(last[0]), int(last[1])]
        q = q.where(tuple_(*cols) < tuple_(*last) if desc else tuple_(*cols) > tuple_(*last)) \
            if len(cols) > 1 else q.where(cols[0] < last[0] if desc else cols[0] > last[0])
    return q.order_by(*(c.desc() if desc else c.asc() for c in cols)), cols


def run(conn: Connection, req: SearchRequest) -> SearchResult:
    out = SearchResult()
    base = base_query(req)
    want_total = req.total in ("accurate", "estimate") or (req.total == "" and not req.cursor)
    if req.summary == "count" or req.count == 0:
        out.total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        return out
    page_q, cols = _ordered(req, base)
    page_q = page_q.with_only_columns(R.c.pk, R.c.res_id, R.c.json, *cols).limit(req.count + 1)
    rows = conn.execute(page_q).all()
    if len(rows) > req.count:
        rows = rows[: req.count]
        last = rows[-1]
        key = [v.isoformat() if hasattr(v, "isoformat") else v for v in last[3:]]
        out.next_cursor = encode_cursor(req.sort, key)
    out.matches = [Hit(req.resource_type, row.res_id, row.json) for row in rows]
    if want_total:
        if not req.cursor and out.next_cursor is None:
            out.total = len(rows)
        else:
            out.total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    if out.matches and (req.includes or req.revincludes):
        out.included = _includes(conn, req, [row.pk for row in rows], out.matches)
    return out


# --- _include / _revinclude --------------------------------------------------------------------


def _fetch(conn: Connection, keys: set[tuple[str, str]]) -> list[tuple[int, Hit]]:
    """Resources by (type, id); one ``res_type = ? AND res_id IN (...)`` per type (index-friendly)."""
    out: list[tuple[int, Hit]] = []
    by_type: dict[str, list[str]] = {}
    for t, i in sorted(keys):
        by_type.setdefault(t, []).append(i)
    for rtype, ids in by_type.items():
        for start in range(0, len(ids), 500):
            rows = conn.execute(
                select(R.c.pk, R.c.res_type, R.c.res_id, R.c.json)
                .where(R.c.res_type == rtype, R.c.res_id.in_(ids[start:start + 500]), R.c.deleted.is_(False))
            ).all()
            out.extend((r.pk, Hit(r.res_type, r.res_id, r.json)) for r in rows)
    return out


def _forward(conn: Connection, inc: Include, pks: list[int]) -> set[tuple[str, str]]:
    rf = T.refs
    q = select(rf.c.target_type, rf.c.target_id).where(rf.c.res_pk.in_(pks), rf.c.param == inc.param)
    if inc.target:
        q = q.where(rf.c.target_type == inc.target)
    return {(r.target_type, r.target_id) for r in conn.execute(q)}


def _reverse(conn: Connection, inc: Include, targets: list[tuple[str, str]]) -> list[tuple[int, Hit]]:
    rf = T.refs
    out: list[tuple[int, Hit]] = []
    by_type: dict[str, list[str]] = {}
    for t, i in targets:
        by_type.setdefault(t, []).append(i)
    for rtype, ids in by_type.items():
        sub = select(rf.c.res_pk).where(rf.c.param == inc.param, rf.c.target_type == rtype,
                                        rf.c.target_id.in_(ids))
        rows = conn.execute(
            select(R.c.pk, R.c.res_type, R.c.res_id, R.c.json)
            .where(R.c.res_type == inc.source, R.c.deleted.is_(False), R.c.pk.in_(sub)).limit(MAX_INCLUDED)
        ).all()
        out.extend((r.pk, Hit(r.res_type, r.res_id, r.json)) for r in rows)
    return out


def _includes(conn: Connection, req: SearchRequest, pks: list[int], matches: list[Hit]) -> list[Hit]:
    seen: dict[tuple[str, str], int] = {}
    by_type: dict[str, list[int]] = {req.resource_type: list(pks)}
    for pk, h in zip(pks, matches, strict=True):
        seen[(h.res_type, h.res_id)] = pk
    included: list[Hit] = []

    def add(found: list[tuple[int, Hit]]) -> list[tuple[int, Hit]]:
        fresh = []
        for pk, h in found:
            k = (h.res_type, h.res_id)
            if k in seen or len(included) >= MAX_INCLUDED:
                continue
            seen[k] = pk
            included.append(h)
            by_type.setdefault(h.res_type, []).append(pk)
            fresh.append((pk, h))
        return fresh

    for inc in req.includes:
        if not inc.iterate and inc.source == req.resource_type:
            add(_fetch(conn, _forward(conn, inc, pks) - set(seen)))
    for inc in req.revincludes:
        if not inc.iterate and inc.param and req.resource_type:
            add(_reverse(conn, inc, [(h.res_type, h.res_id) for h in matches]))
    iterating = [i for i in req.includes if i.iterate]
    for _ in range(MAX_ITERATE if iterating else 0):
        grew = False
        for inc in iterating:
            src = by_type.get(inc.source, [])
            if src and add(_fetch(conn, _forward(conn, inc, src) - set(seen))):
                grew = True
        if not grew:
            break
    for inc in (i for i in req.revincludes if i.iterate):
        targets = [k for k in seen if k[0] in _targets(inc)]
        if targets:
            add(_reverse(conn, inc, targets))
    return included


def _targets(inc: Include) -> tuple[str, ...]:
    from aiguillage.fhir.searchparams import param

    p = param(inc.source, inc.param)
    return p.targets if p is not None else ()

