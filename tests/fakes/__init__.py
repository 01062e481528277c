"""Fake upstream servers and other test doubles for the Dome broker's tests.

Fakes stand in for remote services on 127.0.0.1 only; nothing here calls a
real provider.
"""

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.behaviour import Behaviour
from tests.fakes.gate import StreamGate
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.recording import RecordedRequest
from tests.fakes.rejection import Rejection
from tests.fakes.server import ServedApp, serve_app
from tests.fakes.upstream import NoRequestError

__all__ = [
    "Behaviour",
    "FakeAnthropic",
    "FakeOpenAI",
    "NoRequestError",
    "RecordedRequest",
    "Rejection",
    "ServedApp",
    "StreamGate",
    "serve_app",
]
