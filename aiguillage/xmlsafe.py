"""XML is hostile until parsed safely: the one hardened lxml parser and DOCTYPE check of the engine.

No DTD loading, no entity expansion, no network access, no huge trees; a DOCTYPE (and with it any
internal DTD subset, where entities are declared) is refused before parsing by a scan of the
prolog, and callers check the parsed document info again after parsing.
"""

from __future__ import annotations

import re

from lxml import etree

# the prolog ends at the first start tag (a "<" followed by a name start character)
_FIRST_START_TAG = re.compile(rb"<[A-Za-z_:]")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def parser(*, keep_comments: bool = True) -> etree.XMLParser:
    """A hardened parser (cheap to build, not thread-safe to share: make one per call)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=not keep_comments,
        remove_pis=not keep_comments,
    )


def has_doctype(data: bytes) -> bool:
    """True when the prolog (before the first element) declares a DOCTYPE; UTF-16 input included."""
    head = data
    if data.startswith(_UTF16_BOMS):
        head = data[:65536].decode("utf-16", errors="ignore").encode("utf-8")
    match = _FIRST_START_TAG.search(head)
    prolog = head[: match.start()] if match else head
    return _DOCTYPE.search(prolog) is not None


def declares_dtd(tree: etree._ElementTree) -> bool:
    """After parsing: the document carries a DOCTYPE or an internal DTD."""
    info = tree.docinfo
    return bool(info.doctype) or info.internalDTD is not None
