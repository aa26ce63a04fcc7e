"""Mapping tables: translate() rate vs a plain dict lookup, suggestion latency, nomenclature import time.

Run: ``python bench/mappings.py [--quick] [--db URL]`` (SQLite temp file by default). Prints figures and,
in the same run, the dict baseline as a ratio. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from aiguillage.mappings import MappingContext, normalize_key, translate
from aiguillage.mappings.entries import ENTRIES
from aiguillage.mappings.service import MappingService
from aiguillage.mappings.suggest import suggest
from aiguillage.nomenclatures import Registry, import_paths
from aiguillage.nomenclatures.model import CodeSystemVersion, Concept
from aiguillage.store import db

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"


def rate(fn: Callable[[], object], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--db", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)")
    ap.add_argument("--entries", type=int, default=1000)
    args = ap.parse_args(argv)
    n = 5_000 if args.quick else 50_000
    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{tmp.name}/bench.db"
    engine = db.make_engine(url)
    db.migrate(engine)
    registry = Registry.builtin()
    svc = MappingService(engine, lambda: registry, lambda ids: list(ids))
    lines = ["source,field,local_value,target_system,target_code,target_display"]
    lines += [f"CHU-X,UF,Unité {i},TRE_R211,064," for i in range(args.entries)]
    t0 = time.perf_counter()
    svc.import_csv("\n".join(lines) + "\n", "bench")
    print(f"CSV import of {args.entries} mappings: {time.perf_counter() - t0:.2f} s ({engine.dialect.name})")

    values = [f"unité {i % args.entries}" for i in range(n)]
    baseline = {normalize_key(v): ("http://x", "064") for v in set(values)}
    keys = [normalize_key(v) for v in values]
    it = iter(range(10**9))

    r_dict = rate(lambda: baseline.get(keys[next(it) % n]), n)
    it = iter(range(10**9))
    r_dict_norm = rate(lambda: baseline.get(normalize_key(values[next(it) % n])), n)
    with engine.connect() as conn:
        it = iter(range(10**9))
        r_translate = rate(lambda: translate(conn, "CHU-X", "UF", values[next(it) % n]), n)
        conn.rollback()
        it = iter(range(10**9))

        def per_txn() -> None:
            translate(conn, "CHU-X", "UF", values[next(it) % n])
            conn.rollback()

        r_txn = rate(per_txn, n // 5)
        it = iter(range(10**9))

        def ctx5() -> None:
            ctx = MappingContext(conn, None)
            for _ in range(5):
                ctx.translate("CHU-X", "UF", values[next(it) % n])

        r_ctx = rate(ctx5, n // 5) * 5
        it = iter(range(10**9))
        q = select(ENTRIES.c.target_system, ENTRIES.c.target_code)

        def raw_select() -> None:
            k = keys[next(it) % n]
            where = (ENTRIES.c.source == "CHU-X", ENTRIES.c.field == "UF", ENTRIES.c.local_key == k)
            conn.execute(q.where(*where)).first()

        r_select = rate(raw_select, n // 5)
    print(f"dict lookup (baseline, pre-normalised key): {r_dict:12,.0f} /s")
    print(f"dict lookup + normalize_key (lru-cached):   {r_dict_norm:12,.0f} /s  ratio {r_dict_norm / r_dict:.3f}")
    print(f"translate(), one transaction (worker batch): {r_translate:11,.0f} /s  ratio {r_translate / r_dict:.4f}")
    print(f"translate(), one transaction per call:       {r_txn:11,.0f} /s  ratio {r_txn / r_dict:.4f}")
    print(f"MappingContext, 5 values, one transaction:   {r_ctx:11,.0f} /s  ratio {r_ctx / r_dict:.4f}")
    print(f"uncached SELECT per lookup (for reference):  {r_select:11,.0f} /s  ratio {r_select / r_dict:.4f}")

    concepts = {f"{i:03d}": Concept(f"{i:03d}", f"Activité spécialisée numéro {i} de médecine") for i in range(499)}
    concepts["777"] = Concept("777", "Staphylococcus aureus résistant à la méticilline")
    registry.add(CodeSystemVersion("urn:bench:500", "BENCH500", "1", concepts))
    queries = (("plain", "staphylococcus aureus meticilline"), ("abbreviated", "S.aureus resist. meticilline"))
    for label, query in queries:
        suggest(registry, "BENCH500", query)
        times = []
        for _ in range(20 if args.quick else 200):
            t0 = time.perf_counter()
            suggest(registry, "BENCH500", query)
            times.append(time.perf_counter() - t0)
        d = {normalize_key(c.display): c.code for c in concepts.values()}
        t0 = time.perf_counter()
        for _ in range(1000):
            d.get(normalize_key(query))
        exact = (time.perf_counter() - t0) / 1000
        print(f"suggest() on 500 labels, {label:11}: median {statistics.median(times) * 1000:.2f} ms, "
              f"p95 {sorted(times)[int(len(times) * 0.95)] * 1000:.2f} ms (exact dict lookup {exact * 1e6:.2f} µs)")

    files = sorted((CORPUS / "nos").rglob("*.json"), key=lambda p: p.stat().st_size) if CORPUS.is_dir() else []
    files += sorted((CORPUS / "nos").rglob("*.xml"), key=lambda p: p.stat().st_size) if CORPUS.is_dir() else []
    if not files:
        print(f"corpus absent at {CORPUS}: import timing skipped")
    else:
        biggest = max(files, key=lambda p: p.stat().st_size)
        t0 = time.perf_counter()
        report = import_paths(Registry.builtin(), [biggest], Path(tmp.name) / "nom")
        elapsed = time.perf_counter() - t0
        f = report.files[0]
        print(f"import of the largest corpus file {biggest.name} ({biggest.stat().st_size / 1024:.0f} KB, "
              f"{f.concept_count} concepts): {elapsed * 1000:.0f} ms (ok={report.ok})")
    engine.dispose()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
