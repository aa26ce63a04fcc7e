"""The DMP push wire format, shared by the client (connectors/dmp.py), the push and the simulator.

One JSON request per document action, one JSON answer carrying the status a PFI reports
(``retourDMP.Statut``). See :mod:`aiguillage.dmp.simulator` for the HTTP exchange.
Pure data: no I/O here.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiguillage.dmp.records import Action, Decision, DmpStatus
from aiguillage.errors import EngineError

# Statuses a DMP answer may carry (the PFI's retourDMP.Statut set)
ANSWER_STATUSES = frozenset({
    DmpStatus.SUCCESS, DmpStatus.ERREUR_DMP_CLOS, DmpStatus.ERREUR_VERIFICATION, DmpStatus.DOCUMENTS_TOUS,
})
# Statuses we write ourselves when nothing (or nothing usable) came back
NOT_SENT = "NON_ENVOYE"  # no qualified INS, or no DMP endpoint configured
TECHNICAL_ERROR = "ERREUR_TECHNIQUE"  # HTTP 5xx, timeout, connection refused, unreadable answer


class DmpTransportError(EngineError):
    """The DMP could not be reached or answered unusably: retry later (DMP-0201)."""

    def __init__(self, message: str, reason: str, code: str = "DMP-0201") -> None:
        super().__init__(message, code, 502, True, [])
        self.reason = reason  # short, log-safe: "http-503", "timeout", "connect", "bad-answer"


@dataclass(frozen=True)
class DmpRequest:
    action: Action
    ins_root: str
    ins: str  # matricule INS (15 characters)
    document_id: str
    set_id: str
    version: int
    type_code: str  # national LOINC / JDV_J07 code
    masking: str = ""
    author_ids: tuple[str, ...] = ()
    organization_id: str | None = None
    document: bytes = b""  # the CDA (empty for Suppression)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "patient": {"insRoot": self.ins_root, "ins": self.ins},
            "document": {
                "id": self.document_id, "setId": self.set_id, "version": self.version,
                "typeCode": self.type_code, "masking": self.masking,
                "authors": list(self.author_ids), "organization": self.organization_id,
                "content": base64.b64encode(self.document).decode("ascii") if self.document else None,
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DmpRequest:
        """Raises ``KeyError``/``ValueError``/``TypeError`` on a malformed body (the caller answers 400)."""
        pat, doc = data["patient"], data["document"]
        content = doc.get("content")
        return cls(
            action=Action(data["action"]),
            ins_root=str(pat["insRoot"]), ins=str(pat["ins"]),
            document_id=str(doc["id"]), set_id=str(doc["setId"]), version=int(doc["version"]),
            type_code=str(doc["typeCode"]), masking=str(doc.get("masking") or ""),
            author_ids=tuple(str(a) for a in doc.get("authors") or ()),
            organization_id=doc.get("organization"),
            document=base64.b64decode(content, validate=True) if content else b"",
        )


@dataclass(frozen=True)
class DmpReply:
    status: DmpStatus
    decision: Decision = Decision.AUTHORISED
    share_id: str | None = None  # PFI.IdPartage
    answered_at: datetime | None = None
    message: str = ""  # readable, never personal data
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "statut": self.status.value,
            "decision": self.decision.value,
            "idPartage": self.share_id,
            "dateReponse": self.answered_at.isoformat() if self.answered_at else None,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DmpReply:
        status = DmpStatus(str(data["statut"]))
        if status not in ANSWER_STATUSES:
            raise ValueError(f"status {status} is not a DMP answer status")
        when = data.get("dateReponse")
        return cls(
            status=status,
            decision=Decision(str(data.get("decision") or Decision.AUTHORISED.value)),
            share_id=data.get("idPartage"),
            answered_at=datetime.fromisoformat(when) if when else None,
            message=str(data.get("message") or ""),
        )


__all__ = ["ANSWER_STATUSES", "NOT_SENT", "TECHNICAL_ERROR", "DmpReply", "DmpRequest", "DmpTransportError"]
