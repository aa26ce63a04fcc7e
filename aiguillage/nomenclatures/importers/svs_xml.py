"""IHE SVS ``RetrieveValueSetResponse`` XML (as published by the ANS, with the NOS extension
attributes ``typeFichier``, ``urlFichier``, ``dateValid``, ``dateFin``, ``dateMaj``) -> versions.

A ``typeFichier="TRE"`` file is a code system; anything else is a value set. Parsed with lxml
with no DTD, no entities, no network; any DOCTYPE is rejected.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from aiguillage import xmlsafe
from aiguillage.errors import Issue
from aiguillage.nomenclatures.errors import (
    INVALID_VALUE,
    MISSING_FIELD,
    PARSE_ERROR,
    UNKNOWN_FORMAT,
    UNSAFE_XML,
    ImportFormatError,
)
from aiguillage.nomenclatures.importers.common import (
    ParseResult,
    is_oid,
    iso_date,
    loc,
    system_from_oid,
)
from aiguillage.nomenclatures.model import CodeSystemVersion, Concept, Member, ValueSetVersion, derive_status
from aiguillage.nomenclatures.systems import nos_id_from_url, nos_url

SVS_NS = "urn:ihe:iti:svs:2008"
MAX_BYTES = 64 * 1024 * 1024


def _q(tag: str) -> str:
    return f"{{{SVS_NS}}}{tag}"


def parse_svs(data: bytes, filename: str) -> ParseResult:
    if len(data) > MAX_BYTES:
        raise ImportFormatError(
            f"{filename}: larger than {MAX_BYTES} bytes",
            UNSAFE_XML,
            [Issue("error", UNSAFE_XML, "file too large", filename)],
        )
    if xmlsafe.has_doctype(data):
        raise ImportFormatError(
            f"{filename}: DOCTYPE/ENTITY declarations are not accepted",
            UNSAFE_XML,
            [Issue("error", UNSAFE_XML, "DOCTYPE or ENTITY declaration", filename)],
        )
    try:
        root = etree.fromstring(data, xmlsafe.parser(keep_comments=False))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise ImportFormatError(
            f"{filename}: XML not well-formed: {exc.msg}",
            PARSE_ERROR,
            [Issue("error", PARSE_ERROR, str(exc.msg), loc(filename, line))],
        ) from exc
    if root.tag not in (_q("RetrieveValueSetResponse"), "RetrieveValueSetResponse"):
        raise ImportFormatError(
            f"{filename}: root element is not SVS RetrieveValueSetResponse",
            UNKNOWN_FORMAT,
            [Issue("error", UNKNOWN_FORMAT, f"root {root.tag}", loc(filename, root.sourceline))],
        )
    ns = SVS_NS if root.tag.startswith("{") else None
    vs = root.find(_q("ValueSet") if ns else "ValueSet")
    issues: list[Issue] = []
    if vs is None:
        raise ImportFormatError(
            f"{filename}: no ValueSet element",
            MISSING_FIELD,
            [Issue("error", MISSING_FIELD, "missing ValueSet", loc(filename, field="ValueSet"))],
        )
    oid = (vs.get("id") or "").strip()
    if not is_oid(oid):
        issues.append(
            Issue(
                "error",
                MISSING_FIELD if not oid else INVALID_VALUE,
                f"ValueSet/@id {oid!r} is not an OID",
                loc(filename, vs.sourceline, "ValueSet/@id"),
            )
        )
    display_name = (vs.get("displayName") or "").strip()
    nos_id = None
    url_file = (vs.get("urlFichier") or "").strip()
    if url_file:
        nos_id = nos_id_from_url(url_file + "/")
    if nos_id is None and display_name:
        base = display_name.removesuffix(".tabs").removesuffix(".xml")
        m = re.match(r"^((?:TRE|JDV)_[A-Z]+\d+)_(.+)$", base)
        nos_id = f"{m.group(1)}-{m.group(2).replace('_', '-')}" if m else None
    rid = nos_id or display_name or oid
    url = nos_url(nos_id) if nos_id else f"urn:oid:{oid}"
    version = (vs.get("version") or vs.get("dateMaj") or "").strip()
    if not version:
        rev = vs.get("revisionDate") or vs.get("effectiveDate")
        try:
            version = (iso_date(rev) or "").replace("-", "")
        except ValueError:
            version = ""
    if not version:
        issues.append(
            Issue(
                "error",
                MISSING_FIELD,
                "no version, dateMaj or revisionDate",
                loc(filename, vs.sourceline, "ValueSet/@version"),
            )
        )
    is_tre = (vs.get("typeFichier") or "").upper() == "TRE"
    concepts: dict[str, Concept] = {}
    members: list[Member] = []
    for el in vs.iter(_q("Concept") if ns else "Concept"):
        line = el.sourceline
        code = (el.get("code") or "").strip()
        if not code:
            issues.append(
                Issue("error", MISSING_FIELD, "Concept without code", loc(filename, line, "Concept/@code"))
            )
            continue
        display = el.get("displayName") or ""
        if is_tre:
            try:
                valid_from, valid_to = iso_date(el.get("dateValid")), iso_date(el.get("dateFin"))
                updated = iso_date(el.get("dateMaj"))
            except ValueError as exc:
                issues.append(
                    Issue("error", INVALID_VALUE, str(exc), loc(filename, line, "Concept/@dateFin"))
                )
                continue
            concepts[code] = Concept(code, display, derive_status(valid_to), valid_from, valid_to, updated)
            continue
        cs = (el.get("codeSystem") or "").strip()
        if not cs:
            issues.append(
                Issue(
                    "error",
                    MISSING_FIELD,
                    "Concept without codeSystem",
                    loc(filename, line, "Concept/@codeSystem"),
                )
            )
            continue
        members.append(Member(system_from_oid(cs) if is_oid(cs) else cs, code, display or None))
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise ImportFormatError(f"{filename}: {len(errors)} error(s)", errors[0].code, issues)
    header: dict[str, Any] = {
        "url": url,
        "id": rid,
        "version": version,
        "oid": oid,
        "name": display_name or None,
        "title": vs.get("description"),
        "date": vs.get("revisionDate"),
        "source": filename,
        "status": "retired" if (vs.get("dateFin") or "").strip() else "active",
    }
    if is_tre:
        return [CodeSystemVersion(concepts=concepts, **header)], issues
    return [ValueSetVersion(members=members, **header)], issues
