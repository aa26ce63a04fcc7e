"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from aiguillage import observability as obs
from aiguillage.api.deps import get_engine, principal
from aiguillage.engine import Engine
from aiguillage.store import db, outbox
from aiguillage.store import messages as msgs

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", dependencies=[Depends(principal)])
async def ready(engine: Engine = Depends(get_engine)) -> JSONResponse:
    store_ok = await asyncio.to_thread(db.ping, engine.db)
    try:
        bus_ok = await asyncio.wait_for(engine.bus.ping(), timeout=3.0)
    except Exception:
        bus_ok = False
    ok = store_ok and bus_ok
    body = {"status": "ready" if ok else "not ready", "store": store_ok, "bus": bus_ok}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", dependencies=[Depends(principal)])
async def metrics(engine: Engine = Depends(get_engine)) -> Response:
    by_status = await asyncio.to_thread(msgs.count_by_status, engine.db)
    backlog = await asyncio.to_thread(outbox.count, engine.db)
    try:
        lag = await asyncio.wait_for(engine.bus.lag(), timeout=3.0)
    except Exception:
        lag = {}
    return Response(obs.render(by_status, backlog, lag), media_type="text/plain; version=0.0.4")
