"""The contract end to end: unknown local code -> HELD + unmapped queue (asked once, with suggestions);
saving the mapping over HTTP releases every message it held; they end PROCESSED; the audit shows it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from aiguillage.api.app import create_app
from aiguillage.engine import Engine
from aiguillage.nomenclatures.systems import LOINC_URL, TRE_R211_URL
from aiguillage.store import clients
from aiguillage.store.messages import Envelope, MessageStatus
from tests.mappings.helpers import LOCAL_CODES, local_codes_handler, wait_status


@pytest.fixture
async def api(engine: Engine) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    engine.handlers.register(LOCAL_CODES, local_codes_handler)
    tokens = {
        "admin": clients.add_client(engine.db, "dim-admin", frozenset({"mappings:admin"})),
        "reader": clients.add_client(engine.db, "viewer", frozenset({"messages:read"})),
    }
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _send(engine: Engine, body: dict[str, str]) -> str:
    stored = await engine.intake(Envelope(channel="http", source=body["source"], content_type=LOCAL_CODES,
                                          raw=json.dumps(body).encode()))
    return stored.id


async def test_unknown_code_is_held_asked_once_and_released_by_saving(
    api: tuple[httpx.AsyncClient, dict[str, str]], engine: Engine
) -> None:
    client, tokens = api
    admin = bearer(tokens["admin"])
    m1 = await _send(engine, {"source": "CHU-X", "document_type": "Lettre liaison sortie"})
    held1 = await wait_status(engine, m1, MessageStatus.HELD)
    assert held1["error_codes"] == "MAP-0001" and "Lettre liaison sortie" in held1["error_text"]
    m2 = await _send(engine, {"source": "CHU-X", "document_type": "LETTRE  liaison sortie "})
    await wait_status(engine, m2, MessageStatus.HELD)
    m3 = await _send(engine, {"source": "CHU-X", "document_type": "Lettre liaison sortie", "activite": "Hyg. hosp."})
    held3 = await wait_status(engine, m3, MessageStatus.HELD)
    assert "2 unmapped" in held3["error_text"] and "Hyg. hosp." in held3["error_text"]

    r = await client.get("/mappings/unmapped", headers=bearer(tokens["reader"]))
    assert r.status_code == 403 and r.json()["code"] == "AUTH-0002"
    r = await client.get("/mappings/unmapped", params={"source": "CHU-X"}, headers=admin)
    assert r.status_code == 200, r.text
    queue = {i["field"]: i for i in r.json()["items"]}
    assert r.json()["total"] == 2
    doc = queue["document-type"]
    assert doc["count"] == 3 and doc["held"] == 3 and doc["example_message_id"] == m1  # asked once
    assert doc["suggestions"][0]["code"] == "11490-0" and 0 < doc["suggestions"][0]["score"] <= 100
    act = queue["activite"]
    assert act["count"] == 1 and act["suggestions"][0]["code"] == "064"  # "Hyg. hosp." ~ "Hygiène hospitalière"

    # a bad target is refused, naming the field; nothing is released
    r = await client.put("/mappings/entries", headers=admin, json={
        "source": "CHU-X", "field": "document-type", "local_value": "lettre liaison sortie",
        "target_system": "JDV_J07", "target_code": "00000-0"})
    assert r.status_code == 422 and r.json()["code"] == "MAP-0101"
    assert [(i["code"], i["location"]) for i in r.json()["issues"]] == [("NOM-0002", "target_code")]

    r = await client.put("/mappings/entries", headers=admin, json={
        "source": "CHU-X", "field": "document-type", "local_value": "lettre liaison sortie",
        "target_system": "LOINC", "target_code": "11490-0", "expected_version": 0})
    assert r.status_code == 200, r.text
    assert r.json()["released"] == 3 and r.json()["action"] == "created" and r.json()["version"] == 1
    for mid in (m1, m2):
        done = await wait_status(engine, mid, MessageStatus.PROCESSED)
        assert json.loads(done["meta"])["document_type"] == [LOINC_URL, "11490-0"]
    # m3 is held again: its activity is still unmapped
    held3 = await wait_status(engine, m3, MessageStatus.HELD)
    assert "1 unmapped" in held3["error_text"] and "Hyg. hosp." in held3["error_text"]

    r = await client.put("/mappings/entries", headers=admin, json={
        "source": "CHU-X", "field": "activite", "local_value": "Hyg. hosp.",
        "target_system": "TRE_R211", "target_code": "064", "expected_version": 5})
    assert r.status_code == 409 and r.json()["code"] == "MAP-0301"
    r = await client.put("/mappings/entries", headers=admin, json={
        "source": "CHU-X", "field": "activite", "local_value": "Hyg. hosp.",
        "target_system": "TRE_R211", "target_code": "064"})
    assert r.status_code == 200 and r.json()["released"] == 1
    done = await wait_status(engine, m3, MessageStatus.PROCESSED)
    assert json.loads(done["meta"])["activite"] == [TRE_R211_URL, "064"]

    r = await client.get("/mappings/unmapped", headers=admin)
    assert r.json()["total"] == 0
    # later messages are translated by themselves
    m4 = await _send(engine, {"source": "CHU-X", "document_type": "lettre liaison SORTIE"})
    await wait_status(engine, m4, MessageStatus.PROCESSED)

    r = await client.get("/mappings/history", params={"source": "CHU-X"}, headers=admin)
    items = r.json()["items"]
    assert [(i["field"], i["action"], i["actor"], i["released"]) for i in items] == [
        ("activite", "create", "dim-admin", 1), ("document-type", "create", "dim-admin", 3)]
    assert items[1]["old"] is None and items[1]["new"]["code"] == "11490-0"

    r = await client.get("/mappings/tables", headers=admin)
    tables = {(t["source"], t["field"]): t for t in r.json()["tables"]}
    assert tables[("CHU-X", "document-type")]["entries"] == 1 and tables[("CHU-X", "document-type")]["version"] == 1
    r = await client.get("/mappings/tables/CHU-X/document-type", headers=admin)
    assert r.json()["entries"][0]["local_value"] == "lettre liaison sortie"

    # change then delete: audited old -> new
    r = await client.put("/mappings/entries", headers=admin, json={
        "source": "CHU-X", "field": "document-type", "local_value": "Lettre liaison sortie",
        "target_system": "LOINC", "target_code": "34874-8"})
    assert r.json()["action"] == "updated" and r.json()["version"] == 2
    key = {"source": "CHU-X", "field": "document-type", "local_value": "LETTRE liaison sortie"}
    r = await client.delete("/mappings/entries", headers=admin, params=key)
    assert r.status_code == 200 and r.json()["version"] == 3
    r = await client.delete("/mappings/entries", headers=admin,
                            params={"source": "CHU-X", "field": "document-type", "local_value": "nope"})
    assert r.status_code == 404 and r.json()["code"] == "MAP-0202"
    r = await client.get("/mappings/history", params={"source": "CHU-X", "field": "document-type"}, headers=admin)
    changes = [(i["action"], (i["old"] or {}).get("code"), (i["new"] or {}).get("code")) for i in r.json()["items"]]
    assert changes == [("delete", "34874-8", None), ("update", "11490-0", "34874-8"), ("create", None, "11490-0")]


async def test_table_settings_csv_endpoints_and_problems(
    api: tuple[httpx.AsyncClient, dict[str, str]], engine: Engine
) -> None:
    client, tokens = api
    admin = bearer(tokens["admin"])
    r = await client.put("/mappings/tables/ROR-PACA/activite", headers=admin, json={"target_system": "nope"})
    assert r.status_code == 422 and r.json()["issues"][0]["code"] == "NOM-0001"
    r = await client.put("/mappings/tables/ROR-PACA/activite", headers=admin, json={"target_system": "TRE_R211"})
    assert r.status_code == 200 and r.json()["target_system"] == TRE_R211_URL
    csv_text = ("source,field,local_value,target_system,target_code,target_display\n"
                "ROR-PACA,activite,Hygiène hospitalière,TRE_R211,064,\n"
                "ROR-PACA,activite,Autre,TRE_R211,999,\n")
    r = await client.post("/mappings/import", headers=admin, content=csv_text.encode())
    assert r.status_code == 422 and r.json()["code"] == "MAP-0103"
    assert [(i["code"], i["location"]) for i in r.json()["issues"]] == [("NOM-0002", "line 3: target_code")]
    r = await client.post("/mappings/import", headers=admin, params={"partial": "true"}, content=csv_text.encode())
    assert r.status_code == 200 and (r.json()["created"], r.json()["rejected"]) == (1, 1)
    r = await client.get("/mappings/export", headers=admin, params={"source": "ROR-PACA"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[1].startswith("ROR-PACA,activite,Hygiène hospitalière,https://mos.esante.gouv.fr/")
    r = await client.get("/mappings/tables/NOPE/x", headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "MAP-0201"
    r = await client.get("/mappings/unmapped", headers=admin, params={"count": 5000})
    assert r.status_code == 400 and r.json()["code"] == "MAP-0105"
    r = await client.get("/mappings/history", headers=admin, params={"source": "ROR-PACA"})
    assert [i["action"] for i in r.json()["items"]] == ["create", "settings"]
