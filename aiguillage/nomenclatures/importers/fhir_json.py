"""FHIR R4 CodeSystem / ValueSet JSON (also a Bundle of them) -> registry versions.

NOS CodeSystems carry dates as concept properties ``dateValid`` / ``dateFin`` / ``dateMaj``;
``status`` (code), ``inactive`` and ``deprecated`` properties are honoured when present.
"""

from __future__ import annotations

import json
from typing import Any

from aiguillage.errors import Issue
from aiguillage.nomenclatures.errors import (
    INVALID_VALUE,
    MISSING_FIELD,
    PARSE_ERROR,
    UNKNOWN_FORMAT,
    UNSUPPORTED,
    ImportFormatError,
)
from aiguillage.nomenclatures.importers.common import ParseResult, iso_date, loc, oid_from_identifier
from aiguillage.nomenclatures.model import (
    CodeSystemVersion,
    Concept,
    ConceptStatus,
    Member,
    Resource,
    ValueSetVersion,
    derive_status,
)
from aiguillage.nomenclatures.systems import nos_id_from_url

_STATUS = {
    "active": None,
    "retired": ConceptStatus.DEPRECATED,
    "deprecated": ConceptStatus.DEPRECATED,
    "inactive": ConceptStatus.INACTIVE,
}


def parse_fhir_json(data: bytes, filename: str) -> ParseResult:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        msg = f"invalid JSON: {exc}"
        raise ImportFormatError(
            f"{filename}: {msg}", PARSE_ERROR, [Issue("error", PARSE_ERROR, msg, loc(filename, line))]
        ) from exc
    if not isinstance(doc, dict):
        raise ImportFormatError(
            f"{filename}: not a FHIR resource",
            UNKNOWN_FORMAT,
            [Issue("error", UNKNOWN_FORMAT, "top level is not an object", filename)],
        )
    resources: list[Resource] = []
    issues: list[Issue] = []
    rtype = doc.get("resourceType")
    if rtype == "Bundle":
        for i, entry in enumerate(doc.get("entry") or []):
            res = (entry or {}).get("resource") or {}
            if res.get("resourceType") in ("CodeSystem", "ValueSet"):
                _one(res, f"{filename} entry[{i}]", resources, issues)
    elif rtype in ("CodeSystem", "ValueSet"):
        _one(doc, filename, resources, issues)
    else:
        msg = f"resourceType {rtype!r} is not CodeSystem, ValueSet or Bundle"
        raise ImportFormatError(
            f"{filename}: {msg}",
            UNKNOWN_FORMAT,
            [Issue("error", UNKNOWN_FORMAT, msg, loc(filename, field="resourceType"))],
        )
    errors = [i for i in issues if i.severity in ("error", "fatal")]
    if errors:
        raise ImportFormatError(f"{filename}: {len(errors)} error(s)", errors[0].code, issues)
    return resources, issues


def _header(doc: dict[str, Any], where: str, issues: list[Issue]) -> dict[str, Any] | None:
    url = doc.get("url")
    if not url:
        issues.append(Issue("error", MISSING_FIELD, "missing url", loc(where, field="url")))
        return None
    oid = None
    for ident in doc.get("identifier") or []:
        oid = oid_from_identifier((ident or {}).get("value"))
        if oid:
            break
    rid = nos_id_from_url(url) or doc.get("id") or doc.get("name") or url
    version = doc.get("version") or (doc.get("meta") or {}).get("versionId")
    if not version:
        issues.append(Issue("error", MISSING_FIELD, "missing version", loc(where, field="version")))
        return None
    return {
        "url": url.removesuffix("?vs"),
        "id": rid,
        "version": str(version),
        "oid": oid,
        "name": doc.get("name"),
        "title": doc.get("title") or doc.get("description"),
        "status": doc.get("status") or "active",
        "date": doc.get("date"),
        "publisher": doc.get("publisher"),
        "source": where,
    }


def _one(doc: dict[str, Any], where: str, out: list[Resource], issues: list[Issue]) -> None:
    header = _header(doc, where, issues)
    if header is None:
        return
    if doc["resourceType"] == "CodeSystem":
        concepts: dict[str, Concept] = {}
        _concepts(doc.get("concept") or [], f"{where} concept", concepts, issues)
        content = "fragment" if doc.get("content") in ("fragment", "example") else "complete"
        out.append(CodeSystemVersion(concepts=concepts, content=content, **header))
        return
    members: list[Member] = []
    include_systems: list[str] = []
    expansion = (doc.get("expansion") or {}).get("contains")
    if expansion:
        _contains(expansion, f"{where} expansion.contains", members, issues)
    else:
        compose = doc.get("compose") or {}
        for i, inc in enumerate(compose.get("include") or []):
            path = f"compose.include[{i}]"
            system = inc.get("system")
            if inc.get("valueSet"):
                issues.append(
                    Issue(
                        "warning",
                        UNSUPPORTED,
                        "include of other value sets ignored",
                        loc(where, field=f"{path}.valueSet"),
                    )
                )
            if not system:
                continue
            if inc.get("filter"):
                issues.append(
                    Issue(
                        "warning",
                        UNSUPPORTED,
                        "include filters are not evaluated",
                        loc(where, field=f"{path}.filter"),
                    )
                )
                continue
            listed = inc.get("concept")
            if not listed:
                include_systems.append(system)
            for j, c in enumerate(listed or []):
                code = (c or {}).get("code")
                if not code:
                    issues.append(
                        Issue(
                            "error",
                            MISSING_FIELD,
                            "concept without code",
                            loc(where, field=f"{path}.concept[{j}].code"),
                        )
                    )
                    continue
                members.append(Member(system, str(code), c.get("display")))
        if compose.get("exclude"):
            issues.append(
                Issue("warning", UNSUPPORTED, "compose.exclude ignored", loc(where, field="compose"))
            )
    out.append(ValueSetVersion(members=members, include_systems=include_systems, **header))


def _contains(items: list[Any], where: str, members: list[Member], issues: list[Issue]) -> None:
    for i, c in enumerate(items):
        if c.get("code") and c.get("system"):
            members.append(Member(c["system"], str(c["code"]), c.get("display")))
        elif not c.get("contains"):
            issues.append(
                Issue(
                    "error", MISSING_FIELD, "contains entry without system/code", loc(where, field=f"[{i}]")
                )
            )
        _contains(c.get("contains") or [], f"{where}[{i}].contains", members, issues)


def _concepts(items: list[Any], where: str, out: dict[str, Concept], issues: list[Issue]) -> None:
    for i, c in enumerate(items):
        field = f"{where}[{i}]"
        code = (c or {}).get("code")
        if not code:
            issues.append(Issue("error", MISSING_FIELD, "concept without code", field))
            continue
        props: dict[str, Any] = {}
        for p in c.get("property") or []:
            value = next((v for k, v in p.items() if k.startswith("value")), None)
            props[p.get("code")] = value
        try:
            valid_from = iso_date(props.get("dateValid"))
            valid_to = iso_date(props.get("dateFin"))
            updated = iso_date(props.get("dateMaj"))
        except ValueError as exc:
            issues.append(Issue("error", INVALID_VALUE, str(exc), f"{field}.property"))
            continue
        explicit: ConceptStatus | None = None
        if "status" in props and props["status"] is not None:
            explicit = _STATUS.get(str(props["status"]).lower())
        if props.get("deprecated") is True:
            explicit = ConceptStatus.DEPRECATED
        elif props.get("inactive") is True:
            explicit = ConceptStatus.INACTIVE
        code = str(code)
        if code in out:
            issues.append(Issue("warning", INVALID_VALUE, f"duplicate code {code!r}; last one kept", field))
        out[code] = Concept(
            code,
            c.get("display") or "",
            derive_status(valid_to, explicit),
            valid_from,
            valid_to,
            updated,
            explicit is not None,
        )
        if c.get("concept"):
            _concepts(c["concept"], f"{field}.concept", out, issues)
