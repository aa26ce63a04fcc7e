"""FHIR R4 REST routes for the ROR exposure store, under /fhir (thin: the service does the work).

Region of a written resource: its ``meta.tag`` with system TRE_R30-RegionOM, or the ``X-ROR-Region``
header (copied into ``meta.tag``); both absent or different -> 400. ``Prefer: handling=lenient``
turns unknown search parameters into warnings and ROR profile errors into warnings on intake.
Rejected write payloads are kept in the messages store (channel ``fhir``, status REJECTED).
``$export`` is synchronous: it streams ndjson of the current versions.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from aiguillage.api.deps import get_engine, require_scope
from aiguillage.engine import Engine
from aiguillage.errors import EngineError, Issue
from aiguillage.fhir import errors as E
from aiguillage.fhir.bundle import history_bundle, outcome, searchset
from aiguillage.fhir.capability import capability_statement
from aiguillage.fhir.query import parse_date_range, parse_search
from aiguillage.fhir.ror import REGION_HEADER, RESOURCE_TYPES
from aiguillage.ror.federation import HOP_HEADER, Federation
from aiguillage.ror.repository import Written, dumps, instant
from aiguillage.ror.service import RorService
from aiguillage.ror.transaction import BundleProcessor
from aiguillage.store.messages import Envelope, MessageStatus

router = APIRouter(prefix="/fhir", tags=["fhir"])
FHIR_JSON = "application/fhir+json"
MAX_BODY = 20 * 1024 * 1024
READ = Depends(require_scope("ror:read"))
WRITE = Depends(require_scope("ror:write"))


def _svc(engine: Engine) -> RorService:
    svc: RorService = engine.services["ror"]
    return svc


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _prefer(request: Request) -> dict[str, str]:
    out = {}
    for part in request.headers.get("prefer", "").split(";"):
        for item in part.split(","):
            k, _, v = item.strip().partition("=")
            if k:
                out[k.lower()] = v.strip().strip('"')
    return out


def _lenient(request: Request) -> bool:
    return _prefer(request).get("handling") == "lenient"


def _if_match(request: Request) -> int | None:
    raw = request.headers.get("if-match", "").strip().removeprefix("W/").strip('"')
    return int(raw) if raw.isdigit() else None


async def _body(request: Request) -> tuple[bytes, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise E.FhirInputError("request body too large", E.INVALID_JSON, http_status=413)
    try:
        return raw, json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise E.FhirInputError("the body is not valid JSON", E.INVALID_JSON) from None


async def _reject(engine: Engine, raw: bytes, exc: EngineError, rtype: str) -> None:
    """Keep a rejected payload with its error codes (nothing is lost)."""
    codes = tuple(dict.fromkeys([exc.code, *(i.code for i in exc.issues)]))[:20]
    await engine.intake(Envelope(channel="fhir", content_type=FHIR_JSON, raw=raw or b"-", source="fhir-api",
                                 status=MessageStatus.REJECTED, error_codes=codes, error_text=exc.message,
                                 message_type=rtype[:32]))


def _written(request: Request, w: Written, issues: list[Issue]) -> Response:
    headers = {"ETag": f'W/"{w.version_id}"', "Last-Modified": instant(w.last_updated),
               "Location": f"{_base(request)}/{w.res_type}/{w.res_id}/_history/{w.version_id}"}
    status = 201 if w.created else 200
    wanted = _prefer(request).get("return", "representation")
    if wanted == "minimal":
        return Response(status_code=status, headers=headers)
    if wanted == "OperationOutcome":
        return JSONResponse(outcome(issues, "informational"), status, headers, media_type=FHIR_JSON)
    return Response(dumps(w.resource), status, headers, media_type=FHIR_JSON)


async def _guarded_write(request: Request, engine: Engine, rtype: str, fn: Any) -> Response:
    raw, body = b"", None
    try:
        raw, body = await _body(request)
        w, issues = await asyncio.to_thread(fn, body)
        return _written(request, w, issues)
    except EngineError as exc:
        if 400 <= exc.http_status < 500 and exc.http_status not in (404, 409, 410):
            await _reject(engine, raw, exc, rtype)
        raise


@router.get("/metadata")
async def metadata(request: Request, engine: Engine = Depends(get_engine)) -> JSONResponse:
    federation = engine.services.get("ror_federation_params")
    return JSONResponse(capability_statement(_base(request), federation=federation), media_type=FHIR_JSON)


@router.post("", dependencies=[WRITE])
async def bundle(request: Request, engine: Engine = Depends(get_engine)) -> JSONResponse:
    raw = b""
    try:
        raw, body = await _body(request)
        proc = BundleProcessor(_svc(engine))
        out = await asyncio.to_thread(proc.process, body, region=request.headers.get(REGION_HEADER),
                                      lenient=_lenient(request))
    except EngineError as exc:
        if 400 <= exc.http_status < 500:
            await _reject(engine, raw, exc, "Bundle")
        raise
    return JSONResponse(out, media_type=FHIR_JSON)


@router.get("/$export", dependencies=[READ])
async def export(request: Request, engine: Engine = Depends(get_engine)) -> StreamingResponse:
    q = request.query_params
    types = [t for t in q.get("_type", ",".join(RESOURCE_TYPES)).split(",") if t]
    bad = [t for t in types if t not in RESOURCE_TYPES]
    if bad:
        raise E.FhirInputError(f"_type: not served here: {', '.join(bad)}", E.BAD_VALUE)
    since = parse_date_range(q["_since"], "_since")[0] if "_since" in q else None
    region = q.get("region")
    lines = list(await asyncio.to_thread(lambda: list(_svc(engine).export(types, since, region))))
    return StreamingResponse(iter(lines), media_type="application/fhir+ndjson")


@router.get("/{rtype}", dependencies=[READ])
async def search(rtype: str, request: Request, engine: Engine = Depends(get_engine)) -> Response:
    lenient = _lenient(request)
    req = parse_search(rtype, list(request.query_params.multi_items()), lenient=lenient)
    federation: Federation | None = engine.services.get("ror_federation")
    if federation is not None and federation.wants(req):  # _federate=true: local + peer RORs, merged
        text = await federation.search(_svc(engine), req, base=_base(request), lenient=lenient,
                                       items=list(request.query_params.multi_items()),
                                       hop=request.headers.get(HOP_HEADER))
        return Response(text, media_type=FHIR_JSON)
    res = await asyncio.to_thread(_svc(engine).search, req)
    warn = None
    if req.ignored:
        warn = outcome([Issue("warning", E.UNKNOWN_PARAM, f"ignored unknown parameter {k}", k) for k in req.ignored],
                       "not-supported")
    body = searchset(_base(request), rtype, req.echo,
                     [(h.res_type, h.res_id, h.json) for h in res.matches],
                     [(h.res_type, h.res_id, h.json) for h in res.included], res.total, res.next_cursor, warn)
    return Response(body, media_type=FHIR_JSON)


@router.post("/{rtype}", dependencies=[WRITE])
async def create(rtype: str, request: Request, engine: Engine = Depends(get_engine)) -> Response:
    region, lenient = request.headers.get(REGION_HEADER), _lenient(request)
    return await _guarded_write(request, engine, rtype,
                                lambda b: _svc(engine).create(b, region=region, lenient=lenient, rtype=rtype))


@router.put("/{rtype}", dependencies=[WRITE])
async def conditional_update(rtype: str, request: Request, engine: Engine = Depends(get_engine)) -> Response:
    identifier = request.query_params.get("identifier")
    if not identifier or len(request.query_params) != 1:
        raise E.FhirInputError("conditional update supports exactly one criterion: ?identifier=system|value",
                               E.BAD_VALUE)
    region, lenient = request.headers.get(REGION_HEADER), _lenient(request)
    return await _guarded_write(request, engine, rtype, lambda b: _svc(engine).conditional_update(
        rtype, identifier, b, region=region, lenient=lenient))


@router.get("/{rtype}/{rid}", dependencies=[READ])
async def read(rtype: str, rid: str, engine: Engine = Depends(get_engine)) -> Response:
    text = await asyncio.to_thread(_svc(engine).read, rtype, rid)
    version = json.loads(text).get("meta", {}).get("versionId", "")
    return Response(text, media_type=FHIR_JSON, headers={"ETag": f'W/"{version}"'})


@router.put("/{rtype}/{rid}", dependencies=[WRITE])
async def update(rtype: str, rid: str, request: Request, engine: Engine = Depends(get_engine)) -> Response:
    region, lenient, if_match = request.headers.get(REGION_HEADER), _lenient(request), _if_match(request)
    return await _guarded_write(request, engine, rtype, lambda b: _svc(engine).update(
        rtype, rid, b, region=region, lenient=lenient, if_match=if_match))


@router.patch("/{rtype}/{rid}", dependencies=[WRITE])
async def patch(rtype: str, rid: str, request: Request, engine: Engine = Depends(get_engine)) -> Response:
    ctype = request.headers.get("content-type", "")
    if "json-patch+json" not in ctype and "fhir+json" not in ctype and "application/json" not in ctype:
        raise E.FhirInputError("PATCH takes application/json-patch+json or a FHIRPath Patch Parameters",
                               E.PATCH, http_status=415)
    lenient, if_match = _lenient(request), _if_match(request)
    return await _guarded_write(request, engine, rtype, lambda b: _svc(engine).patch(
        rtype, rid, b, ctype, lenient=lenient, if_match=if_match))


@router.delete("/{rtype}/{rid}", dependencies=[WRITE])
async def delete(rtype: str, rid: str, engine: Engine = Depends(get_engine)) -> Response:
    await asyncio.to_thread(_svc(engine).delete, rtype, rid)
    return Response(status_code=204)


@router.get("/{rtype}/{rid}/_history", dependencies=[READ])
async def history(rtype: str, rid: str, request: Request, engine: Engine = Depends(get_engine)) -> JSONResponse:
    rows = await asyncio.to_thread(_svc(engine).history, rtype, rid)
    return JSONResponse(history_bundle(_base(request), rows), media_type=FHIR_JSON)


@router.get("/{rtype}/{rid}/_history/{vid}", dependencies=[READ])
async def vread(rtype: str, rid: str, vid: str, engine: Engine = Depends(get_engine)) -> Response:
    text = await asyncio.to_thread(_svc(engine).vread, rtype, rid, vid)
    return Response(text, media_type=FHIR_JSON, headers={"ETag": f'W/"{vid}"'})
