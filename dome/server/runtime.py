"""The running broker's state: settings, store, keys, and the current config snapshot.

The snapshot and the providers built from it are replaced together, whole, by
`reload()`; a call reads them once and never sees a half-applied change.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from dome.audit import AuditWriter
from dome.audit.metrics import LiveFigures
from dome.credentials import DecryptionError, Keyring, hashes_equal, token_hash
from dome.errors import DomeError, NotFoundError, UpstreamUnavailableError
from dome.policy.engine import PolicyEngine
from dome.policy.scope import parse_scope
from dome.policy.sources import PolicySource
from dome.policy.world import AgentInfo, ModelInfo, PolicyWorld, TenantInfo, WorkspaceInfo
from dome.providers.base import Provider, ProviderConfig, ProviderContext
from dome.providers.registry import create_provider
from dome.routing.cascade import RetryTracker
from dome.routing.health import MemberHealth
from dome.routing.match import parse_match_when
from dome.routing.pools import Pool, PoolMember, parse_strategy
from dome.settings import Settings
from dome.spend.budgets import Budgets
from dome.store import Store
from dome.store.records import PolicyRecord
from dome.store.snapshot import Agent, ConfigSnapshot, ModelEntry, build_snapshot

logger = logging.getLogger("dome.server")


@dataclass(frozen=True, slots=True)
class Routes:
    """The snapshot with the providers built for it, swapped as one value."""

    snapshot: ConfigSnapshot
    providers: Mapping[str, Provider]  # by model entry name; missing = failed to build
    by_provider_model: Mapping[str, ModelEntry]  # provider model id -> entry
    policy: PolicyEngine  # the policies in force, with the snapshot's entities
    pools: tuple[Pool, ...] = ()  # the snapshot's pools, ready for selection


@dataclass(frozen=True, slots=True)
class CallServices:
    """What every call reports to: the audit writer, the budgets, the live figures."""

    audit: AuditWriter
    budgets: Budgets
    figures: LiveFigures


class Runtime:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        keyring: Keyring,
        token_key: bytes,
        provider_context: ProviderContext,
        services: CallServices,
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
        self.audit = services.audit
        self.budgets = services.budgets
        self.figures = services.figures  # /metrics and spans, fed every call's end record
        # Work a call leaves behind (settling its budget hold), drained at shutdown
        # before the audit writer.
        self._tasks: set[asyncio.Task[None]] = set()
        # Per process: member health (Retry-After, circuit breakers), cascade retry
        # memory, and the draw behind the weighted strategy.
        self.health = MemberHealth(time.monotonic)
        self.retries = RetryTracker(time.monotonic)
        self.rng = random.Random()  # noqa: S311 - spreading load, not security
        empty = ConfigSnapshot.empty()
        self.routes = Routes(
            empty, MappingProxyType({}), MappingProxyType({}), build_policy_engine(empty)
        )

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` past the call that started it; `drain` waits for it."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

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
        policy = await self._build_policy(snapshot)
        self.routes = Routes(
            snapshot,
            MappingProxyType(providers),
            MappingProxyType(by_provider_model),
            policy,
            routing_pools(snapshot),
        )
        logger.info("config version %d loaded (%d models)", snapshot.version, len(providers))

    async def _build_policy(self, snapshot: ConfigSnapshot) -> PolicyEngine:
        """Cedar handles for the new snapshot, built in a thread (ms to s at scale).

        Stored policies were validated when applied; if they no longer build, the
        policies in force stay (or, at startup, nothing is permitted) and the log says why.
        """
        try:
            return await asyncio.to_thread(build_policy_engine, snapshot)
        except DomeError as error:
            logger.error("policy version cannot be loaded: %s", error.message)  # noqa: TRY400
            return self.routes.policy

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

    def servable(self, entries: Sequence[ModelEntry]) -> list[tuple[ModelEntry, Provider]]:
        """`entries` with their providers; one that could not be built is left out (the
        log said why at reload), and only when none is left is the call a 502."""
        providers = self.routes.providers
        built = [(entry, providers[entry.name]) for entry in entries if entry.name in providers]
        if not built:
            self.provider_for(entries[0])  # raises, naming the model
        return built

    def provider_for(self, entry: ModelEntry) -> Provider:
        """The provider built for `entry`; an entry that could not be built is a 502."""
        provider = self.routes.providers.get(entry.name)
        if provider is None:
            msg = f"model {entry.name!r} is configured but cannot be served; see the broker log"
            raise UpstreamUnavailableError(msg)
        return provider

    def agent_named(self, name: str) -> Agent:
        """An active agent by name, for admin questions (`rules test`, `route explain`)."""
        for agent in self.routes.snapshot.agents_by_token_hash.values():
            if agent.name == name:
                return agent
        raise NotFoundError(f"agent {name!r} does not exist or is revoked")


def routing_pools(snapshot: ConfigSnapshot) -> tuple[Pool, ...]:
    """The stored pools as routing values; a pool that no longer parses is left out."""
    pools = []
    for stored in snapshot.pools.values():
        try:
            pools.append(
                Pool(
                    name=stored.name,
                    match_when=parse_match_when(dict(stored.match_when)),
                    strategy=parse_strategy(stored.strategy),
                    order=stored.order,
                    members=tuple(
                        PoolMember(m.model, m.priority, m.weight) for m in stored.members
                    ),
                )
            )
        except DomeError as error:
            logger.error("pool %s cannot be used: %s", stored.name, error.message)  # noqa: TRY400
    return tuple(pools)


def build_policy_engine(snapshot: ConfigSnapshot) -> PolicyEngine:
    version = snapshot.policies
    sources = () if version is None else policy_sources(version.policies)
    return PolicyEngine.build(
        policy_world(snapshot), sources, version=0 if version is None else version.version
    )


def policy_sources(records: Iterable[PolicyRecord]) -> tuple[PolicySource, ...]:
    return tuple(
        PolicySource(record.id, parse_scope(record.scope), record.text, record.file)
        for record in records
    )


def policy_world(snapshot: ConfigSnapshot) -> PolicyWorld:
    """What Cedar knows of the config: scopes, active agents, servable models, pools."""
    pools_of: dict[str, tuple[str, ...]] = dict.fromkeys(snapshot.models, ())
    for pool in snapshot.pools.values():
        for member in pool.members:
            if member.model in pools_of:
                pools_of[member.model] = (*pools_of[member.model], pool.name)
    return PolicyWorld(
        tenants=tuple(TenantInfo(name) for name in snapshot.tenants),
        workspaces=tuple(
            WorkspaceInfo(w.name, w.tenant, w.residency, w.max_classification)
            for w in snapshot.workspaces.values()
        ),
        agents=tuple(
            AgentInfo(a.name, a.workspace, tuple(a.labels))
            for a in snapshot.agents_by_token_hash.values()
        ),
        models=tuple(
            ModelInfo(m.name, m.model, m.family, m.provider, m.region, m.tier, pools_of[m.name])
            for m in snapshot.models.values()
        ),
    )


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
