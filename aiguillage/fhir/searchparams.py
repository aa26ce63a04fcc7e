"""The one registry of supported search parameters, with the extractors that index them.

Search parsing (:mod:`aiguillage.fhir.query`), the store indexer (:mod:`aiguillage.ror.indexer`) and
the CapabilityStatement (:mod:`aiguillage.fhir.capability`) all read this table, so what the server
says it supports is exactly what it indexes and searches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aiguillage.fhir.ror import (
    EXT_COMMUNE_COG,
    EXT_LOCATION_STATUS,
    EXT_SUPPORTED_CAPACITY,
    JSONObj,
    as_list,
    codings,
    ext_value_codings,
    extensions,
)

Extractor = Callable[[JSONObj], Iterable[Any]]

# Parameters that live on the resource row rather than in index tables.
COMMON = ("_id", "_lastUpdated", "_tag")


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # token | string | reference | date | number | special
    resource: str
    doc: str
    extract: Extractor | None = None
    targets: tuple[str, ...] = ()  # reference parameters: resource types referenced

    @property
    def column(self) -> bool:
        return self.name in COMMON


_REF_RE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def parse_reference(ref: str) -> tuple[str, str] | None:
    """``Organization/1``, ``https://x/fhir/Organization/1`` or ``.../_history/2`` -> (type, id)."""
    m = _REF_RE.search(ref.strip())
    return (m.group(1), m.group(2)) if m else None


# --- extractors ------------------------------------------------------------------------------


def _codes(*fields: str) -> Extractor:
    def get(r: JSONObj) -> Iterator[tuple[str, str]]:
        for f in fields:
            yield from codings(r.get(f))

    return get


def _identifiers(r: JSONObj) -> Iterator[tuple[str, str]]:
    for ident in as_list(r.get("identifier")):
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            yield str(ident.get("system") or ""), ident["value"]


def _strings(*fields: str) -> Extractor:
    def get(r: JSONObj) -> Iterator[str]:
        for f in fields:
            for v in as_list(r.get(f)):
                if isinstance(v, str):
                    yield v

    return get


def _address(field: str) -> Extractor:
    def get(r: JSONObj) -> Iterator[str]:
        for a in as_list(r.get("address")):
            if isinstance(a, dict) and isinstance(a.get(field), str):
                yield a[field]

    return get


def _refs(field: str) -> Extractor:
    def get(r: JSONObj) -> Iterator[tuple[str, str]]:
        for v in as_list(r.get(field)):
            if isinstance(v, dict) and isinstance(v.get("reference"), str):
                parsed = parse_reference(v["reference"])
                if parsed is not None:
                    yield parsed

    return get


def _code(field: str) -> Extractor:
    def get(r: JSONObj) -> Iterator[tuple[str, str]]:
        v = r.get(field)
        if isinstance(v, str):
            yield "", v
        elif isinstance(v, bool):
            yield "", "true" if v else "false"

    return get


def _human_names(r: JSONObj) -> Iterator[str]:
    for n in as_list(r.get("name")):
        if not isinstance(n, dict):
            continue
        for part in (n.get("text"), n.get("family"), *as_list(n.get("given"))):
            if isinstance(part, str):
                yield part


def _family(r: JSONObj) -> Iterator[str]:
    for n in as_list(r.get("name")):
        if isinstance(n, dict) and isinstance(n.get("family"), str):
            yield n["family"]


def _commune(r: JSONObj) -> Iterator[tuple[str, str]]:
    for e in extensions(r, EXT_COMMUNE_COG):
        yield from ext_value_codings(e)


def _location_status(r: JSONObj) -> Iterator[tuple[str, str]]:
    yield from _code("status")(r)
    for e in extensions(r, EXT_LOCATION_STATUS):
        yield from ext_value_codings(e)


def _capacity(sub: str) -> Extractor:
    def get(r: JSONObj) -> Iterator[tuple[str, str]]:
        for cap in extensions(r, EXT_SUPPORTED_CAPACITY):
            for e in extensions(cap, sub):
                yield from ext_value_codings(e)

    return get


def _nb_capacity(r: JSONObj) -> Iterator[float]:
    for cap in extensions(r, EXT_SUPPORTED_CAPACITY):
        for e in extensions(cap, "nbCapacity"):
            v = e.get("valueInteger")
            if isinstance(v, int) and not isinstance(v, bool):
                yield float(v)


def position(r: JSONObj) -> tuple[float, float] | None:
    """(latitude, longitude) of a Location, if both are numbers."""
    pos = r.get("position")
    if not isinstance(pos, dict):
        return None
    lat, lon = pos.get("latitude"), pos.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float) and not isinstance(lat, bool):
        return float(lat), float(lon)
    return None


# --- the registry ----------------------------------------------------------------------------


def _p(resource: str, name: str, type_: str, doc: str, extract: Extractor | None = None,
       targets: tuple[str, ...] = ()) -> SearchParam:
    return SearchParam(name, type_, resource, doc, extract, targets)


def _common(resource: str) -> list[SearchParam]:
    return [
        _p(resource, "_id", "token", "Logical id of the resource"),
        _p(resource, "_lastUpdated", "date", "When the resource version last changed (eq/ge/gt/le/lt)"),
        _p(resource, "_tag", "token", "meta.tag (the ROR region tag among others)",
           lambda r: codings((r.get("meta") or {}).get("tag"))),
    ]


_HS = "HealthcareService"
_ORG = "Organization"
_LOC = "Location"
_PR = "Practitioner"
_PRR = "PractitionerRole"

PARAMS: dict[str, dict[str, SearchParam]] = {
    _HS: {p.name: p for p in [
        *_common(_HS),
        _p(_HS, "identifier", "token", "identifiantOffre", _identifiers),
        _p(_HS, "name", "string", "nomOffre (accent/case-insensitive; :contains, :exact)", _strings("name")),
        _p(_HS, "specialty", "token", "activiteOperationnelle (TRE_R211) and family", _codes("specialty")),
        _p(_HS, "characteristic", "token", "modePriseEnCharge, acteSpecifique and other characteristics",
           _codes("characteristic")),
        _p(_HS, "service-type", "token", "champActivite (TRE_R227)", _codes("type")),
        _p(_HS, "service-category", "token", "typeOffre (TRE_R244)", _codes("category")),
        _p(_HS, "organization", "reference", "providedBy", _refs("providedBy"), (_ORG,)),
        _p(_HS, "location", "reference", "lieu de réalisation", _refs("location"), (_LOC,)),
        _p(_HS, "active", "token", "HealthcareService.active", _code("active")),
    ]},
    _ORG: {p.name: p for p in [
        *_common(_ORG),
        _p(_ORG, "identifier", "token", "FINESS / SIRET / RPPS-rang identifiers", _identifiers),
        _p(_ORG, "name", "string", "raison sociale or alias", _strings("name", "alias")),
        _p(_ORG, "type", "token", "Organization.type slices (statut juridique, catégorie, ...)", _codes("type")),
        _p(_ORG, "partof", "reference", "entité juridique / parent organization", _refs("partOf"), (_ORG,)),
        _p(_ORG, "address-city", "string", "Organization.address.city", _address("city")),
        _p(_ORG, "address-postalcode", "string", "Organization.address.postalCode", _address("postalCode")),
        _p(_ORG, "active", "token", "Organization.active", _code("active")),
    ]},
    _LOC: {p.name: p for p in [
        *_common(_LOC),
        _p(_LOC, "identifier", "token", "Location.identifier", _identifiers),
        _p(_LOC, "name", "string", "Location.name or alias", _strings("name", "alias")),
        _p(_LOC, "type", "token", "fonctionLieu (TRE_R343)", _codes("type")),
        _p(_LOC, "status", "token", "Location.status and ror-location-status", _location_status),
        _p(_LOC, "address-city", "string", "Location.address.city", _address("city")),
        _p(_LOC, "address-postalcode", "string", "Location.address.postalCode", _address("postalCode")),
        _p(_LOC, "commune-cog", "token", "ror-commune-cog (TRE_R13)", _commune),
        _p(_LOC, "capacity-status", "token", "ror-location-supported-capacity.capacityStatus (TRE_R330)",
           _capacity("capacityStatus")),
        _p(_LOC, "capacity-type", "token", "ror-location-supported-capacity.capacityType (TRE_R329)",
           _capacity("capacityType")),
        _p(_LOC, "temporality-capacity", "token", "ror-location-supported-capacity.temporalityCapacity",
           _capacity("temporalityCapacity")),
        _p(_LOC, "nb-capacity", "number", "ror-location-supported-capacity.nbCapacity", _nb_capacity),
        _p(_LOC, "organization", "reference", "managingOrganization", _refs("managingOrganization"), (_ORG,)),
        _p(_LOC, "partof", "reference", "Location.partOf", _refs("partOf"), (_LOC,)),
        _p(_LOC, "near", "special", "latitude|longitude|distance|km (default 20 km)"),
    ]},
    _PR: {p.name: p for p in [
        *_common(_PR),
        _p(_PR, "identifier", "token", "RPPS / ADELI identifiers", _identifiers),
        _p(_PR, "name", "string", "any part of the name", _human_names),
        _p(_PR, "family", "string", "family name", _family),
    ]},
    _PRR: {p.name: p for p in [
        *_common(_PRR),
        _p(_PRR, "identifier", "token", "PractitionerRole.identifier", _identifiers),
        _p(_PRR, "practitioner", "reference", "PractitionerRole.practitioner", _refs("practitioner"), (_PR,)),
        _p(_PRR, "organization", "reference", "PractitionerRole.organization", _refs("organization"), (_ORG,)),
        _p(_PRR, "service", "reference", "PractitionerRole.healthcareService", _refs("healthcareService"), (_HS,)),
        _p(_PRR, "location", "reference", "PractitionerRole.location", _refs("location"), (_LOC,)),
        _p(_PRR, "role", "token", "profession / rôle", _codes("code")),
        _p(_PRR, "specialty", "token", "savoir-faire", _codes("specialty")),
    ]},
}

# _include / _revinclude the server answers (source type, parameter).
INCLUDES: dict[str, tuple[str, ...]] = {
    t: tuple(n for n, p in ps.items() if p.type == "reference") for t, ps in PARAMS.items()
}

SORTABLE = ("_id", "_lastUpdated", "name")  # name: folded (accent/case-insensitive), first name value


def param(resource_type: str, name: str) -> SearchParam | None:
    return PARAMS.get(resource_type, {}).get(name)


def chains(resource_type: str) -> Iterator[tuple[SearchParam, SearchParam]]:
    """Every (reference parameter, target parameter) chain, e.g. location.address-city."""
    for ref in PARAMS.get(resource_type, {}).values():
        if ref.type != "reference":
            continue
        for target in ref.targets:
            for tp in PARAMS[target].values():
                yield ref, tp
