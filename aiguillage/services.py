"""Wires the format handlers and services into an Engine (called from Engine.__init__).

Each area exposes ``install(engine)`` in its ``install`` module: it registers its handler for a
content type (``engine.handlers.register``), appends its FastAPI routers to
``engine.services["routers"]``, its admin viewers to ``engine.services["viewers"]``, and keeps any
state under ``engine.services[<area>]``. Installing connects nothing: connections are made in
``engine.start()`` or lazily by the service.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiguillage.engine import Engine

INSTALLERS: tuple[str, ...] = (
    "aiguillage.nomenclatures.install",
    "aiguillage.mappings.install",
    "aiguillage.hl7v2.install",
    "aiguillage.cda.install",
    "aiguillage.ror.install",
    "aiguillage.dmp.install",
    "aiguillage.capacity.install",
    "aiguillage.rcp.install",
)


def install_services(engine: Engine) -> None:
    """Register every available handler, router and viewer on ``engine``."""
    engine.services.setdefault("routers", [])
    engine.services.setdefault("viewers", {})
    engine.services.setdefault("startup", [])  # async callables run by Engine.start()
    engine.services.setdefault("shutdown", [])
    for name in INSTALLERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # this area has nothing to install yet
            raise
        module.install(engine)
