"""``translate()``: local value -> national code, called by format handlers in the worker's transaction.

Exact match on the normalised key (trimmed, case- and accent-insensitive), nothing fuzzy: a value
with no mapping is recorded in the unmapped queue (with the message id) and the caller holds the
message. Each (source, field) table is cached in process, keyed on the table's (id, version); one
indexed read of that stamp per transaction (a worker batch) keeps every process — API, workers —
exact without any cross-process invalidation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from aiguillage.mappings import entries, unmapped
from aiguillage.mappings.entries import Target
from aiguillage.mappings.errors import UNMAPPED
from aiguillage.mappings.normalize import normalize_key
from aiguillage.router.handlers import Outcome
from aiguillage.store.messages import MessageStatus


@dataclass(frozen=True, slots=True)
class Translation:
    source: str
    field: str
    local_value: str
    system: str  # canonical URL of the target system
    code: str
    display: str
    version: int  # table version the translation came from


@dataclass(frozen=True, slots=True)
class Missing:
    source: str
    field: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "field": self.field, "value": self.value}


_Snapshot = tuple[tuple[str, int], dict[str, Target]]
_CACHE: dict[tuple[int, str, str], _Snapshot] = {}
_LOCK = threading.Lock()
_EMPTY: dict[str, Target] = {}
_MEMO_KEY = "aiguillage.mappings.snapshots"


def _txn_memo(conn: Connection) -> dict[tuple[str, str], tuple[int, dict[str, Target]]] | None:
    """Snapshots already checked in the connection's current transaction (a worker batch)."""
    txn = conn.get_transaction()
    if txn is None:
        return None
    held = conn.info.get(_MEMO_KEY)
    if held is not None and held[0] is txn:
        memo: dict[tuple[str, str], tuple[int, dict[str, Target]]] = held[1]
        return memo
    memo = {}
    conn.info[_MEMO_KEY] = (txn, memo)
    return memo


def table_snapshot(conn: Connection, source: str, field: str) -> tuple[int, dict[str, Target]]:
    """(version, local_key -> Target) of a table.

    The table's stamp (id, version) is read once per transaction; the entries are reloaded only when
    the stamp changed. A mapping saved after this transaction began is seen by the next transaction
    (a released message is always processed in a later one).
    """
    memo = _txn_memo(conn)
    if memo is not None:
        snap = memo.get((source, field))
        if snap is not None:
            return snap
    stamp = entries.table_stamp(conn, source, field)
    if stamp is None:
        snap = (0, _EMPTY)
    else:
        key = (id(conn.engine), source, field)
        hit = _CACHE.get(key)
        if hit is not None and hit[0] == stamp:
            snap = (stamp[1], hit[1])
        else:
            targets = entries.load_targets(conn, source, field)
            with _LOCK:
                _CACHE[key] = (stamp, targets)
            snap = (stamp[1], targets)
    if memo is not None:
        memo[(source, field)] = snap
    return snap


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def _lookup(
    conn: Connection, snapshot: tuple[int, dict[str, Target]], source: str, field: str, value: str,
    message_id: str | None, target_system: str, record_miss: bool,
) -> Translation | None:
    version, targets = snapshot
    hit = targets.get(normalize_key(value))
    if hit is not None:
        return Translation(source, field, value, hit.system, hit.code, hit.display, version)
    if record_miss and value.strip():
        entries.ensure_table(conn, source, field, target_system)
        unmapped.record(conn, source, field, value, message_id)
    return None


def translate(
    conn: Connection,
    source: str,
    field: str,
    value: str,
    *,
    message_id: str | None = None,
    target_system: str = "",
    record_miss: bool = True,
) -> Translation | None:
    """The national code for ``value`` in table (``source``, ``field``), or None.

    A miss (non-blank value) is recorded in the unmapped queue with ``message_id``; the table is
    created on the first miss with ``target_system`` as its suggestion system. A blank value is
    never recorded: absent data is the caller's business.
    """
    snap = table_snapshot(conn, source, field)
    return _lookup(conn, snap, source, field, value, message_id, target_system, record_miss)


class MappingContext:
    """Translate every local value of one message, collect every miss, then hold if any.

    ::

        ctx = MappingContext(conn, msg.id)
        doc_type = ctx.translate(msg.source, "document-type", "84", target_system="JDV_J07")
        unit = ctx.translate(msg.source, "UF", "3030")
        if (held := ctx.outcome_if_missing()) is not None:
            return held
    """

    def __init__(self, conn: Connection, message_id: str | None = None) -> None:
        self.conn = conn
        self.message_id = message_id
        self._snapshots: dict[tuple[str, str], tuple[int, dict[str, Target]]] = {}
        self._missing: dict[tuple[str, str, str], Missing] = {}

    def translate(self, source: str, field: str, value: str, *, target_system: str = "") -> Translation | None:
        snap = self._snapshots.get((source, field))
        if snap is None:
            snap = table_snapshot(self.conn, source, field)
            self._snapshots[(source, field)] = snap
        found = _lookup(self.conn, snap, source, field, value, self.message_id, target_system, True)
        if found is None and value.strip():
            self._missing.setdefault((source, field, normalize_key(value)), Missing(source, field, value.strip()))
        return found

    @property
    def missing(self) -> list[Missing]:
        return list(self._missing.values())

    def outcome_if_missing(self) -> Outcome | None:
        """A HELD outcome (MAP-0001) listing every missing value, or None when all were mapped."""
        if not self._missing:
            return None
        listed = "; ".join(f"{m.source}/{m.field} {m.value!r}" for m in self._missing.values())
        return Outcome(
            MessageStatus.HELD,
            error_codes=[UNMAPPED],
            error_text=f"{len(self._missing)} unmapped local value(s): {listed}",
        )
