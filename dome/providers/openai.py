"""OpenAI, and any server speaking its chat completions API (vLLM, llama.cpp, Ollama)."""

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

OPENAI_BASE_URL = "https://api.openai.com/v1"
_PATHS: dict[Operation, str] = {"chat": "/chat/completions", "embeddings": "/embeddings"}


class OpenAIProvider:
    """Speaks the OpenAI format; the base URL includes `/v1`, as in the OpenAI SDK."""

    __slots__ = ("_base_url", "_forwarder", "_headers")

    def __init__(self, config: ProviderConfig, context: ProviderContext, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")
        self._forwarder = HttpForwarder(context)
        self._headers = {"content-type": "application/json"}
        if config.credential is not None:
            self._headers["authorization"] = "Bearer " + config.credential.reveal()

    def __repr__(self) -> str:
        return f"OpenAIProvider({self._base_url!r})"

    def accepts(self, fmt: WireFormat, operation: Operation) -> bool:
        return fmt == "openai" and operation in _PATHS

    async def send(self, request: ProviderRequest) -> ProviderResponse:
        return await self._forwarder.post(self._url(request), request.body, self._headers)

    async def stream(self, request: ProviderRequest) -> ProviderStream:
        return await self._forwarder.post_stream(self._url(request), request.body, self._headers)

    def _url(self, request: ProviderRequest) -> str:
        return self._base_url + _PATHS[request.operation]


def create_openai_provider(config: ProviderConfig, context: ProviderContext) -> OpenAIProvider:
    if config.credential is None:
        msg = f"model {config.name!r}: the openai provider needs an API key"
        raise ConfigError(msg)
    return OpenAIProvider(config, context, config.base_url or OPENAI_BASE_URL)


def create_openai_compatible_provider(
    config: ProviderConfig, context: ProviderContext
) -> OpenAIProvider:
    if not config.base_url:
        msg = f"model {config.name!r}: an openai-compatible provider needs a base URL"
        raise ConfigError(msg)
    return OpenAIProvider(config, context, config.base_url)
