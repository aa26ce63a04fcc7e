"""Turn one resource (FHIR JSON) into its search index rows, from the parameter registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiguillage.fhir.query import norm
from aiguillage.fhir.ror import JSONObj
from aiguillage.fhir.searchparams import PARAMS, position


@dataclass
class IndexRows:
    tokens: list[tuple[str, str, str]] = field(default_factory=list)  # param, system, code
    strings: list[tuple[str, str, str]] = field(default_factory=list)  # param, folded, raw
    refs: list[tuple[str, str, str]] = field(default_factory=list)  # param, type, id
    numbers: list[tuple[str, float]] = field(default_factory=list)
    position: tuple[float, float] | None = None

    def rows(self, pk: int) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {
            "ror_tokens": [{"res_pk": pk, "param": p, "system": s[:255], "code": c[:255]}
                           for p, s, c in self.tokens],
            "ror_strings": [{"res_pk": pk, "param": p, "value": v[:255], "raw": r[:255]}
                            for p, v, r in self.strings],
            "ror_refs": [{"res_pk": pk, "param": p, "target_type": t, "target_id": i} for p, t, i in self.refs],
            "ror_numbers": [{"res_pk": pk, "param": p, "value": v} for p, v in self.numbers],
            "ror_positions": [],
        }
        if self.position is not None:
            out["ror_positions"].append({"res_pk": pk, "lat": self.position[0], "lon": self.position[1]})
        return out


def index(resource: JSONObj) -> IndexRows:
    rows = IndexRows()
    rtype = str(resource.get("resourceType"))
    for p in PARAMS.get(rtype, {}).values():
        if p.extract is None:
            continue
        seen: set[Any] = set()
        for value in p.extract(resource):
            if value in seen:
                continue
            seen.add(value)
            if p.type == "token":
                rows.tokens.append((p.name, value[0], value[1]))
            elif p.type == "string":
                rows.strings.append((p.name, norm(value), value))
            elif p.type == "reference":
                rows.refs.append((p.name, value[0], value[1]))
            elif p.type == "number":
                rows.numbers.append((p.name, value))
    if rtype == "Location":
        rows.position = position(resource)
    return rows
