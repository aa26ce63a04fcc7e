"""docker-compose.yml structure (no Docker engine runs here, so the file is checked, not started)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from aiguillage.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_services_and_dependencies_are_consistent() -> None:
    doc = load()
    services: dict[str, Any] = doc["services"]
    assert {"postgres", "kafka", "api", "mllp", "worker", "migrate"} <= set(services)
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, name
        deps = svc.get("depends_on", {})
        for dep, cond in deps.items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert cond["condition"] in {"service_healthy", "service_completed_successfully", "service_started"}
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} has no healthcheck but {name} waits for it"
    for vol in (v.split(":")[0] for s in services.values() for v in s.get("volumes", [])):
        assert vol in doc["volumes"], vol


def test_kafka_runs_in_kraft_mode_without_zookeeper() -> None:
    kafka = load()["services"]["kafka"]["environment"]
    assert "broker" in kafka["KAFKA_PROCESS_ROLES"] and "controller" in kafka["KAFKA_PROCESS_ROLES"]
    assert "KAFKA_CONTROLLER_QUORUM_VOTERS" in kafka
    assert not any("ZOOKEEPER" in k for k in kafka)


def test_engine_roles_use_only_real_settings() -> None:
    services = load()["services"]
    fields = set(Settings.model_fields)
    roles = {}
    for name in ("api", "mllp", "worker", "migrate"):
        env = services[name]["environment"]
        for key in env:
            assert key.startswith("AIGUILLAGE_"), key
            assert key[len("AIGUILLAGE_"):].lower() in fields, f"{name}: {key} is not a setting"
        # every environment validates as real settings (paths aside)
        values = {k[len("AIGUILLAGE_"):].lower(): v for k, v in env.items()}
        s = Settings(**values)
        assert s.bus == "kafka" and s.effective_database_url.startswith("postgresql+psycopg://")
        roles[name] = s.role
    assert roles["api"] == "api" and roles["mllp"] == "mllp" and roles["worker"] == "worker"
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert "8000:8000" in services["api"]["ports"] and "2575:2575" in services["mllp"]["ports"]
