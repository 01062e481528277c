"""Anthropic's Messages API; the base URL excludes `/v1`, as in the Anthropic SDK."""

from __future__ import annotations

from dome.errors import ConfigError
from dome.providers.base import (
    ProviderConfig,
    ProviderContext,
    ProviderRequest,
    ProviderResponse,
    ProviderStream,
)
from dome.providers.http import HttpForwarder
from dome.wire.formats import Operation, WireFormat

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
DEFAULT_ANTHROPIC_VERSION = "2023-06-01"
_PATHS: dict[Operation, str] = {
    "messages": "/v1/messages",
    "count_tokens": "/v1/messages/count_tokens",
}


class AnthropicProvider:
    __slots__ = ("_base_url", "_forwarder", "_headers")

    def __init__(self, config: ProviderConfig, context: ProviderContext) -> None:
        if config.credential is None:
            msg = f"model {config.name!r}: the anthropic provider needs an API key"
            raise ConfigError(msg)
        self._base_url = (config.base_url or ANTHROPIC_BASE_URL).rstrip("/")
        self._forwarder = HttpForwarder(context)
        self._headers = {
            "content-type": "application/json",
            "x-api-key": config.credential.reveal(),
        }

    def __repr__(self) -> str:
        return f"AnthropicProvider({self._base_url!r})"

    def accepts(self, fmt: WireFormat, operation: Operation) -> bool:
        return fmt == "anthropic" and operation in _PATHS

    async def send(self, request: ProviderRequest) -> ProviderResponse:
        return await self._forwarder.post(self._url(request), request.body, self._with(request))

    async def stream(self, request: ProviderRequest) -> ProviderStream:
        return await self._forwarder.post_stream(
            self._url(request), request.body, self._with(request)
        )

    def _url(self, request: ProviderRequest) -> str:
        return self._base_url + _PATHS[request.operation]

    def _with(self, request: ProviderRequest) -> dict[str, str]:
        # The agent's anthropic-version and anthropic-beta choose API behaviour, so
        # they travel; our credential replaces whatever auth the agent sent.
        headers = {"anthropic-version": DEFAULT_ANTHROPIC_VERSION, **request.headers}
        headers.update(self._headers)
        return headers


def create_anthropic_provider(
    config: ProviderConfig, context: ProviderContext
) -> AnthropicProvider:
    return AnthropicProvider(config, context)
