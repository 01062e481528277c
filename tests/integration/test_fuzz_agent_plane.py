"""Whatever bytes and headers an agent sends, the answer is a well-formed error in its
own wire format (or a real answer), never a 500 and never a hang."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import Wired

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "model": st.sampled_from(["demo", "gpt-prod", "anthropic-prod", "nope", ""])
            | json_values,
            "messages": st.just([{"role": "user", "content": "hi"}]) | json_values,
            "max_tokens": st.integers(-5, 50) | json_values,
            "stream": st.booleans() | json_values,
            "stream_options": json_values,
        },
    ).map(lambda value: json.dumps(value).encode()),
)
paths = st.sampled_from(["/v1/chat/completions", "/v1/messages", "/v1/v1/messages"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=paths,
    body=bodies,
    use_token=st.booleans(),
    header_style=st.sampled_from(["bearer", "x-api-key"]),
)
def test_agent_plane_never_fails_unformatted(
    wired: Wired, path: str, body: bytes, use_token: bool, header_style: str
) -> None:
    token = wired.token if use_token else "dome_ak_garbage"
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    headers["authorization" if header_style == "bearer" else "x-api-key"] = (
        f"Bearer {token}" if header_style == "bearer" else token
    )
    response = httpx.post(wired.broker.url + path, content=body, headers=headers, timeout=10)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()
        if path.endswith("/messages"):
            assert error["type"] == "error"
            assert error["error"]["message"]
        else:
            assert error["error"]["message"]
            assert "param" in error["error"]
