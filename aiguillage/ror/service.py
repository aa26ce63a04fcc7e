"""The ROR exposure service: intake (create/update/patch/delete/bulk), read, history, search, export.

Routes call these synchronous methods in a worker thread. A federation layer (``_federate``) calls
:meth:`RorService.search` with a parsed :class:`SearchRequest` and merges the returned
:class:`SearchResult` with its peers' answers; nothing here knows about peers.

Local codes: ``translate`` is the hook where ``aiguillage.mappings`` will translate a source's local
codes into national ones before validation (returning issues; an unmapped code will put the
message in HELD). Until it is wired, resources must carry national codes.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from aiguillage.errors import ConflictError, Issue, NotFoundError
from aiguillage.fhir import errors as E
from aiguillage.fhir.patch import fhirpath_patch, json_patch
from aiguillage.fhir.query import SearchRequest
from aiguillage.fhir.ror import RESOURCE_TYPES, JSONObj, region_of, set_region
from aiguillage.fhir.validate import RorValidator
from aiguillage.nomenclatures.registry import Registry
from aiguillage.ror import repository as repo
from aiguillage.ror import search as S
from aiguillage.ror import tables as T
from aiguillage.ror.repository import Pending, Written

log = logging.getLogger(__name__)

Translator = Callable[[JSONObj], list[Issue]]
_ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_REGION_RE = re.compile(r"^[0-9A-Z]{2,3}$")


class Gone(NotFoundError):
    def __init__(self, message: str) -> None:
        super().__init__(message, "FHIR-0410")
        self.http_status = 410


def new_resource_id() -> str:
    return uuid.uuid4().hex


class RorService:
    def __init__(self, db: Engine, registry: Callable[[], Registry], translate: Translator | None = None) -> None:
        self.db = db
        self._registry = registry
        self._validator: RorValidator | None = None
        self.translate = translate  # hook for aiguillage.mappings (local -> national codes)

    @property
    def validator(self) -> RorValidator:
        if self._validator is None:
            self._validator = RorValidator(self._registry())
        return self._validator

    # --- preparation (validation, region) --------------------------------------------------------

    def prepare(
        self, resource: Any, *, region: str | None = None, lenient: bool = False, rtype: str | None = None,
        rid: str | None = None, structure: bool = True,
    ) -> tuple[JSONObj, list[Issue]]:
        """Check and normalise one resource; raises :class:`FhirInputError` with every error issue."""
        if not isinstance(resource, dict):
            raise E.FhirInputError("the body must be a FHIR resource (JSON object)", E.INVALID_JSON)
        res = copy.deepcopy(resource)
        kind = res.get("resourceType")
        issues: list[Issue] = []
        if rtype is not None and kind != rtype:
            issues.append(E.issue(E.WRONG_TYPE, f"resourceType {kind!r} does not match the URL ({rtype})",
                                  "resourceType"))
        if rid is not None:
            if res.get("id") not in (None, rid):
                msg = f"id {res.get('id')!r} does not match the URL ({rid})"
                issues.append(E.issue(E.WRONG_TYPE, msg, f"{kind}.id"))
            res["id"] = rid
        if not isinstance(res.get("id"), str) or not _ID_RE.match(res["id"]):
            issues.append(E.issue(E.STRUCTURE, "id must be 1-64 characters [A-Za-z0-9-.]", f"{kind}.id"))
        issues.extend(self._region(res, region))
        if self.translate is not None:
            issues.extend(self.translate(res))
        issues.extend(self.validator.validate(res, lenient=lenient, structure=structure))
        errors = [i for i in issues if i.severity in ("error", "fatal")]
        if errors:
            raise E.FhirInputError(f"{kind} rejected: {len(errors)} error(s)", errors[0].code, issues, 422
                                   if any(i.code in (E.PROFILE, E.CODE) for i in errors) else 400)
        return res, issues

    def _region(self, res: JSONObj, header: str | None) -> list[Issue]:
        body = region_of(res)
        kind = res.get("resourceType")
        if header is not None and not _REGION_RE.match(header):
            return [E.issue(E.REGION, f"{header!r} is not a TRE_R30 region code", "X-ROR-Region")]
        if body is not None and header is not None and body != header:
            return [E.issue(E.REGION, f"meta.tag region {body} differs from X-ROR-Region {header}", f"{kind}.meta.tag")]
        if body is None and header is None:
            return [E.issue(E.REGION, "the source region is required: meta.tag (TRE_R30-RegionOM) or the "
                            "X-ROR-Region header", f"{kind}.meta.tag")]
        if body is None and header is not None:
            set_region(res, header)
        return []

    # --- writes ---------------------------------------------------------------------------------

    def _write(self, items: Sequence[Pending]) -> list[Written]:
        with self.db.begin() as conn:
            return repo.write_many(conn, items)

    def create(self, resource: Any, *, region: str | None = None, lenient: bool = False,
               rtype: str | None = None) -> tuple[Written, list[Issue]]:
        body = dict(resource) if isinstance(resource, dict) else resource
        if isinstance(body, dict):
            body["id"] = new_resource_id()
        res, issues = self.prepare(body, region=region, lenient=lenient, rtype=rtype)
        return self._write([Pending(res, "POST")])[0], issues

    def update(self, rtype: str, rid: str, resource: Any, *, region: str | None = None, lenient: bool = False,
               if_match: int | None = None) -> tuple[Written, list[Issue]]:
        res, issues = self.prepare(resource, region=region, lenient=lenient, rtype=rtype, rid=rid)
        return self._write([Pending(res, "PUT", if_match)])[0], issues

    def resolve_identifier(self, rtype: str, identifier: str) -> str | None:
        system, sep, value = identifier.partition("|")
        with self.db.connect() as conn:
            ids = repo.find_by_identifier(conn, rtype, system if sep else None, value if sep else identifier)
        if len(ids) > 1:
            raise E.FhirInputError(f"identifier matches {len(ids)} {rtype} resources", "FHIR-0412", http_status=412)
        return ids[0] if ids else None

    def conditional_update(self, rtype: str, identifier: str, resource: Any, *, region: str | None = None,
                           lenient: bool = False) -> tuple[Written, list[Issue]]:
        found = self.resolve_identifier(rtype, identifier)
        rid = found or (resource.get("id") if isinstance(resource, dict) and resource.get("id") else new_resource_id())
        return self.update(rtype, str(rid), resource, region=region, lenient=lenient)

    def patch(self, rtype: str, rid: str, body: Any, content_type: str, *, lenient: bool = False,
              if_match: int | None = None) -> tuple[Written, list[Issue]]:
        current = json.loads(self.read(rtype, rid))
        patched = json_patch(current, body) if "json-patch" in content_type else fhirpath_patch(current, body)
        return self.update(rtype, rid, patched, lenient=lenient, if_match=if_match)

    def delete(self, rtype: str, rid: str) -> Written | None:
        with self.db.begin() as conn:
            row = repo.read(conn, rtype, rid)
            if row is None or row.deleted:
                return None
            return repo.write_many(conn, [Pending(json.loads(row.json), "DELETE")])[0]

    def load(self, resources: Sequence[JSONObj], *, validate: str = "full", lenient: bool = False,
             region: str | None = None) -> list[Written]:
        """Bulk create-or-update in one transaction. ``validate``: full | ror (no R4B model) | none."""
        items = []
        for r in resources:
            if validate == "none":
                items.append(Pending(copy.deepcopy(r), "PUT"))
            else:
                res, _ = self.prepare(r, region=region, lenient=lenient, structure=validate == "full")
                items.append(Pending(res, "PUT"))
        return self._write(items)

    # --- reads ----------------------------------------------------------------------------------

    def read(self, rtype: str, rid: str) -> str:
        self._check_type(rtype)
        with self.db.connect() as conn:
            row = repo.read(conn, rtype, rid)
        if row is None:
            raise NotFoundError(f"{rtype}/{rid} not found", "FHIR-0404")
        if row.deleted:
            raise Gone(f"{rtype}/{rid} was deleted")
        return str(row.json)

    def vread(self, rtype: str, rid: str, version: str) -> str:
        self._check_type(rtype)
        if not version.isdigit():
            raise NotFoundError(f"{rtype}/{rid}/_history/{version} not found", "FHIR-0404")
        with self.db.connect() as conn:
            row = repo.vread(conn, rtype, rid, int(version))
        if row is None:
            raise NotFoundError(f"{rtype}/{rid}/_history/{version} not found", "FHIR-0404")
        if row.deleted:
            raise Gone(f"{rtype}/{rid} version {version} is a deletion")
        return str(row.json)

    def history(self, rtype: str, rid: str) -> list[tuple[str, str, str, int, bool, str]]:
        self._check_type(rtype)
        with self.db.connect() as conn:
            rows = repo.history_of(conn, rtype, rid)
        if not rows:
            raise NotFoundError(f"{rtype}/{rid} not found", "FHIR-0404")
        return [(rtype, rid, r.json, r.version_id, bool(r.deleted), r.method) for r in rows]

    def search(self, req: SearchRequest) -> S.SearchResult:
        with self.db.connect() as conn:
            return S.run(conn, req)

    def export(self, types: Sequence[str], since: datetime | None = None, region: str | None = None,
               batch: int = 1000) -> Iterator[str]:
        """ndjson lines (current, non-deleted versions), type by type, in pk order."""
        r = T.resources
        for rtype in types:
            self._check_type(rtype)
            last = 0
            while True:
                q = select(r.c.pk, r.c.json).where(r.c.res_type == rtype, r.c.deleted.is_(False), r.c.pk > last)
                if since is not None:
                    q = q.where(r.c.last_updated >= since)
                if region is not None:
                    q = q.where(r.c.region == region)
                with self.db.connect() as conn:
                    rows = conn.execute(q.order_by(r.c.pk).limit(batch)).all()
                for row in rows:
                    yield row.json + "\n"
                if len(rows) < batch:
                    break
                last = rows[-1].pk

    @staticmethod
    def _check_type(rtype: str) -> None:
        if rtype not in RESOURCE_TYPES:
            raise NotFoundError(f"resource type {rtype} is not served here", "FHIR-0404")


__all__ = ["ConflictError", "Gone", "RorService", "new_resource_id"]
