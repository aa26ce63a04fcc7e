"""Wires the format handlers and services into an Engine (called from Engine.start).

Each format registers the handler for its content type; services keep their state in
``engine.services``. Imports stay inside the function so nothing heavy loads before it is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiguillage.engine import Engine


def install_services(engine: Engine) -> None:
    """Register every available handler and service on ``engine``."""
    return None
