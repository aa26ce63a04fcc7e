"""Typed summary of a CDA R2 header (:class:`CdaHeader`), extracted from a parsed tree.

``to_dict()`` is the full summary (ids included) for API answers; ``log_view()`` is the form
for logs: identifiers only as short hashes or kinds, never names, INS or document bodies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from lxml import etree

from aiguillage.cda.hl7time import parse_ts
from aiguillage.cda.oids import NS, actor_id_kind, patient_id_kind

Level = Literal["N1", "N3"]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class InstanceId:
    """An HL7 II: ``root`` (OID/UUID) and optional ``extension``."""

    root: str | None
    extension: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"root": self.root, "extension": self.extension}

    def key(self) -> str:
        return f"{self.root or ''}^{self.extension or ''}"


@dataclass(frozen=True)
class CodedValue:
    code: str | None
    code_system: str | None
    display_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "codeSystem": self.code_system, "displayName": self.display_name}


@dataclass(frozen=True)
class PatientId:
    """recordTarget/patientRole/id with its kind: NIR, NIA, NIR_TEST, NIR_DEMO, INS_UNKNOWN or IPP."""

    root: str | None
    extension: str | None
    kind: str

    @property
    def is_ins(self) -> bool:
        return self.kind in ("NIR", "NIA", "NIR_TEST", "NIR_DEMO")

    def as_dict(self) -> dict[str, Any]:
        return {"root": self.root, "extension": self.extension, "kind": self.kind}


@dataclass(frozen=True)
class ActorId:
    """A professional or organisation id with its kind (RPPS, ADELI, FINESS, IDNST, LOCAL)."""

    root: str | None
    extension: str | None
    kind: str

    def as_dict(self) -> dict[str, Any]:
        return {"root": self.root, "extension": self.extension, "kind": self.kind}


@dataclass(frozen=True)
class Author:
    ids: list[ActorId]
    time: datetime | None = None
    organization: ActorId | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ids": [i.as_dict() for i in self.ids],
            "time": self.time.isoformat() if self.time else None,
            "organization": self.organization.as_dict() if self.organization else None,
        }


@dataclass(frozen=True)
class Custodian:
    id: ActorId | None
    name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id.as_dict() if self.id else None, "name": self.name}


@dataclass(frozen=True)
class N1Body:
    """nonXMLBody/text: media type, representation and the (still encoded) payload."""

    media_type: str | None
    representation: str | None
    payload_b64: str = field(repr=False)

    def decoded(self) -> bytes:
        """The decoded payload; raises ``ValueError`` when it is not valid base64."""
        compact = "".join(self.payload_b64.split())
        try:
            return base64.b64decode(compact, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"invalid base64: {exc}") from exc


@dataclass
class CdaHeader:
    document_id: InstanceId | None = None
    set_id: InstanceId | None = None
    version_number: int | None = None
    type_code: CodedValue | None = None
    title: str | None = None
    effective_time: datetime | None = None
    effective_time_raw: str | None = None
    confidentiality_code: CodedValue | None = None
    language_code: str | None = None
    template_ids: list[InstanceId] = field(default_factory=list)
    level: Level | None = None
    n1_body: N1Body | None = None
    patient_ids: list[PatientId] = field(default_factory=list)
    authors: list[Author] = field(default_factory=list)
    custodian: Custodian | None = None
    encounter_ids: list[InstanceId] = field(default_factory=list)
    stay_id: InstanceId | None = None
    replaces: InstanceId | None = None  # relatedDocument[@typeCode='RPLC']/parentDocument/id

    @property
    def ins(self) -> PatientId | None:
        return next((p for p in self.patient_ids if p.is_ins), None)

    def to_dict(self) -> dict[str, Any]:
        """Full JSON-ready summary (includes ids: for API answers, never for logs)."""
        body: dict[str, Any] | None = None
        if self.n1_body is not None:
            body = {
                "mediaType": self.n1_body.media_type,
                "representation": self.n1_body.representation,
                "encodedLength": len(self.n1_body.payload_b64),
            }
        return {
            "documentId": self.document_id.as_dict() if self.document_id else None,
            "setId": self.set_id.as_dict() if self.set_id else None,
            "versionNumber": self.version_number,
            "typeCode": self.type_code.as_dict() if self.type_code else None,
            "title": self.title,
            "effectiveTime": self.effective_time.isoformat() if self.effective_time else None,
            "confidentialityCode": self.confidentiality_code.as_dict() if self.confidentiality_code else None,
            "languageCode": self.language_code,
            "templateIds": [t.as_dict() for t in self.template_ids],
            "level": self.level,
            "nonXMLBody": body,
            "patientIds": [p.as_dict() for p in self.patient_ids],
            "authors": [a.as_dict() for a in self.authors],
            "custodian": self.custodian.as_dict() if self.custodian else None,
            "encounterIds": [e.as_dict() for e in self.encounter_ids],
            "stayId": self.stay_id.as_dict() if self.stay_id else None,
            "replaces": self.replaces.as_dict() if self.replaces else None,
        }

    def log_view(self) -> dict[str, Any]:
        """Log-safe view: codes, kinds, counts and hashed document ids only (no personal data)."""
        return {
            "documentIdHash": _hash(self.document_id.key()) if self.document_id else None,
            "setIdHash": _hash(self.set_id.key()) if self.set_id else None,
            "versionNumber": self.version_number,
            "typeCode": self.type_code.code if self.type_code else None,
            "level": self.level,
            "templateIds": [t.root for t in self.template_ids],
            "confidentiality": self.confidentiality_code.code if self.confidentiality_code else None,
            "patientIdKinds": [p.kind for p in self.patient_ids],
            "authorCount": len(self.authors),
            "authorIdKinds": [i.kind for a in self.authors for i in a.ids],
            "custodianKind": self.custodian.id.kind if self.custodian and self.custodian.id else None,
            "hasStayId": self.stay_id is not None,
        }


# ---------------------------------------------------------------------------------------------


def _ii(el: etree._Element | None) -> InstanceId | None:
    if el is None or el.get("nullFlavor") is not None:
        return None
    return InstanceId(el.get("root"), el.get("extension"))


def _text(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    text = "".join(el.itertext()).strip()
    return text or None


def _actor(el: etree._Element | None) -> ActorId | None:
    if el is None or el.get("nullFlavor") is not None:
        return None
    root, ext = el.get("root"), el.get("extension")
    return ActorId(root, ext, actor_id_kind(root, ext))


def _is_local_stay_root(root: str | None) -> bool:
    # national registries (ANS/ASIP, INCa, IdNat) are not stay numbers; a local OID is
    return bool(root) and not str(root).startswith(("1.2.250.1.71.", "1.2.250.1.161.", "1.2.250.1.213."))


def extract_header(doc: etree._ElementTree | etree._Element) -> CdaHeader:
    """Build the :class:`CdaHeader` of a parsed ClinicalDocument (missing parts stay ``None``)."""
    root = doc.getroot() if isinstance(doc, etree._ElementTree) else doc
    h = CdaHeader()
    h.document_id = _ii(root.find("h:id", NS))
    h.set_id = _ii(root.find("h:setId", NS))
    vn = root.find("h:versionNumber", NS)
    if vn is not None and (vn.get("value") or "").strip().isdigit():
        h.version_number = int(vn.get("value") or "0")
    code = root.find("h:code", NS)
    if code is not None:
        h.type_code = CodedValue(code.get("code"), code.get("codeSystem"), code.get("displayName"))
    h.title = _text(root.find("h:title", NS))
    et = root.find("h:effectiveTime", NS)
    if et is not None and et.get("value"):
        h.effective_time_raw = et.get("value")
        parsed = parse_ts(h.effective_time_raw or "")
        h.effective_time = parsed.value if parsed else None
    conf = root.find("h:confidentialityCode", NS)
    if conf is not None:
        h.confidentiality_code = CodedValue(conf.get("code"), conf.get("codeSystem"), conf.get("displayName"))
    lang = root.find("h:languageCode", NS)
    h.language_code = lang.get("code") if lang is not None else None
    h.template_ids = [InstanceId(t.get("root"), t.get("extension")) for t in root.findall("h:templateId", NS)]

    text = root.find("h:component/h:nonXMLBody/h:text", NS)
    if text is not None:
        h.level = "N1"
        h.n1_body = N1Body(text.get("mediaType"), text.get("representation"), text.text or "")
    elif root.find("h:component/h:structuredBody", NS) is not None:
        h.level = "N3"

    for pid in root.findall("h:recordTarget/h:patientRole/h:id", NS):
        if pid.get("nullFlavor") is None:
            r = pid.get("root")
            h.patient_ids.append(PatientId(r, pid.get("extension"), patient_id_kind(r)))

    for author in root.findall("h:author", NS):
        assigned = author.find("h:assignedAuthor", NS)
        if assigned is None:
            continue
        ids = [a for a in (_actor(i) for i in assigned.findall("h:id", NS)) if a is not None]
        t = author.find("h:time", NS)
        parsed_t = parse_ts(t.get("value") or "") if t is not None else None
        org = _actor(assigned.find("h:representedOrganization/h:id", NS))
        h.authors.append(Author(ids, parsed_t.value if parsed_t else None, org))

    org_el = root.find("h:custodian/h:assignedCustodian/h:representedCustodianOrganization", NS)
    if org_el is not None:
        h.custodian = Custodian(_actor(org_el.find("h:id", NS)), _text(org_el.find("h:name", NS)))

    enc_ids = root.findall("h:componentOf/h:encompassingEncounter/h:id", NS)
    h.encounter_ids = [i for i in (_ii(e) for e in enc_ids) if i is not None]
    h.stay_id = next((i for i in h.encounter_ids if _is_local_stay_root(i.root) and i.extension), None)
    h.replaces = _ii(root.find("h:relatedDocument[@typeCode='RPLC']/h:parentDocument/h:id", NS))
    return h


__all__ = [
    "ActorId",
    "Author",
    "CdaHeader",
    "CodedValue",
    "Custodian",
    "InstanceId",
    "N1Body",
    "PatientId",
    "extract_header",
]
