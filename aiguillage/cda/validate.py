"""CDA validation: safe parse → XML Schema → CI-SIS rules, returning EVERY issue in one report.

A document that cannot be parsed (not XML, DOCTYPE, too large, not a ClinicalDocument) gives a
report with one ``fatal`` issue (CDA-00xx) and no header; :func:`aiguillage.cda.parse.parse_cda`
raises :class:`~aiguillage.cda.errors.CDAParseError` for callers that prefer an exception.
A configured schema that cannot be loaded raises :class:`~aiguillage.cda.errors.CDASchemaError`
(a configuration problem, not the sender's).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiguillage.cda import codes
from aiguillage.cda.errors import CDAParseError
from aiguillage.cda.header import CdaHeader, extract_header
from aiguillage.cda.parse import parse_cda
from aiguillage.cda.rules import check_rules
from aiguillage.cda.typecodes import TypeCodes, dmp_type_codes
from aiguillage.cda.xsd import default_xsd_path, load_schema, xsd_issues
from aiguillage.errors import Issue

log = logging.getLogger(__name__)

FAILING = frozenset({"fatal", "error"})


@dataclass
class ValidationReport:
    valid: bool
    issues: list[Issue] = field(default_factory=list)
    header: CdaHeader | None = None

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity in FAILING]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def codes(self) -> list[str]:
        return [i.code for i in self.issues]

    def as_json(self) -> dict[str, Any]:
        """``{"valid", "issues", "header"}`` — the body of the answer to ``POST /cda``."""
        return {
            "valid": self.valid,
            "issues": [i.as_dict() for i in self.issues],
            "header": self.header.to_dict() if self.header is not None else None,
        }


def _resolve_xsd(xsd: Path | None) -> Path | None:
    return Path(xsd) if xsd is not None else default_xsd_path()


def validate(
    doc_bytes: bytes,
    xsd: Path | None = None,
    *,
    type_codes: TypeCodes | None = None,
    require_ins: bool = False,
    max_bytes: int | None = None,
) -> ValidationReport:
    """Validate one CDA document and return every issue.

    ``xsd``: schema file; ``None`` uses ``AIGUILLAGE_CDA_XSD``; with neither, the schema step is
    skipped with a ``warning`` CDA-XSD-SKIPPED. ``type_codes`` defaults to JDV_J07 (see
    :mod:`aiguillage.cda.typecodes`). ``require_ins=True`` makes a missing INS an error (DMP feed).
    """
    try:
        tree = parse_cda(doc_bytes, max_bytes=max_bytes)
    except CDAParseError as exc:
        log.info("cda rejected code=%s", exc.code)
        return ValidationReport(False, list(exc.issues), None)
    issues: list[Issue] = []
    schema_path = _resolve_xsd(xsd)
    if schema_path is None:
        issues.append(
            Issue(
                "warning",
                codes.XSD_SKIPPED,
                "no CDA schema configured (AIGUILLAGE_CDA_XSD): XSD step skipped",
                "/",
            )
        )
    else:
        issues.extend(xsd_issues(tree, load_schema(schema_path)))
    header = extract_header(tree)
    issues.extend(check_rules(tree.getroot(), header, type_codes or dmp_type_codes(), require_ins))
    valid = not any(i.severity in FAILING for i in issues)
    if log.isEnabledFor(logging.INFO):
        log.info(
            "cda validated valid=%s errors=%d warnings=%d header=%s",
            valid,
            sum(i.severity in FAILING for i in issues),
            sum(i.severity == "warning" for i in issues),
            header.log_view(),
        )
    return ValidationReport(valid, issues, header)


def check_document(body: bytes, xsd: Path | None = None, *, require_ins: bool = False) -> ValidationReport:
    """Pure intake check for ``POST /cda``: no I/O besides reading the (cached) schema file."""
    return validate(body, xsd, require_ins=require_ins)


__all__ = ["ValidationReport", "check_document", "validate"]
