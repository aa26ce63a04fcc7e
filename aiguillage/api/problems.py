"""One place that turns errors into responses: JSON problems, or OperationOutcome under /fhir."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from aiguillage.errors import EngineError, Issue
from aiguillage.fhir.bundle import outcome

log = logging.getLogger(__name__)

def operation_outcome(issues: list[Issue], fallback_code: str = "processing") -> dict[str, Any]:
    return outcome(issues, fallback_code)


def _is_fhir(request: Request) -> bool:
    return request.url.path.startswith("/fhir")


def _respond(request: Request, status: int, code: str, message: str, issues: list[Issue]) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if _is_fhir(request):
        outcome = operation_outcome(issues or [Issue("error", code, message)])
        return JSONResponse(outcome, status_code=status, media_type="application/fhir+json", headers=headers)
    body: dict[str, Any] = {"type": f"urn:aiguillage:error:{code}", "title": message, "status": status,
                            "code": code}
    if issues:
        body["issues"] = [i.as_dict() for i in issues]
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(EngineError)
    async def _engine_error(request: Request, exc: EngineError) -> JSONResponse:
        if exc.http_status >= 500:
            log.warning("request failed: %s %s -> %s", request.method, request.url.path, exc.code)
        return _respond(request, exc.http_status, exc.code, exc.message, exc.issues)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [
            Issue("error", "INP-0002", str(e.get("msg", "invalid")), ".".join(str(p) for p in e.get("loc", ())))
            for e in exc.errors()
        ]
        return _respond(request, 422, "INP-0002", "invalid request", issues)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NF-0000", 405: "INP-0405"}.get(exc.status_code, f"HTTP-{exc.status_code}")
        return _respond(request, exc.status_code, code, str(exc.detail), [])

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _respond(request, 500, "ENG-0500", "internal error (logged)", [])
