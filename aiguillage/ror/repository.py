"""Writes and reads of ROR resources on one connection: current row, history, index rows.

Every write bumps ``meta.versionId``, sets ``meta.lastUpdated``, appends a history version and
replaces the resource's index rows, all in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from aiguillage.fhir.ror import JSONObj, region_of
from aiguillage.ror import tables as T
from aiguillage.ror.indexer import index
from aiguillage.store.base import utcnow


@dataclass(frozen=True)
class Written:
    res_type: str
    res_id: str
    version_id: int
    last_updated: datetime
    created: bool
    resource: JSONObj


@dataclass(frozen=True)
class Pending:
    resource: JSONObj  # already validated; resourceType and id set
    method: str = "PUT"  # POST | PUT | PATCH | DELETE
    expected_version: int | None = None  # If-Match


def instant(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def dumps(resource: JSONObj) -> str:
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":"))


def current(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """Current rows by (type, id): one ``res_type = ? AND res_id IN (...)`` per type (uses the index)."""
    r = T.resources
    out: dict[tuple[str, str], Any] = {}
    by_type: dict[str, list[str]] = {}
    for t, i in keys:
        by_type.setdefault(t, []).append(i)
    for rtype, ids in by_type.items():
        for start in range(0, len(ids), 500):
            rows = conn.execute(
                select(r.c.pk, r.c.res_type, r.c.res_id, r.c.version_id, r.c.deleted)
                .where(r.c.res_type == rtype, r.c.res_id.in_(ids[start:start + 500]))
            ).all()
            out.update({(row.res_type, row.res_id): row for row in rows})
    return out


def write_many(conn: Connection, items: Sequence[Pending], now: datetime | None = None) -> list[Written]:
    """Create or update (or delete, for method DELETE) every item in one go; returns them in order."""
    from aiguillage.fhir.errors import FhirInputError

    now = now or utcnow()
    keys = [(str(p.resource["resourceType"]), str(p.resource["id"])) for p in items]
    if len(set(keys)) != len(keys):
        raise FhirInputError("the same resource is written twice in one request", "FHIR-0401", http_status=400)
    existing = current(conn, keys)
    r = T.resources
    new_rows: list[dict[str, Any]] = []
    new_idx: list[int] = []
    upd_pks: list[int] = []
    written: list[Written] = []
    history: list[dict[str, Any]] = []
    for n, (p, key) in enumerate(zip(items, keys, strict=True)):
        row = existing.get(key)
        if p.expected_version is not None and (row is None or row.version_id != p.expected_version):
            from aiguillage.errors import ConflictError

            raise ConflictError(f"{key[0]}/{key[1]}: version conflict (If-Match)", "FHIR-0409")
        version = 1 if row is None else row.version_id + 1
        deleted = p.method == "DELETE"
        res = p.resource
        meta = res.setdefault("meta", {})
        meta["versionId"] = str(version)
        meta["lastUpdated"] = instant(now)
        text = dumps(res)
        values = {"res_type": key[0], "res_id": key[1], "version_id": version, "last_updated": now,
                  "region": region_of(res), "deleted": deleted, "json": text}
        if row is None:
            new_rows.append(values)
            new_idx.append(n)
        else:
            conn.execute(update(r).where(r.c.pk == row.pk).values(**values))
            upd_pks.append(row.pk)
        history.append({**values, "method": p.method})
        written.append(Written(key[0], key[1], version, now, row is None or bool(row.deleted), res))
    pks: dict[int, int] = {}
    if new_rows:
        result = conn.execute(insert(r).returning(r.c.pk, sort_by_parameter_order=True), new_rows)
        for n, pk in zip(new_idx, result.scalars().all(), strict=True):
            pks[n] = pk
    for n, key in enumerate(keys):
        if n not in pks:
            pks[n] = existing[key].pk
    if upd_pks:
        for t in T.INDEX_TABLES:
            conn.execute(delete(t).where(t.c.res_pk.in_(upd_pks)))
    batches: dict[str, list[dict[str, Any]]] = {t.name: [] for t in T.INDEX_TABLES}
    for n, p in enumerate(items):
        if p.method == "DELETE":
            continue
        for name, rows in index(p.resource).rows(pks[n]).items():
            batches[name].extend(rows)
    for t in T.INDEX_TABLES:
        if batches[t.name]:
            conn.execute(insert(t), batches[t.name])
    conn.execute(insert(T.history), history)
    return written


def read(conn: Connection, res_type: str, res_id: str) -> Any:
    r = T.resources
    return conn.execute(
        select(r.c.pk, r.c.json, r.c.deleted, r.c.version_id).where(r.c.res_type == res_type, r.c.res_id == res_id)
    ).first()


def vread(conn: Connection, res_type: str, res_id: str, version: int) -> Any:
    h = T.history
    return conn.execute(
        select(h.c.json, h.c.deleted).where(h.c.res_type == res_type, h.c.res_id == res_id, h.c.version_id == version)
    ).first()


def history_of(conn: Connection, res_type: str, res_id: str, limit: int = 100) -> list[Any]:
    h = T.history
    return list(conn.execute(
        select(h.c.json, h.c.deleted, h.c.method, h.c.version_id, h.c.last_updated)
        .where(h.c.res_type == res_type, h.c.res_id == res_id)
        .order_by(h.c.version_id.desc()).limit(limit)
    ).all())


def find_by_identifier(conn: Connection, res_type: str, system: str | None, value: str) -> list[str]:
    r, t = T.resources, T.tokens
    q = (select(r.c.res_id).join(t, t.c.res_pk == r.c.pk)
         .where(r.c.res_type == res_type, r.c.deleted.is_(False), t.c.param == "identifier", t.c.code == value))
    if system is not None:
        q = q.where(t.c.system == system)
    return list(conn.execute(q.distinct()).scalars().all())
