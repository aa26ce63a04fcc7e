"""Plugs the mapping tables into the engine: ``engine.services["mappings"]`` (a MappingService), the
``/mappings`` routes, and a start-up sweep releasing messages held by values mapped meanwhile."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiguillage.errors import EngineError
from aiguillage.mappings.service import MappingService

if TYPE_CHECKING:
    from aiguillage.engine import Engine

log = logging.getLogger(__name__)
SERVICE_KEY = "mappings"


def get_service(engine: Engine) -> MappingService:
    svc = engine.services.get(SERVICE_KEY)
    if svc is None:
        svc = engine.services.setdefault(SERVICE_KEY, MappingService.for_engine(engine))
    assert isinstance(svc, MappingService)
    return svc


def install(engine: Engine) -> None:
    from aiguillage.api.mappings import router

    svc = get_service(engine)
    engine.services["routers"].append(router)

    async def _sweep() -> None:
        try:
            released = await asyncio.to_thread(svc.release_stale)
        except EngineError as exc:  # store trouble at start-up must not stop the engine
            log.warning("mappings start-up sweep failed: %s", exc.code)
            return
        if released:
            log.info("mappings start-up sweep released %d held message(s)", released)

    engine.services["startup"].append(_sweep)
