"""``aiguillage dmp reconcile --month YYYY-MM [--venues F] [--documents F] [--traces F] [--pfi F] …``"""

from __future__ import annotations

import argparse
import json
import sys

from aiguillage.errors import EngineError

from .export import render_table, write_csv, write_xlsx
from .pipeline import reconcile_files


def register(sub: argparse._SubParsersAction) -> None:
    dmp = sub.add_parser("dmp", help="DMP feeding: HOP'EN 2 indicators and trace reconciliation")
    dsub = dmp.add_subparsers(dest="dmp_command", required=True)
    rec = dsub.add_parser(
        "reconcile",
        help="compute P1.02 (LDL, ODS) to P1.06 for a month from SARA sheets and/or the PFI export",
    )
    rec.add_argument("--month", required=True, help="measurement month, YYYY-MM")
    rec.add_argument("--venues", help="venues/stays sheet (TSV, CSV or XLSX)")
    rec.add_argument("--documents", help="documents produced sheet")
    rec.add_argument("--traces", help="SARA consolidated DMP traces sheet")
    rec.add_argument("--pfi", help="PFI 'Infocentre DMPv2' export")
    rec.add_argument("--sunes", action="store_true", help="the establishment reached the SUN-ES domain")
    rec.add_argument("--json", action="store_true", help="one JSON object on stdout")
    rec.add_argument("--csv", metavar="OUT", help="write the summary CSV (and OUT's _misses.csv)")
    rec.add_argument("--xlsx", metavar="OUT", help="write an XLSX laid out like the ARS matrices")
    rec.add_argument("--max-misses", type=int, default=10, help="misses listed per indicator in the table")
    rec.set_defaults(func=reconcile_command)


def reconcile_command(args: argparse.Namespace) -> int:
    if not any((args.venues, args.documents, args.traces, args.pfi)):
        print("DMP-0004: give at least one of --venues, --documents, --traces, --pfi", file=sys.stderr)
        return 2
    try:
        report = reconcile_files(
            args.month,
            venues=args.venues,
            documents=args.documents,
            traces=args.traces,
            pfi=args.pfi,
            sunes_certified=args.sunes,
        )
    except EngineError as exc:
        if args.json:
            print(json.dumps({"error": exc.as_dict()}, ensure_ascii=False))
        else:
            print(str(exc), file=sys.stderr)
        return 2
    written: list[str] = []
    if args.csv:
        written += [str(p) for p in write_csv(report, args.csv)]
    if args.xlsx:
        written.append(str(write_xlsx(report, args.xlsx)))
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, default=str))
    else:
        print(render_table(report, args.max_misses))
        for p in written:
            print(f"written: {p}")
    return 0
