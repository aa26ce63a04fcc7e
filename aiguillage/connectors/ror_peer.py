"""FHIR client for a peer ROR: one search request, bytes back, never an exception for transport trouble.

``GET {base_url}/{type}?{query}`` with the peer's bearer token and the hop header the federation
layer passes. The whole request (connect, send, answer body) is bounded by the peer's timeout, so a
peer that accepts the connection and never answers costs at most that long. A timeout, a refused
connection, any other transport error or an oversized answer comes back as a
:class:`~aiguillage.ror.peers.PeerReply` with that ``kind``; an HTTP answer (any status) comes back
as ``kind="ok"`` with its status and raw body. Decoding the body is the caller's job.
The HTTP client is created on first use, never at import or construction time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence

import httpx

from aiguillage.ror.peers import PeerConfig, PeerReply, ReplyKind

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024 * 1024


class RorPeerClient:
    def __init__(self, base_url: str, *, token: str | None = None, timeout_s: float = 2.0,
                 max_body: int = MAX_BODY, name: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_body = max_body
        self.name = name or self.base_url
        self._token = token
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def for_peer(cls, peer: PeerConfig) -> RorPeerClient:
        return cls(peer.base_url, token=peer.token, timeout_s=peer.timeout_s, name=peer.name)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"Accept": "application/fhir+json"}
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            self._client = httpx.AsyncClient(
                base_url=self.base_url, headers=headers, timeout=httpx.Timeout(self.timeout_s),
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=8), follow_redirects=False,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def search(self, resource_type: str, items: Sequence[tuple[str, str]],
                     headers: Mapping[str, str] | None = None) -> PeerReply:
        """One search; the reply or the transport failure, within ``timeout_s``."""
        t0 = time.perf_counter()
        client = self._http()
        try:
            async with asyncio.timeout(self.timeout_s):
                async with client.stream("GET", f"/{resource_type}", params=list(items),
                                         headers=dict(headers or {})) as resp:
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in resp.aiter_bytes():
                        size += len(chunk)
                        if size > self.max_body:
                            return self._reply("too-large", t0, f"answer larger than {self.max_body} bytes",
                                               resp.status_code)
                        chunks.append(chunk)
                    return PeerReply("ok", resp.status_code, b"".join(chunks), time.perf_counter() - t0,
                                     content_type=resp.headers.get("content-type", ""))
        except (TimeoutError, httpx.TimeoutException):
            return self._reply("timeout", t0, f"no answer within {self.timeout_s:g} s")
        except httpx.ConnectError as exc:
            return self._reply("refused", t0, f"connection failed ({_reason(exc)})")
        except httpx.HTTPError as exc:
            return self._reply("transport", t0, f"transport error ({exc.__class__.__name__})")
        except OSError as exc:
            return self._reply("transport", t0, f"transport error ({exc.__class__.__name__})")

    def _reply(self, kind: ReplyKind, t0: float, detail: str, status: int | None = None) -> PeerReply:
        log.info("ror peer %s: %s", self.name, kind)
        return PeerReply(kind, status, b"", time.perf_counter() - t0, detail)


def _reason(exc: httpx.ConnectError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
            return "connection refused"
        if "name" in str(cause).lower() and ("resolution" in str(cause).lower() or "not known" in str(cause).lower()):
            return "host name not resolved"
        cause = cause.__cause__ or cause.__context__
    return exc.__class__.__name__


__all__ = ["MAX_BODY", "RorPeerClient"]
