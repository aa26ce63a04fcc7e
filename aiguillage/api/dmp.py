"""DMP routes (scope ``dmp``): push a document, list/export push traces, HOP'EN indicators.

- ``POST /dmp/push/{message_id}?action=Creation|Modification|Suppression``: push now (default
  action: Creation, or Modification for a new version of a shared setId); answers the traces.
- ``GET /dmp/traces?message_id=&document_id=&status=&since=&until=&limit=&after_id=``: traces as
  JSON pages; ``format=csv`` streams every matching trace as CSV with the PFI export's headers.
- ``GET /dmp/indicators?month=YYYY-MM&sunes=false&max_misses=``: P1.02-P1.06 from the engine's data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from aiguillage.api.deps import get_engine, require_scope
from aiguillage.dmp import tracestore as ts
from aiguillage.dmp.install import get_service
from aiguillage.dmp.records import Action
from aiguillage.engine import Engine
from aiguillage.errors import InputError

router = APIRouter(prefix="/dmp", tags=["dmp"], dependencies=[Depends(require_scope("dmp"))])

MAX_PAGE = 1000


def _action(value: str | None) -> Action | None:
    if value is None or value == "":
        return None
    try:
        action = Action(value)
    except ValueError:
        action = Action.UNKNOWN
    if action is Action.UNKNOWN:
        raise InputError(f"action must be Creation, Modification or Suppression, got {value!r}", "DMP-0204")
    return action


@router.post("/push/{message_id}")
async def push_document(message_id: str, action: str | None = None,
                        engine: Engine = Depends(get_engine)) -> dict[str, Any]:
    result = await get_service(engine).push_message(message_id, _action(action))
    return {"messageId": message_id, "state": result.state, "status": result.status,
            "traces": [ts.trace_json(r) for r in result.traces]}


@router.get("/traces", response_model=None)
async def list_traces(
    message_id: str | None = None,
    document_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    after_id: int = 0,
    format: str = "json",
    engine: Engine = Depends(get_engine),
) -> dict[str, Any] | StreamingResponse:
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"limit must be within 1..{MAX_PAGE}", "DMP-0205")
    statuses = tuple(s.strip().upper() for s in (status or "").split(",") if s.strip())
    flt = ts.TraceFilter(message_id, document_id, statuses, since, until)
    if format == "csv":
        return StreamingResponse(ts.export_csv(ts.iter_traces(engine.db, flt)), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="dmp-traces.csv"'})
    if format != "json":
        raise InputError(f"format must be json or csv, got {format!r}", "DMP-0206")
    rows = await run_in_threadpool(ts.list_traces, engine.db, flt, limit, after_id)
    return {"items": [ts.trace_json(r) for r in rows],
            "next_after_id": rows[-1]["id"] if len(rows) == limit else None}


@router.get("/indicators")
async def indicators(month: str, sunes: bool = False, max_misses: int | None = 100,
                     engine: Engine = Depends(get_engine)) -> dict[str, Any]:
    report = await run_in_threadpool(get_service(engine).indicators, month, sunes_certified=sunes)
    return report.as_json(max_misses)
