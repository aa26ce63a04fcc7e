"""The context every CDA rule receives: the parsed root, its header summary, and the issue list."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from aiguillage.cda import oids as O
from aiguillage.cda.header import CdaHeader
from aiguillage.cda.parse import element_path
from aiguillage.cda.typecodes import TypeCodes
from aiguillage.errors import Issue

CD = "/ClinicalDocument"


@dataclass
class RuleContext:
    root: etree._Element
    header: CdaHeader
    type_codes: TypeCodes
    require_ins: bool = False
    issues: list[Issue] = field(default_factory=list)

    def find(self, path: str) -> etree._Element | None:
        return self.root.find(path, O.NS)

    def findall(self, path: str) -> list[etree._Element]:
        return self.root.findall(path, O.NS)

    def xpath(self, path: str) -> list[etree._Element]:
        found = self.root.xpath(path, namespaces=O.NS)
        return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []

    def add(self, severity: str, code: str, message: str, where: etree._Element | str) -> None:
        location = element_path(where) if isinstance(where, etree._Element) else where
        self.issues.append(Issue(severity, code, message, location))


__all__ = ["CD", "RuleContext"]
