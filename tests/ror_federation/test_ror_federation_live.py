"""Federated search against real peers: aiguillage instances on loopback with their own regional data,
plus a slow peer, a dead one (nothing listening), one answering HTTP 500 and one sending invalid JSON.

Topology: L (region 24, the instance under test) federates to [A (11), slow (93), B (84), dead (44),
garbage (76), error (53)] with a 1 s timeout; A federates back to L (a loop on purpose).
Identifiers: A's offer 0 shares its identifier with L's offer 0, B's offer 0 with A's offer 1.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from aiguillage.ror.fedmerge import EXT_SOURCE_REGION
from aiguillage.testing import free_port
from tests.ror_federation.live import (
    FAKE_TOKEN,
    FakePeers,
    Instance,
    create_token,
    load,
    peers_file,
    regional,
    start,
    stop,
    wait_ready,
)

TIMEOUT_S = 1.0
HS = "/fhir/HealthcareService"


@dataclass
class World:
    local: Instance
    a: Instance
    b: Instance
    fake: FakePeers
    dead_port: int


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("federation")
    fake = FakePeers(slow_s=TIMEOUT_S + 2.0).start()
    local = Instance("L", "24", free_port(), tmp / "L")
    a = Instance("A", "11", free_port(), tmp / "A")
    b = Instance("B", "84", free_port(), tmp / "B")
    dead_port = free_port()
    try:
        for inst in (local, a, b):
            inst.token = create_token(inst)
        start(b, None)
        start(local, peers_file(tmp / "L-peers.json", [
            {"region": "11", "name": "A", "base_url": a.fhir, "token": a.token},
            {"region": "93", "name": "slow", "base_url": fake.base("slow"), "token": FAKE_TOKEN},
            {"region": "84", "name": "B", "base_url": b.fhir, "token": b.token},
            {"region": "44", "name": "dead", "base_url": f"http://127.0.0.1:{dead_port}/fhir", "token": "x"},
            {"region": "76", "name": "garbage", "base_url": fake.base("garbage"), "token": FAKE_TOKEN},
            {"region": "53", "name": "error", "base_url": fake.base("error"), "token": FAKE_TOKEN},
        ], local_region="24", timeout_s=TIMEOUT_S, cursor_ttl_s=120))
        start(a, peers_file(tmp / "A-peers.json", [{"region": "24", "name": "L", "base_url": local.fhir,
                                                     "token": local.token}], local_region="11", timeout_s=TIMEOUT_S))
        wait_ready([local, a, b])
        load(local, regional("24", "l", 5))
        load(a, regional("11", "a", 5, shared={0: "24/l-hs0"}))
        load(b, regional("84", "b", 5, shared={0: "11/a-hs1"}))
        yield World(local, a, b, fake, dead_port)
    finally:
        stop([local, a, b])
        fake.stop()


def get(inst: Instance, params: Any, headers: dict[str, str] | None = None, path: str = HS) -> httpx.Response:
    return httpx.get(inst.url + path, params=params, headers={**inst.headers, **(headers or {})}, timeout=30.0)


def region(entry: dict[str, Any]) -> str | None:
    for ext in entry.get("search", {}).get("extension", []):
        if ext["url"] == EXT_SOURCE_REGION:
            return str(ext["valueCode"])
    return None


def by_mode(bundle: dict[str, Any], mode: str) -> list[dict[str, Any]]:
    return [e for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def issues(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for e in by_mode(bundle, "outcome") for i in e["resource"]["issue"]]


def ident(entry: dict[str, Any]) -> str:
    i = entry["resource"]["identifier"][0]
    return f"{i['system']}|{i['value']}"


def test_federated_search_merges_dedupes_and_warns_within_the_timeout(world: World) -> None:
    t0 = time.perf_counter()
    r = get(world.local, {"_federate": "true", "_count": "100"})
    elapsed = time.perf_counter() - t0
    assert r.status_code == 200, r.text
    assert elapsed < TIMEOUT_S + 1.0, f"federated search took {elapsed:.2f} s"
    body = r.json()
    matches = by_mode(body, "match")
    assert body["total"] == len(matches) == 13  # 5 local + 4 from A + 4 from B
    assert Counter(region(e) for e in matches) == {"24": 5, "11": 4, "84": 4}
    assert len({ident(e) for e in matches}) == 13
    # shared L/A identifier: the local copy wins; shared A/B identifier: the first peer (A) wins
    (lb,) = [e for e in matches if ident(e) == "urn:ror:offre|24/l-hs0"]
    assert region(lb) == "24" and lb["resource"]["id"] == "l-hs0" and lb["fullUrl"].startswith(world.local.fhir)
    (ab,) = [e for e in matches if ident(e) == "urn:ror:offre|11/a-hs1"]
    assert region(ab) == "11" and ab["resource"]["id"] == "a-hs1" and ab["fullUrl"].startswith(world.a.fhir)
    assert not any(e["resource"]["id"] in ("a-hs0", "b-hs0") for e in matches)
    # order: local first, then peers in configured order
    assert [region(e) for e in matches] == ["24"] * 5 + ["11"] * 4 + ["84"] * 4
    # one warning per failing peer, naming it and saying what happened; the healthy peers are silent
    found = {i["details"]["coding"][0]["code"]: i for i in issues(body)}
    text = " ".join(i["diagnostics"] for i in issues(body))
    assert all(i["severity"] == "warning" for i in issues(body))
    assert "peer slow (region 93): timed out" in found["RORF-0201"]["diagnostics"]
    assert "peer dead (region 44): unreachable (connection failed (connection refused))" in text
    assert "peer garbage (region 76): sent invalid JSON" in found["RORF-0204"]["diagnostics"]
    assert "peer error (region 53): answered HTTP 500" in found["RORF-0203"]["diagnostics"]
    assert "peer A" not in text and "peer B" not in text
    assert len(issues(body)) == 4


def test_paging_spans_the_merged_set(world: World) -> None:
    full = [e["fullUrl"] for e in by_mode(get(world.local, {"_federate": "true", "_count": "100"}).json(), "match")]
    r = get(world.local, [("service-type", "01"), ("_federate", "true"), ("_count", "5")])
    pages: list[list[str]] = []
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == 13
        pages.append([e["fullUrl"] for e in by_mode(body, "match")])
        assert len(issues(body)) == 4  # the partial-result warnings stay on every page
        nxt = [lk["url"] for lk in body["link"] if lk["relation"] == "next"]
        if not nxt:
            break
        q = parse_qsl(urlsplit(nxt[0]).query)
        assert ("_federate", "true") in q and ("service-type", "01") in q
        r = get(world.local, q)
    assert [len(p) for p in pages] == [5, 5, 3]
    assert [u for p in pages for u in p] == full  # one stable snapshot, nothing twice, nothing lost
    bad = get(world.local, {"_federate": "true", "_cursor": "fed-0123456789abcdef-5"})
    assert bad.status_code == 400 and "RORF-0102" in bad.text


def test_peer_includes_keep_include_mode_and_region(world: World) -> None:
    r = get(world.local, {"_federate": "true", "_include": "HealthcareService:location", "_count": "100"})
    assert r.status_code == 200, r.text
    inc = by_mode(r.json(), "include")
    locs = {(region(e), e["fullUrl"]) for e in inc if e["resource"]["resourceType"] == "Location"}
    # the same id loc1 in three regions: three distinct included resources, by fullUrl
    assert locs == {("24", f"{world.local.fhir}/Location/loc1"), ("11", f"{world.a.fhir}/Location/loc1"),
                    ("84", f"{world.b.fhir}/Location/loc1")}
    # with pages of 6, the peer Location travels with the page holding that peer's offers
    r2 = get(world.local, [("_federate", "true"), ("_include", "HealthcareService:location"), ("_count", "6")])
    page1 = r2.json()
    assert Counter(region(e) for e in by_mode(page1, "match")) == {"24": 5, "11": 1}
    assert {region(e) for e in by_mode(page1, "include")} == {"24", "11"}


def test_peers_get_the_query_without_federate_and_with_the_hop_header(world: World) -> None:
    world.fake.seen.clear()
    r = get(world.local, [("_federate", "true"), ("name", "offre"), ("_count", "3")])
    assert r.status_code == 200
    seen = [s for s in world.fake.seen if s.path.startswith("/garbage/")]
    assert len(seen) == 1
    q = parse_qsl(urlsplit(seen[0].path).query)
    assert ("name", "offre") in q and ("_count", "1000") in q
    assert not any(k in ("_federate", "_cursor") for k, _ in q)
    assert seen[0].headers["x-ror-federated"] == "1"
    assert seen[0].headers["authorization"] == f"Bearer {FAKE_TOKEN}"
    # a request carrying the hop header is answered locally, never federated further
    t0 = time.perf_counter()
    hop = get(world.local, {"_federate": "true"}, {"X-ROR-Federated": "1"})
    assert time.perf_counter() - t0 < TIMEOUT_S
    assert {region(e) for e in by_mode(hop.json(), "match")} == {"24"}
    assert [i["details"]["coding"][0]["code"] for i in issues(hop.json())] == ["RORF-0207"]


def test_a_loop_between_peers_does_not_recurse(world: World) -> None:
    # A federates to L; L gets the query with the hop header and without _federate: L's own data only
    t0 = time.perf_counter()
    r = get(world.a, {"_federate": "true", "_count": "100"})
    assert time.perf_counter() - t0 < TIMEOUT_S + 1.0
    assert r.status_code == 200, r.text
    matches = by_mode(r.json(), "match")
    assert Counter(region(e) for e in matches) == {"11": 5, "24": 4}  # L's l-hs0 duplicates A's a-hs0
    assert issues(r.json()) == []


def test_metadata_documents_federation_and_plain_search_is_unchanged(world: World) -> None:
    meta = httpx.get(world.local.fhir + "/metadata", timeout=10).json()
    hs_res = next(r for r in meta["rest"][0]["resource"] if r["type"] == "HealthcareService")
    (doc,) = [p["documentation"] for p in hs_res["searchParam"] if p["name"] == "_federate"]
    assert EXT_SOURCE_REGION in doc and "X-ROR-Federated" in doc and "6 configured peer" in doc
    plain = get(world.local, {"_count": "100"}).json()
    assert plain["total"] == 5 and all("extension" not in e["search"] for e in plain["entry"])
    assert get(world.local, {"_federate": "false"}).json()["total"] == 5
    bad = get(world.local, {"_federate": "maybe"})
    assert bad.status_code == 400 and "RORF-0101" in bad.text
