"""bench/policy_decisions.py runs end to end in a tiny configuration."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import cedarpy
import pytest

from dome.policy import PolicyEngine, parse_policy_file, schema_text

BENCH = Path(__file__).parents[3] / "bench" / "policy_decisions.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """The script as a module (registered while in use: its dataclasses look it up)."""
    name = "bench_policy_decisions"
    spec = importlib.util.spec_from_file_location(name, BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


def test_the_bench_runs_small_and_prints_a_table(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    result = bench.run(policies=12, agents=30, calls=40)
    assert result.policies == 12
    assert result.calls == 40
    assert 0 < result.p50_us <= result.p99_us
    assert 0 <= result.allowed <= 1
    assert bench.main(["--policies", "8", "--agents", "20", "--calls", "20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| policies | agents | calls |")
    assert lines[2].startswith("| 8 | 20 | 20 |")


def test_the_bench_policies_compile_validate_and_fit_their_scopes(bench: ModuleType) -> None:
    world = bench.build_world(50)
    policies = bench.build_policies(60, 50)
    schema = cedarpy.Schema.from_str(schema_text())
    for policy in policies:
        (checked,) = parse_policy_file(
            policy.text,
            file=policy.file,
            scope=policy.scope,
            directory=world.directory(),
            schema_text=schema,
        )
        assert checked.id == policy.id
    engine = PolicyEngine.build(world, policies, version=1)
    assert len(engine.compiled.policies) == 60
    assert engine.orphaned == ()
