"""How one candidate model is attempted: the agent's body forwarded, or translated.

Same format both sides: the agent's bytes go upstream with only `model` patched.
Otherwise the request is decoded once per call into the canonical form and encoded
for each candidate's format (WIRE-FORMATS 6; docs/translation.md).
"""

from __future__ import annotations

from typing import Any

import orjson

from dome.errors import UnsupportedError, UpstreamError
from dome.providers.base import Provider, ProviderRequest
from dome.server.asgi import Scope
from dome.server.attempt import Attempted, raised
from dome.server.relay import attempt_stream, attempt_whole
from dome.server.trace import CallTrace
from dome.server.translated import attempt_translated_stream, attempt_translated_whole
from dome.store.snapshot import ModelEntry
from dome.wire.canonical import Request
from dome.wire.codecs import CHAT_CODECS, ChatCodec
from dome.wire.json_splice import replace_top_level_string
from dome.wire.openai.stream_usage import ask_for_usage
from dome.wire.profiles import EndpointProfile


class Forwarder:
    """One agent call's request, ready to be attempted against any candidate."""

    __slots__ = (
        "_body",
        "_canonical",
        "_first_byte_timeout",
        "_headers",
        "_raw",
        "_rename",
        "_trace",
    )

    def __init__(
        self,
        scope: Scope,
        raw: bytes,
        body: dict[str, Any],
        trace: CallTrace,
        first_byte_timeout: float,
        *,
        rename: str | None = None,
    ) -> None:
        """`rename`: the model name answers must carry (a pool took the call)."""
        self._rename = rename
        self._raw = raw
        self._body = body
        self._trace = trace
        self._first_byte_timeout = first_byte_timeout
        self._headers = _forwarded_headers(scope, trace.profile.forwarded_headers)
        self._canonical: Request | None = None

    async def attempt(self, entry: ModelEntry, provider: Provider) -> Attempted:
        """Try `entry`; upstream failures come back as failed attempts, not exceptions.

        Raises:
            UnsupportedError: the call cannot be put in any format the provider takes.
        """
        profile = self._trace.profile
        # The audit's format_out is the serving attempt's: forget an earlier translation.
        self._trace.format_out = None
        try:
            if provider.accepts(profile.format, profile.operation):
                return await self._forward(provider, entry.model)
            codecs = translation(profile, provider)
            if codecs is None:
                msg = (
                    f"model {entry.name!r} is served by a {entry.provider} provider, which "
                    f"does not take {profile.operation} calls in any format the broker can "
                    "translate to"
                )
                raise UnsupportedError(msg, param="model")
            return await self._translate(provider, entry.model, codecs)
        except UpstreamError as error:
            return raised(error)

    async def _forward(self, provider: Provider, model: str) -> Attempted:
        trace = self._trace
        profile = trace.profile
        body = self._raw
        if model != trace.requested_model:
            body = replace_top_level_string(self._raw, "model", model)
        # Streams are always metered: ask for the usage the agent did not, then hide it.
        hide_usage = (
            trace.stream
            and profile.format == "openai"
            and profile.operation == "chat"
            and not _asks_for_usage(self._body)
        )
        if hide_usage:
            body = ask_for_usage(body, {**self._body, "model": model})
        request = ProviderRequest(
            format=profile.format,
            operation=profile.operation,
            body=body,
            stream=trace.stream,
            model=model,
            headers=self._headers,
        )
        if trace.stream:
            return await attempt_stream(
                provider,
                request,
                profile,
                self._first_byte_timeout,
                self._rename,
                hide_usage=hide_usage,
            )
        return await attempt_whole(provider, request, self._rename)

    async def _translate(
        self, provider: Provider, model: str, codecs: tuple[ChatCodec, ChatCodec]
    ) -> Attempted:
        agent_codec, provider_codec = codecs
        self._trace.format_out = provider_codec.format
        if self._canonical is None:
            self._canonical = agent_codec.decode_request(self._body)
        canonical = self._canonical
        encoded = provider_codec.encode_request(canonical, model)
        request = ProviderRequest(
            format=provider_codec.format,
            operation=provider_codec.operation,
            body=orjson.dumps(encoded),
            stream=canonical.stream,
            model=model,
        )
        if canonical.stream:
            return await attempt_translated_stream(
                provider, request, codecs, canonical, self._first_byte_timeout, self._rename
            )
        return await attempt_translated_whole(provider, request, codecs, self._rename)


def translation(profile: EndpointProfile, provider: Provider) -> tuple[ChatCodec, ChatCodec] | None:
    """(the agent's codec, the provider's) for a chat call the provider takes in
    another format; None when there is no such pair."""
    agent_codec = CHAT_CODECS.get(profile.format)
    if agent_codec is None or agent_codec.operation != profile.operation:
        return None
    for codec in CHAT_CODECS.values():
        if provider.accepts(codec.format, codec.operation):
            return agent_codec, codec
    return None


def _asks_for_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _forwarded_headers(scope: Scope, names: frozenset[str]) -> dict[str, str]:
    if not names:
        return {}
    forwarded = {}
    for key, value in scope["headers"]:
        name = key.decode("latin-1")
        if name in names:
            forwarded[name] = value.decode("latin-1")
    return forwarded
