"""HTTP API shell: auth on every route but /health, scopes, problems, messages, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from aiguillage.api.app import create_app
from aiguillage.engine import Engine
from aiguillage.store import clients
from aiguillage.store.messages import Envelope, MessageStatus


@pytest.fixture
async def api(engine: Engine) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    tokens = {
        "admin": clients.add_client(engine.db, "ops", frozenset({"admin"})),
        "reader": clients.add_client(engine.db, "viewer", frozenset({"messages:read"})),
        "intake": clients.add_client(engine.db, "gam", frozenset({"intake"})),
    }
    app = create_app(engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_health_is_open_everything_else_needs_a_token(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, tokens = api
    assert (await client.get("/health")).json() == {"status": "ok"}
    for path in ("/ready", "/metrics", "/messages"):
        r = await client.get(path)
        assert r.status_code == 401, path
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "AUTH-0001"
    r = await client.get("/messages", headers=bearer("agl_not-a-real-token"))
    assert r.status_code == 401
    r = await client.get("/messages", headers=bearer(tokens["intake"]))
    assert r.status_code == 403 and r.json()["code"] == "AUTH-0002"
    r = await client.get("/ready", headers=bearer(tokens["reader"]))
    assert r.status_code == 200 and r.json() == {"status": "ready", "store": True, "bus": True}


async def test_messages_list_show_masked_reprocess_purge(
    api: tuple[httpx.AsyncClient, dict[str, str]], engine: Engine
) -> None:
    client, tokens = api
    held = await engine.intake(Envelope(channel="mllp", content_type="application/x-none", raw=b"secret NAME"))
    other = await engine.intake(Envelope(channel="http", content_type="application/x-none", raw=b"x",
                                         status=MessageStatus.REJECTED, error_codes=("HL7-0101",)))
    r = await client.get("/messages", params={"channel": "http"}, headers=bearer(tokens["reader"]))
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["id"] for i in items] == [other.id] and items[0]["error_codes"] == ["HL7-0101"]
    r = await client.get("/messages", params={"status": "rejected,RECEIVED"}, headers=bearer(tokens["reader"]))
    assert {i["id"] for i in r.json()["items"]} >= {other.id}
    r = await client.get("/messages", params={"status": "bogus"}, headers=bearer(tokens["reader"]))
    assert r.status_code == 400 and r.json()["code"] == "INP-0101"
    r = await client.get(f"/messages/{held.id}", headers=bearer(tokens["reader"]))
    assert r.status_code == 200 and r.json()["raw"] is None and r.json()["masked"] is True
    assert "secret" not in r.text
    r = await client.get(f"/messages/{held.id}", params={"unmask": "true"}, headers=bearer(tokens["reader"]))
    assert r.status_code == 403
    r = await client.get(f"/messages/{held.id}", params={"unmask": "true"}, headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and r.json()["raw"] == "secret NAME"
    r = await client.get("/messages/nope", headers=bearer(tokens["reader"]))
    assert r.status_code == 404 and r.json()["code"] == "NF-0101"
    # the rejected one can be forced back; without force it's a conflict
    r = await client.post(f"/messages/{other.id}/reprocess", headers=bearer(tokens["admin"]))
    assert r.status_code == 409
    r = await client.post(f"/messages/{other.id}/reprocess", params={"force": "true"},
                          headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and r.json() == {"queued": [other.id]}
    r = await client.post("/messages/reprocess", json={}, headers=bearer(tokens["admin"]))
    assert r.status_code == 400 and r.json()["code"] == "INP-0102"
    r = await client.post("/messages/reprocess", json={"status": ["HELD"]}, headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and r.json()["count"] == 0
    r = await client.post("/messages/reprocess", json={"status": ["NOPE"]}, headers=bearer(tokens["admin"]))
    assert r.status_code == 422 and r.json()["issues"]
    r = await client.delete("/messages", params={"status": "HELD"}, headers=bearer(tokens["admin"]))
    assert r.status_code == 400 and r.json()["code"] == "INP-0103"
    r = await client.delete("/messages", params={"older_than_days": 1}, headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and r.json()["deleted"] == 0


async def test_metrics_expose_store_counts(api: tuple[httpx.AsyncClient, dict[str, str]], engine: Engine) -> None:
    client, tokens = api
    await engine.intake(Envelope(channel="mllp", content_type="application/x-none", raw=b"1"))
    r = await client.get("/metrics", headers=bearer(tokens["reader"]))
    assert r.status_code == 200
    text = r.text
    assert 'aiguillage_messages{channel="mllp"' in text
    assert "aiguillage_outbox_backlog" in text and "aiguillage_processing_seconds" in text


async def test_unknown_route_and_method_give_problems(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, tokens = api
    r = await client.get("/nope", headers=bearer(tokens["admin"]))
    assert r.status_code == 404 and r.json()["code"] == "NF-0000"
    r = await client.put("/health")
    assert r.status_code == 405
