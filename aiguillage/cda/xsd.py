"""XML Schema step: lxml ``XMLSchema`` compiled once per schema path and cached.

The default schema file is named by ``AIGUILLAGE_CDA_XSD`` (read when needed, not at import).
CI-SIS documents using the lab (CR-BIO) or DICOM (CR-IMG) extensions validate only against the
ANS extended schema (``CDA_extended.xsd``); the others validate against either.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from lxml import etree

from aiguillage.cda import codes
from aiguillage.cda.errors import CDASchemaError
from aiguillage.cda.parse import element_path
from aiguillage.errors import Issue

XSD_ENV = "AIGUILLAGE_CDA_XSD"
MAX_XSD_ISSUES = 200

# schema messages may quote element values (a birth date, a name): keep them out of issues
_QUOTED_VALUE = re.compile(r"(The value |: )'[^']*'")

_cache: dict[Path, etree.XMLSchema] = {}
_lock = threading.Lock()


def default_xsd_path() -> Path | None:
    """The schema named by ``AIGUILLAGE_CDA_XSD``, or ``None`` when unset or blank."""
    raw = os.environ.get(XSD_ENV, "").strip()
    return Path(raw) if raw else None


def load_schema(path: Path) -> etree.XMLSchema:
    """Compile (once) and return the schema at ``path``; :class:`CDASchemaError` if unusable."""
    key = Path(path).resolve()
    schema = _cache.get(key)
    if schema is not None:
        return schema
    with _lock:
        schema = _cache.get(key)
        if schema is None:
            if not key.is_file():
                raise CDASchemaError(f"CDA schema not found: {key.name}")
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
            try:
                schema = etree.XMLSchema(etree.parse(str(key), parser))
            except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
                raise CDASchemaError(f"CDA schema {key.name} cannot be compiled: {exc}") from exc
            _cache[key] = schema
    return schema


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _line_index(tree: etree._ElementTree) -> dict[int, etree._Element]:
    index: dict[int, etree._Element] = {}
    for el in tree.getroot().iter():
        if isinstance(el.tag, str) and el.sourceline is not None:
            index.setdefault(el.sourceline, el)
    return index


def xsd_issues(tree: etree._ElementTree, schema: etree.XMLSchema) -> list[Issue]:
    """Every schema violation as an ``error`` Issue (CDA-0101) located by a readable XPath."""
    if schema.validate(tree):
        return []
    issues: list[Issue] = []
    index: dict[int, etree._Element] | None = None
    entries = list(schema.error_log)
    for entry in entries[:MAX_XSD_ISSUES]:
        if index is None:
            index = _line_index(tree)
        el = index.get(entry.line)
        location = element_path(el) if el is not None else (entry.path or None)
        message = _QUOTED_VALUE.sub(r"\1'…'", entry.message)
        issues.append(Issue("error", codes.XSD_INVALID, f"line {entry.line}: {message}", location))
    if len(entries) > MAX_XSD_ISSUES:
        issues.append(
            Issue("error", codes.XSD_INVALID, f"{len(entries) - MAX_XSD_ISSUES} more schema errors", "/")
        )
    return issues


__all__ = ["XSD_ENV", "clear_cache", "default_xsd_path", "load_schema", "xsd_issues"]
