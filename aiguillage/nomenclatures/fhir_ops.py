"""FHIR R4 terminology operations as pure functions returning ``Parameters`` dicts.

``CodeSystem/$lookup`` (system, code, version) and ``CodeSystem|ValueSet/$validate-code``
(url/system, code, version, display). Errors are raised as EngineErrors (NOM-0001 unknown system,
NOM-0002 unknown code for $lookup); the API layer turns them into OperationOutcome.
"""

from __future__ import annotations

from typing import Any

from aiguillage.errors import InputError
from aiguillage.nomenclatures.errors import MISSING_FIELD, UNKNOWN_CODE, NomenclatureNotFound
from aiguillage.nomenclatures.registry import Registry


def _param(name: str, kind: str, value: Any) -> dict[str, Any]:
    return {"name": name, f"value{kind}": value}


def _property(code: str, kind: str, value: Any) -> dict[str, Any]:
    return {"name": "property", "part": [_param("code", "Code", code), _param("value", kind, value)]}


def lookup(
    registry: Registry, system: str | None, code: str | None, version: str | None = None
) -> dict[str, Any]:
    """``$lookup``: name, version, display, and properties (inactive, status, dateValid/dateFin/dateMaj)."""
    if not system or not code:
        raise InputError("$lookup needs both system and code", MISSING_FIELD)
    res = registry.get(system, version)
    concept = registry.lookup(system, code, version)
    if concept is None:
        raise NomenclatureNotFound(f"code {code!r} is not in {res.id} version {res.version}", UNKNOWN_CODE)
    params = [
        _param("name", "String", res.title or res.name or res.id),
        _param("version", "String", res.version),
        _param("display", "String", concept.display),
        _property("inactive", "Boolean", not concept.active),
        _property("status", "Code", concept.status.value),
    ]
    for prop, value in (
        ("dateValid", concept.valid_from),
        ("dateFin", concept.valid_to),
        ("dateMaj", concept.updated),
    ):
        if value:
            params.append(_property(prop, "DateTime", value))
    return {"resourceType": "Parameters", "parameter": params}


def validate_code(
    registry: Registry,
    url: str | None,
    code: str | None,
    version: str | None = None,
    display: str | None = None,
    system: str | None = None,
) -> dict[str, Any]:
    """``$validate-code`` on a code system (``url`` = the system) or a value set (``url`` = the value
    set, ``system`` = the code's system). Returns result, display and message; an unknown system gives
    result=false with a message (NOM-0001), as does an unknown code (NOM-0002)."""
    target = url or system
    if not target or not code:
        raise InputError("$validate-code needs url (or system) and code", MISSING_FIELD)
    code_system = system if url and system and registry.resolve(url) != registry.resolve(system) else None
    result = registry.validate(target, code, version, display, code_system=code_system)
    params: list[dict[str, Any]] = [_param("result", "Boolean", result.valid)]
    if result.display is not None:
        params.append(_param("display", "String", result.display))
    if result.message:
        params.append(_param("message", "String", result.message))
    if result.issues:
        params.append(
            {
                "name": "issues",
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {
                            "severity": i.severity,
                            "code": "code-invalid" if i.severity == "error" else "business-rule",
                            "details": {
                                "coding": [{"system": "urn:aiguillage:error-code", "code": i.code}],
                                "text": i.message,
                            },
                            **({"expression": [i.location]} if i.location else {}),
                        }
                        for i in result.issues
                    ],
                },
            }
        )
    return {"resourceType": "Parameters", "parameter": params}
