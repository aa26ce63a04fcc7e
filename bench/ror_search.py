"""ROR exposure store benchmark: bulk load and FHIR search latency on generated offers.

    python bench/ror_search.py [--offers 100000] [--queries 200] [--db sqlite|postgresql-url]

Generates a realistic directory (all 18 regions, EJ -> ET partOf chains, one Location per ET with
commune, coordinates and capacity status, offers spread over 300 operational activities, three care
modes, specific acts, PractitionerRoles on 1 offer in 10), bulk-loads it through RorService.load
(full R4B + ROR validation on the first --validated resources, ROR rules only for the rest), then
measures p50/p95 and requests/s for four searches, each compared with the same search written by
hand as plain SQL on the store (the baseline ratio). Latency covers parsing, SQL and Bundle text.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from aiguillage.fhir.bundle import searchset  # noqa: E402
from aiguillage.fhir.query import parse_search  # noqa: E402
from aiguillage.nomenclatures import systems as S  # noqa: E402
from aiguillage.nomenclatures.registry import Registry  # noqa: E402
from aiguillage.ror.service import RorService  # noqa: E402
from aiguillage.store import db  # noqa: E402
from tests.ror.builders import hs, loc, org, role  # noqa: E402

REGIONS = ["01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"]
WORDS = ["hygiène", "chirurgie", "médecine", "pédiatrie", "cardiologie", "gériatrie", "urgences", "réanimation",
         "psychiatrie", "oncologie", "maternité", "rééducation", "soins", "palliatifs", "consultation", "imagerie"]
ACTIVITIES = [f"{i:03d}" for i in range(1, 301)]
CARE = ["28", "39", "40"]
ACTS = ["0909", "0910", "0911"]


def generate(n_offers: int, seed: int = 7) -> tuple[list[dict[str, Any]], list[tuple[str, float, float]]]:
    rnd = random.Random(seed)
    communes = [(f"{rnd.randint(1, 95):02d}{rnd.randint(0, 999):03d}", rnd.uniform(42.5, 51.0),
                 rnd.uniform(-4.5, 7.8)) for _ in range(max(50, n_offers // 50))]
    n_et = max(5, n_offers // 10)
    out: list[dict[str, Any]] = []
    for j in range(max(1, n_et // 5)):
        out.append(org(f"ej{j}", f"Centre hospitalier {j}", region=REGIONS[j % len(REGIONS)]))
    for k in range(n_et):
        region = REGIONS[(k // 5) % len(REGIONS)]
        out.append(org(f"et{k}", f"Établissement {rnd.choice(WORDS)} {k}", f"ej{k // 5}", region=region))
        cog, lat, lon = rnd.choice(communes)
        out.append(loc(f"l{k}", f"Commune {cog}", cog[:2] + "000", cog, lat + rnd.uniform(-0.02, 0.02),
                       lon + rnd.uniform(-0.02, 0.02), rnd.choice(["02", "03", "05"]), f"et{k}", region=region))
    for i in range(n_offers):
        k = rnd.randrange(n_et)
        region = REGIONS[(k // 5) % len(REGIONS)]
        name = f"{rnd.choice(WORDS).capitalize()} {rnd.choice(WORDS)} {i}"
        out.append(hs(f"hs{i}", name, rnd.choice(ACTIVITIES), rnd.choice(CARE), f"et{k}", f"l{k}",
                      rnd.choice(ACTS) if rnd.random() < 0.3 else None, region=region))
        if i % 10 == 0:
            out.append(role(f"pr{i}", f"hs{i}"))
    return out, communes


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def timed(fn: Callable[[int], Any], n: int) -> tuple[float, float, float]:
    lat = []
    t0 = time.perf_counter()
    for i in range(n):
        s = time.perf_counter()
        fn(i)
        lat.append((time.perf_counter() - s) * 1000)
    wall = time.perf_counter() - t0
    return statistics.median(lat), percentile(lat, 95), n / wall


INC_SQL = (
    "SELECT t.json, t.pk FROM ror_refs f JOIN ror_resources t ON t.res_type=f.target_type AND t.res_id=f.target_id "
    "WHERE f.param=:p AND f.res_pk IN ({pks})"
)
REV_SQL = (
    "SELECT r.json FROM ror_refs f JOIN ror_resources r ON r.pk=f.res_pk WHERE f.param='service' "
    "AND f.target_type='HealthcareService' AND f.target_id IN ({ids})"
)


def canonical_sql(engine: Any, spec_sql: str, acts: list[str]) -> Callable[[int], Any]:
    """The canonical query by hand: matches, organizations, their parents, locations, practitioner roles."""
    def run(i: int) -> Any:
        with engine.connect() as conn:
            rows = conn.execute(text(spec_sql.replace("r.json", "r.json, r.pk, r.res_id")),
                                {"c": acts[i], "s": S.TRE_R211_URL}).all()
            if not rows:
                return rows
            pks = ",".join(str(r.pk) for r in rows)
            orgs = conn.execute(text(INC_SQL.format(pks=pks)), {"p": "organization"}).all()
            locs = conn.execute(text(INC_SQL.format(pks=pks)), {"p": "location"}).all()
            parents = conn.execute(text(INC_SQL.format(pks=",".join(str(o.pk) for o in orgs) or "0")),
                                   {"p": "partof"}).all() if orgs else []
            ids = ",".join(f"'{r.res_id}'" for r in rows)
            roles = conn.execute(text(REV_SQL.format(ids=ids))).all()
            return rows, orgs, locs, parents, roles
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--offers", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--validated", type=int, default=5_000, help="resources loaded with full R4B validation")
    ap.add_argument("--db", default="", help="database URL (default: a temporary SQLite file)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{Path(tmp.name) / 'ror.db'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    registry = Registry.builtin()
    svc = RorService(engine, lambda: registry)
    t = time.perf_counter()
    resources, communes = generate(args.offers)
    took = time.perf_counter() - t
    print(f"generated {len(resources)} resources ({args.offers} offers) in {took:.1f}s  [{url.split(':')[0]}]")

    batch = 1000
    full = resources[: args.validated]
    rest = resources[args.validated:]
    t = time.perf_counter()
    for i in range(0, len(full), batch):
        svc.load(full[i:i + batch], validate="full")
    full_rate = len(full) / (time.perf_counter() - t) if full else 0.0
    t = time.perf_counter()
    for i in range(0, len(rest), batch):
        svc.load(rest[i:i + batch], validate="ror")
    ror_rate = len(rest) / (time.perf_counter() - t) if rest else 0.0
    print(f"bulk load, full validation (R4B + ROR rules + codes): {full_rate:,.0f} resources/s ({len(full)})")
    print(f"bulk load, ROR rules + codes (no R4B model):          {ror_rate:,.0f} resources/s ({len(rest)})")
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))

    rnd = random.Random(11)
    base = "http://bench/fhir"

    def fhir(params: Callable[[int], list[tuple[str, str]]]) -> Callable[[int], Any]:
        def run(i: int) -> Any:
            req = parse_search("HealthcareService", params(i))
            res = svc.search(req)
            return searchset(base, "HealthcareService", req.echo,
                             [(h.res_type, h.res_id, h.json) for h in res.matches],
                             [(h.res_type, h.res_id, h.json) for h in res.included], res.total, res.next_cursor)
        return run

    def plain(sql: str, binds: Callable[[int], dict[str, Any]]) -> Callable[[int], Any]:
        stmt = text(sql)

        def run(i: int) -> Any:
            with engine.connect() as conn:
                return conn.execute(stmt, binds(i)).all()
        return run

    acts = [rnd.choice(ACTIVITIES) for _ in range(args.queries)]
    cogs = [rnd.choice(communes) for _ in range(args.queries)]
    words = [rnd.choice(WORDS) for _ in range(args.queries)]
    spec_sql = ("SELECT r.json FROM ror_resources r WHERE r.res_type='HealthcareService' AND r.deleted = false AND "
                "r.pk IN (SELECT res_pk FROM ror_tokens WHERE param='specialty' AND code=:c AND system=:s) "
                "ORDER BY r.pk LIMIT 20")
    cases = {
        "canonical (specialty + 3 _include + _revinclude)": (
            fhir(lambda i: [("specialty", f"{S.TRE_R211_URL}|{acts[i]}"),
                            ("_include", "HealthcareService:organization"), ("_include:iterate", "Organization:partof"),
                            ("_include", "HealthcareService:location"), ("_revinclude", "PractitionerRole:service")]),
            canonical_sql(engine, spec_sql, acts)),
        "commune + activity (location.commune-cog & specialty)": (
            fhir(lambda i: [("location.commune-cog", cogs[i][0]), ("specialty", acts[i] if i % 2 else "001,002,003")]),
            plain("SELECT r.json FROM ror_resources r JOIN ror_refs f ON f.res_pk = r.pk AND f.param='location' "
                  "JOIN ror_resources l ON l.res_type='Location' AND l.res_id=f.target_id JOIN ror_tokens c ON "
                  "c.res_pk=l.pk AND c.param='commune-cog' AND c.code=:cog JOIN ror_tokens t ON t.res_pk=r.pk AND "
                  "t.param='specialty' AND t.code=:c WHERE r.res_type='HealthcareService' ORDER BY r.pk LIMIT 20",
                  lambda i: {"cog": cogs[i][0], "c": acts[i]})),
        "keyword (name:contains)": (
            fhir(lambda i: [("name:contains", words[i])]),
            plain("SELECT r.json FROM ror_resources r WHERE r.pk IN (SELECT res_pk FROM ror_strings WHERE "
                  "param='name' AND value LIKE :w) AND r.res_type='HealthcareService' ORDER BY r.pk LIMIT 20",
                  lambda i: {"w": f"%{words[i].replace('è', 'e').replace('é', 'e')}%"})),
        "near 20 km + activity (location.near & specialty)": (
            fhir(lambda i: [("location.near", f"{cogs[i][1]:.4f}|{cogs[i][2]:.4f}|20|km"), ("specialty", acts[i])]),
            plain("SELECT r.json FROM ror_resources r JOIN ror_refs f ON f.res_pk = r.pk AND f.param='location' "
                  "JOIN ror_resources l ON l.res_type='Location' AND l.res_id=f.target_id JOIN ror_positions p ON "
                  "p.res_pk=l.pk JOIN ror_tokens t ON t.res_pk=r.pk AND t.param='specialty' AND t.code=:c "
                  "WHERE r.res_type='HealthcareService' AND p.lat BETWEEN :la0 AND :la1 AND p.lon BETWEEN :lo0 "
                  "AND :lo1 ORDER BY r.pk LIMIT 20",
                  lambda i: {"c": acts[i], "la0": cogs[i][1] - 0.18, "la1": cogs[i][1] + 0.18,
                             "lo0": cogs[i][2] - 0.27, "lo1": cogs[i][2] + 0.27})),
    }
    print(f"\n{'query':55} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} | {'SQL p50':>8} {'SQL p95':>8} | ratio p50")
    for name, (ours, base_fn) in cases.items():
        ours(0)
        base_fn(0)
        p50, p95, rps = timed(ours, args.queries)
        b50, b95, _ = timed(base_fn, args.queries)
        print(f"{name:55} {p50:8.2f} {p95:8.2f} {rps:8.0f} | {b50:8.2f} {b95:8.2f} | {p50 / max(b50, 1e-6):6.1f}x")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
