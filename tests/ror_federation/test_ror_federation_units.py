"""Federation pieces without subprocesses: merge rules, peer answers, peers file, snapshots, the
client's time bound, and the federation layer over stub peers (in-process)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from aiguillage.connectors.ror_peer import RorPeerClient
from aiguillage.errors import ConfigError
from aiguillage.fhir import errors as E
from aiguillage.fhir.query import parse_search
from aiguillage.ror.federation import Federation, SnapshotCache, peer_source
from aiguillage.ror.fedmerge import Source, make_entry, merge, page_entries
from aiguillage.ror.peers import FederationConfig, PeerConfig, PeerReply, load_config, parse_config
from aiguillage.ror.search import Hit, SearchResult
from aiguillage.testing import free_port


def res(rtype: str, rid: str, ident: str | None = None, refs: Sequence[str] = (), updated: str = "") -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": rtype, "id": rid, "meta": {"lastUpdated": updated}}
    if ident:
        r["identifier"] = [{"system": "urn:t", "value": ident}]
    if refs:
        r["location"] = [{"reference": ref} for ref in refs]
    return r


def entry(base: str, r: dict[str, Any], region: str) -> Any:
    return make_entry(r, f"{base}/{r['resourceType']}/{r['id']}", region)


# --- merge -------------------------------------------------------------------------------------


def test_merge_keeps_local_then_first_peer_and_sorts_when_asked() -> None:
    local = Source("local", [entry("L", res("HealthcareService", "x", "1", updated="2024-03"), "24")])
    p1 = Source("p1", [entry("P1", res("HealthcareService", "x", "1", updated="2024-01"), "11"),
                       entry("P1", res("HealthcareService", "y", "2", updated="2024-05"), "11")])
    p2 = Source("p2", [entry("P2", res("HealthcareService", "z", "2"), "84"),
                       entry("P2", res("HealthcareService", "w", None, updated="2024-02"), "84"),
                       entry("P2", res("HealthcareService", "w", None, updated="2024-02"), "84")])  # same fullUrl
    m = merge([local, p1, p2])
    assert [(e.full_url, e.region) for e in m.matches] == [
        ("L/HealthcareService/x", "24"), ("P1/HealthcareService/y", "11"), ("P2/HealthcareService/w", "84")]
    assert m.duplicates == 3
    assert [e.rid for e in merge([local, p1, p2], "-_lastUpdated").matches] == ["y", "x", "w"]
    assert [e.full_url for e in merge([local, p1, p2], "_id").matches] == [
        "P2/HealthcareService/w", "L/HealthcareService/x", "P1/HealthcareService/y"]


def test_includes_travel_with_the_matches_that_need_them() -> None:
    loc_a = entry("P", res("Location", "loc1"), "11")
    org_a = entry("P", {"resourceType": "Organization", "id": "o1"}, "11")
    loc_a2 = entry("P", {**res("Location", "loc2"), "managingOrganization": {"reference": "Organization/o1"}}, "11")
    role = entry("P", {"resourceType": "PractitionerRole", "id": "r1",
                       "healthcareService": [{"reference": "P/HealthcareService/h3"}]}, "11")
    stray = entry("P", {"resourceType": "Organization", "id": "o9"}, "11")
    src = Source("p", [entry("P", res("HealthcareService", f"h{i}", str(i), [f"Location/loc{1 + (i > 1)}"]), "11")
                       for i in range(1, 4)], [loc_a, loc_a2, org_a, role, stray])
    local = Source("local", [entry("L", res("HealthcareService", "h1", "L1", ["Location/loc1"]), "24")],
                   [entry("L", res("Location", "loc1"), "24")])
    m = merge([local, src])
    pages = [[json.loads(t) for t in page_entries(m, off, 2)] for off in (0, 2)]
    urls = [[(e["fullUrl"], e["search"]["mode"]) for e in p] for p in pages]
    # page 1: L/h1 with L/loc1, P/h1 with P/loc1 (same id, other region) and P's stray include
    assert urls[0] == [("L/HealthcareService/h1", "match"), ("P/HealthcareService/h1", "match"),
                       ("L/Location/loc1", "include"), ("P/Location/loc1", "include"), ("P/Organization/o9", "include")]
    # page 2: h2 and h3 share loc2, which brings o1 (iterate); h3 brings its PractitionerRole (revinclude)
    assert urls[1] == [("P/HealthcareService/h2", "match"), ("P/HealthcareService/h3", "match"),
                       ("P/Location/loc2", "include"), ("P/Organization/o1", "include"),
                       ("P/PractitionerRole/r1", "include")]
    assert pages[1][2]["search"]["extension"][0]["valueCode"] == "11"


# --- peer answers ------------------------------------------------------------------------------

PEER = PeerConfig("idf", "11", "http://peer/fhir", "t", 1.0)


def bundle(entries: list[dict[str, Any]], more: bool = False) -> bytes:
    b: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    if more:
        b["link"] = [{"relation": "next", "url": "http://peer/fhir/HealthcareService?_cursor=x"}]
    return json.dumps(b).encode()


@pytest.mark.parametrize(("reply", "code", "words"), [
    (PeerReply("timeout", detail="no answer within 1 s"), "RORF-0201", "timed out (no answer within 1 s)"),
    (PeerReply("refused", detail="connection failed (connection refused)"), "RORF-0202", "unreachable"),
    (PeerReply("transport", detail="ReadError"), "RORF-0202", "failed: transport (ReadError)"),
    (PeerReply("ok", 503, b"{}"), "RORF-0203", "answered HTTP 503"),
    (PeerReply("ok", 200, b"<html>"), "RORF-0204", "sent invalid JSON"),
    (PeerReply("ok", 200, b'{"resourceType": "OperationOutcome"}'), "RORF-0204", "did not answer a searchset"),
])
def test_a_failing_peer_gives_a_warning_naming_it(reply: PeerReply, code: str, words: str) -> None:
    src, warnings = peer_source(PEER, reply, "HealthcareService", 1000)
    assert src.matches == [] and len(warnings) == 1
    w = warnings[0]
    assert w.code == code and w.region == "11" and w.message.startswith("peer idf (region 11): ")
    assert words in w.message and w.as_fhir()["severity"] == "warning"


def test_a_peer_answer_is_sorted_into_matches_includes_and_issues() -> None:
    entries = [
        {"fullUrl": "http://peer/fhir/HealthcareService/h1", "resource": res("HealthcareService", "h1", "1"),
         "search": {"mode": "match"}},
        {"resource": res("Location", "l1"), "search": {"mode": "include"}},
        {"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "not-supported",
                                                                    "diagnostics": "ignored foo"}]},
         "search": {"mode": "outcome"}},
        {"resource": "nonsense"},
    ]
    src, warnings = peer_source(PEER, PeerReply("ok", 200, bundle(entries, more=True)), "HealthcareService", 5)
    assert [e.full_url for e in src.matches] == ["http://peer/fhir/HealthcareService/h1"]
    assert [e.full_url for e in src.includes] == ["http://peer/fhir/Location/l1"]
    assert [w.code for w in warnings] == ["RORF-0206", "RORF-0204", "RORF-0205"]
    assert "ignored foo" in warnings[0].message and "more than 5 matches" in warnings[2].message


# --- peers file ----------------------------------------------------------------------------------


def test_peers_file_json_and_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_IDF", "secret")
    (tmp_path / "p.toml").write_text('local_region = "24"\ntimeout_s = 1.5\n[[peers]]\nregion = "11"\n'
                                     'base_url = "http://idf/fhir/"\ntoken_env = "T_IDF"\n'
                                     '[[peers]]\nname = "paca"\nregion = "93"\nbase_url = "https://paca/fhir"\n'
                                     'timeout_s = 0.5\n')
    cfg = load_config(tmp_path / "p.toml")
    assert cfg.local_region == "24" and cfg.timeout_s == 1.5
    assert cfg.peers == (PeerConfig("11", "11", "http://idf/fhir", "secret", 1.5),
                         PeerConfig("paca", "93", "https://paca/fhir", None, 0.5))
    (tmp_path / "p.json").write_text(json.dumps({"peers": [{"region": "84", "base_url": "http://ara/fhir"}]}))
    assert load_config(tmp_path / "p.json").peers[0].timeout_s == 2.0


def test_peers_file_errors_are_all_listed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"timeout_s": -1, "colour": "red", "peers": [
            {"region": "idf", "base_url": "ftp://x"}, {"region": "11", "base_url": "http://a", "token_env": "NOPE_X"}]})
    text = err.value.message
    assert err.value.code == "RORF-0001" and len(err.value.issues) == 5
    for bit in ("timeout_s", "colour", "peers.0.region", "peers.0.base_url", "NOPE_X"):
        assert bit in text
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="unique"):
        parse_config({"peers": [{"region": "11", "base_url": "http://a"}, {"region": "11", "base_url": "http://b"}]})


# --- snapshots -----------------------------------------------------------------------------------


def test_snapshot_cache_expires_and_evicts() -> None:
    now = [0.0]
    cache = SnapshotCache(ttl_s=10, capacity=2, clock=lambda: now[0])
    from aiguillage.ror.federation import Snapshot
    from aiguillage.ror.fedmerge import Merged

    for sid in ("a", "b", "c"):
        cache.put(Snapshot(sid, ("T", ()), Merged()))
    assert cache.get("a") is None and cache.get("b") is not None and len(cache) == 2
    now[0] = 10.5
    assert cache.get("c") is None


# --- the client's time bound ---------------------------------------------------------------------


async def test_client_bounds_a_silent_peer_and_reports_a_refused_one() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):  # read the request, never answer; returns when the client hangs up
            pass
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = RorPeerClient(f"http://127.0.0.1:{port}/fhir", timeout_s=0.3)
        t0 = time.perf_counter()
        reply = await client.search("HealthcareService", [("name", "x")])
        assert reply.kind == "timeout" and time.perf_counter() - t0 < 0.6
        await client.close()
        dead = RorPeerClient(f"http://127.0.0.1:{free_port()}/fhir", timeout_s=0.3)
        reply = await dead.search("HealthcareService", [])
        assert reply.kind == "refused" and "refused" in reply.detail
        await dead.close()
    finally:
        server.close()


# --- the federation layer over stub peers ---------------------------------------------------------


class StubPeer:
    def __init__(self, reply: PeerReply | None, delay: float = 0.0) -> None:
        self.reply, self.delay, self.calls = reply, delay, []  # type: list[Any]

    async def search(self, resource_type: str, items: Sequence[tuple[str, str]],
                     headers: Mapping[str, str] | None = None) -> PeerReply:
        self.calls.append((resource_type, list(items), dict(headers or {})))
        await asyncio.sleep(self.delay)
        assert self.reply is not None
        return self.reply

    async def close(self) -> None:
        pass


class StubService:
    def search(self, req: Any) -> SearchResult:
        time.sleep(0.05)
        hits = [Hit("HealthcareService", f"h{i}", json.dumps(res("HealthcareService", f"h{i}", f"L{i}")))
                for i in range(3)]
        return SearchResult(matches=hits)


async def test_federation_runs_local_and_peers_concurrently_and_pages_the_snapshot() -> None:
    peers = {"good": StubPeer(PeerReply("ok", 200, bundle([
        {"resource": res("HealthcareService", "p1", "L1"), "search": {"mode": "match"}},
        {"resource": res("HealthcareService", "p2", "P2"), "search": {"mode": "match"}}]))),
        "hung": StubPeer(None, delay=60)}  # a broken client that ignores its own timeout
    cfg = FederationConfig((PeerConfig("good", "11", "http://g/fhir", None, 0.4),
                            PeerConfig("hung", "84", "http://h/fhir", None, 0.2)), local_region="24")
    fed = Federation(cfg, lambda p: peers[p.name])
    req = parse_search("HealthcareService", [("_federate", "true"), ("_count", "2"), ("name", "x")])
    t0 = time.perf_counter()
    page = json.loads(await fed.search(StubService(), req, base="http://me/fhir",  # type: ignore[arg-type]
                                       items=[("_federate", "true"), ("_count", "2"), ("name", "x")]))
    assert time.perf_counter() - t0 < 0.2 + 0.25 + 0.3
    assert page["total"] == 4  # h0 h1 h2 + p2 (p1 duplicates h1's identifier L1)
    codes = [i["details"]["coding"][0]["code"] for e in page["entry"] if e["search"]["mode"] == "outcome"
             for i in e["resource"]["issue"]]
    assert codes == ["RORF-0201"]
    _, items, headers = peers["good"].calls[0]
    assert items == [("name", "x"), ("_count", "1000")] and headers == {"X-ROR-Federated": "1"}
    nxt = next(lk["url"] for lk in page["link"] if lk["relation"] == "next")
    cursor = nxt.split("_cursor=")[1]
    req2 = parse_search("HealthcareService", [("name", "x"), ("_count", "2"), ("_federate", "true"),
                                              ("_cursor", cursor)])
    assert fed.wants(req2)
    page2 = json.loads(await fed.search(StubService(), req2, base="http://me/fhir", items=[]))  # type: ignore[arg-type]
    assert [e["resource"]["id"] for e in page2["entry"] if e["search"]["mode"] == "match"] == ["h2", "p2"]
    assert len(peers["good"].calls) == 1  # served from the snapshot
    other = parse_search("HealthcareService", [("name", "y"), ("_cursor", cursor)])
    with pytest.raises(E.FhirInputError) as err:
        await fed.search(StubService(), other, base="http://me/fhir", items=[])  # type: ignore[arg-type]
    assert err.value.code == "RORF-0102"
    with pytest.raises(E.FhirInputError) as err:
        fed.wants(parse_search("HealthcareService", [("_federate", "yes")]))
    assert err.value.code == "RORF-0101"
    assert not fed.wants(parse_search("HealthcareService", [("_federate", "false")]))
