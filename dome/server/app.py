"""The ASGI application: routes paths to the agent plane, the admin API and health.

Its lifespan opens the store, prepares keys, loads the first snapshot, and starts the
audit writer and the config watcher; on shutdown it drains the audit writer last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any
from urllib.parse import unquote

from dome.audit import AuditWriter, Chain
from dome.audit.journal import StartJournal
from dome.audit.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from dome.audit.metrics import LiveFigures
from dome.audit.otel import open_call_spans
from dome.audit.recovery import recover_orphans
from dome.errors import NotFoundError
from dome.providers.base import ProviderContext
from dome.providers.http import new_session
from dome.server.admin import create_admin_app
from dome.server.agent_plane import AgentPlane
from dome.server.asgi import ASGIApp, Receive, Scope, Send, send_bytes
from dome.server.bootstrap import (
    AUDIT_CHAIN_KEY,
    TOKEN_HASH_KEY,
    announce_admin_token,
    ensure_admin_token,
    load_stored_key,
    prepare_data_dir,
)
from dome.server.model_catalog import answer_models
from dome.server.runtime import CallServices, Runtime
from dome.server.watch import watch_config
from dome.settings import Settings
from dome.spend.budgets import Budgets, counter_backend
from dome.store import open_store
from dome.wire.openai.errors import error_body as openai_error_body
from dome.wire.profiles import (
    ANTHROPIC_COUNT_TOKENS,
    ANTHROPIC_MESSAGES,
    OPENAI_CHAT,
    OPENAI_EMBEDDINGS,
    EndpointProfile,
)

logger = logging.getLogger("dome.server")

JOURNAL_DIR = "audit-journal"  # in the data directory (dome.audit.journal)

# Both /v1/x and /v1/v1/x: the Anthropic SDK given base_url ".../v1" calls /v1/v1/messages.
_AGENT_ROUTES: dict[str, EndpointProfile] = {
    "/chat/completions": OPENAI_CHAT,
    "/messages": ANTHROPIC_MESSAGES,
    "/embeddings": OPENAI_EMBEDDINGS,
    "/messages/count_tokens": ANTHROPIC_COUNT_TOKENS,
}


def _without_v1(path: str) -> str:
    for _ in range(2):
        if not path.startswith("/v1/"):
            break
        path = path[3:]
    return path


def agent_route(path: str) -> EndpointProfile | None:
    return _AGENT_ROUTES.get(_without_v1(path))


def is_models_path(path: str) -> bool:
    rest = _without_v1(path)
    return rest == "/models" or (rest.startswith("/models/") and rest != "/models/")


def model_id_in(path: str) -> str | None:
    """The id in `/v1/models/{id}`, or None for the list."""
    rest = _without_v1(path)
    return unquote(rest[len("/models/") :]) if rest.startswith("/models/") else None


class BrokerApp:
    """The whole broker as one ASGI callable."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime: Runtime | None = None
        self.figures: LiveFigures | None = None  # behind GET /metrics
        self._agent_plane: AgentPlane | None = None
        self._admin: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        path: str = scope["path"]
        profile = agent_route(path)
        if profile is not None and self._agent_plane is not None:
            if scope["method"] != "POST":
                await _method_not_allowed(profile, send)
                return
            await self._agent_plane.handle(scope, receive, send, profile)
        elif self.runtime is not None and scope["method"] == "GET" and is_models_path(path):
            await answer_models(self.runtime, scope, send, model_id_in(path))
        elif path.startswith("/admin/") and self._admin is not None:
            await self._admin(scope, receive, send)
        elif path == "/healthz":
            await send_bytes(send, 200, b'{"status":"ok"}')
        elif path == "/metrics" and scope["method"] == "GET" and self.figures is not None:
            # No token: operators keep it off the public network (docs/metrics.md).
            headers = ((b"content-type", METRICS_CONTENT_TYPE.encode()),)
            await send_bytes(send, 200, self.figures.exposition(), headers)
        else:
            error = NotFoundError(f"no route for {scope['method']} {path}")
            await send_bytes(send, 404, openai_error_body(404, None, error.message))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        try:
            stack = contextlib.AsyncExitStack()
            await stack.enter_async_context(self._running())
        except Exception as exc:
            logger.exception("startup failed")
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        try:
            await stack.aclose()
        finally:
            await send({"type": "lifespan.shutdown.complete"})

    @contextlib.asynccontextmanager
    async def _running(self) -> AsyncIterator[None]:
        settings = self.settings
        keyring = prepare_data_dir(settings)
        store = await open_store(settings.database_url)
        try:
            token_key = await load_stored_key(store, keyring, TOKEN_HASH_KEY)
            audit_key = await load_stored_key(store, keyring, AUDIT_CHAIN_KEY)
            admin_token = await ensure_admin_token(store, token_key, settings.data_dir)
            if admin_token is not None:
                announce_admin_token(admin_token, settings.data_dir)
            http = new_session()
            try:
                context = ProviderContext(
                    http=http,
                    connect_timeout=settings.upstream_connect_timeout,
                    read_timeout=settings.upstream_read_timeout,
                )
                chain = Chain(audit_key)
                journal = StartJournal(settings.data_dir / JOURNAL_DIR, chain.id)
                journal.open()
                audit = AuditWriter(store.insert_audit, chain, journal)
                await recover_orphans(settings.data_dir / JOURNAL_DIR, store.ended_calls, audit)
                budgets = Budgets(counter_backend(store.engine, settings.redis_url))
                # The one environment read outside settings: the variable is
                # OpenTelemetry's own (docs/metrics.md).
                figures = self.figures = LiveFigures(open_call_spans(settings.otlp_endpoint))
                runtime = Runtime(
                    settings,
                    store,
                    keyring,
                    token_key,
                    context,
                    CallServices(audit, budgets, figures),
                    reload_keyring=lambda: prepare_data_dir(settings),
                )
                await runtime.reload()
                background = (audit.run(), watch_config(runtime), budgets.run_expiry())
                async with _background(*background):
                    self.runtime = runtime
                    self._agent_plane = AgentPlane(runtime)
                    self._admin = create_admin_app(runtime)
                    try:
                        yield
                    finally:
                        self._agent_plane = None
                        self._admin = None
                # Calls are over (the server drained them): settle what they left, then
                # write every record.
                await runtime.drain()
                await audit.close()
                await figures.close()
            finally:
                await http.close()
        finally:
            await store.close()


@contextlib.asynccontextmanager
async def _background(*coroutines: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run lifespan-owned tasks; cancel them on exit (the audit writer drains after)."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _method_not_allowed(profile: EndpointProfile, send: Send) -> None:
    body = profile.error_body(405, None, "method not allowed: use POST")
    await send_bytes(send, 405, body)


def create_app(settings: Settings) -> BrokerApp:
    return BrokerApp(settings)


__all__ = ["BrokerApp", "create_app"]
