"""Plugs the nomenclature registry into the engine: ``engine.services["nomenclatures"]`` + HTTP routes.

The registry (built-in data + versions imported under ``<data_dir>/nomenclatures``) is loaded on
first use (a few ms); imports through the API add to it in place and persist the new versions.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from aiguillage.nomenclatures.importer import ImportReport, import_file
from aiguillage.nomenclatures.registry import Registry

if TYPE_CHECKING:
    from aiguillage.config import Settings
    from aiguillage.engine import Engine

SERVICE_KEY = "nomenclatures"
_LOCK = threading.Lock()


def store_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "nomenclatures"


def get_registry(engine: Engine) -> Registry:
    """The engine's registry, loaded on first use."""
    reg = engine.services.get(SERVICE_KEY)
    if reg is None:
        with _LOCK:
            reg = engine.services.get(SERVICE_KEY)
            if reg is None:
                reg = Registry.load(store_dir(engine.settings))
                engine.services[SERVICE_KEY] = reg
    assert isinstance(reg, Registry)
    return reg


def import_bytes(engine: Engine, data: bytes, filename: str) -> ImportReport:
    """Import one uploaded file (FHIR JSON, IHE SVS XML or NOS .tabs) into the engine's registry."""
    registry = get_registry(engine)
    name = Path(filename or "upload").name or "upload"
    with tempfile.TemporaryDirectory(prefix="agl-nom-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        with _LOCK:
            reports = import_file(registry, path, store_dir(engine.settings))
    for rep in reports:
        rep.path = name
        for i, issue in enumerate(rep.issues):
            if issue.location == str(path):
                rep.issues[i] = type(issue)(issue.severity, issue.code, issue.message, name)
    return ImportReport(reports)


def install(engine: Engine) -> None:
    from aiguillage.api.nomenclatures import router

    engine.services["routers"].append(router)
