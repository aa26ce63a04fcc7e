"""Nomenclature routes: list systems, page concepts, import a file, FHIR $lookup / $validate-code.

Reads need any valid token; imports need ``mappings:admin``. Under /fhir errors are
OperationOutcome (api/problems.py) and answers are FHIR ``Parameters``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from aiguillage.api.deps import get_engine, principal, require_scope
from aiguillage.errors import InputError, Issue
from aiguillage.nomenclatures import fhir_ops, service
from aiguillage.nomenclatures.errors import MISSING_FIELD, PARSE_ERROR, ImportFormatError
from aiguillage.nomenclatures.install import get_registry, import_bytes

router = APIRouter(tags=["nomenclatures"])
FHIR_JSON = "application/fhir+json"
MAX_UPLOAD = 50 * 1024 * 1024


@router.get("/nomenclatures", dependencies=[Depends(principal)])
def list_systems(request: Request) -> dict[str, Any]:
    return {"systems": service.list_systems(get_registry(get_engine(request)))}


@router.get("/nomenclatures/{system:path}/concepts", dependencies=[Depends(principal)])
def concepts(
    request: Request,
    system: str,
    filter: str | None = None,
    offset: int = 0,
    count: int = 50,
    version: str | None = None,
    active_only: bool = False,
) -> dict[str, Any]:
    registry = get_registry(get_engine(request))
    return service.concepts(registry, system, filter, offset, count, version, active_only)


@router.post("/nomenclatures/import", dependencies=[Depends(require_scope("mappings:admin"))])
async def import_file(request: Request, filename: str = Query(default="upload")) -> JSONResponse:
    data = await request.body()
    if not data:
        raise InputError("the request body must hold the nomenclature file", MISSING_FIELD)
    if len(data) > MAX_UPLOAD:
        raise InputError(f"file larger than {MAX_UPLOAD} bytes", "NOM-0104", 413)
    report = await run_in_threadpool(import_bytes, get_engine(request), data, filename)
    if not report.ok:
        errors = report.errors or [Issue("error", PARSE_ERROR, "nothing imported", filename)]
        raise ImportFormatError(f"{filename}: import failed", errors[0].code, errors)
    return JSONResponse(report.as_dict())


# --- FHIR terminology operations --------------------------------------------------------------


def _value(param: dict[str, Any]) -> Any:
    for key, value in param.items():
        if key.startswith("value"):
            return value
    return None


async def _params(request: Request) -> dict[str, str]:
    """Query parameters (GET) or a FHIR ``Parameters`` body (POST) as name -> string."""
    out: dict[str, str] = {k: v for k, v in request.query_params.items()}
    if request.method == "POST":
        body = await request.body()
        if body.strip():
            try:
                doc = json.loads(body)
            except ValueError as exc:
                raise InputError("body is not JSON", "NOM-0102") from exc
            if not isinstance(doc, dict) or doc.get("resourceType") != "Parameters":
                raise InputError("body must be a FHIR Parameters resource", "NOM-0104")
            for p in doc.get("parameter") or []:
                if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                    continue
                value = _value(p)
                if p["name"] == "coding" and isinstance(value, dict):
                    for k in ("system", "code", "version", "display"):
                        if isinstance(value.get(k), str):
                            out.setdefault(k, value[k])
                elif isinstance(value, str | int | bool):
                    out[p["name"]] = str(value)
    return out


def _fhir(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, media_type=FHIR_JSON)


@router.api_route("/fhir/CodeSystem/$lookup", methods=["GET", "POST"], dependencies=[Depends(principal)])
async def lookup(request: Request) -> JSONResponse:
    p = await _params(request)
    registry = get_registry(get_engine(request))
    return _fhir(fhir_ops.lookup(registry, p.get("system"), p.get("code"), p.get("version")))


@router.api_route("/fhir/CodeSystem/$validate-code", methods=["GET", "POST"], dependencies=[Depends(principal)])
async def validate_code_cs(request: Request) -> JSONResponse:
    p = await _params(request)
    registry = get_registry(get_engine(request))
    return _fhir(fhir_ops.validate_code(registry, p.get("url") or p.get("system"), p.get("code"), p.get("version"),
                                        p.get("display")))


@router.api_route("/fhir/ValueSet/$validate-code", methods=["GET", "POST"], dependencies=[Depends(principal)])
async def validate_code_vs(request: Request) -> JSONResponse:
    p = await _params(request)
    registry = get_registry(get_engine(request))
    return _fhir(fhir_ops.validate_code(registry, p.get("url"), p.get("code"), p.get("version"), p.get("display"),
                                        p.get("system")))
