"""Price sheets (catalog, override, free, unpriced) and exact Decimal cost."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import genai_prices
import pytest
from genai_prices import data_snapshot
from hypothesis import given
from hypothesis import strategies as st

from dome.errors import ConfigError
from dome.spend.pricing import (
    FREE,
    PriceSheet,
    PriceTier,
    _catalog_sheet,
    _price_sheet,
    cost,
    price_sheet,
    upper_bound_cost,
)
from dome.wire.usage import ReportedUsage

DAY = date(2026, 11, 27)


def usage(
    uncached: int = 0,
    output: int = 0,
    *,
    cache_read: int = 0,
    cache_write: int = 0,
    reasoning: int = 0,
) -> ReportedUsage:
    """Normalized usage: input counts the cache reads and writes, as docs/usage.md says."""
    return ReportedUsage(
        raw={},
        input_tokens=uncached + cache_read + cache_write,
        output_tokens=output,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=reasoning,
    )


def catalog_price(provider: str, model: str, used: ReportedUsage) -> Decimal:
    """genai-prices' own answer for the same usage (the same conventions: input counts
    the cache)."""
    calculation = genai_prices.calc_price(
        genai_prices.Usage(
            input_tokens=used.input_tokens,
            cache_read_tokens=used.cache_read_tokens,
            cache_write_tokens=used.cache_write_tokens,
            output_tokens=used.output_tokens,
        ),
        model,
        provider_id=provider,
        genai_request_timestamp=datetime(2026, 11, 27, 12, tzinfo=UTC),
    )
    return calculation.total_price


USAGES = [
    usage(1, 0),
    usage(1200, 340),
    usage(25, 87, cache_read=30000, cache_write=2000, reasoning=40),
    usage(0, 0, cache_read=512),
    usage(150_000, 4000, cache_read=60_000),  # over 200k input: a long-context tier
    usage(300_000, 1, cache_write=1),
]


@pytest.mark.parametrize(
    ("kind", "provider", "model"),
    [
        ("anthropic", "anthropic", "claude-sonnet-4-6"),
        ("anthropic", "anthropic", "claude-sonnet-4-5-20250929"),  # tiered prices
        ("anthropic", "anthropic", "claude-haiku-4-5"),
        ("openai", "openai", "gpt-4o-mini"),
        ("openai", "openai", "gpt-4o-mini-2024-07-18"),
        ("openai", "openai", "o3"),  # a conditional price: the later one applies
        ("bedrock", "aws", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("vertex", "google", "claude-sonnet-4-5@20250929"),
    ],
)
@pytest.mark.parametrize("used", USAGES)
def test_catalog_cost_is_genai_prices_own(
    kind: str, provider: str, model: str, used: ReportedUsage
) -> None:
    sheet = price_sheet(kind, model, None, None, on=DAY)
    assert sheet is not None
    assert sheet.source == "catalog"
    assert cost(sheet, used) == catalog_price(provider, model, used)


def test_catalog_sheets_of_known_models() -> None:
    assert price_sheet("openai", "gpt-4o-mini", None, None, on=DAY) == PriceSheet(
        Decimal("0.15"), Decimal("0.6"), Decimal("0.075"), Decimal("0.15"), "catalog"
    )
    assert price_sheet("anthropic", "claude-sonnet-4-6", None, None, on=DAY) == PriceSheet(
        Decimal(3), Decimal(15), Decimal("0.3"), Decimal("3.75"), "catalog"
    )
    tiered = price_sheet("anthropic", "claude-sonnet-4-5", None, None, on=DAY)
    assert tiered is not None
    assert tiered.tiers == (
        PriceTier(200_000, Decimal(6), Decimal("22.5"), Decimal("0.6"), Decimal("7.5")),
    )
    embeddings = price_sheet("openai", "text-embedding-3-small", None, None, on=DAY)
    assert embeddings == PriceSheet(
        Decimal("0.02"), Decimal(0), Decimal("0.02"), Decimal("0.02"), "catalog"
    )


def test_catalog_prices_follow_the_day() -> None:
    """claude-sonnet-4-6 had a long-context tier until 2026-03-13."""
    before = price_sheet("anthropic", "claude-sonnet-4-6", None, None, on=date(2026, 3, 12))
    after = price_sheet("anthropic", "claude-sonnet-4-6", None, None, on=date(2026, 3, 13))
    assert before is not None
    assert after is not None
    assert [tier.above for tier in before.tiers] == [200_000]
    assert after.tiers == ()
    long_call = usage(250_000, 10)
    assert cost(before, long_call) == Decimal("1.500225")
    assert cost(after, long_call) == Decimal("0.75015")


def test_overrides_win_with_the_catalogs_cache_ratios() -> None:
    sheet = price_sheet("anthropic", "claude-sonnet-4-6", "1.00", "5", on=DAY)
    assert sheet == PriceSheet(Decimal(1), Decimal(5), Decimal("0.1"), Decimal("1.25"), "override")
    assert cost(sheet, usage(1000, 100, cache_read=1000, cache_write=1000)) == Decimal("0.00285")
    # Decimal overrides, as the config snapshot holds them, are the same.
    assert price_sheet("anthropic", "claude-sonnet-4-6", Decimal(1), Decimal(5), on=DAY) == sheet
    openai = price_sheet("openai", "gpt-4o-mini", "0.30", "1.20", on=DAY)
    assert openai == PriceSheet(
        Decimal("0.30"), Decimal("1.20"), Decimal("0.15"), Decimal("0.30"), "override"
    )


def test_overrides_price_models_the_catalog_does_not_know() -> None:
    for kind, model in [
        ("openai-compatible", "llama-3.1-8b"),
        ("openai", "gpt-ok-1"),
        ("mock", "demo"),
    ]:
        sheet = price_sheet(kind, model, "0.2", "0.4", on=DAY)
        assert sheet == PriceSheet(
            Decimal("0.2"), Decimal("0.4"), Decimal("0.2"), Decimal("0.2"), "override"
        ), kind


def test_half_an_override_is_ignored() -> None:
    assert price_sheet("openai", "gpt-4o-mini", "9", None, on=DAY) == price_sheet(
        "openai", "gpt-4o-mini", None, None, on=DAY
    )
    assert price_sheet("openai-compatible", "llama", None, "9", on=DAY) is None


def test_mock_is_free() -> None:
    sheet = price_sheet("mock", "claude-sonnet-4-6", None, None, on=DAY)
    assert sheet is FREE
    assert sheet.source == "free"
    assert cost(sheet, usage(10**6, 10**6, cache_read=5, cache_write=5)) == 0
    assert upper_bound_cost(sheet, 10**6, 10**6) == 0


@pytest.mark.parametrize(
    ("kind", "model"),
    [
        ("openai-compatible", "gpt-4o-mini"),  # any server: the catalog cannot know
        ("openai", "gpt-ok-17"),
        ("anthropic", "claude-error-500-3"),
        ("anthropic", "gpt-4o-mini"),  # not an Anthropic model
        ("openai", "tts-1"),  # priced per character, not per token
        ("no-such-kind", "gpt-4o-mini"),
    ],
)
def test_unknown_models_are_unpriced(kind: str, model: str) -> None:
    assert price_sheet(kind, model, None, None, on=DAY) is None


@pytest.mark.parametrize("bad", ["abc", "-1", "NaN", "Infinity", Decimal("-0.5"), Decimal("sNaN")])
def test_a_bad_override_is_a_config_error(bad: str | Decimal) -> None:
    with pytest.raises(ConfigError):
        price_sheet("openai", "gpt-4o-mini", bad, "1", on=DAY)


def test_cost_is_exact() -> None:
    sheet = price_sheet("openai", "gpt-4o-mini", None, None, on=DAY)
    assert sheet is not None
    one = cost(sheet, usage(1))
    assert isinstance(one, Decimal)
    assert one == Decimal("0.00000015")
    assert cost(sheet, usage(0, 1)) == Decimal("0.0000006")
    assert cost(sheet, usage(0, cache_read=1)) == Decimal("0.000000075")
    # Large counts and long prices: no digit is lost (a float would lose several).
    fine = PriceSheet(
        Decimal("0.123456789123456789"),
        Decimal("7.000000000000000001"),
        Decimal(0),
        Decimal(0),
        "override",
    )
    huge = cost(fine, usage(987_654_321_987, 123_456_789_123))
    exact = (
        987_654_321_987 * Fraction("0.123456789123456789")
        + 123_456_789_123 * Fraction("7.000000000000000001")
    ) / 1_000_000
    assert Fraction(huge) == exact
    assert len(huge.as_tuple().digits) > 17  # more than a float carries


def test_cost_counts_unknown_fields_as_zero() -> None:
    sheet = PriceSheet(Decimal(1), Decimal(2), Decimal(3), Decimal(4), "override")
    unknown = ReportedUsage(raw={}, input_tokens=None, output_tokens=None)
    assert cost(sheet, unknown) == 0
    output_only = ReportedUsage(raw={}, input_tokens=None, output_tokens=1_000_000)
    assert cost(sheet, output_only) == 2


def test_cache_counts_beyond_the_input_are_still_charged() -> None:
    """A provider that reports more cache tokens than input: no negative input cost."""
    sheet = PriceSheet(Decimal(1), Decimal(2), Decimal(3), Decimal(4), "override")
    odd = ReportedUsage(raw={}, input_tokens=10, output_tokens=0, cache_read_tokens=1_000_000)
    assert cost(sheet, odd) == 3


def test_upper_bound_takes_the_dearest_input_side_rate_at_the_inputs_tier() -> None:
    sheet = price_sheet("anthropic", "claude-sonnet-4-5", None, None, on=DAY)
    assert sheet is not None
    # 1000 tokens, all potentially cache writes at 3.75; 500 output at 15.
    assert upper_bound_cost(sheet, 1000, 500) == Decimal("0.01125")
    # Past 200k input the tier's rates: 7.5 and 22.5.
    assert upper_bound_cost(sheet, 300_000, 1000) == Decimal("2.2725")
    assert upper_bound_cost(sheet, -5, -5) == 0


def test_lookups_are_cached_and_never_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    _price_sheet.cache_clear()
    _catalog_sheet.cache_clear()

    def no_network(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("pricing must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    first = price_sheet("anthropic", "claude-sonnet-4-6", None, None, on=DAY)
    assert first is not None
    assert price_sheet("anthropic", "claude-sonnet-4-6", None, None, on=DAY) is first
    assert _price_sheet.cache_info().hits >= 1


def test_prices_come_from_the_bundled_data_not_an_updated_snapshot() -> None:
    """genai-prices' UpdatePrices swaps in fetched data; the broker keeps the installed
    package's, so a price never changes under a running broker without a deploy."""
    _price_sheet.cache_clear()
    _catalog_sheet.cache_clear()
    data_snapshot.set_custom_snapshot(
        data_snapshot.DataSnapshot(providers=[], from_auto_update=True)
    )
    try:
        sheet = price_sheet("openai", "gpt-4o-mini", None, None, on=DAY)
    finally:
        data_snapshot.set_custom_snapshot(None)
    assert sheet is not None
    assert sheet.input == Decimal("0.15")


# --- properties ---------------------------------------------------------------------------

rates = st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False, allow_infinity=False)
counts = st.integers(min_value=0, max_value=10**9)


@st.composite
def sheets(draw: st.DrawFn) -> PriceSheet:
    input_rate, output_rate, read_rate, write_rate = (draw(rates) for _ in range(4))
    tiers: tuple[PriceTier, ...] = ()
    if draw(st.booleans()):
        # Catalog tiers raise every rate (long-context prices); never lower one.
        tiers = (
            PriceTier(
                draw(counts),
                input_rate + draw(rates),
                output_rate + draw(rates),
                read_rate + draw(rates),
                write_rate + draw(rates),
            ),
        )
    return PriceSheet(input_rate, output_rate, read_rate, write_rate, "override", tiers)


@given(
    sheet=sheets(),
    parts=st.tuples(counts, counts, counts, counts),
    field=st.sampled_from(["uncached", "output", "cache_read", "cache_write"]),
    more=st.integers(min_value=1, max_value=10**9),
)
def test_cost_is_monotone_in_every_usage_field(
    sheet: PriceSheet, parts: tuple[int, int, int, int], field: str, more: int
) -> None:
    """More of any kind of token never costs less. A cache read or write is also an
    input token (input_tokens counts them), so one more of it is one more input."""
    uncached, output, cache_read, cache_write = parts
    before = usage(uncached, output, cache_read=cache_read, cache_write=cache_write)
    grown = {
        "uncached": uncached,
        "output": output,
        "cache_read": cache_read,
        "cache_write": cache_write,
    }
    grown[field] += more
    after = usage(
        grown["uncached"],
        grown["output"],
        cache_read=grown["cache_read"],
        cache_write=grown["cache_write"],
    )
    assert cost(sheet, after) >= cost(sheet, before) >= 0


@given(sheet=sheets(), parts=st.tuples(counts, counts, counts, counts), reasoning=counts)
def test_reasoning_is_priced_as_the_output_it_is_part_of(
    sheet: PriceSheet, parts: tuple[int, int, int, int], reasoning: int
) -> None:
    uncached, output, cache_read, cache_write = parts
    plain = usage(uncached, output, cache_read=cache_read, cache_write=cache_write)
    with_reasoning = usage(
        uncached, output, cache_read=cache_read, cache_write=cache_write, reasoning=reasoning
    )
    assert cost(sheet, with_reasoning) == cost(sheet, plain)


@given(sheet=sheets(), parts=st.tuples(counts, counts, counts), output=counts)
def test_upper_bound_bounds_every_split_of_the_input(
    sheet: PriceSheet, parts: tuple[int, int, int], output: int
) -> None:
    uncached, cache_read, cache_write = parts
    used = usage(uncached, output, cache_read=cache_read, cache_write=cache_write)
    assert used.input_tokens is not None
    assert cost(sheet, used) <= upper_bound_cost(sheet, used.input_tokens, output)


@given(sheet=sheets(), parts=st.tuples(counts, counts, counts, counts))
def test_cost_equals_the_per_million_sum(
    sheet: PriceSheet, parts: tuple[int, int, int, int]
) -> None:
    """Below any tier, the cost is the plain formula, computed exactly."""
    uncached, output, cache_read, cache_write = parts
    flat = PriceSheet(sheet.input, sheet.output, sheet.cache_read, sheet.cache_write, "override")
    expected = (
        uncached * Fraction(flat.input)
        + output * Fraction(flat.output)
        + cache_read * Fraction(flat.cache_read)
        + cache_write * Fraction(flat.cache_write)
    ) / 1_000_000
    got = cost(flat, usage(uncached, output, cache_read=cache_read, cache_write=cache_write))
    assert Fraction(got) == expected
