"""Benchmark: aiguillage's ER7 parser (+ typical field access + to_adt_event) vs python-hl7 parse.

Run: ``python bench/hl7_parse.py [--quick] [--seconds S]``. Uses tests/data/hl7v2/adt_a01_bench.hl7
(a fictional 1.7 KB PAM FR A01 with PD1, ROL, NK1, PV2, ZBE, ZFA, ZFD, ZFM, IN1).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from aiguillage.hl7v2 import parse, peek_header, to_adt_event

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "hl7v2" / "adt_a01_bench.hl7"


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Best of 3 runs of ~seconds/3 each, in calls per second."""
    n = 200
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    per_call = (time.perf_counter() - t0) / n
    batch = max(50, int(seconds / 3 / max(per_call, 1e-9)))
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        best = max(best, batch / (time.perf_counter() - t0))
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="about 3 s in all")
    ap.add_argument("--seconds", type=float, default=4.0, help="time budget per measurement")
    args = ap.parse_args(argv)
    seconds = 0.6 if args.quick else args.seconds
    raw = SAMPLE.read_bytes()

    def ours_parse() -> object:
        return parse(raw)

    def ours_full() -> object:
        msg = parse(raw)
        msg.get("PID-3[1].1")
        msg.get("PID-5.1")
        msg.get("PV1-19.1")
        msg.get("ZBE-1.1")
        _ = msg.message_type, msg.control_id
        return to_adt_event(msg)

    def ours_peek() -> object:
        return peek_header(raw)

    try:
        import hl7  # python-hl7, the baseline
    except ImportError:
        print("python-hl7 not installed: pip install hl7", file=sys.stderr)
        return 1
    text = raw.decode("utf-8")

    def baseline() -> object:
        return hl7.parse(text)

    print(f"sample: {SAMPLE.name} ({len(raw)} bytes)")
    base = rate(baseline, seconds)
    results = {
        "aiguillage parse": rate(ours_parse, seconds),
        "aiguillage parse + field access + to_adt_event": rate(ours_full, seconds),
        "aiguillage peek_header": rate(ours_peek, seconds),
    }
    print(f"{'python-hl7 hl7.parse (baseline)':50s} {base:>12,.0f} msg/s   1.0x")
    for name, r in results.items():
        print(f"{name:50s} {r:>12,.0f} msg/s {r / base:6.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
