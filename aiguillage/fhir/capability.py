"""The CapabilityStatement, generated from the search-parameter registry the search itself uses."""

from __future__ import annotations

from typing import Any

from aiguillage import __version__
from aiguillage.fhir.bundle import now_instant
from aiguillage.fhir.query import CONTROL
from aiguillage.fhir.ror import PROFILES
from aiguillage.fhir.searchparams import INCLUDES, PARAMS, SORTABLE, chains

INTERACTIONS = ("read", "vread", "update", "patch", "delete", "history-instance", "create", "search-type")


def _revincludes(resource_type: str) -> list[str]:
    return sorted(f"{src}:{name}" for src, names in INCLUDES.items() for name in names
                  if resource_type in PARAMS[src][name].targets)


def capability_statement(base: str, *, federation: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    resources = []
    for rtype, params in PARAMS.items():
        search = [{"name": p.name, "type": p.type, "documentation": p.doc} for p in params.values()]
        search += [{"name": f"{ref.name}.{tp.name}", "type": tp.type,
                    "documentation": f"chained through {ref.name} ({tp.resource}.{tp.name})"}
                   for ref, tp in chains(rtype) if not tp.name.startswith("_") or tp.name == "_id"]
        search += federation or []
        resources.append({
            "type": rtype,
            "profile": PROFILES[rtype],
            "interaction": [{"code": c} for c in INTERACTIONS],
            "versioning": "versioned",
            "readHistory": True,
            "updateCreate": True,
            "conditionalUpdate": True,
            "searchInclude": sorted(f"{rtype}:{n}" for n in INCLUDES[rtype]),
            "searchRevInclude": _revincludes(rtype),
            "searchParam": search,
        })
    controls = [c for c in CONTROL if c not in ("_format", "_federate")]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": now_instant()[:10],
        "kind": "instance",
        "software": {"name": "aiguillage", "version": __version__},
        "implementation": {"description": "aiguillage ROR exposure store", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json", "application/fhir+json"],
        "rest": [{
            "mode": "server",
            "documentation": (
                "Search: repeated parameters AND, comma values OR; string search is accent/case-insensitive "
                "(default starts-with, :contains, :exact). Controls: " + ", ".join(controls)
                + f"; _sort on {', '.join(SORTABLE)}; paging by opaque _cursor (keyset). Unknown parameters "
                "are an error unless 'Prefer: handling=lenient'. Region: meta.tag TRE_R30 or X-ROR-Region."
            ),
            "security": {"description": "Bearer token; scopes ror:read (read/search/export) and ror:write"},
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "operation": [{"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                           "documentation": "synchronous: GET $export?_type=&_since=&region= returns ndjson"}],
        }],
    }
