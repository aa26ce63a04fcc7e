"""Bundle building. Search bundles are assembled from the stored JSON text (no parse/re-serialise)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiguillage.fhir.ror import JSONObj


def now_instant() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def searchset(
    base: str,
    resource_type: str,
    echo: Sequence[tuple[str, str]],
    matches: Sequence[tuple[str, str, str]],  # (type, id, json text)
    included: Sequence[tuple[str, str, str]] = (),
    total: int | None = None,
    next_cursor: str | None = None,
    outcome: JSONObj | None = None,
) -> str:
    """A searchset Bundle as JSON text; ``self``/``next`` links repeat the understood parameters."""
    query = urlencode(list(echo))
    self_url = f"{base}/{resource_type}" + (f"?{query}" if query else "")
    links = [{"relation": "self", "url": self_url}]
    if next_cursor:
        nq = urlencode([*echo, ("_cursor", next_cursor)])
        links.append({"relation": "next", "url": f"{base}/{resource_type}?{nq}"})
    head: dict[str, Any] = {"resourceType": "Bundle", "id": uuid.uuid4().hex, "meta": {"lastUpdated": now_instant()},
                            "type": "searchset"}
    if total is not None:
        head["total"] = total
    head["link"] = links
    parts = [json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1], ',"entry":[']
    entries = []
    for mode, rows in (("match", matches), ("include", included)):
        for rtype, rid, text in rows:
            entries.append(f'{{"fullUrl":{json.dumps(f"{base}/{rtype}/{rid}")},"resource":{text},'
                           f'"search":{{"mode":"{mode}"}}}}')
    if outcome is not None:
        entries.append('{"resource":' + json.dumps(outcome, ensure_ascii=False) + ',"search":{"mode":"outcome"}}')
    parts.append(",".join(entries))
    parts.append("]}")
    return "".join(parts)


def response_bundle(kind: str, entries: list[JSONObj]) -> JSONObj:
    """transaction-response or batch-response."""
    return {"resourceType": "Bundle", "id": uuid.uuid4().hex, "type": f"{kind}-response",
            "meta": {"lastUpdated": now_instant()}, "entry": entries}


def history_bundle(base: str, rows: Sequence[tuple[str, str, str, int, bool, str]]) -> JSONObj:
    """rows: (type, id, json, version, deleted, method)."""
    entries = []
    for rtype, rid, text, version, deleted, method in rows:
        entry: JSONObj = {"fullUrl": f"{base}/{rtype}/{rid}",
                          "request": {"method": method, "url": f"{rtype}/{rid}" if method != "POST" else rtype},
                          "response": {"status": "200" if not deleted else "204",
                                       "etag": f'W/"{version}"'}}
        if not deleted:
            entry["resource"] = json.loads(text)
        entries.append(entry)
    return {"resourceType": "Bundle", "id": uuid.uuid4().hex, "type": "history", "total": len(entries),
            "entry": entries}


def outcome(issues: Sequence[Any], fallback_code: str = "invalid") -> JSONObj:
    """The OperationOutcome of :class:`aiguillage.errors.Issue` objects (the API's error handler uses it too).

    ``code`` is the issue's own code when it already is a FHIR issue type (lower-case word), else
    ``fallback_code``; our stable code goes in ``details.coding``.
    """
    out = []
    for i in issues:
        entry: JSONObj = {
            "severity": i.severity if i.severity in ("fatal", "error", "warning", "information") else "error",
            "code": i.code if i.code.isalpha() and i.code.islower() else fallback_code,
            "details": {"coding": [{"system": "urn:aiguillage:error", "code": i.code}], "text": i.message},
            "diagnostics": i.message,
        }
        if i.location:
            entry["expression"] = [i.location]
        out.append(entry)
    return {"resourceType": "OperationOutcome", "issue": out}
