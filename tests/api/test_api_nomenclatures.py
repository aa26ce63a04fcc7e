"""Nomenclature routes: list, concepts, FHIR $lookup / $validate-code (OperationOutcome errors), import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from aiguillage.api.app import create_app
from aiguillage.cli import main
from aiguillage.engine import Engine
from aiguillage.nomenclatures.install import get_registry
from aiguillage.nomenclatures.systems import LOINC_URL, TRE_R211_URL
from aiguillage.store import clients


@pytest.fixture
async def api(engine: Engine) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    tokens = {
        "admin": clients.add_client(engine.db, "nom-admin", frozenset({"mappings:admin"})),
        "reader": clients.add_client(engine.db, "reader", frozenset({"ror:read"})),
    }
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_list_and_page_concepts(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, tokens = api
    assert (await client.get("/nomenclatures")).status_code == 401
    r = await client.get("/nomenclatures", headers=bearer(tokens["reader"]))
    assert r.status_code == 200
    ids = {s["id"] for s in r.json()["systems"]}
    assert {"TRE_R211-ActiviteOperationnelle", "JDV_J07-XdsTypeCode-CISIS", "LOINC"} <= ids
    r = await client.get("/nomenclatures/TRE_R211/concepts", params={"filter": "HYGIENE"},
                         headers=bearer(tokens["reader"]))
    assert r.status_code == 200 and r.json()["url"] == TRE_R211_URL
    assert {c["code"] for c in r.json()["concepts"]} >= {"063", "064"}
    r = await client.get("/nomenclatures/LOINC/concepts", params={"offset": 1, "count": 2},
                         headers=bearer(tokens["reader"]))
    assert r.json()["count"] == 2 and r.json()["offset"] == 1 and r.json()["total"] >= 3
    r = await client.get(f"/nomenclatures/{TRE_R211_URL}/concepts", headers=bearer(tokens["reader"]))
    assert r.status_code == 200 and r.json()["id"] == "TRE_R211-ActiviteOperationnelle"
    r = await client.get("/nomenclatures/NOPE/concepts", headers=bearer(tokens["reader"]))
    assert r.status_code == 404 and r.json()["code"] == "NOM-0001"
    r = await client.get("/nomenclatures/LOINC/concepts", params={"count": 99999}, headers=bearer(tokens["reader"]))
    assert r.status_code == 400 and r.json()["code"] == "NOM-0104"


async def test_fhir_lookup_and_validate_code(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, tokens = api
    h = bearer(tokens["reader"])
    r = await client.get("/fhir/CodeSystem/$lookup", params={"system": LOINC_URL, "code": "11490-0"}, headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    params = {p["name"]: p for p in r.json()["parameter"]}
    assert params["display"]["valueString"].startswith("Lettre de liaison")
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": "TRE_R211", "code": "064"}}]}
    r = await client.post("/fhir/CodeSystem/$lookup", json=body, headers=h)
    assert r.status_code == 200
    assert {p["name"]: p for p in r.json()["parameter"]}["display"]["valueString"] == "Hygiène hospitalière"
    r = await client.get("/fhir/CodeSystem/$lookup", params={"system": "TRE_R211", "code": "999"}, headers=h)
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    assert r.json()["issue"][0]["details"]["coding"][0]["code"] == "NOM-0002"
    r = await client.get("/fhir/CodeSystem/$lookup", params={"code": "1"}, headers=h)
    assert r.status_code == 400 and r.json()["issue"][0]["details"]["coding"][0]["code"] == "NOM-0103"
    r = await client.get("/fhir/CodeSystem/$lookup", params={"system": "x", "code": "1"})
    assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": TRE_R211_URL}, {"name": "code", "valueCode": "064"},
        {"name": "display", "valueString": "Autre chose"}]}
    r = await client.post("/fhir/CodeSystem/$validate-code", json=body, headers=h)
    params = {p["name"]: p for p in r.json()["parameter"]}
    assert params["result"]["valueBoolean"] is True and "issues" in params  # display mismatch warning
    r = await client.get("/fhir/CodeSystem/$validate-code", params={"url": "NOPE", "code": "1"}, headers=h)
    assert {p["name"]: p for p in r.json()["parameter"]}["result"]["valueBoolean"] is False
    r = await client.get("/fhir/ValueSet/$validate-code",
                         params={"url": "JDV_J07", "system": LOINC_URL, "code": "11490-0"}, headers=h)
    assert {p["name"]: p for p in r.json()["parameter"]}["result"]["valueBoolean"] is True
    r = await client.post("/fhir/CodeSystem/$validate-code", content=b"{not json", headers=h)
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"


async def test_import_needs_admin_and_reports_bad_files(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, tokens = api
    r = await client.post("/nomenclatures/import", content=b"{}", headers=bearer(tokens["reader"]))
    assert r.status_code == 403
    r = await client.post("/nomenclatures/import", content=b"", headers=bearer(tokens["admin"]))
    assert r.status_code == 400 and r.json()["code"] == "NOM-0103"
    r = await client.post("/nomenclatures/import", params={"filename": "x.txt"}, content=b"hello",
                          headers=bearer(tokens["admin"]))
    assert r.status_code == 422 and r.json()["issues"][0]["code"] == "NOM-0101"
    assert r.json()["issues"][0]["location"] == "x.txt"


async def test_official_files_import_over_http_then_map_to_them(
    api: tuple[httpx.AsyncClient, dict[str, str]], engine: Engine, corpus: Path
) -> None:
    client, tokens = api
    admin = bearer(tokens["admin"])
    registry = get_registry(engine)
    before = registry.get("TRE_R211")
    assert before.content == "fragment"
    for path in (corpus / "nos" / "full" / "TRE_R211_ActiviteOperationnelle.json",
                 corpus / "nos" / "svs" / "JDV_J07_XdsTypeCode_CISIS.xml"):
        r = await client.post("/nomenclatures/import", params={"filename": path.name}, content=path.read_bytes(),
                              headers=admin)
        assert r.status_code == 200, r.text
        assert r.json()["ok"] and r.json()["files"][0]["path"] == path.name
    full = registry.get("TRE_R211")
    assert full.content == "complete" and len(full.concepts) > 100  # type: ignore[union-attr]
    assert (Path(engine.settings.data_dir) / "nomenclatures").is_dir()  # persisted
    extra = next(c for c in full.concepts if c not in before.concepts)  # type: ignore[union-attr]
    r = await client.put("/mappings/entries", headers=admin, json={
        "source": "ROR-PACA", "field": "activite", "local_value": "code importé", "target_system": "TRE_R211",
        "target_code": extra})
    assert r.status_code == 200 and r.json()["target"]["code"] == extra


def test_official_files_import_through_the_cli(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                               ) -> None:
    path = corpus / "nos" / "full" / "TRE_R210_ActeSpecifique.json"
    assert main(["--data-dir", str(tmp_path), "nomenclatures", "import", "--quiet", str(path)]) == 0
    assert "TRE_R210" in capsys.readouterr().out
    assert main(["--data-dir", str(tmp_path), "nomenclatures", "list"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "TRE_R210" in ln)
    assert "imported" in line and "complete" in line
