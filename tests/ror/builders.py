"""Builders for ROR test resources with known search answers (national codes from the built-in
curated nomenclatures: TRE_R211 022/063/064, TRE_R213 28/39/40, TRE_R210 0909-0911, TRE_R227 01-05)."""

from __future__ import annotations

from typing import Any

from aiguillage.fhir.ror import (
    EXT_ACT_TYPE,
    EXT_COMMUNE_COG,
    EXT_SUPPORTED_CAPACITY,
    REGION_SYSTEM,
    TRE_R13_COMMUNE_URL,
)
from aiguillage.nomenclatures import systems as S


def cc(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def meta(region: str) -> dict[str, Any]:
    return {"tag": [{"system": REGION_SYSTEM, "code": region}]}


def org(oid: str, name: str, partof: str | None = None, region: str = "24") -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "Organization", "id": oid, "meta": meta(region),
                         "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.2", "value": f"F{oid}"}],
                         "name": name}
    if partof:
        r["partOf"] = {"reference": f"Organization/{partof}"}
    return r


def capacity(status: str, nb: int) -> dict[str, Any]:
    return {"url": EXT_SUPPORTED_CAPACITY, "extension": [
        {"url": "capacityType", "valueCodeableConcept": cc(S.TRE_R329_URL, "01")},
        {"url": "capacityStatus", "valueCodeableConcept": cc(S.TRE_R330_URL, status)},
        {"url": "temporalityCapacity", "valueCodeableConcept": cc(S.TRE_R331_URL, "01")},
        {"url": "nbCapacity", "valueInteger": nb},
    ]}


def loc(lid: str, city: str, postal: str, cog: str, lat: float, lon: float, status: str | None = None,
        org_id: str | None = None, region: str = "24") -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "Location", "id": lid, "meta": meta(region),
                         "extension": [{"url": EXT_COMMUNE_COG, "valueCodeableConcept": cc(TRE_R13_COMMUNE_URL, cog)}],
                         "name": f"Site {city}", "address": {"city": city, "postalCode": postal},
                         "position": {"latitude": lat, "longitude": lon}}
    if status:
        r["extension"].append(capacity(status, 10))
    if org_id:
        r["managingOrganization"] = {"reference": f"Organization/{org_id}"}
    return r


def hs(hid: str, name: str, activity: str, care: str, org_id: str, loc_id: str, act: str | None = None,
       region: str = "24") -> dict[str, Any]:
    chars = [cc(S.TRE_R213_URL, care)]
    if act:
        chars.append({**cc(S.TRE_R210_URL, act), "extension": [{"url": EXT_ACT_TYPE, "valueCode": "specificAct"}]})
    return {"resourceType": "HealthcareService", "id": hid, "meta": meta(region),
            "identifier": [{"system": "urn:ror:offre", "value": f"{region}/{hid}"}],
            "providedBy": {"reference": f"Organization/{org_id}"},
            "type": [cc(S.TRE_R227_URL, "01")], "specialty": [cc(S.TRE_R211_URL, activity)],
            "location": [{"reference": f"Location/{loc_id}"}], "name": name, "characteristic": chars}


def role(rid: str, service: str) -> dict[str, Any]:
    return {"resourceType": "PractitionerRole", "id": rid, "meta": meta("24"),
            "healthcareService": [{"reference": f"HealthcareService/{service}"}]}


def dataset() -> list[dict[str, Any]]:
    """EJ1 <- ET1, ET2 ; EJ2 <- ET3. Locations in Tours (2, ~3 km apart), Orléans, Blois."""
    return [
        org("ej1", "CHU de Tours"), org("et1", "Hôpital Bretonneau", "ej1"), org("et2", "Hôpital Trousseau", "ej1"),
        org("ej2", "CHR d'Orléans"), org("et3", "Hôpital de la Source", "ej2"),
        loc("l-tours1", "Tours", "37000", "37261", 47.3941, 0.6848, "02", "et1"),
        loc("l-tours2", "Tours", "37170", "37261", 47.3700, 0.6990, "03", "et2"),
        loc("l-orleans", "Orléans", "45100", "45234", 47.8380, 1.9390, "02", "et3"),
        loc("l-blois", "Blois", "41000", "41018", 47.5861, 1.3359),
        hs("hs1", "Équipe opérationnelle d'hygiène", "063", "28", "et1", "l-tours1", "0909"),
        hs("hs2", "Hygiène hospitalière Trousseau", "063", "39", "et2", "l-tours2"),
        hs("hs3", "EOH Orléans", "063", "28", "et3", "l-orleans", "0911"),
        hs("hs4", "Chirurgie gynécologique", "022", "28", "et1", "l-tours1"),
        hs("hs5", "Antibiothérapie Blois", "064", "40", "ej2", "l-blois"),
        role("pr1", "hs1"), role("pr2", "hs3"),
    ]
