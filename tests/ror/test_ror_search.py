"""FHIR search on a dataset with known answers: tokens, strings, chains, near, includes, paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from aiguillage.engine import Engine
from aiguillage.fhir.ror import REGION_SYSTEM
from aiguillage.nomenclatures import systems as S
from tests.ror.builders import dataset, hs

Api = tuple[httpx.AsyncClient, dict[str, dict[str, str]]]
R211 = S.TRE_R211_URL


@pytest.fixture
async def loaded(fhir: Api, engine: Engine) -> AsyncIterator[Api]:
    engine.services["ror"].load(dataset())
    yield fhir


async def ids(client: httpx.AsyncClient, h: dict[str, str], rtype: str, params: Any) -> list[str]:
    r = await client.get(f"/fhir/{rtype}", params=params, headers=h)
    assert r.status_code == 200, r.text
    return sorted(e["resource"]["id"] for e in r.json().get("entry", []) if e["search"]["mode"] == "match")


async def test_token_string_reference_and_date_parameters(loaded: Api) -> None:
    client, h = loaded
    rd = h["read"]
    hs_ids = ["hs1", "hs2", "hs3", "hs4", "hs5"]
    assert await ids(client, rd, "HealthcareService", {"specialty": f"{R211}|063"}) == ["hs1", "hs2", "hs3"]
    assert await ids(client, rd, "HealthcareService", {"specialty": "063,064"}) == ["hs1", "hs2", "hs3", "hs5"]
    assert await ids(client, rd, "HealthcareService", {"specialty": "http://wrong|063"}) == []
    both = [("specialty", "063"), ("characteristic", "28")]
    assert await ids(client, rd, "HealthcareService", both) == ["hs1", "hs3"]
    assert await ids(client, rd, "HealthcareService", {"characteristic": f"{S.TRE_R210_URL}|"}) == ["hs1", "hs3"]
    assert await ids(client, rd, "HealthcareService", {"service-type": "01"}) == hs_ids
    assert await ids(client, rd, "HealthcareService", {"identifier": "urn:ror:offre|24/hs2"}) == ["hs2"]
    # strings: accent/case-insensitive starts-with; :contains; :exact
    assert await ids(client, rd, "HealthcareService", {"name": "HYGIENE"}) == ["hs2"]
    assert await ids(client, rd, "HealthcareService", {"name:contains": "hygiène"}) == ["hs1", "hs2"]
    assert await ids(client, rd, "HealthcareService", {"name:exact": "EOH Orléans"}) == ["hs3"]
    assert await ids(client, rd, "HealthcareService", {"name:exact": "eoh orléans"}) == []
    assert await ids(client, rd, "HealthcareService", {"organization": "Organization/et1"}) == ["hs1", "hs4"]
    assert await ids(client, rd, "HealthcareService", {"location": "l-blois"}) == ["hs5"]
    assert await ids(client, rd, "HealthcareService", {"_tag": f"{REGION_SYSTEM}|24"}) == hs_ids
    assert await ids(client, rd, "HealthcareService", {"_lastUpdated": "ge2020-01-01"}) == hs_ids
    assert await ids(client, rd, "HealthcareService", {"_lastUpdated": "lt2020-01-01"}) == []
    assert await ids(client, rd, "Organization", {"partof": "ej1"}) == ["et1", "et2"]
    assert await ids(client, rd, "Location", {"capacity-status": "02"}) == ["l-orleans", "l-tours1"]
    assert await ids(client, rd, "Location", {"nb-capacity": "ge10"}) == ["l-orleans", "l-tours1", "l-tours2"]
    assert await ids(client, rd, "PractitionerRole", {"service": "HealthcareService/hs3"}) == ["pr2"]


async def test_chained_and_near_parameters(loaded: Api) -> None:
    client, h = loaded
    rd = h["read"]
    assert await ids(client, rd, "HealthcareService", {"location.address-city": "tours"}) == ["hs1", "hs2", "hs4"]
    assert await ids(client, rd, "HealthcareService", {"location.address-postalcode": "37170"}) == ["hs2"]
    assert await ids(client, rd, "HealthcareService", [("location.commune-cog", "37261"),
                                                       ("specialty", "063")]) == ["hs1", "hs2"]
    assert await ids(client, rd, "HealthcareService", {"location.capacity-status": f"{S.TRE_R330_URL}|02"}) == [
        "hs1", "hs3", "hs4"]
    assert await ids(client, rd, "HealthcareService", {"organization.identifier": "Fet3"}) == ["hs3"]
    # Tours centre: both Tours sites are within 20 km, Blois (~55 km) and Orléans (~105 km) are not
    near = "47.39|0.69|20|km"
    assert await ids(client, rd, "Location", {"near": near}) == ["l-tours1", "l-tours2"]
    assert await ids(client, rd, "HealthcareService", {"location.near": near}) == ["hs1", "hs2", "hs4"]
    assert await ids(client, rd, "HealthcareService", {"location.near": "47.39|0.69|60"}) == [
        "hs1", "hs2", "hs4", "hs5"]
    assert await ids(client, rd, "HealthcareService", {"location.near": "47.39|0.69|2000|m"}) == ["hs1", "hs4"]


async def test_canonical_ror_query_with_includes(loaded: Api) -> None:
    client, h = loaded
    params = [("specialty", f"{R211}|063"), ("_include", "HealthcareService:organization"),
              ("_include:iterate", "Organization:partof"), ("_include", "HealthcareService:location"),
              ("_revinclude", "PractitionerRole:service")]
    r = await client.get("/fhir/HealthcareService", params=params, headers=h["read"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    b = r.json()
    assert b["type"] == "searchset" and b["total"] == 3
    match = sorted(e["resource"]["id"] for e in b["entry"] if e["search"]["mode"] == "match")
    inc = sorted(f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in b["entry"]
                 if e["search"]["mode"] == "include")
    assert match == ["hs1", "hs2", "hs3"]
    assert inc == sorted(["Organization/et1", "Organization/et2", "Organization/et3", "Organization/ej1",
                          "Organization/ej2", "Location/l-tours1", "Location/l-tours2", "Location/l-orleans",
                          "PractitionerRole/pr1", "PractitionerRole/pr2"])
    assert all(e["fullUrl"].startswith("http://test/fhir/") for e in b["entry"])
    # without :iterate the parents are not followed
    r = await client.get("/fhir/HealthcareService", params=[("specialty", "063"),
                                                            ("_include", "HealthcareService:organization")],
                         headers=h["read"])
    inc = {e["resource"]["id"] for e in r.json()["entry"] if e["search"]["mode"] == "include"}
    assert inc == {"et1", "et2", "et3"}


async def test_paging_is_stable_and_controls(loaded: Api, engine: Engine) -> None:
    client, h = loaded
    seen: list[str] = []
    url: str | None = "/fhir/HealthcareService?_count=2"
    pages = 0
    while url:
        r = await client.get(url, headers=h["read"])
        b = r.json()
        seen += [e["resource"]["id"] for e in b.get("entry", [])]
        nxt = [lk["url"] for lk in b["link"] if lk["relation"] == "next"]
        if pages == 0:
            assert b["total"] == 5
            # a resource created while paging lands after the cursor: no duplicates, no skips
            engine.services["ror"].load([hs("hs0", "Nouveau", "063", "28", "et1", "l-tours1")])
        url = None
        if nxt:
            parts = urlsplit(nxt[0])
            assert dict(parse_qsl(parts.query))["_count"] == "2"
            url = f"{parts.path}?{parts.query}"
        pages += 1
    assert seen == ["hs1", "hs2", "hs3", "hs4", "hs5", "hs0"] and pages == 3
    r = await client.get("/fhir/HealthcareService", params={"_sort": "-_id", "_count": "2"}, headers=h["read"])
    assert [e["resource"]["id"] for e in r.json()["entry"]] == ["hs5", "hs4"]
    r = await client.get("/fhir/HealthcareService", params={"_summary": "count", "specialty": "063"}, headers=h["read"])
    assert r.json()["total"] == 4 and r.json().get("entry", []) == []
    r = await client.get("/fhir/HealthcareService", params={"_cursor": "garbage"}, headers=h["read"])
    assert r.status_code == 400


async def test_sort_by_name_is_accent_and_case_insensitive_and_pages(loaded: Api) -> None:
    client, h = loaded

    async def walk(sort: str) -> list[str]:
        ids: list[str] = []
        url: str | None = f"/fhir/HealthcareService?_sort={sort}&_count=2"
        while url:
            b = (await client.get(url, headers=h["read"])).json()
            ids += [e["resource"]["id"] for e in b.get("entry", []) if e["search"]["mode"] == "match"]
            nxt = [lk["url"] for lk in b["link"] if lk["relation"] == "next"]
            url = None
            if nxt:
                parts = urlsplit(nxt[0])
                url = f"{parts.path}?{parts.query}"
        return ids

    # Antibiothérapie, Chirurgie, EOH, Équipe (É folds to e), Hygiène
    assert await walk("name") == ["hs5", "hs4", "hs3", "hs1", "hs2"]
    assert await walk("-name") == ["hs2", "hs1", "hs3", "hs4", "hs5"]


async def test_unknown_parameters_and_bad_values(loaded: Api) -> None:
    client, h = loaded
    r = await client.get("/fhir/HealthcareService", params={"colour": "blue"}, headers=h["read"])
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    assert r.json()["issue"][0]["details"]["coding"][0]["code"] == "FHIR-0201"
    r = await client.get("/fhir/HealthcareService", params={"colour": "blue", "specialty": "022"},
                         headers={**h["read"], "Prefer": "handling=lenient"})
    b = r.json()
    assert r.status_code == 200 and [e["resource"]["id"] for e in b["entry"] if e["search"]["mode"] == "match"] == [
        "hs4"]
    assert [e["resource"]["resourceType"] for e in b["entry"] if e["search"]["mode"] == "outcome"] == [
        "OperationOutcome"]
    for params in ({"_lastUpdated": "ge2024-13-01"}, {"location.near": "91|0"}, {"name:fuzzy": "x"},
                   {"_include": "HealthcareService:nothing"}, {"_sort": "address"}):
        r = await client.get("/fhir/HealthcareService", params=params, headers=h["read"])
        assert r.status_code == 400, params
    assert (await client.get("/fhir/Patient", headers=h["read"])).status_code == 404
    assert (await client.get("/fhir/HealthcareService")).status_code == 401


async def test_export_and_metadata(loaded: Api, engine: Engine) -> None:
    client, h = loaded
    r = await client.get("/fhir/$export", params={"_type": "Organization,Location", "region": "24"},
                         headers=h["read"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+ndjson")
    lines = [line for line in r.text.splitlines() if line]
    assert len(lines) == 9
    engine.services["ror"].load([hs("hs9", "Delta", "064", "28", "ej1", "l-blois", region="11")])
    r = await client.get("/fhir/$export", params={"_type": "HealthcareService", "region": "11"}, headers=h["read"])
    assert [line for line in r.text.splitlines() if line and '"hs9"' in line] and len(r.text.splitlines()) == 1
    meta = (await client.get("/fhir/metadata")).json()
    assert meta["resourceType"] == "CapabilityStatement" and meta["fhirVersion"] == "4.0.1"
    hsr = next(x for x in meta["rest"][0]["resource"] if x["type"] == "HealthcareService")
    names = {p["name"] for p in hsr["searchParam"]}
    assert {"specialty", "location.near", "location.commune-cog", "organization.identifier", "_lastUpdated"} <= names
    assert "PractitionerRole:service" in hsr["searchRevInclude"]
