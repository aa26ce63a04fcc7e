"""Benchmark of the nomenclature registry: validate/lookup rate vs a plain dict, and import time.

    python bench/nomenclatures.py [--quick] [--corpus ../shared/corpus/nos]

Prints the rates and, from the same run, a baseline (two nested plain dict lookups) as a ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from aiguillage.nomenclatures import systems
from aiguillage.nomenclatures.importer import import_paths
from aiguillage.nomenclatures.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / ".." / "shared" / "corpus" / "nos"


def rate(fn: Callable[[], int], repeats: int) -> float:
    """Median operations per second over ``repeats`` runs of ``fn`` (which returns its op count)."""
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = fn()
        samples.append(n / (time.perf_counter() - t0))
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    loops, repeats = (20, 3) if args.quick else (200, 7)

    reg = Registry.builtin()
    largest: Path | None = None
    if (args.corpus / "full").is_dir():
        files = sorted((args.corpus / "full").glob("*.json"), key=lambda p: p.stat().st_size)
        largest = files[-1]
        import_paths(reg, [args.corpus], None)

    # the hot path: many (system, code) pairs as they arrive in messages, identifiers in several forms
    pairs: list[tuple[str, str]] = []
    for ident in (systems.TRE_R211_URL, "TRE_R211", systems.TRE_R211_OID):
        for concept in reg.search(ident, "", limit=None)[:200]:
            pairs.append((ident, concept.code))
    for m in reg.expand(systems.JDV_J07_URL):
        if m.system == systems.LOINC_URL and reg.validate(systems.LOINC_URL, m.code).valid:
            pairs.append((systems.LOINC_URL, m.code))
    baseline_dict: dict[str, dict[str, str]] = {}
    for ident, code in pairs:
        baseline_dict.setdefault(ident, {})[code] = reg.display(ident, code) or ""
    n = len(pairs) * loops

    def run_validate() -> int:
        validate = reg.validate
        for _ in range(loops):
            for system, code in pairs:
                validate(system, code)
        return n

    def run_lookup() -> int:
        lookup = reg.lookup
        for _ in range(loops):
            for system, code in pairs:
                lookup(system, code)
        return n

    def run_baseline() -> int:
        d = baseline_dict
        for _ in range(loops):
            for system, code in pairs:
                d[system][code]
        return n

    run_validate()  # warm the caches
    v, lk, base = rate(run_validate, repeats), rate(run_lookup, repeats), rate(run_baseline, repeats)
    assert all(reg.validate(s, c).valid for s, c in pairs)
    print(f"pairs: {len(pairs)} (x{loops} per run, median of {repeats} runs)")
    print(f"validate (hot path):   {v / 1e6:6.2f} M/s   ratio to plain dict: {v / base:5.2f}")
    print(f"lookup:                {lk / 1e6:6.2f} M/s   ratio to plain dict: {lk / base:5.2f}")
    print(f"baseline d[sys][code]: {base / 1e6:6.2f} M/s")
    print(f"validate target > 1 M/s: {'met' if v > 1e6 else 'NOT met'}")

    if largest is None:
        print(f"corpus absent ({args.corpus}): import timing skipped")
        return 0
    timings = []
    for _ in range(repeats):
        fresh = Registry()
        t0 = time.perf_counter()
        rep = import_paths(fresh, [largest], None)
        timings.append(time.perf_counter() - t0)
        assert rep.ok
    count = rep.files[0].concept_count
    t = statistics.median(timings)
    size_kb = largest.stat().st_size / 1024
    print(
        f"import {largest.name} ({size_kb:.0f} KB, {count} concepts): {t * 1000:.1f} ms "
        f"({count / t / 1000:.0f}k concepts/s)"
    )
    t0 = time.perf_counter()
    import_paths(Registry(), [args.corpus], None)
    print(
        f"import whole corpus nos/ ({len(list(args.corpus.rglob('*.*')))} files): "
        f"{(time.perf_counter() - t0) * 1000:.1f} ms"
    )
    t0 = time.perf_counter()
    Registry.builtin()
    print(f"Registry.builtin(): {(time.perf_counter() - t0) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
