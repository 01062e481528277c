"""Session-scoped pytest fixtures serving the fake OpenAI and Anthropic upstreams.

Register with `from tests.fakes.fixtures import fake_openai, fake_anthropic` in a
conftest. The servers live for the session: call `.reset()` at a test's start
to forget earlier requests and open the stream gate. What reached a fake is in
`fake.requests`; `fake.last_json("/v1/messages")` decodes the latest body sent
to a path (rejected requests are recorded too).
"""

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    """A `FakeOpenAI` on 127.0.0.1; SDK base_url is `fake_openai.url + "/v1"`."""
    with FakeOpenAI().serve() as fake:
        yield fake


@pytest.fixture(scope="session")
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """A `FakeAnthropic` on 127.0.0.1; SDK base_url is `fake_anthropic.url`."""
    with FakeAnthropic().serve() as fake:
        yield fake
