"""POST /cda: report JSON, 200 + RECEIVED when valid, 422 + REJECTED when not; local type codes held."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from aiguillage.api.app import create_app
from aiguillage.engine import Engine
from aiguillage.store import clients
from aiguillage.store import messages as msgs
from tests.dmp_push.conftest import make_cda, message_status


@pytest.fixture
async def api(engine: Engine) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    tokens = {
        "dmp": clients.add_client(engine.db, "dpi", frozenset({"dmp"})),
        "intake": clients.add_client(engine.db, "eai", frozenset({"intake"})),
        "reader": clients.add_client(engine.db, "viewer", frozenset({"messages:read"})),
    }
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, {k: f"Bearer {v}" for k, v in tokens.items()}


async def test_valid_cda_is_stored_processed_and_deduplicated(
    api: tuple[httpx.AsyncClient, dict[str, str]], engine: Engine
) -> None:
    c, auth = api
    body = make_cda()
    r = await c.post("/cda", content=body, headers={"Authorization": auth["intake"]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["valid"] is True and out["status"] == "RECEIVED" and out["header"]["typeCode"]["code"] == "11490-0"
    assert all(i["severity"] not in ("error", "fatal") for i in out["issues"])
    row = await message_status(engine, out["messageId"])
    assert row["status"] == "PROCESSED" and row["raw"] == body and row["message_type"] == "CDA^11490-0"
    assert json.loads(row["meta"])["typeCode"] == "11490-0"
    r2 = await c.post("/cda", content=body, headers={"Authorization": auth["dmp"]})
    assert r2.status_code == 200 and r2.json()["duplicate"] is True and r2.json()["messageId"] == out["messageId"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not xml at all", "CDA-0001"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><ClinicalDocument xmlns="urn:hl7-org:v3"/>',
         "CDA-0002"),
        (b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>', "CDA-0201"),
    ],
)
async def test_bad_cda_is_rejected_with_the_full_report_and_kept(
    api: tuple[httpx.AsyncClient, dict[str, str]], engine: Engine, body: bytes, code: str
) -> None:
    c, auth = api
    r = await c.post("/cda", content=body, headers={"Authorization": auth["dmp"]})
    assert r.status_code == 422
    out = r.json()
    assert out["valid"] is False and out["status"] == "REJECTED" and code in [i["code"] for i in out["issues"]]
    row = msgs.get(engine.db, out["messageId"])
    assert row["status"] == "REJECTED" and row["raw"] == body and code in row["error_codes"].split(",")
    if code == "CDA-0201":  # an empty ClinicalDocument: every missing part is reported, not only the first
        assert len({i["code"] for i in out["issues"]}) >= 5


async def test_scopes(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    c, auth = api
    assert (await c.post("/cda", content=make_cda())).status_code == 401
    r = await c.post("/cda", content=make_cda(), headers={"Authorization": auth["reader"]})
    assert r.status_code == 403 and r.json()["code"] == "AUTH-0002"
    r = await c.get("/dmp/indicators", params={"month": "2025-03"}, headers={"Authorization": auth["intake"]})
    assert r.status_code == 403


async def test_local_type_code_is_held_until_mapped(
    api: tuple[httpx.AsyncClient, dict[str, str]], engine: Engine
) -> None:
    pytest.importorskip("aiguillage.mappings", reason="mapping tables not installed")
    from aiguillage.mappings import entries

    c, auth = api
    body = make_cda(type_code="LL-SORTIE", type_code_system="1.2.3.4.567.8.9.50", type_display="Lettre locale")
    r = await c.post("/cda", content=body, headers={"Authorization": auth["dmp"]})
    assert r.status_code == 200, r.text
    assert "CDA-0208" in [i["code"] for i in r.json()["issues"] if i["severity"] == "warning"]
    mid = r.json()["messageId"]
    row = await message_status(engine, mid)
    assert row["status"] == "HELD" and row["error_codes"] == "MAP-0001"
    # the custodian (organisation 1750803447) maps its local code; the message is released
    with engine.db.begin() as conn:
        version = entries.bump_version(conn, "1750803447", "document-type", "test")
        entries.upsert_entry(conn, "1750803447", "document-type", "LL-SORTIE",
                             entries.Target("urn:oid:2.16.840.1.113883.6.1", "11490-0", "LDL"), version, "test")
    assert engine.reprocess([mid]) == [mid]
    for _ in range(500):
        row = msgs.get(engine.db, mid)
        if row["status"] == "PROCESSED":
            break
        await asyncio.sleep(0.02)
    assert row["status"] == "PROCESSED"
    meta = json.loads(row["meta"])
    assert meta["typeCode"] == "11490-0" and meta["localTypeCode"] == "LL-SORTIE"


async def test_dmp_routes_reject_bad_parameters(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    c, auth = api
    h = {"Authorization": auth["dmp"]}
    r = await c.get("/dmp/indicators", params={"month": "2025-13"}, headers=h)
    assert r.status_code == 400 and r.json()["code"] == "DMP-0003"
    r = await c.post("/dmp/push/nope", params={"action": "Destruction"}, headers=h)
    assert r.status_code == 400 and r.json()["code"] == "DMP-0204"
    r = await c.post("/dmp/push/nope", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "NF-0101"
    r = await c.get("/dmp/traces", params={"limit": 0}, headers=h)
    assert r.status_code == 400 and r.json()["code"] == "DMP-0205"
    r = await c.get("/dmp/traces", headers=h)
    assert r.status_code == 200 and r.json() == {"items": [], "next_after_id": None}
    r = await c.get("/dmp/indicators", params={"month": "2025-03"}, headers=h)
    assert r.status_code == 200 and len(r.json()["indicators"]) == 6
