"""Inter-ROR federated search: ``GET /fhir/{type}?…&_federate=true``.

The same query goes to every configured peer (:mod:`aiguillage.ror.peers`) concurrently, without
``_federate``/``_cursor``/``_count``/``_total``/``_summary``, with ``_count=max_per_source``, the
peer's bearer token and the hop header ``X-ROR-Federated: 1``; the local search runs at the same time.
Each peer is bounded by its timeout, so the answer comes within the largest peer timeout plus the
merge. The answers are merged (:mod:`aiguillage.ror.fedmerge`: region per entry, duplicates once,
includes kept) into a snapshot kept in memory for ``cursor_ttl_s``; pages are cut from it, ``next``
links carry ``_cursor=fed-<snapshot>-<offset>`` and ``Bundle.total`` is the merged count.

A peer that times out, refuses the connection, answers non-200, sends invalid JSON or something
that is not a searchset Bundle contributes nothing, and a warning issue naming it goes into an
OperationOutcome entry (``search.mode=outcome``) on every page: never an error for the whole search.
A request that carries the hop header is never federated further: local results plus a warning.

The snapshots live in this process: in a deployment with several API processes a ``next`` link
must reach the process that made it (sticky routing), or it answers RORF-0102.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from aiguillage.fhir import errors as E
from aiguillage.fhir.bundle import now_instant
from aiguillage.fhir.query import SearchRequest
from aiguillage.fhir.ror import region_of
from aiguillage.ror.fedmerge import EXT_SOURCE_REGION, Merged, Source, make_entry, merge, page_entries
from aiguillage.ror.peers import FederationConfig, PeerConfig, PeerReply
from aiguillage.ror.service import RorService

log = logging.getLogger(__name__)

HOP_HEADER = "X-ROR-Federated"
CURSOR_PREFIX = "fed-"
NOT_FORWARDED = frozenset({"_federate", "_cursor", "_count", "_total", "_summary", "_format"})

BAD_FEDERATE = "RORF-0101"
BAD_CURSOR = "RORF-0102"
PEER_TIMEOUT = "RORF-0201"
PEER_UNREACHABLE = "RORF-0202"
PEER_HTTP = "RORF-0203"
PEER_INVALID = "RORF-0204"
PEER_TRUNCATED = "RORF-0205"
PEER_ISSUE = "RORF-0206"
HOP_REFUSED = "RORF-0207"
LOCAL_TRUNCATED = "RORF-0208"


class PeerSearcher(Protocol):
    async def search(self, resource_type: str, items: Sequence[tuple[str, str]],
                     headers: Mapping[str, str] | None = None) -> PeerReply: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class FedIssue:
    """One outcome issue: a stable code, the FHIR issue type, a message naming the peer."""

    code: str
    fhir_code: str
    message: str
    region: str | None = None
    severity: str = "warning"

    def as_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity, "code": self.fhir_code,
            "details": {"coding": [{"system": "urn:aiguillage:error", "code": self.code}], "text": self.message},
            "diagnostics": self.message,
        }
        if self.region:
            issue["extension"] = [{"url": EXT_SOURCE_REGION, "valueCode": self.region}]
        return issue


@dataclass
class Snapshot:
    id: str
    key: tuple[str, tuple[tuple[str, str], ...]]
    merged: Merged
    warnings: list[FedIssue] = field(default_factory=list)
    expires: float = 0.0


class SnapshotCache:
    """Merged result sets by id, expiring after ``ttl_s``, at most ``capacity`` (oldest evicted)."""

    def __init__(self, ttl_s: float, capacity: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.capacity, self._clock = ttl_s, capacity, clock
        self._items: OrderedDict[str, Snapshot] = OrderedDict()

    def put(self, snap: Snapshot) -> None:
        now = self._clock()
        for sid in [s for s, v in self._items.items() if v.expires <= now]:
            del self._items[sid]
        snap.expires = now + self.ttl_s
        self._items[snap.id] = snap
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, sid: str) -> Snapshot | None:
        snap = self._items.get(sid)
        if snap is None or snap.expires <= self._clock():
            self._items.pop(sid, None)
            return None
        return snap

    def __len__(self) -> int:
        return len(self._items)


def _query_key(req: SearchRequest) -> tuple[str, tuple[tuple[str, str], ...]]:
    return req.resource_type, tuple(sorted((k, v) for k, v in req.echo if k not in ("_count", "_total")))


def _bad_cursor(message: str) -> E.FhirInputError:
    return E.FhirInputError(message, BAD_CURSOR, [E.issue(BAD_CURSOR, message, "_cursor")])


class Federation:
    def __init__(self, config: FederationConfig, client_factory: Callable[[PeerConfig], PeerSearcher], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._factory = client_factory
        self._clients: dict[str, PeerSearcher] = {}
        self.cache = SnapshotCache(config.cursor_ttl_s, config.max_snapshots, clock)

    # --- routing -------------------------------------------------------------------------------

    @staticmethod
    def wants(req: SearchRequest) -> bool:
        """True for ``_federate=true`` or a federated cursor; ``_federate=false`` is a local search."""
        if (req.cursor or "").startswith(CURSOR_PREFIX):
            return True
        if req.federate is None or req.federate == "false":
            return False
        if req.federate != "true":
            msg = f"_federate is true or false, not {req.federate!r}"
            raise E.FhirInputError(msg, BAD_FEDERATE, [E.issue(BAD_FEDERATE, msg, "_federate")])
        return True

    def client(self, peer: PeerConfig) -> PeerSearcher:
        if peer.name not in self._clients:
            self._clients[peer.name] = self._factory(peer)
        return self._clients[peer.name]

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for c in clients:
            await c.close()

    # --- the search ----------------------------------------------------------------------------

    async def search(self, svc: RorService, req: SearchRequest, *, base: str, items: Sequence[tuple[str, str]],
                     lenient: bool = False, hop: str | None = None) -> str:
        """One page of the federated search as searchset Bundle JSON text."""
        offset = 0
        if req.cursor:
            snap, offset = self._from_cursor(req)
        else:
            snap = await self.build(svc, req, base=base, items=items, lenient=lenient, hop=hop)
        extra = [FedIssue(E.UNKNOWN_PARAM, "not-supported", f"ignored unknown parameter {k}") for k in req.ignored]
        return self.render(snap, req, base, offset, extra)

    def _from_cursor(self, req: SearchRequest) -> tuple[Snapshot, int]:
        token = req.cursor or ""
        sid, _, off = token.removeprefix(CURSOR_PREFIX).rpartition("-")
        if not token.startswith(CURSOR_PREFIX) or not sid or not off.isdigit():
            raise _bad_cursor("this _cursor does not belong to a federated search")
        snap = self.cache.get(sid)
        if snap is None:
            raise _bad_cursor(f"federated search result expired (kept {self.config.cursor_ttl_s:g} s) or unknown: "
                              "search again")
        if snap.key != _query_key(req):
            raise _bad_cursor("this _cursor belongs to another search")
        return snap, int(off)

    async def build(self, svc: RorService, req: SearchRequest, *, base: str, items: Sequence[tuple[str, str]],
                    lenient: bool = False, hop: str | None = None) -> Snapshot:
        """Run the local search and every peer's concurrently, merge, and keep the snapshot."""
        cap = self.config.max_per_source
        local_req = dataclasses.replace(req, count=cap, cursor=None, total="none", summary=None, federate=None)
        warnings: list[FedIssue] = []
        peers: tuple[PeerConfig, ...] = self.config.peers
        if hop is not None and peers:
            peers = ()
            warnings.append(FedIssue(HOP_REFUSED, "informational",
                                     f"not federated: the request carries {HOP_HEADER} (already federated by a peer)"))
        forward = [(k, v) for k, v in items if k not in NOT_FORWARDED] + [("_count", str(cap))]
        headers = {HOP_HEADER: "1"}
        if lenient:
            headers["Prefer"] = "handling=lenient"
        t0 = time.perf_counter()
        rtype = req.resource_type
        local_task = asyncio.ensure_future(asyncio.to_thread(self._local, svc, local_req, base))
        peer_tasks = [asyncio.ensure_future(self._peer(p, rtype, forward, headers)) for p in peers]
        try:
            local, local_warnings = await local_task
        except BaseException:
            for t in peer_tasks:
                t.cancel()
            raise
        sources, found = [local], [*warnings, *local_warnings]
        for peer_src, peer_warnings in await asyncio.gather(*peer_tasks):
            sources.append(peer_src)
            found.extend(peer_warnings)
        merged = await asyncio.to_thread(merge, sources, req.sort)
        snap = Snapshot(uuid.uuid4().hex, _query_key(req), merged, found)
        log.info("federated search %s: %d peer(s), %d match(es), %d duplicate(s), %d warning(s), %.0f ms",
                 rtype, len(peers), len(merged.matches), merged.duplicates, len(found),
                 (time.perf_counter() - t0) * 1000)
        self.cache.put(snap)
        return snap

    async def _peer(self, peer: PeerConfig, rtype: str, items: list[tuple[str, str]],
                    headers: dict[str, str]) -> tuple[Source, list[FedIssue]]:
        """Ask one peer and decode its answer as soon as it comes (off the event loop)."""
        reply = await self._ask(peer, rtype, items, headers)
        if reply.kind != "ok" or reply.http_status != 200:
            return peer_source(peer, reply, rtype, self.config.max_per_source)
        return await asyncio.to_thread(peer_source, peer, reply, rtype, self.config.max_per_source)

    async def _ask(self, peer: PeerConfig, rtype: str, items: list[tuple[str, str]],
                   headers: dict[str, str]) -> PeerReply:
        t0 = time.perf_counter()
        try:  # the client bounds itself; this guard keeps a misbehaving one from hanging the search
            async with asyncio.timeout(peer.timeout_s + 0.25):
                return await self.client(peer).search(rtype, items, headers)
        except TimeoutError:
            return PeerReply("timeout", None, b"", time.perf_counter() - t0, f"no answer within {peer.timeout_s:g} s")
        except Exception as exc:  # a broken client must not break the search
            log.warning("ror peer %s: client failed (%s)", peer.name, exc.__class__.__name__)
            return PeerReply("transport", None, b"", time.perf_counter() - t0, exc.__class__.__name__)

    def _local(self, svc: RorService, req: SearchRequest, base: str) -> tuple[Source, list[FedIssue]]:
        """The local search and its entries (worker thread)."""
        result = svc.search(req)
        region = self.config.local_region
        src = Source("local")
        for hits, target in ((result.matches, src.matches), (result.included, src.includes)):
            for h in hits:
                res = json.loads(h.json)
                target.append(make_entry(res, f"{base}/{h.res_type}/{h.res_id}", region or region_of(res), h.json))
        warnings = []
        if result.next_cursor:
            warnings.append(FedIssue(LOCAL_TRUNCATED, "incomplete",
                                     f"local results cut at {self.config.max_per_source} matches"))
        return src, warnings

    # --- rendering ------------------------------------------------------------------------------

    def render(self, snap: Snapshot, req: SearchRequest, base: str, offset: int, extra: Sequence[FedIssue] = ()) -> str:
        echo = [*req.echo, ("_federate", "true")]
        total = len(snap.merged.matches)
        count = 0 if req.summary == "count" else req.count
        url = f"{base}/{req.resource_type}?"
        self_q = echo + ([("_cursor", f"{CURSOR_PREFIX}{snap.id}-{offset}")] if offset else [])
        links = [{"relation": "self", "url": url + urlencode(self_q)}]
        if count and offset + count < total:
            nxt = [*echo, ("_cursor", f"{CURSOR_PREFIX}{snap.id}-{offset + count}")]
            links.append({"relation": "next", "url": url + urlencode(nxt)})
        if offset > 0 and count:
            prev = [*echo, ("_cursor", f"{CURSOR_PREFIX}{snap.id}-{max(0, offset - count)}")]
            links.append({"relation": "previous", "url": url + urlencode(prev)})
        head: dict[str, Any] = {"resourceType": "Bundle", "id": uuid.uuid4().hex,
                                "meta": {"lastUpdated": now_instant()}, "type": "searchset"}
        if req.total != "none":
            head["total"] = total
        head["link"] = links
        entries = page_entries(snap.merged, offset, count) if count else []
        issues = [w.as_fhir() for w in [*snap.warnings, *extra]]
        if issues:
            oo = {"resourceType": "OperationOutcome", "issue": issues}
            entries.append('{"resource":' + json.dumps(oo, ensure_ascii=False) + ',"search":{"mode":"outcome"}}')
        head_text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
        return head_text + ',"entry":[' + ",".join(entries) + "]}"

    # --- CapabilityStatement -------------------------------------------------------------------

    def capability_params(self) -> list[dict[str, Any]]:
        c = self.config
        doc = (
            f"_federate=true also searches the {len(c.peers)} configured peer regional ROR(s) concurrently (each "
            f"bounded by its timeout, default {c.timeout_s:g} s) and merges their answers with the local one. "
            f"Each entry carries search.extension {EXT_SOURCE_REGION} (valueCode: TRE_R30 region of the instance "
            "it came from). Duplicates (same identifier system|value, or same fullUrl) appear once: the local "
            "copy first, then the first peer in configured order. Order: local, then peers in configured order "
            "(or _sort on _id/_lastUpdated over the merged set). Paging spans the merged set, kept "
            f"{c.cursor_ttl_s:g} s: next links carry _cursor=fed-…, _count is the page size, Bundle.total the "
            f"merged count; at most {c.max_per_source} matches per source. _include/_revinclude entries keep "
            "search.mode=include. A peer that times out, refuses the connection, answers non-200 or invalid "
            "JSON leaves partial results and a warning issue naming it in an OperationOutcome entry "
            "(search.mode=outcome) on every page. Peers get the query without _federate and with "
            f"{HOP_HEADER}: 1; a request carrying {HOP_HEADER} is answered locally, never federated again."
        )
        return [{"name": "_federate", "type": "token", "documentation": doc}]


def peer_source(peer: PeerConfig, reply: PeerReply, rtype: str, cap: int) -> tuple[Source, list[FedIssue]]:
    """A peer's answer as a merge source, or the warning saying why it contributes nothing."""
    who = f"peer {peer.name} (region {peer.region})"
    src = Source(peer.name)

    def fail(code: str, fhir_code: str, what: str) -> tuple[Source, list[FedIssue]]:
        log.info("ror peer %s: %s", peer.name, code)
        return src, [FedIssue(code, fhir_code, f"{who}: {what}; its results are missing", peer.region)]

    if reply.kind == "timeout":
        return fail(PEER_TIMEOUT, "timeout", f"timed out ({reply.detail})")
    if reply.kind == "refused":
        return fail(PEER_UNREACHABLE, "transient", f"unreachable ({reply.detail})")
    if reply.kind != "ok":
        return fail(PEER_UNREACHABLE, "transient", f"failed: {reply.kind} ({reply.detail})")
    if reply.http_status != 200:
        return fail(PEER_HTTP, "transient", f"answered HTTP {reply.http_status}")
    try:
        bundle = json.loads(reply.body)
    except (ValueError, UnicodeDecodeError):
        return fail(PEER_INVALID, "invalid", "sent invalid JSON")
    if not (isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle" and bundle.get("type") == "searchset"
            and isinstance(bundle.get("entry") or [], list)):
        return fail(PEER_INVALID, "invalid", "did not answer a searchset Bundle")
    warnings: list[FedIssue] = []
    skipped = 0
    for e in bundle.get("entry") or []:
        res = e.get("resource") if isinstance(e, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            skipped += 1
            continue
        search = e.get("search") if isinstance(e.get("search"), dict) else {}
        mode = search.get("mode") or ("match" if res["resourceType"] == rtype else "include")
        if mode == "outcome":
            for i in res.get("issue") or []:
                if isinstance(i, dict):
                    text = str(i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code"))[:300]
                    sev = "information" if i.get("severity") == "information" else "warning"
                    warnings.append(FedIssue(PEER_ISSUE, "informational", f"{who} said: {text}", peer.region, sev))
            continue
        if not isinstance(res.get("id"), str):
            skipped += 1
            continue
        full_url = e.get("fullUrl")
        if not isinstance(full_url, str) or not full_url:
            full_url = f"{peer.base_url}/{res['resourceType']}/{res['id']}"
        entry = make_entry(res, full_url, peer.region)
        if mode == "match" and res["resourceType"] == rtype:
            src.matches.append(entry)
        elif mode == "include":
            src.includes.append(entry)
        else:
            skipped += 1
    if skipped:
        noun = "entry" if skipped == 1 else "entries"
        warnings.append(FedIssue(PEER_INVALID, "invalid", f"{who}: {skipped} unusable {noun} skipped", peer.region))
    if any(isinstance(link, dict) and link.get("relation") == "next" for link in bundle.get("link") or []):
        warnings.append(FedIssue(PEER_TRUNCATED, "incomplete", f"{who}: more than {cap} matches, only the first {cap} "
                                 "are included", peer.region))
    return src, warnings


__all__ = [
    "CURSOR_PREFIX",
    "HOP_HEADER",
    "FedIssue",
    "Federation",
    "PeerSearcher",
    "Snapshot",
    "SnapshotCache",
    "peer_source",
]
