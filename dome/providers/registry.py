"""The one place that maps a provider kind's name to its factory."""

from __future__ import annotations

from types import MappingProxyType

from dome.errors import ConfigError
from dome.providers.anthropic import create_anthropic_provider
from dome.providers.base import Provider, ProviderConfig, ProviderContext, ProviderFactory
from dome.providers.mock import create_mock_provider
from dome.providers.openai import create_openai_compatible_provider, create_openai_provider

PROVIDER_KINDS: MappingProxyType[str, ProviderFactory] = MappingProxyType(
    {
        "openai": create_openai_provider,
        "anthropic": create_anthropic_provider,
        "openai-compatible": create_openai_compatible_provider,
        "mock": create_mock_provider,
    }
)


def create_provider(config: ProviderConfig, context: ProviderContext) -> Provider:
    factory = PROVIDER_KINDS.get(config.kind)
    if factory is None:
        known = ", ".join(sorted(PROVIDER_KINDS))
        msg = f"model {config.name!r}: unknown provider kind {config.kind!r} (known: {known})"
        raise ConfigError(msg)
    return factory(config, context)
