"""The Provider seam: one adapter per provider kind, and the registry that names them.

Providers receive a body already in their wire format and return the provider's answer
as bytes in that same format; translation between formats happens outside, in `wire`.
They never see policy, budgets or routing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

from dome.credentials import Secret
from dome.wire.formats import Operation, WireFormat


@dataclass(frozen=True, slots=True)
class ProviderRequest:
    """One attempt against one provider."""

    format: WireFormat  # the format of `body`, and of the answer expected back
    operation: Operation
    body: bytes  # JSON, with the model already rewritten to the provider's model id
    stream: bool
    model: str  # the provider's model id
    # Client headers that carry request semantics and are safe to forward
    # (anthropic-version, anthropic-beta, openai-organization, ...). Never auth.
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProviderResponse:
    """A complete (non-streamed) provider answer."""

    status: int
    headers: tuple[tuple[str, str], ...]  # headers worth relaying to the agent
    body: bytes


class ProviderStream(Protocol):
    """An open streamed answer; `chunks` yields body bytes as they arrive."""

    status: int
    headers: tuple[tuple[str, str], ...]

    def chunks(self) -> AsyncIterator[bytes]: ...
    async def read(self) -> bytes:
        """The whole body: used when the provider answered a stream with an error."""
        ...

    async def aclose(self) -> None: ...


class Provider(Protocol):
    """A configured provider model, ready to send. Built once per config snapshot."""

    def accepts(self, fmt: WireFormat, operation: Operation) -> bool:
        """Whether this provider speaks `fmt` natively for `operation`."""
        ...

    async def send(self, request: ProviderRequest) -> ProviderResponse: ...
    async def stream(self, request: ProviderRequest) -> ProviderStream: ...


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """What a factory needs to build a provider: one model entry, secret decrypted."""

    name: str
    kind: str
    model: str
    base_url: str | None
    auth_method: str
    credential: Secret | None


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """Process-wide resources shared by every provider."""

    http: aiohttp.ClientSession
    connect_timeout: float = 10.0
    read_timeout: float = 600.0


ProviderFactory = Callable[[ProviderConfig, ProviderContext], Provider]
