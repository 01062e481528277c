"""Forwarding a body to an HTTP provider with aiohttp, streamed or whole.

aiohttp was chosen by measurement (research/perf-baseline.md, bench/): as the upstream
client under concurrency it holds 12-14x the throughput of httpx. One pooled session
per process is created in the server's lifespan and passed in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass

import aiohttp

from dome.errors import (
    UpstreamStreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from dome.providers.base import ProviderContext, ProviderResponse

# Provider response headers the agent's SDK reads (request ids, rate limits, retry
# hints). Everything else, notably content-length and content-encoding, is ours to set.
_RELAYED_HEADERS = frozenset(
    {
        "content-type",
        "retry-after",
        "retry-after-ms",
        "x-request-id",
        "request-id",
        "openai-processing-ms",
        "x-should-retry",
    }
)
_RELAYED_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")


def new_session(*, limit: int = 1024) -> aiohttp.ClientSession:
    """The process-wide upstream client: pooled keep-alive connections, no env proxies."""
    connector = aiohttp.TCPConnector(limit=limit, ttl_dns_cache=300, enable_cleanup_closed=True)
    return aiohttp.ClientSession(connector=connector, trust_env=False, auto_decompress=True)


def relayed_headers(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    kept = []
    for name, value in headers:
        lower = name.lower()
        if lower in _RELAYED_HEADERS or lower.startswith(_RELAYED_PREFIXES):
            kept.append((lower, value))
    return tuple(kept)


@dataclass(slots=True)
class HttpStream:
    """An open upstream response whose body is read as it arrives."""

    status: int
    headers: tuple[tuple[str, str], ...]
    _response: aiohttp.ClientResponse

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
            msg = "the provider's stream broke off before it ended"
            raise UpstreamStreamError(msg) from exc
        except TimeoutError as exc:
            msg = "the provider's stream stalled past the read timeout"
            raise UpstreamStreamError(msg) from exc

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            msg = "the provider's answer broke off"
            raise UpstreamStreamError(msg) from exc

    async def aclose(self) -> None:
        self._response.close()


class HttpForwarder:
    """Posts bodies to one provider endpoint family with the given auth headers."""

    __slots__ = ("_context", "_timeout")

    def __init__(self, context: ProviderContext) -> None:
        self._context = context
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=context.connect_timeout,
            sock_read=context.read_timeout,
        )

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> ProviderResponse:
        response = await self._open(url, body, headers)
        try:
            data = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            msg = "the provider's answer broke off"
            raise UpstreamUnavailableError(msg) from exc
        finally:
            response.release()
        return ProviderResponse(response.status, relayed_headers(response.headers.items()), data)

    async def post_stream(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpStream:
        response = await self._open(url, body, headers)
        return HttpStream(response.status, relayed_headers(response.headers.items()), response)

    async def _open(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> aiohttp.ClientResponse:
        try:
            return await self._context.http.post(
                url, data=body, headers=headers, timeout=self._timeout, allow_redirects=False
            )
        except TimeoutError as exc:
            msg = "timed out connecting to the provider"
            raise UpstreamTimeoutError(msg) from exc
        except aiohttp.ClientError as exc:
            # The exception text can hold the URL but never credentials: we keep it out.
            msg = f"cannot reach the provider ({type(exc).__name__})"
            raise UpstreamUnavailableError(msg) from exc
