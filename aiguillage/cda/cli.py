"""``aiguillage cda validate FILE... [--json] [--xsd PATH] [--require-ins]``.

The lead's ``aiguillage/cli.py`` calls :func:`register` with its subparsers; the command's
handler is stored as ``func`` (``args.func(args)`` returns the exit code: 0 if every file is
valid, else 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from aiguillage.cda import codes
from aiguillage.cda.validate import ValidationReport, validate
from aiguillage.errors import Issue


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``cda`` command group (``cda validate``) to the top-level subparsers."""
    cda = sub.add_parser("cda", help="CDA R2 documents (CI-SIS)")
    cda_sub = cda.add_subparsers(dest="cda_command", required=True)
    val = cda_sub.add_parser("validate", help="validate CDA files: XSD + CI-SIS rules, every issue listed")
    val.add_argument("files", nargs="+", type=Path, metavar="FILE")
    val.add_argument("--json", action="store_true", help="print one JSON object (a list for several files)")
    val.add_argument("--xsd", type=Path, default=None, help="schema file (default: $AIGUILLAGE_CDA_XSD)")
    val.add_argument("--require-ins", action="store_true", help="a missing INS is an error (DMP feed)")
    val.set_defaults(func=_cmd_validate)


def _cmd_validate(args: argparse.Namespace) -> int:
    return run_validate(args.files, as_json=args.json, xsd=args.xsd, require_ins=args.require_ins)


def _report_for(path: Path, xsd: Path | None, require_ins: bool) -> ValidationReport:
    try:
        data = path.read_bytes()
    except OSError as exc:
        issue = Issue("fatal", codes.FILE_UNREADABLE, f"cannot read file: {exc.strerror or exc}", None)
        return ValidationReport(False, [issue], None)
    return validate(data, xsd, require_ins=require_ins)


def run_validate(
    files: list[Path],
    *,
    as_json: bool = False,
    xsd: Path | None = None,
    require_ins: bool = False,
    out: TextIO | None = None,
) -> int:
    """Validate ``files``, print the reports to ``out`` (stdout), return 0 if all valid else 1."""
    stream = out or sys.stdout
    results: list[dict[str, Any]] = []
    all_valid = True
    for path in files:
        report = _report_for(path, xsd, require_ins)
        all_valid = all_valid and report.valid
        if as_json:
            results.append({"file": str(path), **report.as_json()})
            continue
        state = "VALID" if report.valid else "INVALID"
        print(f"{path}: {state} ({len(report.errors)} errors, {len(report.warnings)} warnings)", file=stream)
        for issue in report.issues:
            print(
                f"  {issue.severity:<8} {issue.code:<16} {issue.location or '-'}: {issue.message}",
                file=stream,
            )
    if as_json:
        payload: Any = results[0] if len(results) == 1 else results
        print(json.dumps(payload, ensure_ascii=False, indent=2), file=stream)
    return 0 if all_valid else 1


__all__ = ["register", "run_validate"]
