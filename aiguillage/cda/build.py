"""Build a minimal CI-SIS CDA R2 level 1 (N1) document wrapping a PDF (IHE XDS-SD).

The document carries what the CI-SIS « structuration minimale » requires: realmCode FR, typeId,
the three N1 templateIds, id/setId/versionNumber, a JDV_J07 type code, title, effectiveTime,
confidentiality, language, recordTarget with INS and its traits, author, custodian,
legalAuthenticator, documentationOf/serviceEvent, componentOf/encompassingEncounter and the
base64 PDF in nonXMLBody. Values are placed through lxml, so they are always escaped.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from lxml import etree

from aiguillage.cda import oids as O
from aiguillage.cda.codes import BUILD_BAD_PARAMS, BUILD_NOT_PDF
from aiguillage.cda.header import InstanceId
from aiguillage.cda.hl7time import format_ts
from aiguillage.errors import InputError

_H = f"{{{O.HL7_NS}}}"


@dataclass(frozen=True)
class Person:
    """A professional: national id (RPPS, root 1.2.250.1.71.4.2.1) and name."""

    id_extension: str
    family: str
    given: str
    id_root: str = O.IDNPS


@dataclass(frozen=True)
class Organization:
    id_extension: str  # e.g. "1" + FINESS for root 1.2.250.1.71.4.2.2
    name: str
    id_root: str = O.IDNST


@dataclass(frozen=True)
class N1Params:
    """Header values of an N1 document; ``effective_time`` must be timezone-aware."""

    type_code: str
    type_display: str
    title: str
    effective_time: datetime
    patient_ins: str
    patient_birth_family: str
    patient_birth_given: str
    patient_birth_date: date
    patient_gender: str  # "M" | "F" | "U"
    author: Person
    organization: Organization
    type_code_system: str = O.LOINC
    ins_oid: str = "1.2.250.1.213.1.4.8"
    patient_ipp: InstanceId | None = None
    document_id: InstanceId = field(default_factory=lambda: InstanceId(str(uuid.uuid4()).upper()))
    set_id: InstanceId = field(default_factory=lambda: InstanceId(str(uuid.uuid4()).upper()))
    version_number: int = 1
    replaces: InstanceId | None = None
    confidentiality: str = "N"
    language: str = "fr-FR"
    stay_id: InstanceId | None = None
    encounter_start: datetime | None = None
    encounter_end: datetime | None = None
    facility_code: tuple[str, str, str] = ("SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé")
    legal_authenticator: Person | None = None  # defaults to the author


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, _H + tag, {k: v for k, v in attrs.items() if v is not None})


def _ii(parent: etree._Element, tag: str, ii: InstanceId) -> etree._Element:
    attrs = {"root": ii.root or ""}
    if ii.extension:
        attrs["extension"] = ii.extension
    return _sub(parent, tag, **attrs)


def _name(parent: etree._Element, family: str, given: str, qualifier: str | None = None) -> None:
    name = _sub(parent, "name")
    fam = _sub(name, "family", **({"qualifier": qualifier} if qualifier else {}))
    fam.text = family
    giv = _sub(name, "given", **({"qualifier": qualifier} if qualifier else {}))
    giv.text = given


def _person_entity(parent: etree._Element, tag: str, person: Person, org: Organization | None) -> None:
    entity = _sub(parent, tag)
    _sub(entity, "id", root=person.id_root, extension=person.id_extension)
    assigned = _sub(entity, "assignedPerson")
    _name(assigned, person.family, person.given)
    if org is not None:
        rep = _sub(entity, "representedOrganization")
        _sub(rep, "id", root=org.id_root, extension=org.id_extension)
        _sub(rep, "name").text = org.name


def _check(pdf: bytes, p: N1Params) -> None:
    if not pdf.startswith(b"%PDF-"):
        raise InputError("the content to wrap is not a PDF (no %PDF- header)", BUILD_NOT_PDF)
    if p.effective_time.utcoffset() is None:
        raise InputError("effective_time must be timezone-aware", BUILD_BAD_PARAMS)
    if p.version_number < 1 or (p.version_number > 1 and p.replaces is None):
        raise InputError("version_number > 1 requires the replaced document id", BUILD_BAD_PARAMS)
    if p.patient_gender not in ("M", "F", "U"):
        raise InputError("patient_gender must be M, F or U", BUILD_BAD_PARAMS)


def wrap_pdf_n1(pdf: bytes, header: N1Params) -> bytes:
    """Return the UTF-8 bytes of a CDA R2 N1 document wrapping ``pdf`` (InputError CDA-06xx if unusable)."""
    p = header
    _check(pdf, p)
    now = format_ts(p.effective_time)
    doc = etree.Element(_H + "ClinicalDocument", nsmap={None: O.HL7_NS, "xsi": O.XSI_NS})
    _sub(doc, "realmCode", code="FR")
    _sub(doc, "typeId", root=O.TYPE_ID_ROOT, extension=O.TYPE_ID_EXTENSION)
    for tpl in (O.TPL_HL7_FRANCE, O.TPL_CISIS, O.TPL_XDS_SD):
        _sub(doc, "templateId", root=tpl)
    _ii(doc, "id", p.document_id)
    _sub(doc, "code", code=p.type_code, displayName=p.type_display, codeSystem=p.type_code_system)
    _sub(doc, "title").text = p.title
    _sub(doc, "effectiveTime", value=now)
    _sub(doc, "confidentialityCode", code=p.confidentiality, codeSystem=O.HL7_CONFIDENTIALITY)
    _sub(doc, "languageCode", code=p.language)
    _ii(doc, "setId", p.set_id)
    _sub(doc, "versionNumber", value=str(p.version_number))

    role = _sub(_sub(doc, "recordTarget"), "patientRole")
    _sub(role, "id", root=p.ins_oid, extension=p.patient_ins)
    if p.patient_ipp is not None:
        _ii(role, "id", p.patient_ipp)
    patient = _sub(role, "patient", classCode="PSN")
    _name(patient, p.patient_birth_family, p.patient_birth_given, "BR")
    _sub(patient, "administrativeGenderCode", code=p.patient_gender, codeSystem="2.16.840.1.113883.5.1")
    _sub(patient, "birthTime", value=p.patient_birth_date.strftime("%Y%m%d"))

    author = _sub(doc, "author")
    _sub(author, "time", value=now)
    _person_entity(author, "assignedAuthor", p.author, p.organization)

    custodian_org = _sub(
        _sub(_sub(doc, "custodian"), "assignedCustodian"), "representedCustodianOrganization"
    )
    _sub(custodian_org, "id", root=p.organization.id_root, extension=p.organization.id_extension)
    _sub(custodian_org, "name").text = p.organization.name

    legal = _sub(doc, "legalAuthenticator")
    _sub(legal, "time", value=now)
    _sub(legal, "signatureCode", code="S")
    _person_entity(legal, "assignedEntity", p.legal_authenticator or p.author, None)

    event = _sub(_sub(doc, "documentationOf"), "serviceEvent")
    _interval(event, p.encounter_start or p.effective_time, p.encounter_end)
    performer = _sub(event, "performer", typeCode="PRF")
    _person_entity(performer, "assignedEntity", p.author, p.organization)

    if p.replaces is not None:
        related = _sub(doc, "relatedDocument", typeCode="RPLC")
        _ii(_sub(related, "parentDocument"), "id", p.replaces)

    encounter = _sub(_sub(doc, "componentOf"), "encompassingEncounter")
    if p.stay_id is not None:
        _ii(encounter, "id", p.stay_id)
    _interval(encounter, p.encounter_start or p.effective_time, p.encounter_end)
    facility = _sub(_sub(encounter, "location"), "healthCareFacility")
    code, system, display = p.facility_code
    _sub(facility, "code", code=code, codeSystem=system, displayName=display)

    text = _sub(
        _sub(_sub(doc, "component"), "nonXMLBody"), "text", mediaType="application/pdf", representation="B64"
    )
    text.text = base64.b64encode(pdf).decode("ascii")
    return bytes(etree.tostring(doc, xml_declaration=True, encoding="UTF-8"))


def _interval(parent: etree._Element, low: datetime, high: datetime | None) -> None:
    et = _sub(parent, "effectiveTime")
    _sub(et, "low", value=format_ts(low))
    if high is not None:
        _sub(et, "high", value=format_ts(high))


__all__ = ["BUILD_BAD_PARAMS", "BUILD_NOT_PDF", "N1Params", "Organization", "Person", "wrap_pdf_n1"]
