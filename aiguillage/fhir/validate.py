"""Validate a ROR resource: the R4B model, then the ROR profile rules that matter for search.

Returns every issue (never only the first), each with a FHIRPath ``location``. Codes are checked
against the nomenclature registry: unknown code in a complete table -> error; code absent from a
curated subset (``content = fragment``) -> warning (it cannot be checked, it is not wrong).
With ``lenient`` the ROR profile errors become warnings (the R4B structure must still be valid):
the IG's own HealthcareService example has no careMode characteristic, for instance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import ValidationError

from aiguillage.errors import Issue
from aiguillage.fhir import errors as E
from aiguillage.fhir.ror import (
    EXT_ACT_TYPE,
    EXT_CONTACT_TELECOM,
    EXT_HS_CONTACT,
    EXT_SUPPORTED_CAPACITY,
    EXT_TELECOM_CHANNEL,
    RESOURCE_TYPES,
    JSONObj,
    as_list,
    codings,
    ext_value_codings,
    extensions,
)
from aiguillage.nomenclatures import systems as S
from aiguillage.nomenclatures.registry import Registry

ACT_TYPES = ("specificAct", "outsideOfficeAct")
CAPACITY_REQUIRED = ("capacityType", "capacityStatus", "temporalityCapacity", "nbCapacity")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
MSS_DOMAIN = "mssante.fr"


def fhirpath(rtype: str, loc: tuple[int | str, ...]) -> str:
    out = rtype
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def structure_issues(resource: JSONObj) -> list[Issue]:
    """The R4B model check, its errors translated to FHIRPath expressions."""
    from fhir.resources.R4B import get_fhir_model_class

    rtype = resource.get("resourceType")
    if rtype not in RESOURCE_TYPES:
        return [E.issue(E.WRONG_TYPE, f"resourceType {rtype!r} is not a ROR resource here "
                        f"({', '.join(RESOURCE_TYPES)})", "resourceType")]
    try:
        get_fhir_model_class(str(rtype)).model_validate(resource)
    except ValidationError as exc:
        return [
            E.issue(E.STRUCTURE, str(e.get("msg", "invalid")),
                    fhirpath(str(rtype), tuple(p for p in e.get("loc", ()) if p != "resourceType")))
            for e in exc.errors()
        ]
    except (ValueError, TypeError) as exc:  # fhir.resources raises plain errors for some checks
        return [E.issue(E.STRUCTURE, str(exc)[:300], str(rtype))]
    return []


class RorValidator:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def validate(self, resource: JSONObj, *, lenient: bool = False, structure: bool = True) -> list[Issue]:
        issues = structure_issues(resource) if structure else []
        if any(i.code == E.WRONG_TYPE for i in issues):
            return issues
        rtype = str(resource.get("resourceType"))
        rules = {"HealthcareService": self._hs, "Organization": self._org, "Location": self._loc}.get(rtype)
        profile = list(rules(resource)) if rules else []
        if lenient:
            profile = [Issue("warning", i.code, i.message, i.location) if i.severity == "error" else i
                       for i in profile]
        return issues + profile

    # --- code checks -----------------------------------------------------------------------------

    def codes(self, cc: object, path: str) -> Iterator[Issue]:
        for idx, (system, code) in enumerate(codings(cc)):
            if not system or system not in self.registry:
                continue
            res = self.registry.validate(system, code)
            if res.valid:
                continue
            loc = f"{path}.coding[{idx}].code" if isinstance(cc, dict) and "coding" in cc else path
            fragment = getattr(self.registry.get(system), "content", "") == "fragment"
            if fragment:
                yield E.issue(E.CODE_UNCHECKED, f"code {code!r} is not in the curated subset of {system}; "
                              "it could not be checked", loc, "warning")
            else:
                yield E.issue(E.CODE, f"code {code!r} is not in {system}", loc)

    def _slices(self, items: list[object], system: str) -> list[int]:
        return [i for i, cc in enumerate(items) if any(s == system for s, _ in codings(cc))]

    # --- HealthcareService -------------------------------------------------------------------------

    def _hs(self, r: JSONObj) -> Iterator[Issue]:
        rt = "HealthcareService"
        if len(as_list(r.get("identifier"))) != 1:
            yield E.issue(E.PROFILE, "identifier (identifiantOffre) is required, exactly once", f"{rt}.identifier")
        specialty = as_list(r.get("specialty"))
        act = self._slices(specialty, S.TRE_R211_URL)
        if len(act) != 1:
            yield E.issue(E.PROFILE, f"specialty[operationalActivity] (TRE_R211) must occur exactly once, "
                          f"found {len(act)}", f"{rt}.specialty")
        for i, cc in enumerate(specialty):
            yield from self.codes(cc, f"{rt}.specialty[{i}]")
        types = as_list(r.get("type"))
        if len(types) != 1 or not self._slices(types, S.TRE_R227_URL):
            yield E.issue(E.PROFILE, "type (champActivite, TRE_R227) must occur exactly once", f"{rt}.type")
        for i, cc in enumerate(types):
            yield from self.codes(cc, f"{rt}.type[{i}]")
        cats = as_list(r.get("category"))
        if len(cats) > 1:
            yield E.issue(E.PROFILE, "category (typeOffre) occurs at most once", f"{rt}.category")
        for i, cc in enumerate(cats):
            yield from self.codes(cc, f"{rt}.category[{i}]")
        chars = as_list(r.get("characteristic"))
        care = self._slices(chars, S.TRE_R213_URL)
        if len(care) != 1:
            yield E.issue(E.PROFILE, f"characteristic[careMode] (TRE_R213) must occur exactly once, "
                          f"found {len(care)}", f"{rt}.characteristic")
        for i, cc in enumerate(chars):
            path = f"{rt}.characteristic[{i}]"
            yield from self.codes(cc, path)
            act_types = [c for e in extensions(cc, EXT_ACT_TYPE) for _, c in ext_value_codings(e)]
            is_act = any(s == S.TRE_R210_URL for s, _ in codings(cc))
            if is_act and (len(act_types) != 1 or act_types[0] not in ACT_TYPES):
                yield E.issue(E.PROFILE, "characteristic[specificAct] (TRE_R210) needs one ror-act-type "
                              "extension (specificAct or outsideOfficeAct)", f"{path}.extension")
            elif not is_act and act_types:
                yield E.issue(E.PROFILE, "ror-act-type is only allowed on TRE_R210 characteristics",
                              f"{path}.extension")
        for i, t in enumerate(as_list(r.get("telecom"))):
            yield from self._mss(t, f"{rt}.telecom[{i}]")
        for i, contact in enumerate(extensions(r, EXT_HS_CONTACT)):
            yield from self._contact(r, contact, i)

    def _mss(self, t: object, path: str) -> Iterator[Issue]:
        value = t.get("value") if isinstance(t, dict) else None
        if not isinstance(value, str) or not _EMAIL.match(value):
            yield E.issue(E.PROFILE, "telecom (boiteLettreMSS) must be an email address", f"{path}.value")
        elif not value.lower().endswith(MSS_DOMAIN):
            yield E.issue(E.PROFILE, f"an MSSanté mailbox belongs to a {MSS_DOMAIN} domain", f"{path}.value")
        if not extensions(t, EXT_TELECOM_CHANNEL):
            yield E.issue(E.PROFILE, "telecom needs the ror-telecom-communication-channel extension",
                          f"{path}.extension")

    def _contact(self, r: JSONObj, contact: JSONObj, n: int) -> Iterator[Issue]:
        idx = as_list(r.get("extension")).index(contact)
        path = f"HealthcareService.extension[{idx}]"
        subs = as_list(contact.get("extension"))
        for j, sub in enumerate(subs):
            if not isinstance(sub, dict):
                continue
            url = sub.get("url")
            if url in ("purposeContact", "function", "functionContact") and "valueCodeableConcept" in sub:
                yield from self.codes(sub["valueCodeableConcept"], f"{path}.extension[{j}].valueCodeableConcept")
            if url == EXT_CONTACT_TELECOM:
                channel = [c for e in extensions(sub, EXT_TELECOM_CHANNEL) for _, c in ext_value_codings(e)]
                addr = [e.get("valueString") for e in extensions(sub, "telecomAddress")]
                if not addr or not isinstance(addr[0], str):
                    yield E.issue(E.PROFILE, "contact telecom needs a telecomAddress", f"{path}.extension[{j}]")
                elif channel == ["3"] and not _EMAIL.match(addr[0]):
                    yield E.issue(E.PROFILE, "an email channel needs an email address",
                                  f"{path}.extension[{j}]")

    # --- Organization / Location -----------------------------------------------------------------

    def _org(self, r: JSONObj) -> Iterator[Issue]:
        if not as_list(r.get("identifier")):
            yield E.issue(E.PROFILE, "an Organization needs at least one identifier", "Organization.identifier")
        for i, cc in enumerate(as_list(r.get("type"))):
            if not list(codings(cc)):
                yield E.issue(E.PROFILE, "each type slice needs a coding", f"Organization.type[{i}]")
            yield from self.codes(cc, f"Organization.type[{i}]")

    def _loc(self, r: JSONObj) -> Iterator[Issue]:
        exts = as_list(r.get("extension"))
        for cap in extensions(r, EXT_SUPPORTED_CAPACITY):
            path = f"Location.extension[{exts.index(cap)}]"
            names = [e.get("url") for e in as_list(cap.get("extension")) if isinstance(e, dict)]
            for req in CAPACITY_REQUIRED:
                if names.count(req) != 1:
                    yield E.issue(E.PROFILE, f"ror-location-supported-capacity needs exactly one {req}",
                                  f"{path}.extension('{req}')")
            for j, sub in enumerate(as_list(cap.get("extension"))):
                if isinstance(sub, dict) and "valueCodeableConcept" in sub:
                    yield from self.codes(sub["valueCodeableConcept"], f"{path}.extension[{j}].valueCodeableConcept")
                if isinstance(sub, dict) and sub.get("url") == "nbCapacity":
                    v = sub.get("valueInteger")
                    if not isinstance(v, int) or v < 0:
                        yield E.issue(E.PROFILE, "nbCapacity is a non-negative integer",
                                      f"{path}.extension[{j}].valueInteger")
