"""POST /cda: one CDA R2 document in the body; its validation report as JSON in the response.

200: valid, stored RECEIVED (``messageId`` in the body), processed by the worker into a
``ClinicalDocument`` event. 422: the full report, stored REJECTED. Scope ``dmp`` or ``intake``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from aiguillage.api.deps import get_engine, principal
from aiguillage.cda.install import receive_cda
from aiguillage.engine import Engine
from aiguillage.errors import AuthError, InputError
from aiguillage.store.clients import Principal

router = APIRouter(tags=["cda"])

MAX_BODY = 32 * 1024 * 1024
SCOPES = ("dmp", "intake")


async def require_cda_scope(request: Request) -> Principal:
    p = await principal(request)
    if not any(p.has(s) for s in SCOPES):
        raise AuthError(f"client {p.name!r} lacks scope 'dmp' or 'intake'", "AUTH-0002", 403)
    return p


@router.post("/cda")
async def post_cda(
    request: Request,
    engine: Engine = Depends(get_engine),
    who: Principal = Depends(require_cda_scope),
) -> JSONResponse:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InputError(f"document larger than {MAX_BODY} bytes", "CDA-0003", 413)
    result = await receive_cda(engine, body, channel="http", source=f"client:{who.name}")
    return JSONResponse(result.body, status_code=result.status_code,
                        headers={"X-Message-Id": result.message_id,
                                 "X-Duplicate": "true" if result.duplicate else "false"})
