"""Names of the wire formats and operations the broker speaks."""

from __future__ import annotations

from typing import Literal

WireFormat = Literal["openai", "anthropic"]
"""A client-facing or provider-facing wire format."""

Operation = Literal["chat", "messages", "embeddings", "count_tokens"]
"""What a call asks for: OpenAI chat completions, Anthropic messages, and so on."""
