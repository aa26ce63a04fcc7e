"""Plug the ROR exposure service into the engine: ``engine.services["ror"]`` and the /fhir routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiguillage.nomenclatures.registry import Registry
from aiguillage.ror.service import RorService

if TYPE_CHECKING:
    from aiguillage.engine import Engine

_BUILTIN: list[Registry] = []


def registry_for(engine: Any) -> Registry:
    """The nomenclature registry the engine holds, or the built-in one (loaded once, lazily)."""
    held = engine.services.get("nomenclatures")
    for candidate in (held, getattr(held, "registry", None)):
        if isinstance(candidate, Registry):
            return candidate
    if not _BUILTIN:
        _BUILTIN.append(Registry.builtin())
    return _BUILTIN[0]


def install(engine: Engine) -> None:
    from aiguillage.api import fhir_ror

    engine.services["ror"] = RorService(engine.db, lambda: registry_for(engine))
    engine.services["routers"].append(fhir_ror.router)
    _install_federation(engine)


def _install_federation(engine: Engine) -> None:
    """Peers from ``AIGUILLAGE_ROR_PEERS`` (see :mod:`aiguillage.ror.peers`); no peers: local answers only."""
    from aiguillage.connectors.ror_peer import RorPeerClient
    from aiguillage.ror.federation import Federation
    from aiguillage.ror.peers import config_from_env

    federation = Federation(config_from_env(), RorPeerClient.for_peer)
    engine.services["ror_federation"] = federation
    engine.services["ror_federation_params"] = federation.capability_params()
    engine.services["shutdown"].append(federation.close)
