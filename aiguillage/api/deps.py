"""Dependencies shared by the routers: the engine and bearer-token authentication with scopes."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from aiguillage.engine import Engine
from aiguillage.errors import AuthError
from aiguillage.store import clients
from aiguillage.store.clients import Principal

TOKEN_CACHE_SECONDS = 30.0


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("a bearer token is required (Authorization: Bearer TOKEN)", "AUTH-0001", 401)
    cache: dict[str, tuple[Principal, float]] = request.app.state.token_cache
    now = time.monotonic()
    hit = cache.get(token)
    if hit is not None and hit[1] > now:
        return hit[0]
    engine = get_engine(request)
    found = await run_in_threadpool(clients.authenticate, engine.db, token.strip())
    if found is None:
        raise AuthError("unknown or disabled token", "AUTH-0001", 401)
    if len(cache) > 10_000:
        cache.clear()
    cache[token] = (found, now + TOKEN_CACHE_SECONDS)  # a disabled token stops working within this delay
    return found


def require_scope(scope: str) -> Callable[[Request], object]:
    """Dependency: a client whose token carries ``scope`` (or ``admin``)."""

    async def _dep(request: Request) -> Principal:
        p = await principal(request)
        if not p.has(scope):
            raise AuthError(f"client {p.name!r} lacks scope {scope!r}", "AUTH-0002", 403)
        return p

    _dep.__name__ = f"require_{scope.replace(':', '_')}"
    return _dep
