"""Mapping-table routes (scope ``mappings:admin``): tables, entries, unmapped queue with suggestions,
save/delete one mapping (saving releases the messages it held), settings, history, CSV export/import.
Thin: the work is in aiguillage.mappings.service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from aiguillage.api.deps import get_engine, require_scope
from aiguillage.mappings.install import get_service
from aiguillage.mappings.service import MappingService
from aiguillage.store.clients import Principal

router = APIRouter(prefix="/mappings", tags=["mappings"])
ADMIN = require_scope("mappings:admin")


class MappingIn(BaseModel):
    source: str = Field(max_length=64)
    field: str = Field(max_length=64)
    local_value: str = Field(max_length=255)
    target_system: str = Field(max_length=255)
    target_code: str = Field(max_length=64)
    target_display: str | None = Field(default=None, max_length=1024)
    expected_version: int | None = None


class SettingsIn(BaseModel):
    target_system: str = Field(max_length=255)


def _svc(request: Request) -> MappingService:
    return get_service(get_engine(request))


@router.get("/tables")
async def list_tables(request: Request, _: Principal = Depends(ADMIN)) -> dict[str, Any]:
    return {"tables": await run_in_threadpool(_svc(request).list_tables)}


@router.get("/tables/{source}/{field}")
async def table(
    request: Request, source: str, field: str, offset: int = 0, count: int = 50, filter: str | None = None,
    _: Principal = Depends(ADMIN),
) -> dict[str, Any]:
    return await run_in_threadpool(_svc(request).table, source, field, offset, count, filter)


@router.put("/tables/{source}/{field}")
async def set_settings(
    request: Request, source: str, field: str, body: SettingsIn, who: Principal = Depends(ADMIN)
) -> dict[str, Any]:
    return await run_in_threadpool(_svc(request).set_settings, source, field, body.target_system, who.name)


@router.put("/entries")
async def save(request: Request, body: MappingIn, who: Principal = Depends(ADMIN)) -> dict[str, Any]:
    svc = _svc(request)
    return await run_in_threadpool(
        lambda: svc.save(body.source, body.field, body.local_value, body.target_system, body.target_code,
                         who.name, body.target_display, body.expected_version)
    )


@router.delete("/entries")
async def delete(
    request: Request, source: str, field: str, local_value: str, expected_version: int | None = None,
    who: Principal = Depends(ADMIN),
) -> dict[str, Any]:
    svc = _svc(request)
    return await run_in_threadpool(lambda: svc.delete(source, field, local_value, who.name, expected_version))


@router.get("/unmapped")
async def unmapped_queue(
    request: Request, source: str | None = None, field: str | None = None, offset: int = 0, count: int = 50,
    suggestions: int = Query(default=5, ge=0, le=50), _: Principal = Depends(ADMIN),
) -> dict[str, Any]:
    return await run_in_threadpool(_svc(request).unmapped_queue, source, field, offset, count, suggestions)


@router.get("/history")
async def history(
    request: Request, source: str | None = None, field: str | None = None, local_value: str | None = None,
    limit: int = 100, before: int | None = None, _: Principal = Depends(ADMIN),
) -> dict[str, Any]:
    return await run_in_threadpool(_svc(request).history, source, field, local_value, limit, before)


@router.get("/export", response_class=PlainTextResponse)
async def export_csv(request: Request, source: str | None = None, _: Principal = Depends(ADMIN)) -> PlainTextResponse:
    text = await run_in_threadpool(_svc(request).export_csv, source)
    return PlainTextResponse(text, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="mappings.csv"'})


@router.post("/import")
async def import_csv(request: Request, partial: bool = False, who: Principal = Depends(ADMIN)) -> dict[str, Any]:
    data = await request.body()
    svc = _svc(request)
    return await run_in_threadpool(lambda: svc.import_csv(data, who.name, partial))
