"""Merge the local answer and the peers' answers into one ordered, de-duplicated set, and cut pages.

Rules (the CapabilityStatement repeats them):

- Order: local matches first, then each peer's in configured order, each in the order its server
  gave; with ``_sort`` the merged set is re-sorted (stable) on ``_id`` or ``meta.lastUpdated``.
- Duplicates: a match sharing an identifier ``system|value`` (or its fullUrl) with a match already
  kept is dropped, so the local copy wins, then the first peer in configured order.
- Includes keep ``search.mode=include`` and travel with the matches that need them: an included
  resource goes on every page holding a match it is linked to within the same source (the match
  references it, it references the match, or it is referenced by an include already linked); an
  include linked to no kept match of its source goes with that source's first kept match, and is
  dropped only when the source kept no match at all.
- Every entry carries ``search.extension`` :data:`EXT_SOURCE_REGION` (valueCode: the TRE_R30 region
  of the instance it came from).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiguillage.fhir.ror import JSONObj

EXT_SOURCE_REGION = "urn:aiguillage:fhir:StructureDefinition:ror-source-region"
_REF_RE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


@dataclass
class Entry:
    full_url: str
    rtype: str
    rid: str
    text: str | None  # resource JSON text, emitted as is (None: dumped from ``resource`` when a page needs it)
    region: str | None
    refs: frozenset[str]  # "Type/id" this resource references
    identifiers: frozenset[str]  # "system|value"
    last_updated: str
    resource: JSONObj | None = None

    def json_text(self) -> str:
        if self.text is None:
            self.text = json.dumps(self.resource, ensure_ascii=False, separators=(",", ":"))
            self.resource = None
        return self.text

    @property
    def key(self) -> str:
        return f"{self.rtype}/{self.rid}"


@dataclass
class Source:
    name: str
    matches: list[Entry] = field(default_factory=list)
    includes: list[Entry] = field(default_factory=list)


@dataclass
class Merged:
    matches: list[Entry] = field(default_factory=list)
    includes: list[Entry] = field(default_factory=list)
    attached: list[tuple[int, ...]] = field(default_factory=list)  # include indices per match
    duplicates: int = 0


def _walk_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                m = _REF_RE.search(v)
                if m:
                    yield f"{m.group(1)}/{m.group(2)}"
            elif isinstance(v, dict | list):
                yield from _walk_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk_refs(v)


def make_entry(resource: JSONObj, full_url: str, region: str | None, text: str | None = None) -> Entry:
    """An entry from a parsed resource; ``text`` is its JSON text when already at hand."""
    idents = frozenset(
        f"{i.get('system', '')}|{i['value']}" for i in resource.get("identifier") or []
        if isinstance(i, dict) and isinstance(i.get("value"), str) and i["value"]
    ) if isinstance(resource.get("identifier"), list) else frozenset()
    meta = resource.get("meta") if isinstance(resource.get("meta"), dict) else {}
    return Entry(
        full_url=full_url, rtype=str(resource.get("resourceType", "")), rid=str(resource.get("id", "")),
        text=text, resource=resource if text is None else None, region=region,
        refs=frozenset(_walk_refs({k: v for k, v in resource.items() if k != "contained"})),
        identifiers=idents, last_updated=str((meta or {}).get("lastUpdated", "")),
    )


def _links(src: Source) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    by_key: dict[str, list[int]] = {}
    referencing: dict[str, list[int]] = {}
    for i, inc in enumerate(src.includes):
        by_key.setdefault(inc.key, []).append(i)
        for ref in inc.refs:
            referencing.setdefault(ref, []).append(i)
    return by_key, referencing


def _reach(match: Entry, src: Source, by_key: dict[str, list[int]], referencing: dict[str, list[int]]) -> list[int]:
    seen: set[int] = set()
    frontier = [i for ref in match.refs for i in by_key.get(ref, [])] + referencing.get(match.key, [])
    out: list[int] = []
    while frontier:
        i = frontier.pop(0)
        if i in seen:
            continue
        seen.add(i)
        out.append(i)
        frontier.extend(j for ref in src.includes[i].refs for j in by_key.get(ref, []) if j not in seen)
    return out


def merge(sources: list[Source], sort: str = "") -> Merged:
    out = Merged()
    seen_ids: set[str] = set()
    seen_urls: set[str] = set()
    kept: list[tuple[int, Entry]] = []
    for si, src in enumerate(sources):
        for e in src.matches:
            if e.full_url in seen_urls or e.identifiers & seen_ids:
                out.duplicates += 1
                continue
            seen_ids |= e.identifiers
            seen_urls.add(e.full_url)
            kept.append((si, e))
    if sort:
        field_name = sort.lstrip("-")
        kept.sort(key=lambda p: p[1].rid if field_name == "_id" else p[1].last_updated, reverse=sort.startswith("-"))
    # includes: global list deduplicated by fullUrl, attached to the matches that need them
    global_idx: dict[tuple[int, int], int] = {}
    by_url: dict[str, int] = {}
    for si, src in enumerate(sources):
        for li, inc in enumerate(src.includes):
            if inc.full_url in seen_urls:  # already a match
                continue
            gi = by_url.get(inc.full_url)
            if gi is None:
                gi = by_url[inc.full_url] = len(out.includes)
                out.includes.append(inc)
            global_idx[(si, li)] = gi
    links = [_links(src) for src in sources]
    reached: list[set[int]] = [set() for _ in sources]
    first_of_source: dict[int, int] = {}
    for mi, (si, e) in enumerate(kept):
        first_of_source.setdefault(si, mi)
        local = _reach(e, sources[si], *links[si])
        reached[si].update(local)
        out.attached.append(tuple(dict.fromkeys(global_idx[(si, li)] for li in local if (si, li) in global_idx)))
    for si, mi in first_of_source.items():
        rest = [global_idx[(si, li)] for li in range(len(sources[si].includes))
                if li not in reached[si] and (si, li) in global_idx]
        if rest:
            out.attached[mi] = tuple(dict.fromkeys([*out.attached[mi], *rest]))
    out.matches = [e for _, e in kept]
    return out


def entry_json(e: Entry, mode: str) -> str:
    search: JSONObj = {"mode": mode}
    if e.region:
        search["extension"] = [{"url": EXT_SOURCE_REGION, "valueCode": e.region}]
    return (f'{{"fullUrl":{json.dumps(e.full_url)},"resource":{e.json_text()},'
            f'"search":{json.dumps(search, separators=(",", ":"))}}}')


def page_entries(merged: Merged, offset: int, count: int) -> list[str]:
    """Entry JSON texts for matches [offset, offset+count) followed by the includes they need."""
    matches = merged.matches[offset:offset + count]
    wanted = dict.fromkeys(i for mi in range(offset, offset + len(matches)) for i in merged.attached[mi])
    return [entry_json(e, "match") for e in matches] + [entry_json(merged.includes[i], "include") for i in wanted]


__all__ = ["EXT_SOURCE_REGION", "Entry", "Merged", "Source", "entry_json", "make_entry", "merge", "page_entries"]
