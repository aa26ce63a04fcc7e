"""DMP client: bytes over HTTP to a DMP endpoint (the real web services' stand-in, or the simulator).

``POST {base_url}/dmp/documents`` with a :class:`~aiguillage.dmp.wire.DmpRequest` as JSON; the
answer is a :class:`~aiguillage.dmp.wire.DmpReply`. HTTP 5xx, timeouts, refused connections and
unreadable answers raise :class:`~aiguillage.dmp.wire.DmpTransportError` (retryable); the push
decides whether and when to retry. The HTTP client is created on first use (or ``start()``),
never at import or construction time.
"""

from __future__ import annotations

import logging

import httpx

from aiguillage.dmp.wire import DmpReply, DmpRequest, DmpTransportError

log = logging.getLogger(__name__)

PATH = "/dmp/documents"


class DmpHttpClient:
    def __init__(self, base_url: str, *, timeout_s: float = 30.0, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._token = token
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout_s, headers=headers)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def submit(self, request: DmpRequest) -> DmpReply:
        """Send one document action; the DMP's answer, or DmpTransportError."""
        await self.start()
        assert self._client is not None
        try:
            resp = await self._client.post(PATH, json=request.to_json())
        except httpx.TimeoutException as exc:
            raise DmpTransportError("DMP request timed out", "timeout") from exc
        except httpx.HTTPError as exc:
            raise DmpTransportError(f"DMP unreachable: {exc.__class__.__name__}", "connect") from exc
        if resp.status_code >= 500:
            raise DmpTransportError(f"DMP answered HTTP {resp.status_code}", f"http-{resp.status_code}")
        try:
            reply = DmpReply.from_json(resp.json())
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("dmp answer unreadable (HTTP %s)", resp.status_code)
            raise DmpTransportError(f"DMP answer unreadable (HTTP {resp.status_code})", "bad-answer",
                                    "DMP-0202") from exc
        return reply


__all__ = ["PATH", "DmpHttpClient"]
