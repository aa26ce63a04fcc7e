"""The DMP endpoint comes from the settings (AIGUILLAGE_DMP_URL …), validated at start-up."""

from __future__ import annotations

from collections.abc import Callable

from aiguillage.config import Settings
from aiguillage.engine import Engine


def test_dmp_endpoint_is_taken_from_settings(make_settings: Callable[..., Settings]) -> None:
    configured = Engine(make_settings(dmp_url="http://127.0.0.1:9/dmp", dmp_max_attempts=2))
    bare = Engine(make_settings())
    service = configured.services["dmp"]
    assert service.client is not None, "an endpoint in the settings gives the service a DMP client"
    assert service.policy.max_attempts == 2
    assert bare.services["dmp"].client is None
    configured.db.dispose()
    bare.db.dispose()
