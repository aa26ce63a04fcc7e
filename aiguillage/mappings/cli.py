"""``aiguillage mappings export|import|tables|unmapped`` (registered by the main CLI).

The actor recorded in the audit is ``cli:<user>``. Messages released by an import are queued in
the store (outbox); a running engine's relay publishes them.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from aiguillage.config import load_settings
from aiguillage.errors import EngineError
from aiguillage.mappings.service import MappingService


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _service(args: argparse.Namespace) -> tuple[MappingService, Any]:
    from aiguillage.engine import Engine
    from aiguillage.store import db

    settings = load_settings(getattr(args, "config", None), data_dir=getattr(args, "data_dir", None))
    engine = Engine(settings)
    db.migrate(engine.db)
    return MappingService.for_engine(engine), engine


def cmd_export(args: argparse.Namespace) -> int:
    svc, engine = _service(args)
    try:
        text = svc.export_csv(args.source)
    finally:
        engine.db.dispose()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"error: {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    svc, engine = _service(args)
    try:
        report = svc.import_csv(data, _actor(), partial=args.partial)
    except EngineError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue.severity}: {issue.code} {issue.location or ''}: {issue.message}", file=sys.stderr)
        return 1
    finally:
        engine.db.dispose()
    for issue in report["issues"]:
        print(f"  {issue['severity']}: {issue['code']} {issue.get('location', '')}: {issue['message']}",
              file=sys.stderr)
    print(f"{report['lines']} line(s): {report['created']} created, {report['updated']} updated, "
          f"{report['unchanged']} unchanged, {report['rejected']} rejected; {report['released']} message(s) released")
    return 0 if not report["rejected"] else 1


def cmd_tables(args: argparse.Namespace) -> int:
    svc, engine = _service(args)
    try:
        for t in svc.list_tables():
            print(f"{t['source']}\t{t['field']}\tv{t['version']}\t{t['entries']} entries\t{t['unmapped']} unmapped"
                  f"\t{t['target_system'] or '-'}")
    finally:
        engine.db.dispose()
    return 0


def cmd_unmapped(args: argparse.Namespace) -> int:
    svc, engine = _service(args)
    try:
        queue = svc.unmapped_queue(args.source, args.field, 0, args.count, args.suggestions)
    finally:
        engine.db.dispose()
    print(json.dumps(queue, default=str, ensure_ascii=False, indent=1))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``mappings`` command and its subcommands to the main CLI's subparsers."""
    m = sub.add_parser("mappings", help="mapping tables: export/import CSV, list tables and unmapped values")
    msub = m.add_subparsers(dest="mappings_command", required=True)
    p_exp = msub.add_parser("export", help="write the mapping tables as CSV (stdout by default)")
    p_exp.add_argument("--source", default=None)
    p_exp.add_argument("--output", "-o", default=None)
    p_exp.set_defaults(func=cmd_export)
    p_imp = msub.add_parser("import", help="import a CSV file (nothing is imported if any line is wrong)")
    p_imp.add_argument("file", metavar="FILE.csv")
    p_imp.add_argument("--partial", action="store_true", help="import the valid lines even if others are wrong")
    p_imp.set_defaults(func=cmd_import)
    p_tab = msub.add_parser("tables", help="list mapping tables")
    p_tab.set_defaults(func=cmd_tables)
    p_un = msub.add_parser("unmapped", help="show the unmapped queue with suggestions (JSON)")
    p_un.add_argument("--source", default=None)
    p_un.add_argument("--field", default=None)
    p_un.add_argument("--count", type=int, default=50)
    p_un.add_argument("--suggestions", type=int, default=5)
    p_un.set_defaults(func=cmd_unmapped)
