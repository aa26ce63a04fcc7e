"""Wires the DMP service into the engine: document-event consumer, DMP client, ``/dmp`` routes.

The DMP endpoint comes from the settings (``dmp_url``, ``dmp_timeout_s``,
``dmp_max_attempts``, ``dmp_backoff_s``); without an endpoint documents are recorded and traced
``NON_ENVOYE``. :func:`use_endpoint` points a running engine at an endpoint (tests, CLI).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiguillage.dmp.push import PushPolicy
from aiguillage.dmp.service import DmpService

if TYPE_CHECKING:
    from aiguillage.engine import Engine


def get_service(engine: Engine) -> DmpService:
    service: DmpService = engine.services["dmp"]
    return service


def use_endpoint(
    engine: Engine, base_url: str | None, *, timeout_s: float = 30.0, max_attempts: int = 4, backoff_s: float = 1.0
) -> DmpService:
    """Point the engine's DMP client at ``base_url`` (None: no endpoint) with this retry policy."""
    from aiguillage.connectors.dmp import DmpHttpClient

    service = get_service(engine)
    service.client = DmpHttpClient(base_url, timeout_s=timeout_s) if base_url else None
    service.policy = PushPolicy(max_attempts=max_attempts, backoff_s=backoff_s)
    return service


def install(engine: Engine) -> None:
    from aiguillage.api.dmp import router

    service = DmpService(engine)
    engine.services["dmp"] = service
    s = engine.settings
    if s.dmp_url:
        use_endpoint(engine, s.dmp_url, timeout_s=s.dmp_timeout_s, max_attempts=s.dmp_max_attempts,
                     backoff_s=s.dmp_backoff_s)
    engine.services["startup"].append(service.start)
    engine.services["shutdown"].append(service.stop)
    engine.services["routers"].append(router)


__all__ = ["get_service", "install", "use_endpoint"]
