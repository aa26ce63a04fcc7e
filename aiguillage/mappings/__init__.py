"""Mapping tables: local codes/labels of a source -> national codes, unmapped queue, audit, CSV.

Public API::

    translate(conn, source, field, value) -> Translation | None      (inside the worker's transaction)
    MappingContext(conn, message_id).translate(...) / .outcome_if_missing()
    service.save_mapping / delete_mapping / set_table_settings / import_csv / export_csv
"""

from aiguillage.mappings.normalize import normalize_key
from aiguillage.mappings.translate import MappingContext, Missing, Translation, translate

__all__ = ["MappingContext", "Missing", "Translation", "normalize_key", "translate"]
