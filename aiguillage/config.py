"""Typed settings, validated at start-up.

Sources, lowest to highest precedence: defaults, a TOML config file (``AIGUILLAGE_CONFIG`` or
``--config``), ``AIGUILLAGE_*`` environment variables, then explicit overrides (CLI flags).
Invalid settings raise :class:`ConfigError` listing every problem in readable form.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiguillage.errors import ConfigError, Issue

Role = Literal["all", "api", "mllp", "worker"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIGUILLAGE_", extra="forbid", validate_default=True)

    config: Path | None = Field(default=None, description="TOML config file (read by load_settings)")
    data_dir: Path = Field(default=Path("./data"), description="Where the SQLite file and imports live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    mllp_host: str = "127.0.0.1"
    mllp_port: int = Field(default=2575, ge=0, le=65535)
    mllp_max_frame_bytes: int = Field(default=1_048_576, ge=1024)
    mllp_idle_timeout_s: float = Field(default=300.0, gt=0)
    mllp_tls_cert: Path | None = None
    mllp_tls_key: Path | None = None
    mllp_tls_client_ca: Path | None = None  # when set, client certificates are required
    role: Role = "all"

    bus: Literal["memory", "kafka"] = "memory"
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_partitions: int = Field(default=4, ge=1, le=256)

    group_commit_max_batch: int = Field(default=256, ge=1, le=10_000)
    group_commit_max_wait_ms: float = Field(default=0.0, ge=0, le=1000)  # >0 waits for company
    worker_max_attempts: int = Field(default=5, ge=1, le=100)
    worker_backoff_s: float = Field(default=1.0, gt=0)
    worker_linger_ms: float = Field(default=20.0, ge=0, le=1000)  # batch up work: fewer, larger commits
    retention_days: int = Field(default=90, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    cda_xsd: Path | None = None
    dmp_url: str | None = None  # DMP endpoint (the simulator in tests); unset: documents are traced NON_ENVOYE
    dmp_timeout_s: float = Field(default=10.0, gt=0)
    dmp_max_attempts: int = Field(default=5, ge=1, le=50)
    dmp_backoff_s: float = Field(default=1.0, ge=0)
    hl7_strict: bool = False  # reject A08 and LF-separated messages on every channel
    hl7_structure_channels: list[str] = Field(default_factory=list)  # hl7apy strict check on these channels

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if not (v.startswith("sqlite") or v.startswith("postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        return v

    @model_validator(mode="after")
    def _check_tls(self) -> Settings:
        if (self.mllp_tls_cert is None) != (self.mllp_tls_key is None):
            raise ValueError("mllp_tls_cert and mllp_tls_key go together")
        for p in (self.mllp_tls_cert, self.mllp_tls_key, self.mllp_tls_client_ca, self.cda_xsd):
            if p is not None and not p.is_file():
                raise ValueError(f"file not found: {p}")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            return url
        return f"sqlite:///{(self.data_dir / 'aiguillage.db').resolve()}"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from file + environment + overrides; raise ConfigError with every issue."""
    file_values: dict[str, Any] = {}
    path = config_file or (Path(os.environ["AIGUILLAGE_CONFIG"]) if os.environ.get("AIGUILLAGE_CONFIG") else None)
    if path is not None:
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}", "CFG-0002") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}", "CFG-0003") from exc
        file_values = file_values.get("aiguillage", file_values)
    env_keys = {k[len("AIGUILLAGE_") :].lower() for k in os.environ if k.startswith("AIGUILLAGE_")}
    # environment wins over the file: drop file values that the environment sets
    init = {k: v for k, v in file_values.items() if k not in env_keys}
    init.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**init)
    except ValidationError as exc:
        issues = [
            Issue(
                "error",
                "CFG-0001",
                f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}",
                "AIGUILLAGE_" + "_".join(str(p) for p in e["loc"]).upper() if e["loc"] else None,
            )
            for e in exc.errors()
        ]
        text = "; ".join(i.message for i in issues)
        raise ConfigError(f"invalid configuration: {text}", "CFG-0001", issues) from exc
