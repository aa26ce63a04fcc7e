"""transaction and batch Bundles.

transaction: every entry is planned and validated first (``urn:uuid`` fullUrls get server ids and
references to them are rewritten), all issues are reported together with ``Bundle.entry[n]``
expressions, and the writes happen in one database transaction: all or nothing.
batch: each entry is processed on its own and gets its own response (status and OperationOutcome).
"""

from __future__ import annotations

import json
from typing import Any

from aiguillage.errors import EngineError, Issue
from aiguillage.fhir import errors as E
from aiguillage.fhir.bundle import outcome, response_bundle
from aiguillage.fhir.ror import RESOURCE_TYPES, JSONObj, as_list
from aiguillage.ror import repository as repo
from aiguillage.ror.repository import Pending, Written, instant
from aiguillage.ror.service import RorService, new_resource_id


def _rewrite(node: Any, mapping: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite(v, mapping) for k, v in node.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref in mapping:
            out["reference"] = mapping[ref]
        return out
    if isinstance(node, list):
        return [_rewrite(v, mapping) for v in node]
    return node


def _relocate(i: Issue, n: int, rtype: str) -> Issue:
    loc = i.location or ""
    if loc.startswith(rtype):
        loc = f"Bundle.entry[{n}].resource" + loc[len(rtype):]
    else:
        loc = f"Bundle.entry[{n}]" + (f".{loc}" if loc else "")
    return Issue(i.severity, i.code, i.message, loc)


def _entry_response(w: Written) -> JSONObj:
    return {"response": {"status": "201 Created" if w.created else "200 OK",
                         "location": f"{w.res_type}/{w.res_id}/_history/{w.version_id}",
                         "etag": f'W/"{w.version_id}"', "lastModified": instant(w.last_updated)}}


class BundleProcessor:
    def __init__(self, service: RorService) -> None:
        self.service = service

    def process(self, bundle: Any, *, region: str | None = None, lenient: bool = False) -> JSONObj:
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise E.FhirInputError("POST /fhir expects a transaction or batch Bundle", E.BUNDLE)
        kind = bundle.get("type")
        entries = as_list(bundle.get("entry"))
        if kind == "transaction":
            return self.transaction(entries, region, lenient)
        if kind == "batch":
            return self.batch(entries, region, lenient)
        raise E.FhirInputError(f"Bundle.type {kind!r}: only transaction and batch are processed", E.BUNDLE,
                               [E.issue(E.BUNDLE, "only transaction and batch are processed", "Bundle.type")])

    def _plan(self, n: int, entry: Any, mapping: dict[str, str], region: str | None, lenient: bool) -> Pending:
        """Validate one (already rewritten) entry into a pending write; raises FhirInputError."""
        if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
            msg = "entry.request is required"
            raise E.FhirInputError(msg, E.BUNDLE, [E.issue(E.BUNDLE, msg, f"Bundle.entry[{n}].request")])
        req = entry["request"]
        method, url = str(req.get("method", "")).upper(), str(req.get("url", ""))
        path, _, query = url.partition("?")
        parts = [p for p in path.split("/") if p]
        rtype = parts[0] if parts else ""
        if rtype not in RESOURCE_TYPES:
            raise E.FhirInputError(f"entry {n}: unsupported url {url!r}", E.BUNDLE,
                                   [E.issue(E.BUNDLE, f"unsupported url {url!r}", f"Bundle.entry[{n}].request.url")])
        if_match = req.get("ifMatch")
        expected = int(str(if_match).strip('W/"')) if if_match and str(if_match).strip('W/"').isdigit() else None
        s = self.service
        if method == "DELETE" and len(parts) == 2:
            with s.db.connect() as conn:
                row = repo.read(conn, rtype, parts[1])
            if row is None or row.deleted:
                raise E.FhirInputError(f"{rtype}/{parts[1]} does not exist", "FHIR-0404", http_status=404)
            return Pending(json.loads(row.json), "DELETE")
        resource = entry.get("resource")
        if method == "POST" and len(parts) == 1:
            rid = mapping.get(str(entry.get("fullUrl", "")), f"{rtype}/{new_resource_id()}").split("/")[-1]
            res, _ = s.prepare({**resource, "id": rid} if isinstance(resource, dict) else resource,
                               region=region, lenient=lenient, rtype=rtype)
            return Pending(res, "POST")
        if method == "PUT" and len(parts) == 2:
            res, _ = s.prepare(resource, region=region, lenient=lenient, rtype=rtype, rid=parts[1])
            return Pending(res, "PUT", expected)
        if method == "PUT" and len(parts) == 1 and query.startswith("identifier="):
            found = s.resolve_identifier(rtype, query[len("identifier="):])
            given = resource.get("id") if isinstance(resource, dict) else None
            rid = found or (str(given) if given else new_resource_id())
            res, _ = s.prepare(resource, region=region, lenient=lenient, rtype=rtype, rid=rid)
            return Pending(res, "PUT")
        if method == "PATCH" and len(parts) == 2:
            current = json.loads(s.read(rtype, parts[1]))
            from aiguillage.fhir.patch import fhirpath_patch

            res, _ = s.prepare(fhirpath_patch(current, resource), region=None, lenient=lenient, rtype=rtype,
                               rid=parts[1])
            return Pending(res, "PATCH", expected)
        raise E.FhirInputError(f"entry {n}: {method} {url} is not supported in a Bundle", E.BUNDLE,
                               [E.issue(E.BUNDLE, f"{method} {url} is not supported",
                                        f"Bundle.entry[{n}].request")])

    def transaction(self, entries: list[Any], region: str | None, lenient: bool) -> JSONObj:
        mapping: dict[str, str] = {}
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            full = str(entry.get("fullUrl", ""))
            req = entry.get("request") or {}
            rtype = str(req.get("url", "")).split("?")[0].split("/")[0]
            if full.startswith("urn:uuid:") and str(req.get("method", "")).upper() == "POST" and rtype:
                mapping[full] = f"{rtype}/{new_resource_id()}"
        planned: list[Pending] = []
        issues: list[Issue] = []
        for n, entry in enumerate(entries):
            entry = _rewrite(entry, mapping)
            rtype = str(((entry or {}).get("request") or {}).get("url", "")).split("?")[0].split("/")[0]
            try:
                planned.append(self._plan(n, entry, mapping, region, lenient))
            except EngineError as exc:
                found = exc.issues or [Issue("error", exc.code, exc.message)]
                issues.extend(_relocate(i, n, rtype) for i in found)
        errors = [i for i in issues if i.severity in ("error", "fatal")]
        if errors:
            raise E.FhirInputError(f"transaction rejected: {len(errors)} error(s); nothing was written",
                                   errors[0].code, issues)
        written = self.service._write(planned)  # one database transaction: all or nothing
        return response_bundle("transaction", [_entry_response(w) for w in written])

    def batch(self, entries: list[Any], region: str | None, lenient: bool) -> JSONObj:
        out: list[JSONObj] = []
        for n, entry in enumerate(entries):
            try:
                pending = self._plan(n, entry, {}, region, lenient)
                out.append(_entry_response(self.service._write([pending])[0]))
            except EngineError as exc:
                found = exc.issues or [Issue("error", exc.code, exc.message)]
                out.append({"response": {"status": str(exc.http_status),
                                         "outcome": outcome(found)}})
        return response_bundle("batch", out)
