"""The running broker's state: settings, store, keys, and the current config snapshot.

The snapshot and the providers built from it are replaced together, whole, by
`reload()`; a call reads them once and never sees a half-applied change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dome.audit import AuditWriter
from dome.credentials import DecryptionError, Keyring, hashes_equal, token_hash
from dome.errors import DomeError, NotFoundError, UpstreamUnavailableError
from dome.providers.base import Provider, ProviderConfig, ProviderContext
from dome.providers.registry import create_provider
from dome.settings import Settings
from dome.store import Store
from dome.store.snapshot import Agent, ConfigSnapshot, ModelEntry, build_snapshot

logger = logging.getLogger("dome.server")


@dataclass(frozen=True, slots=True)
class Routes:
    """The snapshot with the providers built for it, swapped as one value."""

    snapshot: ConfigSnapshot
    providers: Mapping[str, Provider]  # by model entry name; missing = failed to build
    by_provider_model: Mapping[str, ModelEntry]  # provider model id -> entry


class Runtime:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        keyring: Keyring,
        token_key: bytes,
        provider_context: ProviderContext,
        audit: AuditWriter,
        reload_keyring: Callable[[], Keyring],
    ) -> None:
        self.reload_keyring = reload_keyring
        # Serializes this process's credential writes with master key rotation, so a
        # rotation never re-seals a credential read before a concurrent update.
        self.credential_writes = asyncio.Lock()
        self.settings = settings
        self.store = store
        self.keyring = keyring
        self.token_key = token_key
        self.provider_context = provider_context
        self.audit = audit
        self.routes = Routes(ConfigSnapshot.empty(), MappingProxyType({}), MappingProxyType({}))

    @property
    def snapshot(self) -> ConfigSnapshot:
        return self.routes.snapshot

    async def reload(self) -> None:
        """Read the whole config and swap it in; a bad config keeps the old one serving."""
        rows = await self.store.load_config()
        try:
            snapshot = build_snapshot(rows, self.keyring)
        except DecryptionError:
            # Another process sharing this data dir may have rotated the master key.
            self.keyring = self.reload_keyring()
            snapshot = build_snapshot(rows, self.keyring)
        providers = self._build_providers(snapshot)
        by_provider_model: dict[str, ModelEntry] = {}
        for name in sorted(snapshot.models):  # first by name wins an ambiguous id
            entry = snapshot.models[name]
            by_provider_model.setdefault(entry.model, entry)
        self.routes = Routes(
            snapshot, MappingProxyType(providers), MappingProxyType(by_provider_model)
        )
        logger.info("config version %d loaded (%d models)", snapshot.version, len(providers))

    def _build_providers(self, snapshot: ConfigSnapshot) -> dict[str, Provider]:
        reused = self.routes
        providers: dict[str, Provider] = {}
        for name, entry in snapshot.models.items():
            previous = reused.snapshot.models.get(name)
            if previous == entry and name in reused.providers:
                providers[name] = reused.providers[name]
                continue
            try:
                providers[name] = create_provider(provider_config(entry), self.provider_context)
            except DomeError as error:
                # A config error, not a crash: its message says all, no traceback.
                logger.error("model %s cannot be served: %s", name, error.message)  # noqa: TRY400
        return providers

    def agent_for_token(self, token: str) -> Agent | None:
        digest = token_hash(self.token_key, token)
        agent = self.routes.snapshot.agents_by_token_hash.get(digest)
        if agent is None or not hashes_equal(agent.token_hash, digest):
            return None
        return agent

    def resolve(self, model: str) -> tuple[ModelEntry, Provider]:
        """The model entry an agent's `model` names: by entry name, else provider id."""
        routes = self.routes
        entry = routes.snapshot.models.get(model) or routes.by_provider_model.get(model)
        if entry is None:
            msg = f"model {model!r} is not configured on this broker"
            raise NotFoundError(msg, param="model")
        provider = routes.providers.get(entry.name)
        if provider is None:
            msg = f"model {model!r} is configured but cannot be served; see the broker log"
            raise UpstreamUnavailableError(msg)
        return entry, provider


def provider_config(entry: ModelEntry) -> ProviderConfig:
    return ProviderConfig(
        name=entry.name,
        kind=entry.provider,
        model=entry.model,
        base_url=entry.base_url,
        auth_method=entry.auth_method,
        credential=entry.credential,
    )


__all__ = ["Routes", "Runtime", "provider_config"]
