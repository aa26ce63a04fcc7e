"""CI-SIS header rules (« structuration minimale des documents de santé », template 1.2.250.1.213.1.1.1.1).

Each rule appends :class:`Issue` objects with an XPath location; all rules always run, so a
report lists every problem. Rules follow the ANS schematron of template 1.2.250.1.213.1.1.1.1
(TestContenuCDA-3-0) for cardinalities, plus the checks the DMP feed needs (JDV_J07 type
code, INS, N1 PDF payload — see :mod:`aiguillage.cda.body_rules`).

INS severity (decision): the CI-SIS schematron does not require an INS in recordTarget — it
requires the INS traits (birth family name, first given name, birth date, sex) *when* an INS
is present, and admits a local IPP alone (identity not qualified). The DMP (and HOP'EN P1.02–
P1.06) only counts documents carrying a qualified INS. So a missing INS is a ``warning`` by
default and an ``error`` with ``require_ins=True`` (DMP feed profile); an id in the INS arc
with an unknown OID, a malformed INS, or an INS without its traits are ``error``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from aiguillage.cda import codes
from aiguillage.cda import oids as O
from aiguillage.cda.body_rules import check_body
from aiguillage.cda.header import CdaHeader
from aiguillage.cda.hl7time import parse_ts
from aiguillage.cda.parse import element_path
from aiguillage.cda.rulectx import CD, RuleContext
from aiguillage.cda.typecodes import TypeCodes
from aiguillage.errors import Issue

OID_RE = re.compile(r"^[0-2](\.(0|[1-9]\d*))+$")
UUID_RE = re.compile(r"^[A-Fa-f\d]{8}-[A-Fa-f\d]{4}-[A-Fa-f\d]{4}-[A-Fa-f\d]{4}-[A-Fa-f\d]{12}$")
# matricule INS: 13 characters (sex, year, month, department incl. 2A/2B, commune, order) + 2-digit key
INS_RE = re.compile(r"^[1-478]\d{4}(\d{2}|2A|2B)\d{6}\d{2}$")


def _cardinality(ctx: RuleContext, tag: str, code: str, what: str) -> etree._Element | None:
    """Exactly one non-null ``tag`` child of ClinicalDocument; returns it (or None)."""
    els = [e for e in ctx.findall(f"h:{tag}") if e.get("nullFlavor") is None]
    if not els:
        ctx.add("error", code, f"{what} ({tag}) is required", f"{CD}/{tag}")
        return None
    if len(els) > 1:
        ctx.add("error", code, f"{what} ({tag}) appears {len(els)} times (max 1)", els[1])
    return els[0]


def _ii_syntax(ctx: RuleContext, el: etree._Element, what: str) -> None:
    root = el.get("root")
    if not root:
        ctx.add("error", codes.OID_SYNTAX, f"{what}: @root is required", el)
    elif not (OID_RE.match(root) or UUID_RE.match(root)):
        ctx.add("error", codes.OID_SYNTAX, f"{what}: @root is neither an OID nor a UUID", el)


def rule_realm_and_type_id(ctx: RuleContext) -> None:
    realms = ctx.findall("h:realmCode")
    fr = [r for r in realms if r.get("code") == "FR"]
    if not fr:
        ctx.add("error", codes.REALM_CODE, "realmCode with @code='FR' is required", f"{CD}/realmCode")
    elif len(fr) > 1:
        ctx.add("error", codes.REALM_CODE, "realmCode 'FR' appears more than once", fr[1])
    for r in realms:
        if r.get("code") != "FR":
            ctx.add("error", codes.REALM_CODE, "realmCode must be 'FR'", r)
    tids = ctx.findall("h:typeId")
    good = [t for t in tids if t.get("root") == O.TYPE_ID_ROOT and t.get("extension") == O.TYPE_ID_EXTENSION]
    if len(good) != 1 or len(tids) != 1:
        where: etree._Element | str = tids[0] if tids else f"{CD}/typeId"
        ctx.add(
            "error",
            codes.TYPE_ID,
            f"exactly one typeId root='{O.TYPE_ID_ROOT}' extension='{O.TYPE_ID_EXTENSION}' is required",
            where,
        )


def rule_template_ids(ctx: RuleContext) -> None:
    tpls = ctx.findall("h:templateId")
    for root_oid, code, what in (
        (O.TPL_HL7_FRANCE, codes.TEMPLATE_HL7_FRANCE, "HL7 France"),
        (O.TPL_CISIS, codes.TEMPLATE_CISIS, "CI-SIS"),
    ):
        found = [t for t in tpls if t.get("root") == root_oid]
        if not found:
            ctx.add(
                "error", code, f"templateId {root_oid} ({what} conformance) is required", f"{CD}/templateId"
            )
        elif len(found) > 1:
            ctx.add("error", code, f"templateId {root_oid} appears {len(found)} times (max 1)", found[1])
    others = [t for t in tpls if t.get("root") not in (O.TPL_HL7_FRANCE, O.TPL_CISIS)]
    if not others and ctx.header.level != "N1":
        ctx.add(
            "error",
            codes.TEMPLATE_MODEL,
            "a templateId of the document model (CI-SIS volet, or XDS-SD for N1) is required",
            f"{CD}/templateId",
        )
    for t in tpls:
        _ii_syntax(ctx, t, "templateId")


def rule_identity(ctx: RuleContext) -> None:
    doc_id = _cardinality(ctx, "id", codes.DOCUMENT_ID, "document identifier")
    if doc_id is not None:
        _ii_syntax(ctx, doc_id, "document id")
    set_ids = ctx.findall("h:setId")
    versions = ctx.findall("h:versionNumber")
    if len(set_ids) > 1:
        ctx.add("error", codes.SET_ID, "setId appears more than once (max 1)", set_ids[1])
    if len(versions) > 1:
        ctx.add("error", codes.VERSION_NUMBER, "versionNumber appears more than once (max 1)", versions[1])
    if set_ids and not versions:
        ctx.add("error", codes.VERSION_NUMBER, "versionNumber is required with setId", f"{CD}/versionNumber")
    if versions and not set_ids:
        ctx.add("error", codes.SET_ID, "setId is required with versionNumber", f"{CD}/setId")
    if set_ids:
        _ii_syntax(ctx, set_ids[0], "setId")
        h = ctx.header
        if h.document_id and h.set_id and h.document_id.key() == h.set_id.key():
            ctx.add("error", codes.SET_ID, "setId must differ from the document id", set_ids[0])
    version = ctx.header.version_number
    if versions:
        raw = (versions[0].get("value") or "").strip()
        if not raw.isdigit() or int(raw) < 1:
            ctx.add(
                "error", codes.VERSION_NUMBER, "versionNumber/@value must be a positive integer", versions[0]
            )
    replaced = ctx.findall("h:relatedDocument[@typeCode='RPLC']")
    if len(replaced) > 1:
        ctx.add("error", codes.RELATED_DOCUMENT, "relatedDocument RPLC appears more than once", replaced[1])
    if version is not None and version > 1 and not replaced:
        ctx.add(
            "warning",
            codes.RELATED_DOCUMENT,
            f"versionNumber {version} > 1 without relatedDocument RPLC naming the replaced version",
            f"{CD}/relatedDocument",
        )
    if version == 1 and replaced:
        ctx.add(
            "warning",
            codes.RELATED_DOCUMENT,
            "a replacing document should have versionNumber > 1",
            replaced[0],
        )


def rule_type_code(ctx: RuleContext) -> None:
    code = _cardinality(ctx, "code", codes.TYPE_CODE_MISSING, "document type code")
    if code is None:
        return
    value, system = code.get("code"), code.get("codeSystem")
    if not value or not system:
        ctx.add("error", codes.TYPE_CODE_MISSING, "code/@code and code/@codeSystem are required", code)
    elif (value, system) not in ctx.type_codes:
        ctx.add(
            "error",
            codes.TYPE_CODE_UNKNOWN,
            f"type code {value} ({system}) is not in JDV_J07 (DMP document types)",
            code,
        )


def rule_title_time_conf_lang(ctx: RuleContext) -> None:
    title = _cardinality(ctx, "title", codes.TITLE, "document title")
    if title is not None and not "".join(title.itertext()).strip():
        ctx.add("error", codes.TITLE, "title must not be empty", title)
    et = _cardinality(ctx, "effectiveTime", codes.EFFECTIVE_TIME, "document date")
    if et is not None:
        parsed = parse_ts(et.get("value") or "")
        if parsed is None:
            ctx.add("error", codes.EFFECTIVE_TIME, "effectiveTime/@value is not a valid HL7 TS", et)
        elif parsed.precision != "second" or not parsed.has_timezone:
            ctx.add(
                "warning",
                codes.EFFECTIVE_TIME_PRECISION,
                "effectiveTime should be given to the second with a UTC offset (YYYYMMDDHHMMSS+ZZZZ)",
                et,
            )
    conf = _cardinality(ctx, "confidentialityCode", codes.CONFIDENTIALITY, "confidentiality code")
    if conf is not None:
        value, system = conf.get("code"), conf.get("codeSystem")
        if value in O.CONFIDENTIALITY_HL7 and system == O.HL7_CONFIDENTIALITY:
            pass
        elif value in O.CONFIDENTIALITY_ANS and system == O.ANS_CONFIDENTIALITY:
            ctx.add(
                "warning",
                codes.CONFIDENTIALITY_XDS_ONLY,
                f"confidentiality code {value} is a DMP masking code (JDV_J08): the CI-SIS header expects "
                "N, R or V and carries masking in the XDS metadata",
                conf,
            )
        else:
            ctx.add(
                "error",
                codes.CONFIDENTIALITY,
                f"confidentialityCode {value!r} ({system}) is not N, R or V ({O.HL7_CONFIDENTIALITY}) "
                "nor an ANS code of JDV_J08",
                conf,
            )
    lang = _cardinality(ctx, "languageCode", codes.LANGUAGE_CODE, "language code")
    if lang is not None and not lang.get("code"):
        ctx.add("error", codes.LANGUAGE_CODE, "languageCode/@code is required", lang)


def rule_patient(ctx: RuleContext) -> None:
    targets = ctx.findall("h:recordTarget")
    if len(targets) != 1:
        where: etree._Element | str = targets[1] if targets else f"{CD}/recordTarget"
        ctx.add(
            "error", codes.RECORD_TARGET, f"exactly one recordTarget is required, found {len(targets)}", where
        )
        if not targets:
            return
    role = targets[0].find("h:patientRole", O.NS)
    ids = [] if role is None else [i for i in role.findall("h:id", O.NS) if i.get("nullFlavor") is None]
    if not ids:
        ctx.add(
            "error",
            codes.PATIENT_ID_MISSING,
            "recordTarget/patientRole/id is required",
            element_path(targets[0]),
        )
        return
    ins_found = False
    for el in ids:
        kind = O.patient_id_kind(el.get("root"))
        ext = (el.get("extension") or "").strip()
        if kind == "INS_UNKNOWN":
            ctx.add("error", codes.INS_OID_UNKNOWN, "patient id in the INS arc with an unknown OID", el)
        elif kind in O.INS_KINDS.values():
            ins_found = True
            if not INS_RE.match(ext):
                ctx.add("error", codes.INS_FORMAT, f"{kind} matricule must be 15 characters (13 + key)", el)
        elif not ext:
            ctx.add("error", codes.PATIENT_ID_MISSING, "patient id has no @extension", el)
    if not ins_found:
        severity = "error" if ctx.require_ins else "warning"
        ctx.add(
            severity, codes.INS_MISSING, "no INS (matricule INS with a known OID) in recordTarget", ids[0]
        )
        return
    patient = role.find("h:patient", O.NS) if role is not None else None
    traits = {
        "birth family name (family[@qualifier='BR'])": "h:name/h:family[@qualifier='BR']",
        "first given name (given[@qualifier='BR'])": "h:name/h:given[@qualifier='BR']",
        "birthTime": "h:birthTime",
        "administrativeGenderCode": "h:administrativeGenderCode",
    }
    missing = [n for n, p in traits.items() if patient is None or patient.find(p, O.NS) is None]
    if missing:
        where = (
            element_path(patient) if patient is not None else element_path(role) if role is not None else CD
        )
        ctx.add(
            "error",
            codes.INS_TRAITS,
            "with an INS, the INS traits are required: " + ", ".join(missing),
            where,
        )


def rule_participants(ctx: RuleContext) -> None:
    authors = [a for a in ctx.findall("h:author") if a.get("nullFlavor") is None]
    if not authors:
        ctx.add(
            "error", codes.AUTHOR_MISSING, "at least one author/assignedAuthor is required", f"{CD}/author"
        )
    for a in authors:
        assigned = a.find("h:assignedAuthor", O.NS)
        if assigned is None:
            ctx.add("error", codes.AUTHOR_MISSING, "author without assignedAuthor", a)
            continue
        ids = [i for i in assigned.findall("h:id", O.NS) if i.get("nullFlavor") is None and i.get("root")]
        if not ids:
            ctx.add("error", codes.AUTHOR_ID, "author/assignedAuthor/id (e.g. RPPS) is required", assigned)
        t = a.find("h:time", O.NS)
        if t is None or parse_ts(t.get("value") or "") is None:
            ctx.add(
                "error",
                codes.AUTHOR_TIME,
                "author/time with a valid TS value is required",
                t if t is not None else a,
            )
    custodians = [c for c in ctx.findall("h:custodian") if c.get("nullFlavor") is None]
    if len(custodians) != 1:
        where: etree._Element | str = custodians[1] if custodians else f"{CD}/custodian"
        ctx.add(
            "error", codes.CUSTODIAN, f"exactly one custodian is required, found {len(custodians)}", where
        )
    if custodians:
        org_id = custodians[0].find("h:assignedCustodian/h:representedCustodianOrganization/h:id", O.NS)
        if org_id is None or org_id.get("nullFlavor") is not None or not org_id.get("root"):
            ctx.add("error", codes.CUSTODIAN_ID, "custodian organization id is required", custodians[0])
    legal = ctx.xpath("h:legalAuthenticator[h:signatureCode/@code='S']")
    if len(legal) != 1:
        where = legal[1] if legal else f"{CD}/legalAuthenticator"
        ctx.add(
            "error",
            codes.LEGAL_AUTHENTICATOR,
            "exactly one legalAuthenticator with signatureCode 'S' is required",
            where,
        )
    docs = ctx.findall("h:documentationOf[h:serviceEvent]")
    if not docs:
        ctx.add(
            "error",
            codes.DOCUMENTATION_OF,
            "documentationOf/serviceEvent is required",
            f"{CD}/documentationOf",
        )
    encounters = ctx.findall("h:componentOf[h:encompassingEncounter]")
    if len(encounters) != 1:
        where = encounters[1] if encounters else f"{CD}/componentOf"
        ctx.add(
            "error", codes.COMPONENT_OF, "exactly one componentOf/encompassingEncounter is required", where
        )


RULES: tuple[Callable[[RuleContext], None], ...] = (
    rule_realm_and_type_id,
    rule_template_ids,
    rule_identity,
    rule_type_code,
    rule_title_time_conf_lang,
    rule_patient,
    rule_participants,
    check_body,
)


def check_rules(
    root: etree._Element, header: CdaHeader, type_codes: TypeCodes, require_ins: bool = False
) -> list[Issue]:
    """Run every CI-SIS rule and return every issue found."""
    ctx = RuleContext(root, header, type_codes, require_ins)
    for rule in RULES:
        rule(ctx)
    return ctx.issues


__all__ = ["RULES", "RuleContext", "check_rules"]
