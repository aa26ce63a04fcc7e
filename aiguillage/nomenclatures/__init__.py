"""National nomenclatures (ANS NOS): registry, curated built-in data, importers, CLI.

Public API::

    Registry.builtin() / Registry.load(dir)  -> Registry
    registry.get / validate / lookup / display / search / expand / systems
    import_paths(registry, paths, store_dir, progress) -> ImportReport
    service.list_systems / service.concepts, fhir_ops.lookup / fhir_ops.validate_code
"""

from aiguillage.nomenclatures.importer import ImportReport, import_paths
from aiguillage.nomenclatures.model import (
    CodeSystemVersion,
    Concept,
    ConceptStatus,
    Member,
    ValidationResult,
    ValueSetVersion,
)
from aiguillage.nomenclatures.registry import Registry

__all__ = [
    "CodeSystemVersion",
    "Concept",
    "ConceptStatus",
    "ImportReport",
    "Member",
    "Registry",
    "ValidationResult",
    "ValueSetVersion",
    "import_paths",
]
