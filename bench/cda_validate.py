"""Benchmark: CDA validation (safe parse + XSD + CI-SIS rules) on the CI-SIS examples.

Prints documents per second for, in the same run:
  baseline  lxml parse alone (same safe parser settings),
  rules     aiguillage.cda.validate without schema (parse + header + CI-SIS rules),
  full      aiguillage.cda.validate with the right schema (parse + XSD + rules),
and the ratio full / baseline. Usage: python bench/cda_validate.py [--seconds 3] [--quick]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiguillage.cda.validate import validate  # noqa: E402
from aiguillage.cda.xsd import load_schema  # noqa: E402

CORPUS = ROOT / ".." / "shared" / "corpus" / "cda"
EXAMPLES = CORPUS / "examples"
NORMATIVE = CORPUS / "xsd" / "hl7-cda-r2-normative" / "infrastructure" / "cda" / "CDA.xsd"
EXTENDED = CORPUS / "xsd" / "ans-cisis-extended" / "infrastructure" / "cda" / "CDA_extended.xsd"


def schema_for(name: str) -> Path:
    return EXTENDED if name.startswith(("BIO-", "IMG_")) else NORMATIVE


def rate(fn: Callable[[], None], docs_per_call: int, seconds: float) -> float:
    fn()  # warm-up (schema compile, caches)
    calls = 0
    start = time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls * docs_per_call / elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="time per measurement (default 3 s)")
    ap.add_argument("--quick", action="store_true", help="0.5 s per measurement")
    args = ap.parse_args()
    seconds = 0.5 if args.quick else args.seconds
    logging.disable(logging.INFO)
    if not EXAMPLES.is_dir():
        print(f"corpus absent: {EXAMPLES}")
        return 0
    docs = [(p.name, p.read_bytes()) for p in sorted(EXAMPLES.glob("*.xml"))]
    total_kb = sum(len(d) for _, d in docs) / 1024
    for name, _ in docs:
        load_schema(schema_for(name))

    def parse_only() -> None:
        for _, data in docs:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
            etree.fromstring(data, parser)

    def rules_only() -> None:
        for _, data in docs:
            validate(data, None)

    def full() -> None:
        for name, data in docs:
            report = validate(data, schema_for(name))
            if not report.valid:
                raise SystemExit(f"{name} unexpectedly invalid")

    n = len(docs)
    base = rate(parse_only, n, seconds)
    rules = rate(rules_only, n, seconds)
    whole = rate(full, n, seconds)
    print(f"corpus: {n} CI-SIS examples, {total_kb:.0f} KB total (mean {total_kb / n:.0f} KB/doc)")
    print(f"baseline lxml parse alone        : {base:8.1f} docs/s")
    print(f"validate, rules only (no XSD)    : {rules:8.1f} docs/s  ratio {rules / base:.2f} x baseline")
    print(f"validate, XSD + CI-SIS rules     : {whole:8.1f} docs/s  ratio {whole / base:.2f} x baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
