"""Inter-ROR federated search benchmark: latency against the per-peer timeout and against a local search.

    python bench/ror_federation.py [--offers 300] [--queries 40] [--timeout 1.0] [--hang-queries 5] [--quick]

Starts real aiguillage instances on loopback (subprocesses, own SQLite data dirs): L (region 24) with
3 peers: A (11) and B (84), each an aiguillage instance holding --offers offers, and a dead peer (a
free port with nothing listening); L' has the same peers plus one that accepts and never answers.
Measured over HTTP from this process, p50/p95 of:

- local-only search on L (the baseline) and the same search with ``_federate=true`` (ratio);
- a second page of the federated search (served from the merged snapshot);
- the federated search on L' (bounded by the timeout): its overrun over the timeout (target <= 100 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from aiguillage.testing import free_port  # noqa: E402
from tests.ror_federation.live import (  # noqa: E402
    FakePeers,
    Instance,
    create_token,
    peers_file,
    regional,
    start,
    stop,
    wait_ready,
)

QUERY = [("specialty", "063"), ("_count", "50")]


def load_bundle(inst: Instance, resources: list[dict[str, Any]]) -> None:
    entries = [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
               for r in resources]
    resp = httpx.post(inst.fhir, json={"resourceType": "Bundle", "type": "transaction", "entry": entries},
                      headers=inst.headers, timeout=120.0)
    assert resp.status_code == 200, resp.text[:500]


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def timed(fn: Callable[[], httpx.Response], n: int) -> tuple[list[float], httpx.Response]:
    lat = []
    resp = fn()  # warm-up (connections, caches)
    for _ in range(n):
        t0 = time.perf_counter()
        resp = fn()
        lat.append(time.perf_counter() - t0)
        assert resp.status_code == 200, resp.text[:300]
    return lat, resp


def row(name: str, lat: list[float], extra: str = "") -> None:
    print(f"  {name:<34} p50 {statistics.median(lat) * 1000:8.1f} ms   p95 {percentile(lat, 95) * 1000:8.1f} ms"
          f"   {extra}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--offers", type=int, default=300, help="offers per instance")
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--hang-queries", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=1.0, help="per-peer timeout (s)")
    ap.add_argument("--quick", action="store_true", help="100 offers, 15 queries, 3 bounded ones")
    args = ap.parse_args()
    if args.quick:
        args.offers, args.queries, args.hang_queries = 100, 15, 3
    tmp = Path(tempfile.mkdtemp(prefix="agl-fed-bench-"))
    fake = FakePeers().start()
    local, bounded = Instance("L", "24", free_port(), tmp / "L"), Instance("L2", "24", free_port(), tmp / "L2")
    a, b = Instance("A", "11", free_port(), tmp / "A"), Instance("B", "84", free_port(), tmp / "B")
    everyone = [local, bounded, a, b]
    try:
        t0 = time.perf_counter()
        for inst in everyone:
            inst.token = create_token(inst)
        peers = [{"name": "A", "region": "11", "base_url": a.fhir, "token": a.token},
                 {"name": "B", "region": "84", "base_url": b.fhir, "token": b.token},
                 {"name": "dead", "region": "44", "base_url": f"http://127.0.0.1:{free_port()}/fhir"}]
        hang = {"name": "hang", "region": "93", "base_url": fake.base("hang")}
        start(a, None)
        start(b, None)
        start(local, peers_file(tmp / "L.json", peers, local_region="24", timeout_s=args.timeout))
        start(bounded, peers_file(tmp / "L2.json", [*peers, hang], local_region="24", timeout_s=args.timeout))
        wait_ready(everyone)
        for inst, prefix in ((local, "l"), (a, "a"), (b, "b")):
            load_bundle(inst, regional(inst.region, prefix, args.offers))
        load_bundle(bounded, regional("24", "l", args.offers))
        print(f"ror federation bench: 3 instances x {args.offers} offers, peers A, B, dead (+ hang on L2), "
              f"per-peer timeout {args.timeout:g} s; setup {time.perf_counter() - t0:.1f} s")

        with httpx.Client(headers=local.headers, timeout=30.0) as cl, \
                httpx.Client(headers=bounded.headers, timeout=30.0) as cl2:
            local_lat, lr = timed(lambda: cl.get(local.fhir + "/HealthcareService", params=QUERY), args.queries)
            fed_lat, fr = timed(lambda: cl.get(local.fhir + "/HealthcareService",
                                               params=[*QUERY, ("_federate", "true")]), args.queries)
            body = fr.json()
            nxt = next(lk["url"] for lk in body["link"] if lk["relation"] == "next")
            page_lat, _ = timed(lambda: cl.get(nxt), args.queries)
            hang_lat, hr = timed(lambda: cl2.get(bounded.fhir + "/HealthcareService",
                                                 params=[*QUERY, ("_federate", "true")]), args.hang_queries)
        warnings = [i["diagnostics"] for e in body["entry"] if e["search"]["mode"] == "outcome"
                    for i in e["resource"]["issue"]]
        print(f"  local total {lr.json()['total']}, federated total {body['total']}; warnings: {warnings}")
        ratio = statistics.median(fed_lat) / statistics.median(local_lat)
        row("local-only search (baseline)", local_lat)
        row("federated, 3 peers (1 dead)", fed_lat, f"x{ratio:.2f} local; "
            f"{statistics.median(fed_lat) / args.timeout * 100:.0f} % of the timeout")
        row("federated page 2 (snapshot)", page_lat,
            f"x{statistics.median(page_lat) / statistics.median(local_lat):.2f} local")
        over = [x - args.timeout for x in hang_lat]
        row("federated, + 1 peer that never answers", hang_lat,
            f"overrun past the timeout p50 {statistics.median(over) * 1000:.0f} ms, max {max(over) * 1000:.0f} ms "
            f"(target <= 100 ms): {'OK' if max(over) <= 0.1 else 'MISSED'}")
        assert hr.json()["total"] == body["total"]
        within = max(fed_lat) <= args.timeout + 0.1
        print(f"  3-peer federated search within timeout + 100 ms on every query: {'yes' if within else 'NO'}")
    finally:
        stop(everyone)
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
