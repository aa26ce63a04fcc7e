"""Peer RORs for federated search: their configuration and the reply a peer client hands back.

The peers are read once, when the engine is built, from the JSON or TOML file named by the
``AIGUILLAGE_ROR_PEERS`` environment variable (no variable: no peers; a federated search then
answers the local results only). The file, JSON or TOML, with the same keys::

    local_region = "24"        # TRE_R30 code stamped on local entries (default: each resource's meta.tag)
    timeout_s = 2.0            # default per-peer timeout, whole request (connect + answer)
    cursor_ttl_s = 300         # how long a merged result set stays pageable
    max_per_source = 1000      # matches asked from each peer (``_count``) and taken from the local store
    max_snapshots = 256        # merged result sets kept in memory (oldest evicted first)

    [[peers]]                  # searched concurrently; this order decides which duplicate is kept
    name = "idf"               # optional, default: the region code
    region = "11"              # TRE_R30 region code of the peer
    base_url = "https://ror-idf.example/fhir"
    token = "..."              # bearer token; or token_env = "NAME_OF_AN_ENV_VAR_HOLDING_IT"
    timeout_s = 1.5            # optional, overrides the default

An invalid file stops the start-up with a :class:`ConfigError` (RORF-0001) listing every problem.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aiguillage.errors import ConfigError, Issue

ENV_VAR = "AIGUILLAGE_ROR_PEERS"
CONFIG_ERROR = "RORF-0001"
_REGION_RE = re.compile(r"^[0-9A-Z]{2,3}$")

ReplyKind = Literal["ok", "timeout", "refused", "transport", "too-large"]


@dataclass(frozen=True)
class PeerConfig:
    name: str
    region: str
    base_url: str
    token: str | None = None
    timeout_s: float = 2.0


@dataclass(frozen=True)
class FederationConfig:
    peers: tuple[PeerConfig, ...] = ()
    local_region: str | None = None
    timeout_s: float = 2.0
    cursor_ttl_s: float = 300.0
    max_per_source: int = 1000
    max_snapshots: int = 256


@dataclass
class PeerReply:
    """What a peer client got: ``kind`` ok (an HTTP answer, any status) or the transport failure."""

    kind: ReplyKind
    http_status: int | None = None
    body: bytes = b""
    elapsed_s: float = 0.0
    detail: str = ""
    content_type: str = field(default="")


# --- file schema ---------------------------------------------------------------------------------


class _Peer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    region: str
    base_url: str
    token: str | None = None
    token_env: str | None = None
    timeout_s: float | None = Field(default=None, gt=0, le=60)

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not _REGION_RE.match(v):
            raise ValueError(f"{v!r} is not a TRE_R30 region code")
        return v

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http:// or https:// URL")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _token(self) -> _Peer:
        if self.token is not None and self.token_env is not None:
            raise ValueError("give token or token_env, not both")
        if self.token_env is not None and not os.environ.get(self.token_env):
            raise ValueError(f"environment variable {self.token_env} (token_env) is not set")
        return self


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    local_region: str | None = None
    timeout_s: float = Field(default=2.0, gt=0, le=60)
    cursor_ttl_s: float = Field(default=300.0, gt=0, le=86_400)
    max_per_source: int = Field(default=1000, ge=1, le=1000)
    max_snapshots: int = Field(default=256, ge=1, le=100_000)
    peers: list[_Peer] = Field(default_factory=list)

    @field_validator("local_region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        if v is not None and not _REGION_RE.match(v):
            raise ValueError(f"{v!r} is not a TRE_R30 region code")
        return v

    @model_validator(mode="after")
    def _unique(self) -> _File:
        names = [p.name or p.region for p in self.peers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"peer names must be unique (give 'name'): {', '.join(dup)}")
        return self


def parse_config(data: Any, source: str = "peers file") -> FederationConfig:
    """Validate a decoded peers file; raises :class:`ConfigError` with every problem."""
    try:
        f = _File.model_validate(data)
    except ValidationError as exc:
        issues = [Issue("error", CONFIG_ERROR, f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}",
                        source) for e in exc.errors()]
        raise ConfigError(f"invalid ROR peers file {source}: " + "; ".join(i.message for i in issues),
                          CONFIG_ERROR, issues) from None
    peers = tuple(
        PeerConfig(name=p.name or p.region, region=p.region, base_url=p.base_url,
                   token=p.token if p.token_env is None else os.environ[p.token_env],
                   timeout_s=p.timeout_s if p.timeout_s is not None else f.timeout_s)
        for p in f.peers
    )
    return FederationConfig(peers, f.local_region, f.timeout_s, f.cursor_ttl_s, f.max_per_source, f.max_snapshots)


def load_config(path: Path) -> FederationConfig:
    """Read a JSON (``.json``) or TOML (anything else) peers file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"ROR peers file not readable: {path} ({exc.__class__.__name__})", CONFIG_ERROR) from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"ROR peers file {path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'}: "
                          f"{exc}", CONFIG_ERROR) from exc
    return parse_config(data, str(path))


def config_from_env() -> FederationConfig:
    """The peers named by ``AIGUILLAGE_ROR_PEERS`` (a file path), or none."""
    path = os.environ.get(ENV_VAR, "").strip()
    return load_config(Path(path)) if path else FederationConfig()


__all__ = ["ENV_VAR", "FederationConfig", "PeerConfig", "PeerReply", "config_from_env", "load_config",
           "parse_config"]
