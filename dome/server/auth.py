"""Who is calling: the agent behind the Dome token, from the in-memory snapshot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dome.errors import UnauthenticatedError
from dome.server.asgi import Scope, header

if TYPE_CHECKING:
    from dome.server.runtime import Runtime
    from dome.store.snapshot import Agent

_BEARER = b"bearer "


def authenticate(runtime: Runtime, scope: Scope) -> Agent:
    """The agent, from `Authorization: Bearer` or `x-api-key` (SDKs send either)."""
    token = _presented_token(scope)
    if token is None:
        msg = "missing Dome token: send it as 'Authorization: Bearer <token>' or 'x-api-key'"
        raise UnauthenticatedError(msg)
    agent = runtime.agent_for_token(token)
    if agent is None:
        raise UnauthenticatedError("invalid or revoked Dome token")
    return agent


def _presented_token(scope: Scope) -> str | None:
    authorization = header(scope, b"authorization")
    if authorization is not None and authorization[:7].lower() == _BEARER:
        return authorization[7:].strip().decode("latin-1")
    api_key = header(scope, b"x-api-key")
    return api_key.strip().decode("latin-1") if api_key else None
