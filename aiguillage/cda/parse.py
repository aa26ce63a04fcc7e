"""Safe parsing of CDA R2 documents.

XML is hostile until parsed safely: no DTD loading, no entity expansion, no network, no huge
trees, a size limit, and any DOCTYPE declaration is rejected (checked twice: a scan of the
prolog before parsing, and the parsed document info after).
"""

from __future__ import annotations

import os

from lxml import etree

from aiguillage import xmlsafe
from aiguillage.cda import codes
from aiguillage.cda.errors import CDAParseError
from aiguillage.cda.oids import HL7_NS

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_BYTES_ENV = "AIGUILLAGE_CDA_MAX_BYTES"
CLINICAL_DOCUMENT = f"{{{HL7_NS}}}ClinicalDocument"

def default_max_bytes() -> int:
    """The size limit: ``AIGUILLAGE_CDA_MAX_BYTES`` when set to a positive integer, else 20 MB."""
    raw = os.environ.get(MAX_BYTES_ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return DEFAULT_MAX_BYTES


def parse_cda(data: bytes, max_bytes: int | None = None) -> etree._ElementTree:
    """Parse ``data`` safely and return the tree; raise :class:`CDAParseError` (CDA-00xx) if not a CDA.

    ``max_bytes`` defaults to :func:`default_max_bytes` (20 MB unless configured).
    """
    limit = default_max_bytes() if max_bytes is None else max_bytes
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CDAParseError("a CDA document must be given as bytes", codes.NOT_WELL_FORMED)
    data = bytes(data)
    if len(data) > limit:
        raise CDAParseError(f"document of {len(data)} bytes exceeds the {limit}-byte limit", codes.TOO_LARGE)
    if not data or data.isspace():
        raise CDAParseError("empty document", codes.NOT_WELL_FORMED)
    if xmlsafe.has_doctype(data):
        raise CDAParseError("DOCTYPE declarations are not accepted in CDA documents", codes.DOCTYPE_FORBIDDEN)
    try:
        root = etree.fromstring(data, parser=xmlsafe.parser())
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise CDAParseError(f"not well-formed XML{where}: {exc.msg}", codes.NOT_WELL_FORMED) from exc
    tree = root.getroottree()
    if xmlsafe.declares_dtd(tree):
        raise CDAParseError("DOCTYPE declarations are not accepted in CDA documents", codes.DOCTYPE_FORBIDDEN)
    if root.tag != CLINICAL_DOCUMENT:
        raise CDAParseError(
            f"root element must be ClinicalDocument in {HL7_NS}", codes.NOT_CLINICAL_DOCUMENT, "/*"
        )
    return tree


def element_path(el: etree._Element) -> str:
    """A readable XPath of ``el``: local names, ``[n]`` only where same-named siblings exist.

    HL7 elements are written without prefix (default namespace ``urn:hl7-org:v3``); elements of
    other namespaces keep their document prefix (e.g. ``lab:statusCode``).
    """
    parts: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        qname = etree.QName(node)
        name = qname.localname
        if qname.namespace not in (None, HL7_NS):
            prefix = node.prefix
            name = f"{prefix}:{name}" if prefix else f"*[local-name()='{name}']"
        parent = node.getparent()
        if parent is not None:
            same = [s for s in parent if isinstance(s.tag, str) and s.tag == node.tag]
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))


__all__ = ["DEFAULT_MAX_BYTES", "MAX_BYTES_ENV", "default_max_bytes", "element_path", "parse_cda"]
