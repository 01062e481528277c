"""What each field of an Anthropic Messages request becomes in the canonical form.

Every field is carried, accepted without being carried (with the reason that is safe),
or refused with `UnsupportedError`: never dropped silently. These constants are the
single statement of that policy; `request.py` applies it and the user docs are checked
against it. A field that is not carried but set to null, false or [] states nothing and
is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dome.wire.canonical import ReasoningEffort

CARRIED_FIELDS: frozenset[str] = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "stream",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "metadata",  # only `user_id`; other keys are refused
    }
)
"""Top-level fields that reach the canonical request."""

ACCEPTED_NOT_CARRIED: Mapping[str, str] = MappingProxyType(
    {
        # Caching is a hint, not a change of the answer: the serving provider's own
        # (automatic) caching applies. The same holds for `cache_control` on any
        # block, tool or system block.
        "cache_control": "a prompt-caching hint; the serving provider's own caching applies",
        "service_tier": "Anthropic capacity bookkeeping",
        "speed": "an Anthropic latency tier; the answer is the same",
        "diagnostics": "Anthropic prompt-cache diagnostics",
    }
)
"""Top-level fields accepted and not carried, with the reason it is safe."""

UNSUPPORTED_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "container": "code-execution containers exist only on Anthropic",
        "mcp_servers": "Anthropic itself connects to MCP servers; other providers do not",
        "context_management": "server-side context editing exists only on Anthropic",
        "inference_geo": "a data-residency requirement another provider cannot be held to",
        "workspace_id": "an Anthropic account scope",
        "user_profile_id": "an Anthropic account scope",
    }
)
"""Top-level fields refused with `UnsupportedError`; so is any field not listed above."""

CARRIED_BLOCK_TYPES: frozenset[str] = frozenset(
    {"text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking"}
)
"""Message content blocks that reach the canonical request; every other type is refused."""

UNSUPPORTED_BLOCK_TYPES: frozenset[str] = frozenset(
    {
        "document",
        "search_result",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "container_upload",
        "mcp_tool_use",
        "mcp_tool_result",
        "tool_reference",
        "browser_state",
    }
)
"""Block types Anthropic defines that are refused (named here for the docs)."""

ACCEPTED_NESTED_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "cache_control": "a prompt-caching hint (on blocks, tools and system blocks)",
        "eager_input_streaming": "a tool's streaming granularity; the answer is the same",
        "display": "whether thinking is shown summarized; thinking stays the provider's",
    }
)
"""Fields inside blocks, tools and `thinking` accepted and not carried."""

ADAPTIVE_THINKING_EFFORT: ReasoningEffort = "high"
"""Effort for `thinking: {"type": "adaptive"}` without `output_config.effort`: the
effort Anthropic itself applies by default."""

EFFORTS: Mapping[str, ReasoningEffort] = MappingProxyType(
    {
        "low": "low",
        "medium": "medium",
        "high": "high",
        "xhigh": "xhigh",
        "max": "xhigh",  # no canonical (or OpenAI) level above xhigh: the nearest one
    }
)
"""`output_config.effort` to the canonical effort."""

IMAGE_MEDIA_TYPES: frozenset[str] = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp"}
)
