"""Errors of the CDA package (all subclasses of :class:`aiguillage.errors.EngineError`)."""

from __future__ import annotations

from aiguillage.errors import EngineError, Issue


class CDAParseError(EngineError):
    """The bytes are not a readable CDA document (CDA-00xx): rejected before any validation."""

    def __init__(self, message: str, code: str, location: str | None = None) -> None:
        issue = Issue("fatal", code, message, location)
        super().__init__(message, code, 400, False, [issue])


class CDASchemaError(EngineError):
    """The configured XML Schema cannot be loaded (configuration problem, not bad input)."""

    def __init__(self, message: str, code: str = "CDA-0005") -> None:
        super().__init__(message, code, 500, False, [])


__all__ = ["CDAParseError", "CDASchemaError"]
