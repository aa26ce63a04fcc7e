"""FastAPI application factory. Routers are thin; the engine does the work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from aiguillage import __version__
from aiguillage.api import health, hl7v2, messages, problems
from aiguillage.engine import Engine


def create_app(engine: Engine, *, manage_engine: bool = False) -> FastAPI:
    """Build the app around ``engine``; with ``manage_engine`` the lifespan starts/stops it."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_engine:
            await engine.start()
        try:
            yield
        finally:
            if manage_engine:
                await engine.stop()

    app = FastAPI(title="aiguillage", version=__version__, lifespan=lifespan)
    app.state.engine = engine
    app.state.token_cache = {}
    problems.install(app)
    app.include_router(health.router)
    app.include_router(messages.router)
    app.include_router(hl7v2.router)
    for router in engine.services.get("routers", []):
        app.include_router(router)
    return app
