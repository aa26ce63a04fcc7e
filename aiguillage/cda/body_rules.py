"""Body rules: one component holding either a structuredBody (N3) or a nonXMLBody (N1).

N1 (CI-SIS structuration minimale, IHE XDS-SD): exactly the three templateIds HL7 France,
CI-SIS and XDS-SD; ``text`` with an allowed ``mediaType`` and ``representation="B64"``; the
payload must be valid base64, and a PDF payload must start with ``%PDF``.
"""

from __future__ import annotations

from aiguillage.cda import codes
from aiguillage.cda import oids as O
from aiguillage.cda.rulectx import CD, RuleContext


def check_body(ctx: RuleContext) -> None:
    components = ctx.findall("h:component")
    if len(components) != 1:
        where = components[1] if components else f"{CD}/component"
        ctx.add(
            "error",
            codes.BODY,
            f"exactly one component (the body) is required, found {len(components)}",
            where,
        )
        if not components:
            return
    comp = components[0]
    structured = comp.find("h:structuredBody", O.NS)
    non_xml = comp.find("h:nonXMLBody", O.NS)
    if structured is None and non_xml is None:
        ctx.add("error", codes.BODY, "component must hold a structuredBody (N3) or a nonXMLBody (N1)", comp)
        return
    if structured is not None:
        if structured.find("h:component/h:section", O.NS) is None:
            ctx.add("error", codes.BODY, "structuredBody must contain at least one section", structured)
        return
    assert non_xml is not None
    _check_n1_templates(ctx)
    text = non_xml.find("h:text", O.NS)
    if text is None:
        ctx.add("error", codes.BODY, "nonXMLBody/text is required", non_xml)
        return
    media_type = text.get("mediaType")
    if media_type not in O.N1_MEDIA_TYPES:
        allowed = ", ".join(sorted(O.N1_MEDIA_TYPES))
        ctx.add(
            "error", codes.N1_MEDIA_TYPE, f"nonXMLBody/text/@mediaType {media_type!r} not in: {allowed}", text
        )
    if text.get("representation") != "B64":
        ctx.add("error", codes.N1_REPRESENTATION, "nonXMLBody/text/@representation must be 'B64'", text)
    body = ctx.header.n1_body
    if body is None:
        return
    try:
        payload = body.decoded()
    except ValueError:
        ctx.add("error", codes.N1_BASE64, "nonXMLBody/text is not valid base64", text)
        return
    if not payload:
        ctx.add("error", codes.N1_BASE64, "nonXMLBody/text is empty", text)
        return
    if media_type == "application/pdf" and not payload.startswith(b"%PDF-"):
        ctx.add("error", codes.N1_NOT_PDF, "nonXMLBody/text declares application/pdf but is not a PDF", text)


def _check_n1_templates(ctx: RuleContext) -> None:
    roots = [t.get("root") for t in ctx.findall("h:templateId")]
    if len(roots) != 3 or set(roots) != O.N1_TEMPLATE_IDS:
        ctx.add(
            "error",
            codes.N1_TEMPLATES,
            "an N1 document carries exactly the templateIds "
            f"{O.TPL_HL7_FRANCE}, {O.TPL_CISIS} and {O.TPL_XDS_SD}",
            f"{CD}/templateId",
        )


__all__ = ["check_body"]
