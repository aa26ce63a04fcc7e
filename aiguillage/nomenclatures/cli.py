"""``aiguillage nomenclatures import|list|lookup`` (registered by the main CLI).

The main CLI provides ``args.data_dir`` (Path); imported versions live in ``<data_dir>/nomenclatures``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from aiguillage.nomenclatures.importer import import_paths
from aiguillage.nomenclatures.model import CodeSystemVersion
from aiguillage.nomenclatures.registry import Registry


def store_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) / "nomenclatures"


def progress_bar(stream: TextIO, width: int = 30) -> Callable[[int, int], None]:
    """Plain-text progress bar: ``[#########.....]  3/12`` rewritten in place on ``stream``."""

    def show(done: int, total: int) -> None:
        filled = width if total == 0 else int(width * done / total)
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


def cmd_import(args: argparse.Namespace) -> int:
    target = store_dir(args)
    registry = Registry.load(target)
    paths = [Path(p) for p in args.paths]
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        print(f"error: {p}: no such file or directory", file=sys.stderr)
    report = import_paths(
        registry, [p for p in paths if p.exists()], target, None if args.quiet else progress_bar(sys.stderr)
    )
    for f in report.files:
        if f.action is not None:
            change = ", ".join(f"{k} {v}" for k, v in f.changes.items() if v)
            prev = f" (was {f.previous_version})" if f.previous_version and f.action != "new" else ""
            print(
                f"{f.action:9} {f.kind:10} {f.id} {f.version}{prev}: {f.concept_count} concepts"
                + (f"; {change}" if change else "")
            )
        for issue in f.issues:
            print(
                f"{issue.severity}: {issue.code} {issue.location or f.path}: {issue.message}", file=sys.stderr
            )
    return 0 if report.ok and not missing else 1


def cmd_list(args: argparse.Namespace) -> int:
    registry = Registry.load(store_dir(args))
    for s in registry.systems():
        origin = "built-in" if s.builtin else "imported"
        print(
            f"{s.kind:10} {s.short_id or s.id:10} {s.version:16} {s.concept_count:6} {s.content:9} "
            f"{origin:8} {s.url}" + (f" ({s.oid})" if s.oid else "")
        )
    for issue in registry.load_issues:
        print(f"{issue.severity}: {issue.code} {issue.location}: {issue.message}", file=sys.stderr)
    return 0


def cmd_lookup(args: argparse.Namespace) -> int:
    registry = Registry.load(store_dir(args))
    result = registry.validate(args.system, args.code, args.version)
    if result.display is None:
        print(f"error: {result.message}", file=sys.stderr)
        return 1
    res = registry.get(args.system, args.version)
    concept = registry.lookup(args.system, args.code, args.version)
    status = concept.status.value if concept is not None else "active"
    print(f"{args.code}\t{result.display}\t{status}\t{res.id} {res.version}")
    if (
        isinstance(res, CodeSystemVersion)
        and concept is not None
        and (concept.valid_from or concept.valid_to)
    ):
        print(f"valid {concept.valid_from or '?'} .. {concept.valid_to or ''}")
    for issue in result.issues:
        print(f"{issue.severity}: {issue.code} {issue.message}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``nomenclatures`` command and its subcommands to the main CLI's subparsers."""
    nom = sub.add_parser("nomenclatures", help="import, list and look up national nomenclatures (NOS)")
    nsub = nom.add_subparsers(dest="nomenclatures_command", required=True)
    p_imp = nsub.add_parser("import", help="import FHIR JSON, IHE SVS XML or NOS .tabs files (or folders)")
    p_imp.add_argument("paths", nargs="+", metavar="PATH")
    p_imp.add_argument("--quiet", action="store_true", help="no progress bar")
    p_imp.set_defaults(func=cmd_import)
    p_list = nsub.add_parser("list", help="list code systems and value sets")
    p_list.set_defaults(func=cmd_list)
    p_look = nsub.add_parser("lookup", help="show a code's display and status")
    p_look.add_argument("system", metavar="SYSTEM", help="canonical URL, OID, urn:oid:, NOS id or short id")
    p_look.add_argument("code", metavar="CODE")
    p_look.add_argument("--version", default=None)
    p_look.set_defaults(func=cmd_lookup)
