"""The DMP service: consumes ClinicalDocument events, pushes documents, keeps traces, computes indicators.

Flow: the CDA handler publishes a ``ClinicalDocument`` event (``Topic.EVENTS_DOCUMENT``); the
service records the document (``dmp_documents``, idempotent by message id), reads the stored CDA,
and pushes it (:func:`aiguillage.dmp.push.push`) with action Creation, or Modification when the
document replaces another (relatedDocument RPLC) or another version of its setId was accepted.
``push_message`` does the same on demand (``POST /dmp/push/{message_id}``, any action).

Indicators come from the engine's own data: documents received, push traces, and stays from the
ADT projection (:mod:`aiguillage.dmp.adtstays`), unless ``stay_source`` is set by the caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiguillage.cda.header import CdaHeader, extract_header
from aiguillage.cda.oids import IDNPS
from aiguillage.cda.parse import parse_cda
from aiguillage.dmp import tracestore as ts
from aiguillage.dmp.adtstays import adt_stay_source
from aiguillage.dmp.indicators import compute_indicators, month_bounds
from aiguillage.dmp.push import DmpClient, PushItem, PushPolicy, PushResult, push
from aiguillage.dmp.records import Action, Stay
from aiguillage.dmp.results import IndicatorReport
from aiguillage.errors import ConflictError, EngineError, NotFoundError
from aiguillage.router.bus import Record, Subscription
from aiguillage.router.topics import Topic
from aiguillage.store import messages as msgs

if TYPE_CHECKING:
    from aiguillage.engine import Engine

log = logging.getLogger(__name__)

GROUP = "aiguillage-dmp"
StaySource = Callable[[date, date], list[Stay]]
_MASKING = {"MASQUE_PS": "true,false", "INVISIBLE_PATIENT": "false,true",
            "INVISIBLE_REPRESENTANTS_LEGAUX": "false,true"}


def _ident(value: dict[str, Any] | None) -> str | None:
    if not value:
        return None
    return value.get("extension") or value.get("root")


class DmpService:
    def __init__(self, engine: Engine, *, client: DmpClient | None = None, policy: PushPolicy | None = None) -> None:
        self.engine = engine
        self.client = client
        self.policy = policy or PushPolicy()
        self.stay_source: StaySource | None = None
        self._sub: Subscription | None = None
        self.events_handled = 0

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._sub = self.engine.bus.subscribe([Topic.EVENTS_DOCUMENT.value], GROUP, self._on_batch)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.stop()
            self._sub = None
        close = getattr(self.client, "close", None)
        if close is not None:
            await close()

    async def _on_batch(self, records: Sequence[Record]) -> None:
        for rec in records:
            try:
                event = json.loads(rec.value)
            except ValueError:
                log.warning("dmp: ignoring malformed document event (offset %s)", rec.offset)
                continue
            if isinstance(event, dict) and event.get("type") == "ClinicalDocument" and event.get("messageId"):
                try:
                    await self.handle_event(event)
                except EngineError as exc:  # e.g. message purged meanwhile: skip it, never loop on it
                    if exc.retryable:
                        raise
                    log.warning("dmp: document event of message %s skipped (%s)", event["messageId"], exc.code)
            self.events_handled += 1

    # -- documents -------------------------------------------------------------------------------

    async def handle_event(self, event: dict[str, Any]) -> PushResult | None:
        """Record the document of one event and push it once (a redelivered event pushes nothing)."""
        inserted = await asyncio.to_thread(self._record, event)
        if not inserted:
            doc = await asyncio.to_thread(ts.get_document, self.engine.db, str(event["messageId"]))
            if doc is None or doc["push_state"] != "PENDING":
                return None
        return await self.push_message(str(event["messageId"]))

    def _record(self, event: dict[str, Any]) -> bool:
        when = event.get("effectiveTime")
        produced = datetime.fromisoformat(when).date() if when else None
        values = {
            "message_id": str(event["messageId"]),
            "document_id": (_ident(event.get("documentId")) or str(event["messageId"]))[:255],
            "set_id": (_ident(event.get("setId")) or _ident(event.get("documentId")) or "")[:255],
            "version": int(event.get("versionNumber") or 1),
            "loinc": event.get("typeCode"),
            "local_type_code": event.get("localTypeCode"),
            "ipp": event.get("ipp"),
            "stay_id": event.get("stayId"),
            "ins_kind": event.get("insKind"),
            "produced_on": produced,
            "masking": _MASKING.get(str(event.get("confidentiality") or ""), "false,false"),
        }
        with self.engine.db.begin() as conn:
            return ts.add_document(conn, values)

    def _item(self, doc: dict[str, Any]) -> tuple[PushItem, CdaHeader]:
        raw: bytes = msgs.get(self.engine.db, doc["message_id"])["raw"]
        header = extract_header(parse_cda(raw))
        ins = header.ins
        ipp = next((p for p in header.patient_ids if p.kind == "IPP" and p.extension), None)
        ids = [i for a in header.authors for i in a.ids if i.extension]
        national = next((i.extension for i in ids if i.root == IDNPS), None)
        org = next((a.organization for a in header.authors if a.organization and a.organization.extension), None)
        item = PushItem(
            message_id=doc["message_id"], document_id=doc["document_id"], set_id=doc["set_id"],
            version=int(doc["version"]), loinc=doc["loinc"], ipp=doc["ipp"], stay_id=doc["stay_id"],
            ins_root=ins.root if ins else None, ins=ins.extension if ins and ins.extension else None,
            masking=doc["masking"], domain=ipp.root if ipp else None,
            source_author_id=ids[0].extension if ids else None, author_id=national,
            organization_id=org.extension if org else None, content=raw,
        )
        return item, header

    async def push_message(self, message_id: str, action: Action | None = None) -> PushResult:
        """Push (or push again) the document of ``message_id``; its traces are written as it goes."""
        db = self.engine.db
        doc = await asyncio.to_thread(ts.get_document, db, message_id)
        if doc is None:
            try:
                await asyncio.to_thread(msgs.get, db, message_id)
            except NotFoundError:
                raise NotFoundError(f"message {message_id} not found", "NF-0101") from None
            raise ConflictError(f"message {message_id} is not a processed CDA document", "DMP-0203")
        item, header = await asyncio.to_thread(self._item, doc)
        if action is None:
            shared = await asyncio.to_thread(ts.set_already_shared, db, item.set_id, message_id)
            action = Action.MODIFICATION if header.replaces is not None or shared else Action.CREATION
        first = await asyncio.to_thread(ts.next_attempt, db, message_id)

        async def sink(row: dict[str, Any]) -> None:
            await asyncio.to_thread(ts.add_trace, db, row)

        result = await push(item, action, self.client, self.policy, sink, first_attempt=first)
        await asyncio.to_thread(ts.set_push_state, db, message_id, result.state, result.status)
        return result

    # -- reads -----------------------------------------------------------------------------------

    def indicators(self, month: str, *, sunes_certified: bool = False) -> IndicatorReport:
        first, last = month_bounds(month)
        source = self.stay_source or adt_stay_source(self.engine.db)
        stays = source(first, last) if source is not None else []
        docs = ts.document_records(self.engine.db, first - timedelta(days=366), last)
        # traces of the year before the month and anything after it: a push may come late
        since = datetime(first.year, first.month, first.day) - timedelta(days=366)
        report = compute_indicators(month, stays, docs, ts.trace_records(self.engine.db, since, None),
                                    sunes_certified=sunes_certified)
        if source is None:
            report.sejour_notes.append("no ADT projection installed: no stays, stay indicators not computable")
        return report


__all__ = ["GROUP", "DmpService", "StaySource"]
