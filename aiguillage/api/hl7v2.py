"""POST /hl7v2: one ER7 message in the body, as sent (any charset); its ACK as ER7 in the response.

HTTP 200 carries an AA (committed); a rejected message answers 400 with its AR/AE ACK and ERR
segments. The body is kept either way.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from aiguillage.api.deps import get_engine, require_scope
from aiguillage.engine import Engine
from aiguillage.errors import InputError
from aiguillage.hl7v2.ack import AckCode
from aiguillage.router.hl7_intake import receive_hl7
from aiguillage.store.clients import Principal

router = APIRouter(tags=["hl7v2"])

MAX_BODY = 16 * 1024 * 1024


@router.post("/hl7v2")
async def post_hl7v2(
    request: Request,
    enhanced: bool | None = None,
    engine: Engine = Depends(get_engine),
    who: Principal = Depends(require_scope("intake")),
) -> Response:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InputError(f"message larger than {MAX_BODY} bytes", "HL7-0140", 413)
    result = await receive_hl7(engine, body, channel="http", source=f"client:{who.name}", enhanced=enhanced)
    ok = result.code in (AckCode.AA, AckCode.CA)
    charset = _charset_of(result.ack)
    return Response(
        result.ack,
        status_code=200 if ok else 400,
        media_type=f"application/hl7-v2; charset={charset}",
        headers={"X-Message-Id": result.message_id or "", "X-Ack-Code": result.code.value,
                 "X-Duplicate": "true" if result.duplicate else "false"},
    )


def _charset_of(ack: bytes) -> str:
    head = ack.split(b"\r", 1)[0]
    if b"8859/1" in head or b"8859/15" in head:
        return "iso-8859-15" if b"8859/15" in head else "iso-8859-1"
    return "utf-8"
