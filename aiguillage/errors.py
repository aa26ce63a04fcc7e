"""The one exception root of aiguillage.

Every error the engine raises on purpose is an :class:`EngineError` with a stable ``code``
(``AREA-NNNN``), an HTTP status used by the API layer, and optional structured ``issues``.
Foreign exceptions are translated at the boundary: ``raise HL7ParseError(...) from exc``.

Codes are stable: clients and tests match on them. Add new codes, never renumber.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One problem found in an input. Validation returns all of them, not just the first."""

    severity: str  # "fatal" | "error" | "warning" | "information"
    code: str  # stable machine code, e.g. "HL7-0101" or a FHIR issue-type
    message: str  # readable text, never personal data
    location: str | None = None  # FHIRPath, XPath, or HL7 location (e.g. "PID-3.4")

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"severity": self.severity, "code": self.code, "message": self.message}
        if self.location is not None:
            d["location"] = self.location
        return d


@dataclass
class EngineError(Exception):
    """Root of every deliberate error. ``code`` is stable; ``message`` is human-readable."""

    message: str
    code: str = "ENG-0000"
    http_status: int = 400
    retryable: bool = False
    issues: list[Issue] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.issues:
            d["issues"] = [i.as_dict() for i in self.issues]
        return d


# --- generic families; packages subclass these or pass their own code -----------------------


class ConfigError(EngineError):
    """Invalid configuration, detected at start-up (CFG-*)."""

    def __init__(self, message: str, code: str = "CFG-0001", issues: list[Issue] | None = None) -> None:
        super().__init__(message, code, 500, False, list(issues or []))


class InputError(EngineError):
    """Bad input from a client: 400/422 with every issue listed (generic INP-*)."""

    def __init__(
        self, message: str, code: str = "INP-0001", http_status: int = 400, issues: list[Issue] | None = None
    ) -> None:
        super().__init__(message, code, http_status, False, list(issues or []))


class NotFoundError(EngineError):
    """A resource that does not exist (NF-*)."""

    def __init__(self, message: str, code: str = "NF-0001") -> None:
        super().__init__(message, code, 404, False, [])


class ConflictError(EngineError):
    """A state conflict (CONF-*), e.g. reprocessing a message that cannot be."""

    def __init__(self, message: str, code: str = "CONF-0001") -> None:
        super().__init__(message, code, 409, False, [])


class AuthError(EngineError):
    """Missing/invalid token (AUTH-0001, 401) or missing scope (AUTH-0002, 403)."""

    def __init__(self, message: str, code: str = "AUTH-0001", http_status: int = 401) -> None:
        super().__init__(message, code, http_status, False, [])


class StoreError(EngineError):
    """Store unavailable or failing (STO-*); retryable by default."""

    def __init__(self, message: str, code: str = "STO-0001", retryable: bool = True) -> None:
        super().__init__(message, code, 503, retryable, [])


class BusError(EngineError):
    """Bus unavailable or failing (BUS-*); retryable by default."""

    def __init__(self, message: str, code: str = "BUS-0001", retryable: bool = True) -> None:
        super().__init__(message, code, 503, retryable, [])


__all__ = [
    "AuthError",
    "BusError",
    "ConfigError",
    "ConflictError",
    "EngineError",
    "InputError",
    "Issue",
    "NotFoundError",
    "StoreError",
]
