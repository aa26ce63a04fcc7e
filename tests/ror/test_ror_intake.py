"""ROR intake over /fhir: corpus round trip, validation issues, versions, patch, transaction/batch."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx

from aiguillage.engine import Engine
from aiguillage.fhir.ror import REGION_SYSTEM
from aiguillage.store import messages as msgs
from aiguillage.store.messages import MessageFilter
from tests.ror.builders import dataset, hs, org

Api = tuple[httpx.AsyncClient, dict[str, dict[str, str]]]
LENIENT = {"Prefer": "handling=lenient"}


def strip_meta(r: dict[str, Any]) -> dict[str, Any]:
    r = copy.deepcopy(r)
    r.get("meta", {}).pop("versionId", None)
    r.get("meta", {}).pop("lastUpdated", None)
    return r


async def test_corpus_examples_round_trip_by_read_and_search(fhir: Api, corpus: Path) -> None:
    client, h = fhir
    hs_ex = json.loads((corpus / "ror/examples/HealthcareService-1234564.json").read_text())
    loc_ex = json.loads((corpus / "ror/examples/Location-ror-location-exemple.json").read_text())
    # the IG example has no careMode characteristic: strict intake refuses it, with the expression
    r = await client.put("/fhir/HealthcareService/1234564", json=hs_ex, headers=h["write"])
    assert r.status_code == 422, r.text
    exprs = [e for i in r.json()["issue"] for e in i.get("expression", [])]
    assert exprs == ["HealthcareService.characteristic"]
    r = await client.put("/fhir/HealthcareService/1234564", json=hs_ex, headers={**h["write"], **LENIENT})
    assert r.status_code == 201, r.text
    # the Location example has no region tag: taken from the header, and written into meta.tag
    r = await client.put("/fhir/Location/ror-location-exemple", json=loc_ex,
                         headers={**h["write"], "X-ROR-Region": "11"})
    assert r.status_code == 201, r.text
    expected_loc = copy.deepcopy(loc_ex)
    expected_loc["meta"]["tag"] = [{"system": REGION_SYSTEM, "code": "11"}]
    for rtype, rid, expected in (("HealthcareService", "1234564", hs_ex), ("Location", "ror-location-exemple",
                                                                          expected_loc)):
        got = (await client.get(f"/fhir/{rtype}/{rid}", headers=h["read"])).json()
        assert strip_meta(got) == strip_meta(expected)
        assert got["meta"]["versionId"] == "1"
        bundle = (await client.get(f"/fhir/{rtype}", params={"_id": rid}, headers=h["read"])).json()
        assert bundle["total"] == 1
        assert strip_meta(bundle["entry"][0]["resource"]) == strip_meta(expected)
    r = await client.get("/fhir/HealthcareService", params={"_tag": f"{REGION_SYSTEM}|06", "name": "5812 chirurgie"},
                         headers=h["read"])
    assert [e["resource"]["id"] for e in r.json()["entry"]] == ["1234564"]


async def test_validation_returns_every_issue_with_expressions(fhir: Api, engine: Engine) -> None:
    client, h = fhir
    bad = hs("bad", "x", "999", "28", "o", "l")
    bad["specialty"].append(copy.deepcopy(bad["specialty"][0]))  # operationalActivity twice
    bad["characteristic"] = [{"coding": [{"system": bad["characteristic"][0]["coding"][0]["system"], "code": "77"}]},
                             {"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_R210-ActeSpecifique/FHIR/"
                                                    "TRE-R210-ActeSpecifique", "code": "0909"}]}]
    bad["type"] = [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_R227-ChampActivite/FHIR/"
                                          "TRE-R227-ChampActivite", "code": "99"}]}]
    bad["telecom"] = [{"system": "email", "value": "eoh@gmail.com"}]
    bad["active"] = "maybe"
    r = await client.post("/fhir/HealthcareService", json=bad, headers=h["write"])
    assert r.status_code in (400, 422)
    issues = r.json()["issue"]
    by_expr = {e: i for i in issues for e in i.get("expression", [])}
    assert "HealthcareService.active" in by_expr  # R4B structure
    assert "HealthcareService.specialty" in by_expr  # 1..1 slice
    assert "HealthcareService.characteristic[0].coding[0].code" in by_expr  # unknown code in complete TRE_R213
    assert "HealthcareService.characteristic[1].extension" in by_expr  # specificAct without ror-act-type
    assert "HealthcareService.type[0].coding[0].code" in by_expr
    assert "HealthcareService.telecom[0].value" in by_expr  # not an MSSanté mailbox
    assert by_expr["HealthcareService.specialty[0].coding[0].code"]["severity"] == "warning"  # curated subset
    # nothing was stored but the payload is kept as a REJECTED message
    assert (await client.get("/fhir/HealthcareService", headers=h["read"])).json()["total"] == 0
    rows = msgs.list_messages(engine.db, MessageFilter(["REJECTED"], "fhir"), 10, None)
    assert len(rows) == 1 and "FHIR-0004" in rows[0]["error_codes"]
    # region missing or contradictory
    o = org("o1", "Org")
    o["meta"] = {}
    r = await client.post("/fhir/Organization", json=o, headers=h["write"])
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Organization.meta.tag"]
    r = await client.post("/fhir/Organization", json=org("o1", "Org", region="24"),
                          headers={**h["write"], "X-ROR-Region": "11"})
    assert r.status_code == 400
    r = await client.post("/fhir/Organization", content=b"{nope", headers=h["write"])
    assert r.status_code == 400 and r.json()["issue"][0]["details"]["coding"][0]["code"] == "FHIR-0001"
    r = await client.post("/fhir/Organization", json=org("o1", "Org"), headers=h["read"])
    assert r.status_code == 403


async def test_versions_history_conditional_update_delete(fhir: Api) -> None:
    client, h = fhir
    r = await client.post("/fhir/Organization", json=org("ignored", "Clinique A"), headers=h["write"])
    assert r.status_code == 201
    oid = r.json()["id"]
    assert oid != "ignored" and r.headers["etag"] == 'W/"1"'
    assert r.headers["location"].endswith(f"/fhir/Organization/{oid}/_history/1")
    body = r.json()
    body["name"] = "Clinique B"
    r = await client.put(f"/fhir/Organization/{oid}", json=body, headers={**h["write"], "If-Match": 'W/"1"'})
    assert r.status_code == 200 and r.json()["meta"]["versionId"] == "2"
    r = await client.put(f"/fhir/Organization/{oid}", json=body, headers={**h["write"], "If-Match": 'W/"1"'})
    assert r.status_code == 409
    assert (await client.get(f"/fhir/Organization/{oid}/_history/1", headers=h["read"])).json()["name"] == "Clinique A"
    hist = (await client.get(f"/fhir/Organization/{oid}/_history", headers=h["read"])).json()
    assert [e["resource"]["name"] for e in hist["entry"]] == ["Clinique B", "Clinique A"]
    # conditional update by identifier: updates the match, creates when none
    upd = org("whatever", "Clinique C")
    r = await client.put("/fhir/Organization", params={"identifier": "urn:oid:1.2.250.1.71.4.2.2|Fignored"},
                         json={**upd, "id": oid}, headers=h["write"])
    assert r.status_code == 200 and r.json()["id"] == oid and r.json()["meta"]["versionId"] == "3"
    new = org("n1", "Nouvelle")
    r = await client.put("/fhir/Organization", params={"identifier": "urn:oid:1.2.250.1.71.4.2.2|Fn1"},
                         json=new, headers=h["write"])
    assert r.status_code == 201 and r.json()["id"] == "n1"
    assert (await client.delete(f"/fhir/Organization/{oid}", headers=h["write"])).status_code == 204
    assert (await client.get(f"/fhir/Organization/{oid}", headers=h["read"])).status_code == 410
    r = await client.get("/fhir/Organization", params={"name": "clinique"}, headers=h["read"])
    assert r.json()["total"] == 0
    assert (await client.get("/fhir/Organization/nope", headers=h["read"])).status_code == 404


async def test_json_patch_and_fhirpath_patch(fhir: Api) -> None:
    client, h = fhir
    await client.put("/fhir/Organization/p1", json=org("p1", "Avant"), headers=h["write"])
    r = await client.patch("/fhir/Organization/p1", content=json.dumps([
        {"op": "test", "path": "/name", "value": "Avant"},
        {"op": "replace", "path": "/name", "value": "Après"},
        {"op": "add", "path": "/alias", "value": ["CHA"]},
    ]), headers={**h["write"], "Content-Type": "application/json-patch+json"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Après" and r.json()["alias"] == ["CHA"] and r.json()["meta"]["versionId"] == "2"
    r = await client.patch("/fhir/Organization/p1", content=json.dumps([{"op": "test", "path": "/name", "value": "x"}]),
                           headers={**h["write"], "Content-Type": "application/json-patch+json"})
    assert r.status_code == 422
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "operation", "part": [{"name": "type", "valueCode": "replace"},
                                       {"name": "path", "valueString": "Organization.name"},
                                       {"name": "value", "valueString": "Hôpital Patché"}]},
        {"name": "operation", "part": [{"name": "type", "valueCode": "delete"},
                                       {"name": "path", "valueString": "Organization.alias[0]"}]},
        {"name": "operation", "part": [{"name": "type", "valueCode": "add"},
                                       {"name": "path", "valueString": "Organization"},
                                       {"name": "name", "valueString": "partOf"},
                                       {"name": "value", "valueReference": {"reference": "Organization/ej9"}}]},
    ]}
    r = await client.patch("/fhir/Organization/p1", json=params,
                           headers={**h["write"], "Content-Type": "application/fhir+json"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["name"] == "Hôpital Patché" and "alias" not in got and got["partOf"] == {"reference": "Organization/ej9"}
    r = await client.get("/fhir/Organization", params={"partof": "Organization/ej9", "name": "hopital patche"},
                         headers=h["read"])
    assert [e["resource"]["id"] for e in r.json()["entry"]] == ["p1"]


async def test_transaction_resolves_urn_uuid_and_is_all_or_nothing(fhir: Api) -> None:
    client, h = fhir
    o = org("x", "EJ urn")
    del o["id"]
    s = hs("x", "Service urn", "063", "28", "placeholder", "l-x")
    del s["id"]
    s["providedBy"] = {"reference": "urn:uuid:5b1c0000-0000-4000-8000-000000000001"}
    tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:5b1c0000-0000-4000-8000-000000000001", "resource": o,
         "request": {"method": "POST", "url": "Organization"}},
        {"fullUrl": "urn:uuid:5b1c0000-0000-4000-8000-000000000002", "resource": s,
         "request": {"method": "POST", "url": "HealthcareService"}},
    ]}
    r = await client.post("/fhir", json=tx, headers=h["write"])
    assert r.status_code == 200, r.text
    locs = [e["response"]["location"] for e in r.json()["entry"]]
    assert [x.split("/")[0] for x in locs] == ["Organization", "HealthcareService"]
    org_id = locs[0].split("/")[1]
    got = (await client.get(f"/fhir/{locs[1].rsplit('/_history', 1)[0]}", headers=h["read"])).json()
    assert got["providedBy"]["reference"] == f"Organization/{org_id}"
    # one bad entry: nothing from the bundle is written, issues point into the bundle
    bad = copy.deepcopy(tx)
    bad["entry"][1]["resource"]["characteristic"] = []
    bad["entry"][0]["resource"]["name"] = "EJ qui ne doit pas exister"
    r = await client.post("/fhir", json=bad, headers=h["write"])
    assert r.status_code == 400
    assert any(e.startswith("Bundle.entry[1].resource.characteristic") for i in r.json()["issue"]
               for e in i.get("expression", []))
    r = await client.get("/fhir/Organization", params={"name:contains": "doit pas"}, headers=h["read"])
    assert r.json()["total"] == 0
    # batch: each entry on its own
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": org("b1", "Batch ok"), "request": {"method": "PUT", "url": "Organization/b1"}},
        {"resource": {"resourceType": "Organization", "id": "b2"}, "request": {"method": "PUT",
                                                                               "url": "Organization/b2"}},
    ]}
    r = await client.post("/fhir", json=batch, headers=h["write"])
    statuses = [e["response"]["status"] for e in r.json()["entry"]]
    assert statuses[0] == "201 Created" and statuses[1] == "422"
    assert (await client.get("/fhir/Organization/b1", headers=h["read"])).status_code == 200


async def test_dataset_loads_as_one_transaction(fhir: Api) -> None:
    client, h = fhir
    tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in dataset()]}
    r = await client.post("/fhir", json=tx, headers=h["write"])
    assert r.status_code == 200, r.text
    assert all(e["response"]["status"] == "201 Created" for e in r.json()["entry"])
    assert len(r.json()["entry"]) == len(dataset())
