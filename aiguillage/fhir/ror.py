"""ROR (Répertoire Opérationnel des Ressources) constants and small JSON helpers.

URLs come from the ANS ROR implementation guide (https://interop.esante.gouv.fr/ig/fhir/ror). The
helpers read plain FHIR JSON (``dict``) so that indexing and validation need no model objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiguillage.nomenclatures.systems import nos_url

ROR_BASE = "https://interop.esante.gouv.fr/ig/fhir/ror"
ROR_SD = f"{ROR_BASE}/StructureDefinition"

PROFILES: dict[str, str] = {
    "HealthcareService": f"{ROR_SD}/ror-healthcareservice",
    "Organization": f"{ROR_SD}/ror-organization",
    "Location": f"{ROR_SD}/ror-location",
    "Practitioner": f"{ROR_SD}/ror-practitioner",
    "PractitionerRole": f"{ROR_SD}/ror-practitionerrole",
}
RESOURCE_TYPES: tuple[str, ...] = tuple(PROFILES)

EXT_ACT_TYPE = f"{ROR_SD}/ror-act-type"
EXT_SUPPORTED_CAPACITY = f"{ROR_SD}/ror-location-supported-capacity"
EXT_COMMUNE_COG = f"{ROR_SD}/ror-commune-cog"
EXT_LOCATION_STATUS = f"{ROR_SD}/ror-location-status"
EXT_HS_CONTACT = f"{ROR_SD}/ror-healthcareservice-contact"
EXT_CONTACT_TELECOM = f"{ROR_SD}/ror-healthcareservice-contact-telecom"
EXT_TELECOM_CHANNEL = f"{ROR_SD}/ror-telecom-communication-channel"

# Region of the data source: meta.tag[codeRegion] from JDV_J237-RegionOM-ROR (TRE_R30-RegionOM).
TRE_R30_ID = "TRE_R30-RegionOM"
REGION_SYSTEM = nos_url(TRE_R30_ID)
REGION_HEADER = "X-ROR-Region"
TRE_R13_COMMUNE_URL = nos_url("TRE_R13-CommuneOM")
TRE_R200_CHANNEL_URL = nos_url("TRE_R200-CanalCommunication")

JSONObj = dict[str, Any]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def extensions(node: Any, url: str) -> list[JSONObj]:
    """Extensions of ``node`` whose url is ``url`` (exact) or, for sub-extensions, the short name."""
    if not isinstance(node, dict):
        return []
    return [e for e in as_list(node.get("extension")) if isinstance(e, dict) and e.get("url") == url]


def codings(cc: Any) -> Iterator[tuple[str, str]]:
    """(system, code) pairs of a CodeableConcept, a Coding, or a list of either."""
    for item in as_list(cc):
        if not isinstance(item, dict):
            continue
        if "coding" in item:
            for c in as_list(item.get("coding")):
                if isinstance(c, dict) and isinstance(c.get("code"), str):
                    yield str(c.get("system") or ""), c["code"]
        elif isinstance(item.get("code"), str):
            yield str(item.get("system") or ""), item["code"]


def ext_value_codings(ext: JSONObj) -> Iterator[tuple[str, str]]:
    """Codes carried by an extension's value (CodeableConcept, Coding or code)."""
    if "valueCodeableConcept" in ext:
        yield from codings(ext["valueCodeableConcept"])
    elif "valueCoding" in ext:
        yield from codings(ext["valueCoding"])
    elif isinstance(ext.get("valueCode"), str):
        yield "", ext["valueCode"]


def region_of(resource: JSONObj) -> str | None:
    for tag in as_list((resource.get("meta") or {}).get("tag")):
        if isinstance(tag, dict) and tag.get("system") == REGION_SYSTEM and isinstance(tag.get("code"), str):
            return str(tag["code"])
    return None


def set_region(resource: JSONObj, region: str) -> None:
    meta = resource.setdefault("meta", {})
    tags = [t for t in as_list(meta.get("tag")) if not (isinstance(t, dict) and t.get("system") == REGION_SYSTEM)]
    tags.append({"system": REGION_SYSTEM, "code": region})
    meta["tag"] = tags
