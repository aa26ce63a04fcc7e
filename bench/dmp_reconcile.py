"""Benchmark: HOP'EN 2 indicators for one month from a generated GAP extraction and PFI export.

Default: 300,000 stays over three months and 1,000,000 PFI traces (``--quick``: 10x smaller).
Each measured step runs in its own child process so peak RSS (resource.getrusage) is its own:
  - reconcile: import venues + PFI export (with repairs and reports), séjour rules, six indicators
  - baseline: plain csv.reader over the same two files (rows counted, nothing built)
Prints seconds and peak MB for both and the ratios. Target: reconcile < 10 s.

Reference, default size, 2 shared cores: per-cell cleaning of every row 15.3-17 s, 488 MB peak;
with the per-row fast paths (pfirows, importer.read_venues, readers plain lines) 8.6-9.5 s,
~345 MB (baseline csv.reader 1.2 s, 57 MB).

    python bench/dmp_reconcile.py [--quick] [--stays N] [--traces N]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PFI_HEADER = (
    "source.document[0].idLocal\tsource.document.idTypePieceSara\tsource.document.CodeLoinc\t"
    "source.document.Masquage\tsource.patient.insq\tsource.patient.domaine\tsource.patient.iPPL\t"
    "source.teurs.IdNat\tPFI.autors.IdNat\tPFI.IdPartage\tPFI.Action\tPFI.docment[0].Decisi\t"
    "PFI.DateRequete\tPFI.DateReponse\tretourDMP.Statut"
)
CODES = [("84", "11490-0"), ("40", "57833-6"), ("8", "34874-8"), ("7", "11488-4"), ("14", "11502-2"), ("4", "18748-4")]
STATUSES = ["SUCCESS"] * 16 + ["ERREUR_DMP_CLOS", "ERREUR_VERIFICATION", "DOCUMENTS_TOUS"]


def generate(folder: Path, n_stays: int, n_traces: int, seed: int = 7) -> tuple[Path, Path]:
    rnd = random.Random(seed)
    venues, pfi = folder / "venues.tsv", folder / "pfi.tsv"
    stays: list[tuple[str, int, int, int]] = []  # ipp, month, discharge day, kind index
    with venues.open("w", encoding="utf-8") as fh:
        fh.write(
            "IPP Patient\tN° venue\tUF\tDate Entrée\tDate Sortie\tAu moins un acte chirurgical ?\t"
            "Consultation sur le mois (avec ACE)\tType activité\tINS qualifiée\tExclusion\n"
        )
        for i in range(n_stays):
            ipp = str(100000 + rnd.randrange(n_stays // 2 + 1))
            month = 2 + i % 3  # Feb, Mar, Apr 2025
            day = 1 + rnd.randrange(28)
            consult = rnd.random() < 0.3
            start = day if consult else max(1, day - rnd.randrange(6))
            excl = "décédé" if rnd.random() < 0.01 else ""
            fh.write(
                f"{ipp}\tV{i}\t2001\t{start:02d}/{month:02d}/2025\t{day:02d}/{month:02d}/2025\t"
                f"{'oui' if rnd.random() < 0.2 else 'non'}\t{'oui' if consult else 'non'}\t"
                f"{'ACE' if consult else 'MCO'}\t{'oui' if rnd.random() < 0.9 else 'non'}\t{excl}\n"
            )
            stays.append((ipp, month, day, 1 if consult else 0))
    with pfi.open("w", encoding="utf-8") as fh:
        fh.write(PFI_HEADER + "\n")
        for n in range(n_traces):
            ipp, month, day, consult = stays[rnd.randrange(n_stays)]
            sara, code = CODES[3] if consult else CODES[rnd.randrange(len(CODES))]
            status = STATUSES[rnd.randrange(len(STATUSES))]
            decision = "Filtere" if status == "DOCUMENTS_TOUS" else "Autorise"
            ins = "PrA@sent" if n % 50 == 0 else ("Absent" if status == "ERREUR_VERIFICATION" else "Présent")
            when = f"{day:02d}/{month:02d}/2025 {rnd.randrange(24):02d}:{rnd.randrange(60):02d}"
            fh.write(
                f"{rnd.getrandbits(128):032x}-{n}\t{sara}\t{code}\tfalse,false\t{ins}\t51\t{ipp}\tR1010125\t"
                f"{'8,1E+11' if n % 97 == 0 else '810012345678'}\tS{n:x}\tCreation\t{decision}\t{when}\t"
                f"{when}\t{status}\n"
            )
    return venues, pfi


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(step: str, venues: str, pfi: str, month: str) -> None:
    base_mb = _peak_mb()
    t0 = time.perf_counter()
    if step == "baseline":
        rows = 0
        for path in (venues, pfi):
            with open(path, encoding="utf-8", newline="") as fh:
                for _ in csv.reader(fh, delimiter="\t"):
                    rows += 1
        detail: dict[str, object] = {"rows": rows}
    else:
        from aiguillage.dmp.pipeline import reconcile_files

        rep = reconcile_files(month, venues=venues, pfi=pfi)
        detail = {i.id: [i.numerator, i.base_count, i.rate] for i in rep.indicators}
        detail["events"] = sum(rep.import_report.counts.values()) if rep.import_report else 0
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb(), "start_mb": base_mb, "detail": detail}))


def _child(step: str, venues: Path, pfi: Path, month: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", step, str(venues), str(pfi), month],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="10x smaller")
    ap.add_argument("--stays", type=int, default=300_000)
    ap.add_argument("--traces", type=int, default=1_000_000)
    ap.add_argument("--month", default="2025-03")
    ap.add_argument("--worker", nargs=4, metavar=("STEP", "VENUES", "PFI", "MONTH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    n_stays, n_traces = (args.stays // 10, args.traces // 10) if args.quick else (args.stays, args.traces)
    with tempfile.TemporaryDirectory(prefix="dmp-bench-") as tmp:
        t0 = time.perf_counter()
        venues, pfi = generate(Path(tmp), n_stays, n_traces)
        gen_s = time.perf_counter() - t0
        size_mb = (venues.stat().st_size + pfi.stat().st_size) / 1e6
        print(f"generated {n_stays:,} stays + {n_traces:,} PFI traces ({size_mb:.0f} MB) in {gen_s:.1f} s")
        base = _child("baseline", venues, pfi, args.month)
        rec = _child("reconcile", venues, pfi, args.month)
    bs, rs = float(base["seconds"]), float(rec["seconds"])  # type: ignore[arg-type]
    bm, rm = float(base["peak_mb"]), float(rec["peak_mb"])  # type: ignore[arg-type]
    print(f"baseline csv.reader      : {bs:6.2f} s  peak {bm:7.0f} MB")
    print(
        f"reconcile month {args.month}: {rs:6.2f} s  peak {rm:7.0f} MB  "
        f"({n_traces / rs:,.0f} traces/s; target < 10 s: {'met' if rs < 10 else 'NOT met'})"
    )
    print(f"ratio reconcile/baseline : time x{rs / bs:.1f}, peak memory x{rm / bm:.1f}")
    for key, value in dict(rec["detail"]).items():  # type: ignore[call-overload]
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
